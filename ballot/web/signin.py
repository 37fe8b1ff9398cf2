"""Secretaries' sign-in: throttled guesses and sessions that end on the server.

**Throttle.** Every attempt first reserves one event per account (the name as typed) and one
per client address (``ratelimit.Limiter``: atomic, salted keys); a right password gives both
back, a wrong one keeps them. Past ``ACCOUNT_LIMIT`` wrong passwords for one account, or
``ADDRESS_LIMIT`` from one address, in ``WINDOW``, the attempt is refused (429) *before* the
password hash is computed, so parallel guesses cannot get past the limit either. A locked
account opens again after the window, or at once when ``ballot admin password NAME`` sets a
new password (which also ends every session of that account).

**Sessions.** The signed cookie holds a random session id; the server keeps its SHA-256 in
``admin_sessions`` with an expiry (12 h). Every request of a signed-in page looks it up, and
logging out deletes it: a copy of the cookie stops working at the same moment.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ballot.service.ratelimit import Limiter
from ballot.store.db import transaction
from ballot.store.models import Admin, AdminSession

from .auth import check_login

__all__ = ["SignInRefused", "ACCOUNT_LIMIT", "ADDRESS_LIMIT", "WINDOW", "SESSION_LIFETIME",
           "sign_in", "unlock", "start_session", "session_user", "end_session",
           "end_all_sessions"]

ACCOUNT_LIMIT = 10
ADDRESS_LIMIT = 20
WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
ACCOUNT_SCOPE, ADDRESS_SCOPE = "signin-account", "signin-address"


class SignInRefused(Exception):
    """Too many wrong passwords: ``reason`` is "account" or "address"."""

    def __init__(self, reason: str, minutes: int):
        super().__init__(reason)
        self.reason, self.minutes = reason, minutes


def sign_in(factory: sessionmaker[Session], limiter: Limiter, username: str, password: str,
            client: str | None, *, account_limit: int | None = None,
            address_limit: int | None = None) -> bool:
    """True if the password is right; False if wrong; SignInRefused when throttled."""
    minutes = max(1, int(WINDOW.total_seconds() // 60))
    address_event = None
    if client is not None:
        address_event = limiter.hit(ADDRESS_SCOPE, limiter.key(ADDRESS_SCOPE, client),
                                    address_limit or ADDRESS_LIMIT, WINDOW)
        if address_event is None:
            raise SignInRefused("address", minutes)
    account_event = limiter.hit(ACCOUNT_SCOPE, limiter.key(ACCOUNT_SCOPE, username),
                                account_limit or ACCOUNT_LIMIT, WINDOW)
    if account_event is None:
        limiter.forget(address_event)
        raise SignInRefused("account", minutes)
    if not check_login(factory, username, password):
        return False
    limiter.forget(address_event)
    limiter.forget(account_event)
    return True


def unlock(limiter: Limiter, username: str) -> None:
    """Forget the wrong passwords counted for ``username`` (a new password was set)."""
    limiter.clear(ACCOUNT_SCOPE, limiter.key(ACCOUNT_SCOPE, username))


def _hash(sid: str) -> str:
    return hashlib.sha256(f"ballot/v1/admin-session\0{sid}".encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def start_session(factory: sessionmaker[Session], username: str) -> str:
    """A new session id for ``username`` (put it in the signed cookie)."""
    sid = secrets.token_urlsafe(32)
    with transaction(factory) as s:
        admin_id = s.scalar(select(Admin.id).where(Admin.username == username))
        if admin_id is None:
            raise ValueError(f"no account {username!r}")
        s.execute(delete(AdminSession).where(AdminSession.expires_at < _now()))
        s.add(AdminSession(sid_hash=_hash(sid), admin_id=admin_id, created_at=_now(),
                           expires_at=_now() + SESSION_LIFETIME))
    return sid


def session_user(factory: sessionmaker[Session], sid: str | None) -> str | None:
    """The signed-in username for session id ``sid``, or None (unknown, ended, expired)."""
    if not isinstance(sid, str) or not sid:
        return None
    with transaction(factory, read_only=True) as s:
        return s.scalar(select(Admin.username).join(
            AdminSession, AdminSession.admin_id == Admin.id).where(
            AdminSession.sid_hash == _hash(sid), AdminSession.expires_at > _now()))


def end_session(factory: sessionmaker[Session], sid: str | None) -> None:
    if not isinstance(sid, str) or not sid:
        return
    with transaction(factory) as s:
        s.execute(delete(AdminSession).where(AdminSession.sid_hash == _hash(sid)))


def end_all_sessions(factory: sessionmaker[Session], username: str) -> None:
    with transaction(factory) as s:
        admin_id = s.scalar(select(Admin.id).where(Admin.username == username))
        if admin_id is not None:
            s.execute(delete(AdminSession).where(AdminSession.admin_id == admin_id))
