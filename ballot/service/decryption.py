"""Counting phase, the trustees' side: what the server gives a trustee's device to check, and
the aggregate the server itself decrypts against (docs/protocol.md, "What a trustee decrypts").

The server never reads a stored aggregate back as truth: every use recomputes the per-unit
product from the board (the ``tallies`` row written at close is an append-only record, one per
election, nothing more). A trustee's device does not take the server's aggregate either: it
downloads the full board (:func:`full_board`) and recomputes it (``ballot/tally/board_check.py``,
``js/src/trustee.js``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ballot.crypto.elgamal import Ciphertext
from ballot.crypto.encoding import parse_json
from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.models import Election
from ballot.tally.decryption import DecryptionError, aggregate_accepted

from . import checker

if TYPE_CHECKING:  # pragma: no cover
    from .meeting import Meeting

__all__ = ["board_totals", "full_board"]

#: The board with its ballots is served once voting has closed (the record publishes it too).
FULL_BOARD_STATUSES = ("closed", "tallied", "published")


def board_totals(meeting: "Meeting", s: Session, election: Election) -> tuple[Ciphertext, ...]:
    """The aggregate of the ballots on the board, recomputed (never read from ``tallies``)."""
    from .meeting import ServiceError

    if election.status not in FULL_BOARD_STATUSES:
        raise ServiceError("voting is not closed yet", 409)
    ctx = meeting.context(s, election)
    board = repo.board(s, election.id)
    if not board:
        raise ServiceError("no electronic ballot was cast: there is nothing to decrypt", 409)
    # Only the ballots the checker found valid count (service/checker.py), once every one of
    # them has its status.
    statuses = checker.statuses(s, election.id)
    if len(statuses) < len(board):
        raise ServiceError(f"the ballots are still being checked: {len(statuses)} of "
                           f"{len(board)} done", 409)
    valid = [e for e in board if statuses[e.position][0] == "valid"]
    if not valid:
        raise ServiceError("no valid electronic ballot: there is nothing to decrypt", 409)
    try:
        return aggregate_accepted((parse_json(e.ballot_json)["units"] for e in valid),
                                  ctx.shape.num_units)
    except DecryptionError as exc:
        raise ServiceError(f"the board does not add up: {exc}", 409) from None


def full_board(meeting: "Meeting", slug: str) -> dict[str, Any]:
    """Every board entry with its ballot, for a trustee's device to check and sum by itself:
    ``{"status", "board": [{position, ballot, prev_hash, entry_hash}]}`` (the record's board
    format). The tokens issued are in the counters (the projector's figures)."""
    from .meeting import ServiceError

    with transaction(meeting.factory, read_only=True) as s:
        election = meeting._election(s, slug)
        if election.status not in FULL_BOARD_STATUSES:
            raise ServiceError("the board's ballots are given out once voting has closed", 409)
        board = repo.board(s, election.id)
        checks = checker.statuses(s, election.id)
        if len(checks) < len(board):
            raise ServiceError(f"the ballots are still being checked: {len(checks)} of "
                               f"{len(board)} done", 409)
        return {
            "status": election.status,
            "board": [{"position": e.position, "ballot": parse_json(e.ballot_json),
                       "prev_hash": e.prev_hash, "entry_hash": e.entry_hash} for e in board],
            # The server's status of each entry (docs/protocol.md §9.1): the device re-checks
            # every one and refuses the board on any disagreement.
            "checks": {str(p): [st, reason] for p, (st, reason) in checks.items()},
        }
