"""Key ceremony, the end: each trustee's approval of the election fingerprint (issue 11, key
substitution; docs/protocol.md, "Trustee approvals").

After "Finish" the context (and its base hash) exists; each trustee's device checks it against
the keys it checked its shares against and signs the base hash. Voting opens only once every
trustee has approved (:func:`require_approvals`, called by ``Meeting.open_voting``); the
approvals go into the election record and ``ballot verify`` checks them. A trustee's approval,
once stored, never changes (a trigger, migration 0004), like its published keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ballot.crypto.encoding import canonical_json, parse_json
from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.models import Election
from ballot.tally.approval import ApprovalError, verify_approval

if TYPE_CHECKING:  # pragma: no cover
    from .meeting import Meeting

__all__ = ["submit_approval", "approvals", "require_approvals"]


def submit_approval(meeting: "Meeting", slug: str, index: int, code: str, data: Any) -> int:
    """Trustee ``index`` approves the fingerprint: its signature is checked against the
    context's K_i0 and stored. Returns how many trustees have approved."""
    from .meeting import ServiceError

    with transaction(meeting.factory) as s:
        election = repo.lock_election(s, meeting._election(s, slug).id)
        if election.status != "key_ceremony" or not election.context_json:
            raise ServiceError("approvals are given after the key ceremony is finished and "
                               "before voting opens", 409)
        t = meeting.trustee_login(s, election, index, code)
        ctx = meeting.context(s, election)
        try:
            who = verify_approval(ctx, data)
            if who != index:
                raise ApprovalError(f"an approval by trustee {who} sent as trustee {index}")
        except ApprovalError as exc:
            raise ServiceError(f"approval refused: {exc}", 422) from None
        if t.approval_json is not None:
            raise ServiceError("this trustee has already approved", 409)
        t.approval_json = canonical_json(data).decode()
        repo.append_audit(s, election_id=election.id, actor=f"trustee {index}", action="approve",
                          detail={"base_hash": ctx.base_hash.hex()})
        return sum(1 for x in repo.trustees(s, election.id) if x.approval_json is not None)


def approvals(meeting: "Meeting", s: Session, election: Election) -> list[dict[str, Any]] | None:
    """Every trustee's stored approval, each checked again, in trustee order; None when there
    is none at all (an election opened before approvals existed: a v1 record)."""
    ctx = meeting.context(s, election)
    rows = repo.trustees(s, election.id)
    if all(t.approval_json is None for t in rows):
        return None
    from .meeting import ServiceError

    out = []
    for t in rows:
        if t.approval_json is None:
            continue
        data = parse_json(t.approval_json)
        try:
            verify_approval(ctx, data)
        except ApprovalError as exc:  # written by hand in the database: never published
            raise ServiceError(f"a stored approval does not verify: {exc}", 409) from None
        out.append(data)
    return out


def require_approvals(meeting: "Meeting", s: Session, election: Election) -> None:
    """Refuse to open voting until every trustee's approval of this context is in (and
    verifies: a row written by hand does not count)."""
    from .meeting import ServiceError

    ctx = meeting.context(s, election)
    waiting = []
    for t in repo.trustees(s, election.id):
        try:
            if t.approval_json is None or verify_approval(ctx, parse_json(t.approval_json)) != t.index:
                waiting.append(t.index)
        except (ApprovalError, ValueError):
            waiting.append(t.index)
    if waiting:
        raise ServiceError(
            f"voting cannot open yet: trustees {waiting} have not approved the election "
            "fingerprint on their own device (each trustee compares it with the projector "
            "and approves it on the trustee page or with 'ballot trustee approve')", 409)
