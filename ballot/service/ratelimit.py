"""Throttles shared by every server worker: events counted in the database, atomically.

A throttle counts events (a wrong invitation code, a wrong password, a ballot whose proofs
failed) per *key* in a sliding window. Keys are never raw addresses or names: they are
HMAC-SHA256 under a per-deployment secret (``keys/rate-salt.key``, 32 random bytes, mode 0600,
made on first use; docs/storage.md "rate_events"), so a copy of the database alone cannot
test which address made an event (2^32 IPv4 addresses are a few seconds of plain SHA-256).

Counting is atomic: :meth:`Limiter.hit` counts and inserts in one transaction that holds a lock
on the key (``BEGIN IMMEDIATE`` on SQLite, an advisory transaction lock on PostgreSQL), so N
parallel requests can never get more than ``limit`` events past the limit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, TypeVar

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from ballot.store.db import transaction
from ballot.store.models import RateEvent

from .keys import KeyStore

__all__ = ["SECRET_FILE", "rate_secret", "lock_key", "Limiter", "InvitationThrottle", "Throttles"]

# A file name, not a secret (bandit B105).
SECRET_FILE = "rate-salt.key"  # nosec B105
#: PostgreSQL advisory locks of this module: (class id, 32 bits of the key). The two-int form
#: lives in another lock space than the audit chain's single bigint lock.
_LOCK_CLASS = 0x0B4A7E  # "ballot rate"
#: Events older than this are deleted (every window is far shorter).
RETENTION = timedelta(days=1)

T = TypeVar("T")


def rate_secret(keys: KeyStore) -> bytes:
    """The deployment's secret for rate keys, created once in the keys folder (every worker
    reads the same file)."""
    raw = keys._read(SECRET_FILE)  # noqa: SLF001 - the key store's checked reader (mode 0600)
    if raw is None:
        keys._write(SECRET_FILE, secrets.token_bytes(32), replace=False)  # noqa: SLF001
        raw = keys._read(SECRET_FILE)  # noqa: SLF001 - another worker may have won the race
    if raw is None or len(raw) < 32:
        raise RuntimeError(f"{keys.path / SECRET_FILE} is damaged: delete it to make a new one")
    return raw


def lock_key(session: Session, key: str) -> None:
    """Serialise the transactions counting ``key`` (SQLite: the write lock is already held)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"),
                        {"c": _LOCK_CLASS, "k": int.from_bytes(bytes.fromhex(key)[:4], "big",
                                                               signed=True)})


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Limiter:
    """Sliding-window event counts in ``rate_events``."""

    factory: sessionmaker[Session]
    secret: bytes

    def key(self, scope: str, *parts: str) -> str:
        """The stored key of ``parts`` (e.g. election slug and client address) in ``scope``."""
        msg = "\0".join(("ballot/v1/rate", scope, *parts)).encode("utf-8", "surrogatepass")
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()

    def count(self, scope: str, key: str, window: timedelta) -> int:
        with transaction(self.factory, read_only=True) as s:
            return self.count_in(s, scope, key, window)

    @staticmethod
    def count_in(s: Session, scope: str, key: str, window: timedelta) -> int:
        """The events of ``key`` in the window, inside the caller's transaction."""
        return s.scalar(select(func.count()).select_from(RateEvent).where(
            RateEvent.scope == scope, RateEvent.key_hash == key,
            RateEvent.at >= _now() - window)) or 0

    def hit(self, scope: str, key: str, limit: int, window: timedelta) -> int | None:
        """Count one event for ``key``, atomically. Returns the event's id while the window
        holds fewer than ``limit`` events before it, else None (nothing is stored then: a key
        never holds more than ``limit`` rows per window)."""
        with transaction(self.factory) as s:
            lock_key(s, key)
            if self.count_in(s, scope, key, window) >= limit:
                return None
            event = RateEvent(scope=scope, key_hash=key, at=_now())
            s.add(event)
            s.execute(delete(RateEvent).where(RateEvent.scope == scope, RateEvent.key_hash == key,
                                              RateEvent.at < _now() - RETENTION))
            s.flush()
            event_id = event.id
        if secrets.randbelow(64) == 0:  # now and then, the other keys' old rows too
            with transaction(self.factory) as s:
                s.execute(delete(RateEvent).where(RateEvent.at < _now() - RETENTION))
        return event_id

    def forget(self, event_id: int | None) -> None:
        """Remove one counted event (an attempt that turned out to be right)."""
        if event_id is None:
            return
        with transaction(self.factory) as s:
            s.execute(delete(RateEvent).where(RateEvent.id == event_id))

    def clear(self, scope: str, key: str) -> None:
        with transaction(self.factory) as s:
            s.execute(delete(RateEvent).where(RateEvent.scope == scope, RateEvent.key_hash == key))


class InvitationThrottle:
    """Wrong invitation codes per (client address, election).

    The code is looked up first: a right, unredeemed code is never blocked, whatever the
    address did before (a venue's NAT, or every phone behind a proxy that is not configured
    as trusted, share one address). Only refusals are counted; past ``limit`` in ``window``
    a refused code is answered 429 instead of its reason. The codes' 100 random bits are
    what protects them; the throttle bounds what one address can make the server answer.
    """

    SCOPE = "redeem"
    #: refusals counted: an empty or malformed code (400), an unknown code or a member who
    #: does not vote (403), a code already used (409). Not: no such election (404), voting
    #: not open (raised by the store, not a ServiceError).
    COUNTED = (400, 403, 409)

    def __init__(self, limiter: Limiter, limit: int = 20,
                 window: timedelta = timedelta(minutes=10)):
        self.limiter, self.limit, self.window = limiter, limit, window

    def run(self, slug: str, client: str | None, redeem: Callable[[], T]) -> T:
        from .meeting import ServiceError

        try:
            return redeem()
        except ServiceError as exc:
            if client is None or exc.status not in self.COUNTED:
                raise
            key = self.limiter.key(self.SCOPE, slug, client)
            if self.limiter.hit(self.SCOPE, key, self.limit, self.window) is None:
                minutes = max(1, int(self.window.total_seconds() // 60))
                raise ServiceError(f"too many failed invitation codes from this device; wait "
                                   f"{minutes} minutes or ask the secretary", 429) from None
            raise


class Throttles:
    """Every throttle of one deployment (``Meeting.throttles``)."""

    def __init__(self, factory: sessionmaker[Session], keys: KeyStore):
        self.limiter = Limiter(factory, rate_secret(keys))
        self.invitations = InvitationThrottle(self.limiter)
