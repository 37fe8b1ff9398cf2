"""Counting: the close (attendance, paper figures, the board's final head), the paper counts,
and the finalize that writes the record and verifies it before anything is shown from it.

The order that matters (docs/protocol.md, "Record version 2: the close and its order"): the
figures that decide N and the quorum — attendance and the paper figures — are fixed in the
``close`` audit entry, shown on the projector, before any trustee decrypts; the per-unit
paper counts are entered before the first decryption too. The record carries those audit
entries with the decryptions', and the verifier checks their order.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ballot.crypto.elgamal import ZERO_CIPHERTEXT
from ballot.crypto.encoding import b64decode, canonical_json, parse_json
from ballot.election.counting import check_paper_at_most_k, count_manifest
from ballot.election.counts import MeetingFigures, UnitCounts
from ballot.election.errors import CountError
from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.lifecycle import require_status, transition
from ballot.store.models import GENESIS_HASH, AuditEntry, Election, TokenIssuance
from ballot.tally.close import (
    PAPER_FIGURES,
    CloseError,
    close_detail,
    paper_counts_sha256,
)
from ballot.tally.board_status import entry_json
from ballot.tally.decryption import TrusteeDecryption, combine_decryptions
from ballot.tally.record import build_record, counts_to_json, paper_from_json, save_record

from . import ceremony, checker
from . import paper as paper_instead
from . import verified

if TYPE_CHECKING:
    from .meeting import Meeting

__all__ = ["close_voting", "close_state", "enter_paper_counts", "finalize",
           "require_paper_counts_before_decryption", "audit_entry_json"]

Progress = Callable[[int, int], None]


def _error(message: str, status: int = 409) -> Exception:
    from .meeting import ServiceError

    return ServiceError(message, status)


def audit_entry_json(row: AuditEntry) -> dict[str, Any]:
    """An audit log row as the record carries it (docs/protocol.md): its hash recomputes from
    these fields alone."""
    return {"seq": row.seq, "election_id": row.election_id, "actor": row.actor,
            "action": row.action, "detail": parse_json(row.detail_json),
            "at": repo._iso_utc(row.at), "prev_hash": row.prev_hash,
            "entry_hash": row.entry_hash}


def _entries(s: Session, election: Election, action: str) -> list[AuditEntry]:
    return list(s.execute(select(AuditEntry).where(
        AuditEntry.election_id == election.id, AuditEntry.action == action)
        .order_by(AuditEntry.seq)).scalars())


def _close_entry(s: Session, election: Election) -> AuditEntry | None:
    rows = _entries(s, election, "close")
    return rows[0] if rows else None


# -- the close --------------------------------------------------------------------------------


def close_voting(m: Meeting, slug: str, *, present: int | None = None,
                 paper: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Close voting with the attendance and the paper figures (members who voted on paper,
    paper ballots issued, valid, invalid); ``present`` None: the members who voted (tokens +
    paper voters). Writes them with the board's final head in the ``close`` audit entry and
    returns :func:`close_state`. With no valid paper ballot, the (zero) paper counts are
    entered at once."""
    with transaction(m.factory) as s:
        election = m._election(s, slug)
        require_status(election, "open", action="close voting")
        ctx = m.context(s, election)
        manifest = ctx.manifest
        board = repo.board(s, election.id)
        head = board[-1].entry_hash if board else GENESIS_HASH
        try:
            tokens = paper_instead.token_figures(s, election.id)
            detail = close_detail(present=present, tokens=tokens["issued"],
                                  set_aside=tokens["set_aside"], paper=paper,
                                  ballots=len(board), head=head,
                                  eligible=len(manifest.eligible_voters()))
        except CloseError as exc:
            raise _error(str(exc), 422) from None
        transition(s, election, "closed")
        # The aggregate of the valid ballots is stored once every received ballot is checked
        # (service/checker.py; Meeting.close_voting waits for it).
        entry = repo.append_audit(s, election_id=election.id, actor="secretary", action="close",
                                  detail=detail)
        p = detail["paper"]
        if p["ballots_valid"] == 0 and any(p.values()):
            # Every paper ballot invalid: no per-unit count to wait for.
            counts = [{"unit_id": u.unit_id, "votes": {}, "abstain": 0, "blank": 0}
                      for u in manifest.units]
            repo.add_tally(s, election.id, "paper_counts", canonical_json(
                {**p, "counts": counts}).decode())
        return {**detail, "seq": entry.seq, "entry_hash": entry.entry_hash}


