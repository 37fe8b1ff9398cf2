"""A voter's saved receipt file checked against a record (``ballot verify RECORD --receipt FILE``).

The phone's "Lưu biên nhận" saves the receipt document the server signed (docs/protocol.md
§9): ``{"version": "ballot/v1/receipt", "election", "position", "tracking_code", "entry_hash",
"accepted_at", "signature"}`` (JSON, any whitespace). A receipt recovered from the board after
a lost answer has ``accepted_at`` and ``signature`` null: it is checked for its position and
entry hash only, and said to be unsigned.

Checks, in order (the first failure is named):
1. the document is a receipt (fields, version);
2. ``election`` is the record's base hash;
3. ``signature`` verifies under the record's receipt key (bound to the manifest in version 2);
4. the board has an entry at ``position``, with that tracking code and that ``entry_hash`` —
   so a board reordered or re-chained since the receipt was signed fails here.

Needs only :mod:`ballot.crypto`, :mod:`ballot.election` and the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ballot.crypto.encoding import EncodingError, b64decode

from .board import Receipt, ReceiptError, verify_receipt
from .verify import normalise_code

__all__ = ["ReceiptCheck", "check_receipt_file", "looks_like_receipt_file"]

_KEYS = {"version", "election", "position", "tracking_code", "entry_hash", "accepted_at",
         "signature"}


@dataclass(frozen=True)
class ReceiptCheck:
    ok: bool
    signed: bool
    lines: tuple[str, ...]
    failure: str | None = None


def looks_like_receipt_file(text: str) -> bool:
    """A tracking code never starts with ``{``: a JSON object is a receipt file."""
    return text.lstrip().startswith("{")


def check_receipt_file(record: dict[str, Any], receipt: Any) -> ReceiptCheck:
    lines: list[str] = []

    def fail(why: str) -> ReceiptCheck:
        return ReceiptCheck(False, False, tuple(lines), why)

    if not isinstance(receipt, dict) or set(receipt) != _KEYS or \
            receipt.get("version") != "ballot/v1/receipt":
        return fail("not a ballot/v1/receipt document (the file the phone saves with "
                    "“Lưu biên nhận”)")
    pos, code, ehash = receipt["position"], receipt["tracking_code"], receipt["entry_hash"]
    if isinstance(pos, bool) or not isinstance(pos, int) or pos < 1 or \
            not isinstance(code, str) or not isinstance(ehash, str):
        return fail("the receipt's position, tracking code or entry hash is malformed")
    if receipt["election"] != record.get("base_hash"):
        return fail(f"the receipt is for election {str(receipt['election'])[:16]}…, the record "
                    f"is {str(record.get('base_hash'))[:16]}…")
    lines.append(f"election {receipt['election'][:16]}…: this record's")
    signed = receipt["signature"] is not None
    if signed:
        try:
            key = b64decode(record["receipt_key"], 32, "receipt_key")
            verify_receipt(key, Receipt.from_json(receipt))
        except (ReceiptError, EncodingError, TypeError) as exc:
            return fail(f"the receipt's signature does not verify under the record's receipt "
                        f"key ({exc})")
        lines.append("signature: the server's receipt key, as in the record")
    elif receipt["accepted_at"] is not None:
        return fail("the receipt has no signature")
    else:
        lines.append("unsigned (recovered from the board after a lost answer): position and "
                     "entry hash only")
    board = record.get("board")
    entry = board[pos - 1] if isinstance(board, list) and pos <= len(board) else None
    if not isinstance(entry, dict):
        return fail(f"the board has no position {pos} (it has "
                    f"{len(board) if isinstance(board, list) else 0} entries)")
    here = _tracking_code(record, entry)
    if here is None or normalise_code(here) != normalise_code(code):
        return fail(f"position {pos} holds another ballot ({here}), not {code}: the board was "
                    "reordered or the ballot removed")
    if entry.get("entry_hash") != ehash:
        return fail(f"position {pos}: the entry hash is {str(entry.get('entry_hash'))[:16]}…, "
                    f"the receipt says {ehash[:16]}…: the board was re-chained since")
    lines.append(f"position {pos}: tracking code {code}, entry hash {ehash[:16]}… as signed")
    return ReceiptCheck(True, signed, tuple(lines))


def _tracking_code(record: dict[str, Any], entry: dict[str, Any]) -> str | None:
    from ballot.crypto.ballots import BallotError, ballot_from_json
    from ballot.election.manifest import Manifest

    from .context import ElectionContext

    try:
        manifest = Manifest.from_json(record["manifest"])
        ctx = ElectionContext.from_json(manifest, record["context"])
        return ballot_from_json(entry["ballot"], ctx.shape).tracking_code
    except (BallotError, EncodingError, KeyError, TypeError, ValueError):
        return None
