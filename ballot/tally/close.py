"""The close of voting as the record carries it: attendance, paper figures and the board's head,
fixed before any decryption (docs/protocol.md, "Record version 2: the close and its order").

At the close the secretary enters the attendance (members present and entitled to vote) and the
paper figures (members who voted on paper, paper ballots issued, valid, invalid). The server
writes them, with the number of tokens issued and the board's final head, in one entry of the
hash-chained audit log (action ``close``) and shows them on the projector. The record carries
that entry, the entry of the per-unit paper counts (if any) and every trustee's decryption
entry, each with its ``seq`` and hashes, so that the verifier checks that the figures which
decide N and the quorum were fixed before the first decryption.

Needs only :mod:`ballot.crypto` (the verifier's rule): the audit entry hash is computed here
the same way as :func:`ballot.store.repo.audit_entry_hash` (a test compares them).
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping, Sequence

from ballot.crypto.encoding import EncodingError, canonical_json, sha256

__all__ = ["PAPER_FIGURES", "AUDIT_ENTRY_KEYS", "CloseError", "close_detail", "check_close_detail",
           "audit_entry_hash", "check_audit_entry", "paper_counts_sha256", "zero_paper"]

#: The paper figures entered at the close, in this order on every page.
PAPER_FIGURES = ("voters", "ballots_issued", "ballots_valid", "ballots_invalid")
#: The fields of an audit entry in the record (docs/protocol.md).
AUDIT_ENTRY_KEYS = ("seq", "election_id", "actor", "action", "detail", "at", "prev_hash",
                    "entry_hash")
_HEX64 = frozenset("0123456789abcdef")


class CloseError(ValueError):
    """Close figures that do not add up, or a malformed audit entry."""


def zero_paper() -> dict[str, int]:
    return {k: 0 for k in PAPER_FIGURES}


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CloseError(f"{what}: a whole number of 0 or more")
    return value


def _hex(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) != 64 or not set(value) <= _HEX64:
        raise CloseError(f"{what}: 64 lowercase hex digits")
    return value


def check_close_detail(detail: Any, *, eligible: int) -> dict[str, Any]:
    """The checks the service makes when the figures are entered, and the verifier again:
    with valid tokens = tokens − set aside (members who received a token and voted on paper
    instead), ``valid tokens + paper voters ≤ present ≤ eligible``, ``set aside ≤ tokens``,
    ``paper ballots issued ≤ paper voters``, ``valid + invalid ≤ issued``, ``ballots on the
    board ≤ tokens``. Ballots beyond the valid tokens (a token set aside was used) are not a
    reason to refuse the close: the verifier's ``excess`` check fails on them. Returns the
    detail."""
    if not isinstance(detail, Mapping) or \
            set(detail) != {"present", "tokens", "set_aside", "paper", "board"}:
        raise CloseError("close: the fields present, tokens, set_aside, paper, board")
    present = _count(detail["present"], "close.present")
    tokens = _count(detail["tokens"], "close.tokens")
    set_aside = _count(detail["set_aside"], "close.set_aside")
    paper = detail["paper"]
    if not isinstance(paper, Mapping) or set(paper) != set(PAPER_FIGURES):
        raise CloseError(f"close.paper: the fields {', '.join(PAPER_FIGURES)}")
    p = {k: _count(paper[k], f"close.paper.{k}") for k in PAPER_FIGURES}
    board = detail["board"]
    if not isinstance(board, Mapping) or set(board) != {"ballots", "head"}:
        raise CloseError("close.board: the fields ballots and head")
    ballots = _count(board["ballots"], "close.board.ballots")
    _hex(board["head"], "close.board.head")
    if set_aside > tokens:
        raise CloseError(f"{set_aside} tokens set aside but {tokens} issued")
    valid = tokens - set_aside
    if p["ballots_valid"] + p["ballots_invalid"] > p["ballots_issued"]:
        raise CloseError("paper: valid + invalid ballots exceed the paper ballots issued")
    if p["ballots_issued"] > p["voters"]:
        raise CloseError("paper: more paper ballots issued than members voting on paper")
    if valid + p["voters"] > eligible:
        raise CloseError(f"paper: {p['voters']} paper voters + {valid} valid tokens exceed the "
                         f"{eligible} eligible members")
    if present > eligible:
        raise CloseError(f"present: {present} exceeds the {eligible} members entitled to vote")
    if present < valid + p["voters"]:
        raise CloseError(f"present: {present} is fewer than the {valid} members who received a "
                         f"valid token + {p['voters']} who voted on paper")
    if ballots > tokens:
        raise CloseError(f"{ballots} ballots on the board but {tokens} tokens issued")
    return dict(detail)


def close_detail(*, present: int | None, tokens: int, paper: Mapping[str, Any] | None,
                 ballots: int, head: str, eligible: int, set_aside: int = 0) -> dict[str, Any]:
    """The detail of the ``close`` audit entry (and the record's ``close``). ``present`` None:
    the members who voted (valid tokens + paper voters)."""
    p = zero_paper() if paper is None else {k: paper.get(k, 0) for k in PAPER_FIGURES}
    if paper is not None and set(paper) - set(PAPER_FIGURES):
        raise CloseError(f"paper figures: unknown fields {sorted(set(paper) - set(PAPER_FIGURES))}")
    for k in PAPER_FIGURES:
        _count(p[k], f"paper.{k}")
    if present is None:
        present = tokens - set_aside + p["voters"]
    return check_close_detail({"present": present, "tokens": tokens, "set_aside": set_aside,
                               "paper": p,
                               "board": {"ballots": ballots, "head": head}}, eligible=eligible)


def paper_counts_sha256(counts: Sequence[Mapping[str, Any]]) -> str:
    """hex SHA-256 of the canonical JSON of the per-unit paper counts (the record's
    ``paper.counts``), as the ``paper_counts`` audit entry carries it."""
    return hashlib.sha256(canonical_json(list(counts))).hexdigest()


def audit_entry_hash(entry: Mapping[str, Any]) -> str:
    """hex SHA-256("ballot/v1/audit-entry", prev_hash as 32 raw bytes, canonical JSON of
    {seq, election_id, actor, action, detail, at}) — :func:`ballot.store.repo.audit_entry_hash`."""
    body = canonical_json({k: entry[k] for k in ("seq", "election_id", "actor", "action",
                                                  "detail", "at")})
    return sha256("ballot/v1/audit-entry", bytes.fromhex(entry["prev_hash"]), body).hex()


def check_audit_entry(entry: Any, what: str) -> dict[str, Any]:
    """The fields and types of a record's audit entry, and its hash recomputed."""
    if not isinstance(entry, Mapping) or set(entry) != set(AUDIT_ENTRY_KEYS):
        raise CloseError(f"{what}: the fields {', '.join(AUDIT_ENTRY_KEYS)}")
    if isinstance(entry["seq"], bool) or not isinstance(entry["seq"], int) or entry["seq"] < 1:
        raise CloseError(f"{what}.seq: a whole number ≥ 1")
    eid = entry["election_id"]
    if eid is not None and (isinstance(eid, bool) or not isinstance(eid, int)):
        raise CloseError(f"{what}.election_id: a whole number or null")
    for key in ("actor", "action", "at"):
        if not isinstance(entry[key], str) or not entry[key]:
            raise CloseError(f"{what}.{key}: a string")
    _hex(entry["prev_hash"], f"{what}.prev_hash")
    _hex(entry["entry_hash"], f"{what}.entry_hash")
    try:
        recomputed = audit_entry_hash(entry)
    except (EncodingError, ValueError) as exc:
        raise CloseError(f"{what}: {exc}") from None
    if recomputed != entry["entry_hash"]:
        raise CloseError(f"{what} (seq {entry['seq']}): the entry hash does not match the entry "
                         "(altered)")
    return dict(entry)