def close_state(m: Meeting, slug: str) -> dict[str, Any] | None:
    """The close as the projector and the secretary's page show it: present, tokens, paper
    figures, board {ballots, head}, and the audit entry's seq and hash; None before the close."""
    with transaction(m.factory, read_only=True) as s:
        election = m._election(s, slug)
        row = _close_entry(s, election)
        if row is None:
            return None
        paper = _entries(s, election, "paper_counts")
        return {**parse_json(row.detail_json), "seq": row.seq, "entry_hash": row.entry_hash,
                "paper_counts_entered": bool(paper) or not parse_json(
                    row.detail_json)["paper"]["ballots_valid"]}


# -- paper counts -----------------------------------------------------------------------------


def _any_decryption(s: Session, election: Election) -> bool:
    return bool(repo.tallies(s, election.id, "partial_decryption"))


def require_paper_counts_before_decryption(m: Meeting, s: Session, election: Election) -> None:
    """A decryption waits for the per-unit paper counts (when there are valid paper
    ballots): every figure of the count is fixed before the first decryption."""
    row = _close_entry(s, election)
    if row is None:
        return
    if parse_json(row.detail_json)["paper"]["ballots_valid"] and \
            not repo.tallies(s, election.id, "paper_counts"):
        raise _error("the paper ballots' counts are not entered yet: the committee enters "
                     "them before the trustees decrypt", 409)


def enter_paper_counts(m: Meeting, slug: str, paper: Mapping[str, Any]) -> None:
    """Counts of paper ballots per unit, from the committee, after the close and before the
    first decryption. ``paper``: ``counts`` (one {unit_id, votes, abstain, blank} per unit,
    in order) and, optionally, the figures, which must be the ones entered at the close."""
    with transaction(m.factory) as s:
        election = m._election(s, slug)
        require_status(election, "closed", action="enter paper counts")
        manifest = m.manifest(s, election)
        row = _close_entry(s, election)
        if row is None:
            raise _error("voting was closed without the attendance and paper figures", 409)
        figures = parse_json(row.detail_json)["paper"]
        if not isinstance(paper, Mapping) or "counts" not in paper:
            raise _error("paper counts: send the counts per unit", 422)
        stray = {k: paper[k] for k in PAPER_FIGURES if k in paper and paper[k] != figures[k]}
        unknown = set(paper) - set(PAPER_FIGURES) - {"counts"}
        if unknown:
            raise _error(f"paper counts: unknown fields {sorted(unknown)}", 422)
        if stray:
            raise _error(f"paper counts: the figures were fixed at the close "
                         f"({', '.join(f'{k} = {figures[k]}' for k in stray)}); they cannot "
                         "change now", 422)
        full = {**figures, "counts": paper["counts"]}
        try:
            counts = paper_from_json(full, [u.unit_id for u in manifest.units])
            for c in counts:
                unknown = set(dict(c.votes)) - set(manifest.levels.codes)
                if unknown:
                    raise CountError(f"paper counts: unknown levels {sorted(unknown)}")
            if manifest.ballot_b is not None:  # "at most K agree" (docs/counting.md)
                check_paper_at_most_k(manifest, counts, full["ballots_valid"])
        except (CountError, ValueError) as exc:
            raise _error(str(exc), 422) from None
        if repo.tallies(s, election.id, "paper_counts"):
            raise _error("paper counts are already entered", 409)
        if _any_decryption(s, election):
            raise _error("a trustee has already decrypted: paper counts are entered before "
                         "the decryption", 409)
        repo.add_tally(s, election.id, "paper_counts", canonical_json(full).decode())
        repo.append_audit(s, election_id=election.id, actor="committee", action="paper_counts",
                          detail={"counts_sha256": paper_counts_sha256(full["counts"])})


