"""Board entries' statuses in the election record (docs/protocol.md, "Received, then checked").

A ballot is received (on the board, receipted) after the cheap checks; its proofs are checked
afterwards and each entry gets one status: ``valid``, or ``invalid`` with a reason. In the
record every board entry then carries ``"status"`` (and ``"reason"`` when invalid). Records
made before this (no ``status`` anywhere) had every ballot fully checked before its receipt:
all their entries are valid.

Only valid entries are counted: :func:`valid_positions` is what a tally, a trustee's device
or an observer recomputing the aggregate calls.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

__all__ = ["STATUSES", "ENTRY_KEYS", "StatusError", "entry_json", "has_statuses",
           "entry_status", "valid_positions"]

STATUSES = ("valid", "invalid")
#: The keys of a board entry without a status (records of before) ...
ENTRY_KEYS = frozenset({"position", "ballot", "prev_hash", "entry_hash"})
#: ... and with one.
VALID_KEYS = ENTRY_KEYS | {"status"}
INVALID_KEYS = ENTRY_KEYS | {"status", "reason"}


class StatusError(ValueError):
    """A board entry whose status field is malformed."""


def entry_json(*, position: int, ballot: Any, prev_hash: str, entry_hash: str, status: str,
               reason: str | None) -> dict[str, Any]:
    """One board entry of the record, with its status."""
    if status not in STATUSES or (status == "invalid") != (reason is not None):
        raise StatusError(f"board position {position}: status {status!r} with reason {reason!r}")
    out = {"position": position, "ballot": ballot, "prev_hash": prev_hash,
           "entry_hash": entry_hash, "status": status}
    if reason is not None:
        out["reason"] = reason
    return out


def has_statuses(board: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the record's board carries statuses (checked in the background) — all of its
    entries or none (a record of before)."""
    return any(isinstance(e, Mapping) and "status" in e for e in board)


def entry_status(entry: Mapping[str, Any], with_statuses: bool) -> tuple[str, str | None]:
    """(status, reason) of one entry; raises :class:`StatusError` if malformed."""
    position = entry.get("position")
    if not with_statuses:
        if set(entry) != ENTRY_KEYS:
            raise StatusError(f"board position {position}: unexpected fields")
        return "valid", None
    status = entry.get("status")
    want = INVALID_KEYS if status == "invalid" else VALID_KEYS
    if status not in STATUSES or set(entry) != want:
        raise StatusError(f"board position {position}: a status is 'valid', or 'invalid' "
                          "with a reason")
    reason = entry.get("reason")
    if status == "invalid" and (not isinstance(reason, str) or not reason):
        raise StatusError(f"board position {position}: an invalid entry states its reason")
    return status, reason


def valid_positions(board: Iterable[Mapping[str, Any]]) -> list[int]:
    """The positions of the entries to count, in order: those marked ``valid`` (every entry
    of a record without statuses). Trust nothing more than the record says: the verifier
    (``ballot verify``) re-checks every status."""
    board = list(board)
    with_statuses = has_statuses(board)
    return [e["position"] for e in board if entry_status(e, with_statuses)[0] == "valid"]
