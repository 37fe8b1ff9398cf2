"""Secretaries' accounts: argon2id password hashes (argon2-cffi) in the ``admins`` table."""

from __future__ import annotations

import re

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ballot.store.db import transaction
from ballot.store.models import Admin

__all__ = ["AccountError", "MIN_PASSWORD", "create_admin", "check_login", "set_password",
           "list_admins"]

MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_hasher = PasswordHasher()  # argon2id, the library's recommended parameters
# Verified when the user does not exist, so that a wrong name costs as long as a wrong password.
@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown users (same cost as a real check), made on first
    use rather than at import, so worker start-up stays fast."""
    return _hasher.hash("ballot: no such user")


class AccountError(ValueError):
    pass


def _check(username: str, password: str) -> None:
    if not _USERNAME.match(username or ""):
        raise AccountError("a username is 1-100 letters, digits, '.', '_', '@' or '-'")
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")


def create_admin(factory: sessionmaker[Session], username: str, password: str) -> None:
    _check(username, password)
    try:
        with transaction(factory) as s:
            s.add(Admin(username=username, password_hash=_hasher.hash(password)))
    except IntegrityError:
        raise AccountError(f"the account {username!r} already exists") from None


def set_password(factory: sessionmaker[Session], username: str, password: str) -> None:
    _check(username, password)
    with transaction(factory) as s:
        admin = s.execute(select(Admin).where(Admin.username == username)).scalar_one_or_none()
        if admin is None:
            raise AccountError(f"no account {username!r}")
        admin.password_hash = _hasher.hash(password)


def list_admins(factory: sessionmaker[Session]) -> list[str]:
    with transaction(factory, read_only=True) as s:
        return list(s.execute(select(Admin.username).order_by(Admin.username)).scalars())


def check_login(factory: sessionmaker[Session], username: str, password: str) -> bool:
    """True if the password is right. Rehashes it when the library's parameters changed."""
    with transaction(factory, read_only=True) as s:
        stored = s.execute(select(Admin.password_hash).where(
            Admin.username == (username or ""))).scalar_one_or_none()
    try:
        _hasher.verify(stored or _dummy_hash(), password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if stored is None:
        return False
    if _hasher.check_needs_rehash(stored):
        with transaction(factory) as s:
            admin = s.execute(select(Admin).where(Admin.username == username)).scalar_one()
            admin.password_hash = _hasher.hash(password)
    return True
