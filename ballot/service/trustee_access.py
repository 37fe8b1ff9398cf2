"""Trustees' access codes (issue 11, point 10): the secretary's code is a one-time enrolment
code; at first sign-in each trustee chooses their own access code, so the secretary never
holds a working credential.

- ``trustees.access_hash``: SHA-256 of the enrolment code the secretary hands out (migration
  0002); it only lets its trustee enrol, once, and is erased by the enrolment;
- ``trustees.credential_hash``: argon2id of the access code the trustee chose (migration 0004),
  frozen once set (a trigger): no one, the secretary included, can replace or read it back;
- every trustee request (``Meeting.trustee_login``) presents the trustee's own code; the
  enrolment code is refused there with a clear reason;
- a second round's trustees keep their first-round code (the hash is copied).
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.models import Election, Trustee

if TYPE_CHECKING:  # pragma: no cover
    from .meeting import Meeting

__all__ = ["MIN_CODE", "check_trustee", "enrol", "enrol_all", "enrolment_hash", "enrolment_matches"]

#: The shortest access code a trustee may choose.
MIN_CODE = 10
#: argon2id at OWASP's minimum (19 MiB, 2 passes): each trustee request verifies one.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

ENROLMENT_ONLY = ("this is the one-time enrolment code from the secretary: first choose your own "
                  "access code (sign in on the trustee page, or 'ballot trustee enrol')")


def enrolment_hash(code: str) -> str:
    """The stored form of an enrolment code (the secretary's): SHA-256 of the code read as
    invitation codes are (case, spaces and dashes ignored, O/I/L as 0/1)."""
    from ballot.store.repo import normalize_invitation_code

    return hashlib.sha256(f"trustee\0{normalize_invitation_code(code)}".encode()).hexdigest()


def enrolment_matches(stored: str | None, code: Any) -> bool:
    """Whether ``code`` is the enrolment code stored as ``stored`` (codes made before the
    invitation alphabet are compared as typed)."""
    if not stored or not isinstance(code, str):
        return False
    legacy = hashlib.sha256(f"trustee\0{code.strip()}".encode()).hexdigest()
    return secrets.compare_digest(stored, enrolment_hash(code)) or \
        secrets.compare_digest(stored, legacy)


def _normal(code: str) -> str:
    return unicodedata.normalize("NFC", "".join((code or "").split()))


def check_trustee(meeting: "Meeting", s: Session, election: Election, index: int,
                  code: str) -> Trustee:
    """The trustee whose own access code this is; refuses an enrolment code (403)."""
    from .meeting import ServiceError

    t = s.execute(select(Trustee).where(Trustee.election_id == election.id,
                                        Trustee.index == index)).scalar_one_or_none()
    code = code if isinstance(code, str) else ""
    if t is not None and t.credential_hash:
        try:
            if _hasher.verify(t.credential_hash, _normal(code)):
                return t
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            pass
        raise ServiceError("unknown trustee or wrong access code", 403)
    if t is not None and enrolment_matches(t.access_hash, code):
        raise ServiceError(ENROLMENT_ONLY, 403)
    raise ServiceError("unknown trustee or wrong access code", 403)


def enrol(meeting: "Meeting", slug: str, index: int, enrolment_code: str, new_code: str) -> str:
    """Trustee ``index``'s first sign-in: the secretary's enrolment code, once, sets the
    trustee's own access code. Returns the trustee's name."""
    from .meeting import ServiceError

    if not isinstance(new_code, str) or len(_normal(new_code)) < MIN_CODE \
            or not all(33 <= ord(ch) < 127 for ch in _normal(new_code)):
        # ASCII only: the code travels in an HTTP header (Authorization: Bearer …)
        raise ServiceError(f"choose an access code of at least {MIN_CODE} characters: letters "
                           "without accents, digits and punctuation", 400)
    if isinstance(enrolment_code, str) and _normal(new_code) == _normal(enrolment_code):
        raise ServiceError("choose an access code other than the secretary's enrolment code", 400)
    with transaction(meeting.factory) as s:
        election = repo.lock_election(s, meeting._election(s, slug).id)
        t = s.execute(select(Trustee).where(Trustee.election_id == election.id,
                                            Trustee.index == index)).scalar_one_or_none()
        if t is not None and t.credential_hash:
            raise ServiceError("this trustee has already chosen their own access code: the "
                               "enrolment code no longer works", 409)
        if t is None or not enrolment_matches(t.access_hash, enrolment_code):
            raise ServiceError("unknown trustee or wrong enrolment code", 403)
        t.credential_hash = _hasher.hash(_normal(new_code))
        t.access_hash = None  # the enrolment code is used up
        repo.append_audit(s, election_id=election.id, actor=f"trustee {index}", action="enrol",
                          detail={})
        return t.name


def enrol_all(meeting: "Meeting", slug: str, codes: dict[str, str]) -> dict[str, str]:
    """Every trustee enrols with a fresh access code of their own (the demo, benchmarks and
    tests play the trustees): ``{name: enrolment code}`` in trustee order → ``{name: own code}``."""
    out = {}
    for index, (name, code) in enumerate(codes.items(), 1):
        out[name] = secrets.token_urlsafe(16)
        enrol(meeting, slug, index, code, out[name])
    return out
