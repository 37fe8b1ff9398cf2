"""The election record: one JSON document with everything an observer needs to check the
election (docs/protocol.md, "Election record").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from ballot.crypto.elgamal import Ciphertext
from ballot.crypto.encoding import EncodingError, b64encode, canonical_json, parse_json
from ballot.election.counts import MeetingFigures, UnitCounts
from ballot.election.errors import CountError
from ballot.election.results import CountResult

from .context import ElectionContext
from .decryption import TrusteeDecryption

__all__ = ["RECORD_VERSION", "RECORD_VERSION_1", "RECORD_FIELDS", "RecordError", "build_record", "load_record", "save_record",
           "counts_to_json", "counts_from_json", "paper_from_json"]

RECORD_VERSION_1 = "ballot/v1/record"
#: Version 2 adds ``close`` (attendance, paper figures, board head fixed at the close) and
#: ``audit`` (the audit entries that order the close before the decryptions); its manifest
#: binds the receipt key. Each version's fields, in one table so that a later field (e.g. the
#: trustees' approvals) slots in as one more entry.
RECORD_VERSION = "ballot/v2/record"
RECORD_KEYS = (
    "version", "manifest", "context", "base_hash", "receipt_key", "issuance_log", "board",
    "aggregate", "decryptions", "electronic_counts", "paper", "figures", "counts", "results",
)
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    RECORD_VERSION_1: RECORD_KEYS,
    # paper_instead: roll ids of members who received a token and voted on paper instead;
    # approvals: every trustee's signed approval of the base hash (docs/protocol.md §9.2).
    RECORD_VERSION: RECORD_KEYS + ("close", "audit", "paper_instead", "approvals"),
}


class RecordError(ValueError):
    """A record file that cannot be read at all."""


def counts_to_json(unit_ids: Sequence[str], counts: Sequence[UnitCounts]) -> list[dict[str, Any]]:
    return [{"unit_id": uid, **c.to_json()} for uid, c in zip(unit_ids, counts)]


def build_record(
    *,
    ctx: ElectionContext,
    receipt_key: bytes,
    issued_roll_ids: Sequence[str],
    board: Sequence[Mapping[str, Any]],
    aggregate: Sequence[Ciphertext],
    decryptions: Sequence[TrusteeDecryption],
    electronic_counts: Sequence[UnitCounts],
    paper: Mapping[str, Any] | None,
    figures: MeetingFigures,
    counts: Sequence[UnitCounts],
    results: CountResult,
    close: Mapping[str, Any],
    audit: Sequence[Mapping[str, Any]],
    paper_instead: Sequence[str] = (),
    approvals: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """``close``: the close's figures (:func:`ballot.tally.close.close_detail`); ``audit``: the
    audit entries of the close, the paper counts and the decryptions, in seq order.
    ``board`` entries: position, ballot (JSON), prev_hash, entry_hash (no times).
    ``paper``: None, or ballots_issued/ballots_valid/ballots_invalid/voters and per-unit counts.
    ``paper_instead``: roll ids of members who received a token and voted on paper instead."""
    unit_ids = [u.unit_id for u in ctx.manifest.units]
    return {
        "version": RECORD_VERSION,
        "manifest": ctx.manifest.to_json(),
        "context": ctx.to_json(),
        "base_hash": ctx.base_hash.hex(),
        "receipt_key": b64encode(receipt_key),
        # Sorted, without times: who received a token, never which token nor when.
        "issuance_log": sorted(issued_roll_ids),
        "board": [dict(e) for e in board],
        "aggregate": [b64encode(c.to_bytes()) for c in aggregate],
        "decryptions": [d.to_json() for d in sorted(decryptions, key=lambda d: d.trustee)],
        "electronic_counts": counts_to_json(unit_ids, electronic_counts),
        "paper": dict(paper) if paper is not None else None,
        "figures": figures.to_json(),
        "counts": counts_to_json(unit_ids, counts),
        "results": results.to_json(),
        "close": dict(close),
        "audit": [dict(a) for a in audit],
        # Sorted roll ids: their tokens are set aside (docs/protocol.md, "paper_instead").
        "paper_instead": sorted(paper_instead),
        "approvals": [dict(a) for a in approvals],
    }


def save_record(record: Mapping[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(canonical_json(record))
    tmp.replace(path)
    return path


def load_record(path: str | Path) -> dict[str, Any]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RecordError(f"cannot read {path}: {exc.strerror}") from None
    try:
        record = parse_json(data)
    except EncodingError as exc:
        raise RecordError(f"{path} is not a ballot record: {exc}") from None
    if not isinstance(record, dict) or record.get("version") not in RECORD_FIELDS:
        raise RecordError(f"{path} is not a ballot record (versions: "
                          f"{', '.join(RECORD_FIELDS)})")
    keys = RECORD_FIELDS[record["version"]]
    missing = [k for k in keys if k not in record]
    extra = sorted(set(record) - set(keys))
    if missing or extra:
        raise RecordError(f"{path}: missing fields {missing}, unexpected fields {extra}")
    return record


def counts_from_json(items: Any, unit_ids: list[str], what: str) -> list[UnitCounts]:
    if not isinstance(items, list) or len(items) != len(unit_ids):
        raise CountError(f"{what}: expected one entry per unit ({len(unit_ids)})")
    out = []
    for uid, item in zip(unit_ids, items):
        if not isinstance(item, dict) or set(item) != {"unit_id", "votes", "abstain", "blank"}:
            raise CountError(f"{what}: entries have unit_id, votes, abstain, blank")
        if item["unit_id"] != uid:
            raise CountError(f"{what}: expected unit {uid}, found {item['unit_id']!r}")
        if not isinstance(item["votes"], dict):
            raise CountError(f"{what}.{uid}.votes: an object")
        out.append(UnitCounts(item["votes"], item["abstain"], item["blank"]))
    return out


def paper_from_json(paper: Any, unit_ids: list[str]) -> list[UnitCounts]:
    if paper is None:
        return [UnitCounts({}) for _ in unit_ids]
    keys = {"ballots_issued", "ballots_valid", "ballots_invalid", "voters", "counts"}
    if not isinstance(paper, dict) or set(paper) != keys:
        raise CountError(f"paper: expected the fields {sorted(keys)}")
    for key in keys - {"counts"}:
        if isinstance(paper[key], bool) or not isinstance(paper[key], int) or paper[key] < 0:
            raise CountError(f"paper.{key}: a count")
    counts = counts_from_json(paper["counts"], unit_ids, "paper.counts")
    for uid, c in zip(unit_ids, counts):
        if c.rows != paper["ballots_valid"]:
            raise CountError(f"paper.counts.{uid}: {c.rows} rows for "
                             f"{paper['ballots_valid']} valid paper ballots")
    return counts
