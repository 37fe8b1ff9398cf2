"""Voting: receiving ballots, their background check, closing (docs/protocol.md, "Received,
then checked").

The split is Helios's: a ballot is *received* — appended to the board, receipt signed —
after the cheap checks only (exact fields and encodings, every point on the curve, the token's
blind signature, the voter's signature, the token not used yet: about 10 ms for 100 units);
its proofs (about 0.4 s of CPU for 100 units) are *checked* afterwards by the background
checker (:mod:`ballot.service.checker`), which marks the entry valid or invalid. Closing
voting waits until every received ballot has its status; the tally takes only valid ones.

A receipt therefore means: "this ballot is on the board at this position, chained under this
entry hash; it carries a valid token never used before and the token holder's signature". It
does not yet mean "counted": the entry's status (``GET …/ballots/<position>/status``, the
board, the record) says valid or invalid, and the record's verifier re-checks every status.
Only the token holder can sign a ballot with their token, and honest phones only produce
valid ballots, so for them nothing changes but the wait.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ballot.crypto.ballots import BallotError, ballot_from_json, check_envelope
from ballot.crypto.encoding import canonical_json
from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.errors import StoreError
from ballot.store.lifecycle import require_status, transition
from ballot.store.models import BoardCheck, BoardEntry
from ballot.tally.board import Receipt, entry_hash, sign_receipt

from . import checker

if TYPE_CHECKING:  # pragma: no cover
    from .meeting import Meeting

__all__ = ["receive", "entry_status", "close_voting", "finish_close"]


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _error(message: str, status: int) -> Exception:
    from .meeting import ServiceError

    return ServiceError(message, status)


def receive(meeting: "Meeting", slug: str, ballot_json: Any) -> dict[str, Any]:
    """The cheap checks, the board append, the signed receipt (the receipt exists only once
    the ballot is committed). The proofs are checked in the background."""
    with transaction(meeting.factory, read_only=True) as s:
        election = meeting._election(s, slug)
        require_status(election, "open", action="accept a ballot")
        ctx = meeting.context(s, election)
        election_id = election.id
    try:
        ballot = ballot_from_json(ballot_json, ctx.shape)
    except BallotError as exc:
        raise _error(f"ballot refused: {exc}", 422) from None
    token_id = ballot.token.token_id.hex()
    # A spent token is refused before anything else is checked (token ids are public on the
    # board anyway).
    with transaction(meeting.factory, read_only=True) as s:
        spent = s.scalar(select(BoardEntry.id).where(BoardEntry.election_id == election_id,
                                                     BoardEntry.token_id == token_id))
    if spent is not None:
        raise _error("a ballot has already been cast with this token", 409)
    try:
        check_envelope(ballot, ctx.shape, ctx.base_hash, ctx.issuer)
    except BallotError as exc:
        raise _error(f"ballot refused: {exc}", 422) from None
    text = canonical_json(ballot.to_json()).decode()
    bhash = ballot.ballot_hash
    with transaction(meeting.factory) as s:
        try:
            entry = repo.append_board_entry(
                s, election_id, token_id, text, ballot.tracking_code,
                lambda prev, pos, _j: entry_hash(bytes.fromhex(prev), pos, bhash).hex())
        except StoreError as exc:
            raise _error(str(exc), 409) from None
        position, ehash = entry.position, entry.entry_hash
    receipt = Receipt(ctx.base_hash.hex(), position, ballot.tracking_code, ehash, _now())
    return sign_receipt(meeting.keys.receipt_key(), receipt).to_json()


def entry_status(meeting: "Meeting", slug: str, position: Any) -> dict[str, Any]:
    """``{"position", "tracking_code", "entry_hash", "status": "received" | "valid" |
    "invalid", "reason"?}`` of one board entry: what a phone asks after its receipt."""
    if isinstance(position, bool) or not isinstance(position, int) or not 1 <= position < 2**31:
        raise _error("a board position is a whole number from 1", 400)
    with transaction(meeting.factory, read_only=True) as s:
        election = meeting._election(s, slug)
        row = s.execute(select(BoardEntry.tracking_code, BoardEntry.entry_hash).where(
            BoardEntry.election_id == election.id, BoardEntry.position == position)).first()
        if row is None:
            raise _error(f"no ballot at board position {position}", 404)
        check = s.execute(select(BoardCheck.status, BoardCheck.reason).where(
            BoardCheck.election_id == election.id, BoardCheck.position == position)).first()
    out: dict[str, Any] = {"position": position, "tracking_code": row.tracking_code,
                           "entry_hash": row.entry_hash,
                           "status": check.status if check is not None else "received"}
    if check is not None and check.reason is not None:
        out["reason"] = check.reason
    return out


def close_voting(meeting: "Meeting", slug: str, *, wait: bool = True) -> None:
    """Stop receiving ballots (→ closed). With ``wait``: check whatever is still unchecked
    here and now (with the background checker, if one runs), then store the aggregate of the
    valid entries (:func:`finish_close`). Without: return at once; the background checker
    finishes, and the secretary's page shows the progress."""
    with transaction(meeting.factory) as s:
        election = meeting._election(s, slug)
        transition(s, election, "closed")
        meeting.context(s, election)
        repo.append_audit(s, election_id=election.id, actor="secretary", action="close",
                          detail={})
        election_id = election.id
    if wait:
        finish_close(meeting, slug, election_id=election_id)
    else:
        # The checker's work may already be done: then the aggregate is there at once.
        checker.store_aggregate_if_ready(meeting.factory, election_id)


def finish_close(meeting: "Meeting", slug: str, *, election_id: int | None = None,
                 budget: float | None = None) -> bool:
    """Check every still unchecked entry of a closed election (newest first: a background
    checker goes oldest first), then store the aggregate. True once it exists. ``budget``:
    seconds to spend at most (the background checker does the rest)."""
    if election_id is None:
        with transaction(meeting.factory, read_only=True) as s:
            election_id = meeting._election(s, slug).id
    deadline = None if budget is None else time.monotonic() + budget
    while True:
        checker.check_election(meeting.factory, election_id, newest_first=True,
                               deadline=deadline)
        if checker.store_aggregate_if_ready(meeting.factory, election_id):
            return True
        with transaction(meeting.factory, read_only=True) as s:
            status = meeting._election(s, slug).status if slug else None
            left = checker.progress(s, election_id).unchecked
        # Voting still open: nothing to aggregate yet. Otherwise an entry may be held by a
        # background checker at this moment (PostgreSQL: SKIP LOCKED): wait for its status
        # (or for its lock to end, if that checker dies, and check it here).
        if status != "closed" or not left or \
                (deadline is not None and time.monotonic() >= deadline):
            return False
        time.sleep(0.1)
