"""What a trustee's device checks before it decrypts anything (docs/protocol.md, "What a
trustee decrypts"): the whole board, downloaded from the server, checked as the verifier
checks it, and the aggregate recomputed from it.

The server is not trusted for the aggregate: a trustee decrypts only the per-unit product of
the ballots it has checked itself, so a server that served "one ballot per unit" totals (or
any other ciphertext) learns nothing. What the device cannot see by itself is a board cut
down (a board of one ballot would decrypt that ballot): it shows the head (ballot count, last
entry hash) for the committee to compare with the projector and the turnout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ballot.crypto.elgamal import Ciphertext

from .board import GENESIS, entry_hash
from .context import ElectionContext

__all__ = ["BoardError", "CheckedBoard", "check_board", "same_head"]

Progress = Callable[[int, int], None]


class BoardError(ValueError):
    """A board that does not check: the trustee must not decrypt anything for it."""


@dataclass(frozen=True)
class CheckedBoard:
    ballots: int
    head: str  # hex: the last entry's hash (32 zero bytes for an empty board)
    tokens: int  # tokens issued, as the server reports it
    aggregate: tuple[Ciphertext, ...]  # one per unit, recomputed here, of the valid ballots
    valid: int = -1  # the ballots counted (-1: as many as ``ballots``)

    @property
    def counted(self) -> int:
        return self.ballots if self.valid < 0 else self.valid

    def head_text(self) -> str:
        invalid = self.ballots - self.counted
        return (f"{self.ballots} ballots received, {self.counted} valid and counted, "
                f"{invalid} invalid, head {self.head}")


def check_board(ctx: ElectionContext, board: Any, tokens_issued: Any, *,
                progress: Progress | None = None, workers: int | None = None,
                checks: Any = None) -> CheckedBoard:
    """Every entry in order (positions 1..B), the hash chain, every ballot (token signature
    under the election's issuer key, voter signature, every proof), no token twice,
    B ≤ tokens issued; returns the head and the aggregate. Raises :class:`BoardError`.

    ``checks``: the server's status of each entry (``{"<position>": ["valid" | "invalid",
    reason]}``, docs/protocol.md §9.1). A ballot whose proofs fail here is left out of the
    aggregate only if the server marked it invalid too; a ballot the server marked invalid
    must fail here: any disagreement refuses the board (a server dropping a valid ballot, or
    counting an invalid one)."""
    from .verify import _run_ballot_checks  # the verifier's own ballot checks, in workers

    if isinstance(tokens_issued, bool) or not isinstance(tokens_issued, int) or tokens_issued < 0:
        raise BoardError("the server's counters give no number of tokens issued")
    if not isinstance(board, list):
        raise BoardError("the server's board is not a list of entries")
    keys = {"position", "ballot", "prev_hash", "entry_hash"}
    entries: list[tuple[int, Any]] = []
    for i, e in enumerate(board):
        if not isinstance(e, dict) or set(e) != keys or e["position"] != i + 1:
            raise BoardError(f"board entry {i + 1}: malformed or out of order")
        entries.append((i + 1, e["ballot"]))
    if len(entries) > tokens_issued:
        raise BoardError(f"the board holds {len(entries)} ballots but only {tokens_issued} "
                         "tokens were issued")
    rows, totals = _run_ballot_checks(ctx, entries, progress, workers)
    rows.sort(key=lambda r: r[0])
    seen: dict[bytes, int] = {}
    prev = GENESIS
    marked = checks if isinstance(checks, dict) else {}
    for (position, error, proof_error, token_id, bhash), e in zip(rows, board):
        if error is not None:
            raise BoardError(f"board position {position}: {error}")
        server = marked.get(str(position))
        said_invalid = isinstance(server, list) and server[:1] == ["invalid"]
        if proof_error is not None and not said_invalid:
            raise BoardError(f"board position {position}: {proof_error} (marked valid)")
        if proof_error is None and said_invalid:
            raise BoardError(f"board position {position} is marked invalid, but its token, "
                             "signature and proofs verify")
        first = seen.setdefault(token_id, position)
        if first != position:
            raise BoardError(f"board position {position} reuses the token of position {first}")
        expect = entry_hash(prev, position, bhash)
        if e["prev_hash"] != prev.hex() or e["entry_hash"] != expect.hex():
            raise BoardError(f"board position {position}: the hash chain is broken")
        prev = expect
    invalid = sum(1 for r in rows if r[2] is not None)
    return CheckedBoard(len(entries), prev.hex(), tokens_issued, tuple(totals),
                        valid=len(entries) - invalid)


#: The fewest hex digits of the head a person may compare: 16 (64 bits). Fewer could be
#: matched by a server grinding junk entries (marked invalid, so they cost it no proof) onto a
#: board cut down to one voter's ballot (the hostile review of this session).
MIN_HEAD_DIGITS = 16


def same_head(checked: CheckedBoard, expected: str, ballots: int | None = None,
              valid: int | None = None) -> bool:
    """Whether ``expected`` (the head hash read from the projector, whole or its first
    characters, at least 16, spaces ignored), ``ballots`` (received) and ``valid`` (counted)
    match the checked board."""
    want = "".join(expected.split()).lower()
    if len(want) < MIN_HEAD_DIGITS or not checked.head.startswith(want):
        return False
    return (ballots is None or ballots == checked.ballots) and \
        (valid is None or valid == checked.counted)
