"""The verifier's checks of a version-2 record's close: the attendance and paper figures fixed
at the close, the board's final head, and the order of the audit entries (close → paper
counts → decryptions). docs/protocol.md §12, checks 15–16.

Like :mod:`ballot.tally.verify`, it needs only :mod:`ballot.crypto`, :mod:`ballot.election`
and the record.
"""

from __future__ import annotations

from typing import Any, Collection

from ballot.election.counts import MeetingFigures

from .board import GENESIS
from .close import PAPER_FIGURES, CloseError, check_audit_entry, check_close_detail, paper_counts_sha256

__all__ = ["check_close"]


def check_close(record: dict[str, Any], report: Any, *, eligible: int, issued: int,
                figures: MeetingFigures, trustees: Collection[int]) -> None:
    """Add the checks "Close: attendance, paper figures, board head" and "Audit order: close
    before the decryptions" to ``report`` (stopping at the first failure)."""
    need, must = report.need, report.must
    close, board, paper = record["close"], record["board"], record["paper"]

    # 15. The close: what it fixed, against the record.
    title = "Close: attendance, paper figures, board head"
    try:
        check_close_detail(close, eligible=eligible)
    except CloseError as exc:
        need(False, "close", title, str(exc))
    head = board[-1]["entry_hash"] if board else GENESIS.hex()
    must(close["board"] == {"ballots": len(board), "head": head}, "close", title,
         f"the board closed had {close['board']['ballots']} ballots, head "
         f"{close['board']['head'][:16]}…; the record's board has {len(board)}, head {head[:16]}…")
    must(close["tokens"] == issued, "close", title,
         f"{close['tokens']} tokens at the close, {issued} in the issuance log")
    aside = len(record["paper_instead"])
    must(close["set_aside"] == aside, "close", title,
         f"{close['set_aside']} tokens set aside at the close, {aside} in paper_instead")
    must(close["present"] == figures.present, "close", title,
         f"present {close['present']} at the close, {figures.present} in the figures")
    p = close["paper"]
    if any(p.values()):
        same = isinstance(paper, dict) and {k: paper.get(k) for k in PAPER_FIGURES} == p
    else:
        same = paper is None
    must(same, "close", title, "the paper figures are not the ones fixed at the close")
    need(True, "close", title,
         f"present {close['present']}, {close['tokens']} tokens ({close['set_aside']} set "
         f"aside), paper: {p['voters']} voters, "
         f"{p['ballots_issued']} issued, {p['ballots_valid']} valid, {p['ballots_invalid']} "
         f"invalid; board {len(board)} ballots, head {head}")

    # 16. The audit entries: each hash, and the order close → paper counts → decryptions.
    title = "Audit order: figures fixed before the decryptions"
    entries = record["audit"]
    if not isinstance(entries, list) or not entries:
        need(False, "audit_order", title, "audit: a non-empty list of audit entries")
    try:
        entries = [check_audit_entry(e, f"audit[{i}]") for i, e in enumerate(entries)]
    except CloseError as exc:
        need(False, "audit_order", title, str(exc))
    seqs = [e["seq"] for e in entries]
    must(seqs == sorted(set(seqs)), "audit_order", title, "audit: entries in increasing seq")
    must(len({e["election_id"] for e in entries}) == 1, "audit_order", title,
         "audit: entries of more than one election")
    first = entries[0]
    must(first["action"] == "close" and first["actor"] == "secretary"
         and first["detail"] == close, "audit_order", title,
         "audit[0] is not the close entry holding the record's close")
    rest = entries[1:]
    paper_entries = [e for e in rest if e["action"] == "paper_counts"]
    if p["ballots_valid"]:
        want = {"counts_sha256": paper_counts_sha256(paper["counts"])}
        must(len(paper_entries) == 1 and paper_entries[0]["detail"] == want
             and paper_entries[0]["actor"] == "committee", "audit_order", title,
             "the paper counts' audit entry is missing or holds other counts")
    else:
        must(not paper_entries, "audit_order", title,
             "a paper counts entry, but no valid paper ballot")
    decs = [e for e in rest if e["action"] == "decryption"]
    must(len(decs) + len(paper_entries) == len(rest), "audit_order", title,
         "audit: only the close, paper counts and decryption entries")
    actors = sorted(e["actor"] for e in decs)
    must(actors == sorted(f"trustee {i}" for i in trustees) and len(set(actors)) == len(actors),
         "audit_order", title,
         f"the decryption entries are by {actors}, the record's decryptions by trustees "
         f"{sorted(trustees)}")
    # the order: every decryption after the close and after the paper counts
    last_fixed = max([first["seq"]] + [e["seq"] for e in paper_entries])
    early = [e["seq"] for e in decs if e["seq"] <= last_fixed]
    must(not early, "audit_order", title,
         f"decryption entries {early} come before the figures were fixed (entry "
         f"#{last_fixed}): the attendance or paper counts were entered after a decryption")
    need(True, "audit_order", title,
         f"close entry #{first['seq']} {first['entry_hash']}"
         + (f", paper counts #{paper_entries[0]['seq']}" if paper_entries else "")
         + (f", then decryptions #{', #'.join(str(e['seq']) for e in decs)}" if decs
            else ", no decryption (an empty board)"))