# -- finalize ---------------------------------------------------------------------------------


def _build(m: Meeting, slug: str) -> tuple[dict[str, Any], Mapping[str, Any]]:
    """The record of a closed election (read only), and the payload of its result row."""
    with transaction(m.factory, read_only=True) as s:
        election = m._election(s, slug)
        require_status(election, "closed", action="finalize the tally")
        ctx = m.context(s, election)
        manifest = ctx.manifest
        close_row = _close_entry(s, election)
        if close_row is None:
            raise _error("voting was closed without the attendance and paper figures "
                         "(an older version): this meeting cannot be finalized", 409)
        close = parse_json(close_row.detail_json)
        board_rows = repo.board(s, election.id)
        B = len(board_rows)
        head = board_rows[-1].entry_hash if board_rows else GENESIS_HASH
        if close["board"] != {"ballots": B, "head": head}:
            raise _error(f"the board is not the one closed: {B} ballots, head {head[:16]}… "
                         f"now, {close['board']['ballots']} ballots, head "
                         f"{close['board']['head'][:16]}… at the close", 409)
        U = len(manifest.units)
        unit_ids = [u.unit_id for u in manifest.units]
        # Received, then checked (service/voting.py): only valid ballots are counted; the
        # invalid ones are invalid ballots of the figures.
        statuses = checker.statuses(s, election.id)
        if len(statuses) != B:
            raise _error(f"the ballots are still being checked: {len(statuses)} of {B} done")
        B_valid = sum(1 for st, _ in statuses.values() if st == "valid")
        B_invalid = B - B_valid
        decs: dict[int, TrusteeDecryption] = {}
        if B_valid:
            totals = m._totals(s, election)
            decs = {t.trustee_index: TrusteeDecryption.from_json(parse_json(t.payload_json), U)
                    for t in repo.tallies(s, election.id, "partial_decryption")}
            if len(decs) < ctx.threshold:
                raise _error(f"{len(decs)} of the {ctx.threshold} decryptions needed are in")
            electronic = combine_decryptions(ctx, totals, decs, B_valid)
        else:
            # No electronic ballot: nothing to decrypt (docs/protocol.md, "An empty board").
            totals = (ZERO_CIPHERTEXT,) * U
            electronic = tuple(UnitCounts({}) for _ in unit_ids)
        p = close["paper"]
        paper: dict[str, Any] | None = None
        if any(p.values()):
            rows = repo.tallies(s, election.id, "paper_counts")
            if not rows:
                raise _error("enter the paper ballots' counts first")
            paper = parse_json(rows[-1].payload_json)
            if {k: paper[k] for k in PAPER_FIGURES} != p:
                raise _error("the paper counts' figures are not the ones fixed at the close")
        paper_counts = paper_from_json(paper, unit_ids)
        codes = manifest.levels.codes
        totals_counts = [UnitCounts({c: e.vote(c) + q.vote(c) for c in codes},
                                    e.abstain + q.abstain, e.blank + q.blank)
                         for e, q in zip(electronic, paper_counts)]
        issued_ids = {r.roll_entry_id for r in s.execute(select(TokenIssuance).where(
            TokenIssuance.election_id == election.id)).scalars()}
        roll_ids = sorted(e.roll_id for e in repo.roll(s, election.id) if e.id in issued_ids)
        if len(roll_ids) != close["tokens"]:
            raise _error(f"{len(roll_ids)} tokens issued now, {close['tokens']} at the close")
        # Tokens set aside for members who voted on paper instead (service/paper.py) are not
        # ballots issued: those members are among the paper voters.
        set_aside = paper_instead.set_aside_roll_ids(s, election.id)
        if len(set_aside) != close["set_aside"]:
            raise _error(f"{len(set_aside)} tokens set aside now, {close['set_aside']} at the "
                         "close")
        valid = len(roll_ids) - len(set_aside)
        if B > valid:
            raise _error(
                f"excess: {B} electronic ballots for {valid} valid tokens ({len(roll_ids)} "
                f"issued, {len(set_aside)} set aside for members who voted on paper): a token "
                "set aside was used, so the count cannot stand")
        try:
            figures = MeetingFigures(
                convened=manifest.convened(), excluded=manifest.excluded(),
                present=close["present"], ballots_valid=B_valid + p["ballots_valid"],
                ballots_invalid=B_invalid + p["ballots_invalid"],
                ballots_issued=valid + p["ballots_issued"])
            results = count_manifest(manifest, dict(zip(unit_ids, totals_counts)), figures)
        except CountError as exc:
            raise _error(f"cannot count: {exc}") from None
        audit = [close_row]
        if paper is not None and p["ballots_valid"]:
            audit += _entries(s, election, "paper_counts")[:1]
        audit += [e for e in _entries(s, election, "decryption")
                  if e.actor in {f"trustee {i}" for i in decs}]
        record = build_record(
            ctx=ctx, receipt_key=(b64decode(manifest.receipt_key, 32) if manifest.receipt_key
                                  else bytes(m.keys.receipt_key().verify_key)),
            issued_roll_ids=roll_ids,
            board=[entry_json(position=e.position, ballot=parse_json(e.ballot_json),
                              prev_hash=e.prev_hash, entry_hash=e.entry_hash,
                              status=statuses[e.position][0], reason=statuses[e.position][1])
                   for e in board_rows],
            aggregate=totals, decryptions=list(decs.values()), electronic_counts=electronic,
            paper=paper, figures=figures, counts=totals_counts, results=results,
            close=close, audit=[audit_entry_json(a) for a in sorted(audit, key=lambda a: a.seq)],
            paper_instead=set_aside,
            # Every trustee's signed approval of the fingerprint (service/ceremony.py); an
            # election opened before approvals existed has none, and its record fails the check.
            approvals=ceremony.approvals(m, s, election) or [])
        result_row = {"counts": counts_to_json(unit_ids, totals_counts),
                      "results": results.to_json()}
        return record, result_row


def finalize(m: Meeting, slug: str, *, progress: Progress | None = None,
             workers: int | None = None) -> Path:
    """Combine k decryptions, count, apply the rules and write the record — then verify that
    record file from its bytes, as ``ballot verify`` would (``progress(done, total)`` over its
    ballots), before the election is marked tallied. A record that does not verify is not
    kept: finalize refuses, naming the failing check. The verification is cached by the
    record's SHA-256, so the results and minutes are shown from it at once afterwards."""
    record, result_row = _build(m, slug)
    final = m.record_path(slug)
    staging = final.with_name(f"{final.name}.{secrets.token_hex(6)}.new")
    save_record(record, staging)
    try:
        data = staging.read_bytes()
        check = verified.verify_bytes(data, progress=progress, workers=workers)
        if not check.report.ok:
            failure = check.report.first_failure
            raise _error(f"the record does not verify: {failure.title}: {failure.detail}"
                         if failure else "the record does not verify")
        with transaction(m.factory) as s:
            election = m._election(s, slug)
            require_status(election, "closed", action="finalize the tally")
            repo.add_tally(s, election.id, "result", canonical_json(result_row).decode())
            transition(s, election, "tallied")
            os.replace(staging, final)
            repo.append_audit(s, election_id=election.id, actor="system", action="tallied",
                              detail={"record_sha256": check.sha256})
        verified.remember(m, slug, check)
        return final
    finally:
        if staging.exists():
            staging.unlink()


def record_sha256_of(s: Session, election: Election) -> str | None:
    """The record's SHA-256 written in the ``tallied`` audit entry at finalize."""
    rows = _entries(s, election, "tallied")
    return parse_json(rows[-1].detail_json).get("record_sha256") if rows else None


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
