"""The independent verifier: everything from the record file alone.

Needs only :mod:`ballot.crypto`, :mod:`ballot.election` and the record — never the database or
the web app — so that any observer can run ``ballot verify RECORD``. Each check appears in
the report with its figures; the first failing one is named.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ballot.crypto import blind_rsa
from ballot.crypto.ballots import (
    BallotError,
    BallotShape,
    ballot_from_json,
    check_envelope,
    check_proofs,
)
from ballot.crypto.elgamal import ZERO_CIPHERTEXT, Ciphertext
from ballot.crypto.encoding import EncodingError, b64encode, canonical_json
from ballot.crypto.group import Point, base_mul
from ballot.election.counting import count_manifest
from ballot.election.counts import MeetingFigures
from ballot.election.errors import CountError, ManifestError
from ballot.election.manifest import Manifest

from .approval import ApprovalError, verify_approvals
from .board import GENESIS, entry_hash
from .board_status import StatusError, entry_status, has_statuses
from .parallel import mp_context
from .record import RECORD_FIELDS, RECORD_VERSION_1, counts_from_json, paper_from_json
from .context import ContextError, ElectionContext
from .decryption import (
    DecryptionError,
    TrusteeDecryption,
    combined_points,
    value_of_counts,
    verify_decryption,
)

__all__ = ["Check", "Report", "StopChecks", "verify_record", "find_receipt"]

Progress = Callable[[int, int], None]


@dataclass
class Check:
    key: str
    title: str
    ok: bool
    detail: str


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def first_failure(self) -> Check | None:
        return next((c for c in self.checks if not c.ok), None)

    def add(self, key: str, title: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(key, title, ok, detail))
        return ok

    def need(self, ok: bool, key: str, title: str, detail: str) -> None:
        """Record the check, passed or failed; stop at a failure (:class:`StopChecks`)."""
        if not self.add(key, title, ok, detail):
            raise StopChecks

    def must(self, ok: bool, key: str, title: str, detail: str) -> None:
        """One item of a check that is recorded once for all items: only a failure shows."""
        if not ok:
            self.need(False, key, title, detail)


class StopChecks(Exception):
    """Raised by :meth:`Report.need` at the first failing check; the report names it."""


# --- ballot checks, run in worker processes ------------------------------------------------

_W: dict[str, Any] = {}


def _init_worker(shape: BallotShape, base_hash: bytes, public_key: bytes, issuer_der: bytes) -> None:
    _W.update(shape=shape, base_hash=base_hash, public_key=Point(public_key),
              issuer=blind_rsa.IssuerPublicKey.from_der(issuer_der))


def _check_ballots(chunk: Sequence[tuple[int, Any]]) -> tuple[list[tuple], list[bytes]]:
    """Check each ballot of the chunk; also the chunk's own aggregate (the sum of its ballots'
    ciphertexts per unit), so that the parent only adds one partial sum per chunk."""
    out = []
    totals: list[Ciphertext] = []
    for position, ballot_json in chunk:
        try:
            ballot = ballot_from_json(ballot_json, _W["shape"])
            check_envelope(ballot, _W["shape"], _W["base_hash"], _W["issuer"])
        except (BallotError, EncodingError) as exc:
            out.append((position, str(exc), None, None, None))
            continue
        try:
            check_proofs(ballot, _W["shape"], _W["base_hash"], _W["public_key"])
        except BallotError as exc:
            # Received (token and signature good) but its proofs fail: an invalid entry.
            out.append((position, None, str(exc), ballot.token.token_id, ballot.ballot_hash))
            continue
        out.append((position, None, None, ballot.token.token_id, ballot.ballot_hash))
        cts = [ct for ct, _ in ballot.units]
        totals = [t + c for t, c in zip(totals, cts)] if totals else cts
    return out, [c.to_bytes() for c in totals]


def _run_ballot_checks(ctx: ElectionContext, entries: list[tuple[int, Any]], progress: Progress | None,
                       workers: int | None) -> tuple[list[tuple], list[Ciphertext]]:
    """Every ballot checked, in worker processes (default: one per core); returns one row per
    ballot and the aggregate of the ballots that passed."""
    init = (ctx.shape, ctx.base_hash, ctx.public_key.data, ctx.issuer.to_der())
    chunks = [entries[i : i + 4] for i in range(0, len(entries), 4)]
    workers = workers or os.cpu_count() or 1
    results: list[tuple] = []
    totals = [ZERO_CIPHERTEXT] * ctx.shape.num_units

    def take(part: tuple[list[tuple], list[bytes]]) -> None:
        rows, partial = part
        results.extend(rows)
        for u, c in enumerate(partial):
            totals[u] = totals[u] + Ciphertext(Point(c[:32]), Point(c[32:]))
        if progress:
            progress(len(results), len(entries))

    if workers <= 1 or len(chunks) <= 1:
        _init_worker(*init)
        for chunk in chunks:
            take(_check_ballots(chunk))
        return results, totals
    with ProcessPoolExecutor(workers, mp_context=mp_context(),
                             initializer=_init_worker, initargs=init) as pool:
        for part in pool.map(_check_ballots, chunks):
            take(part)
    return results, totals


# --- the verifier ---------------------------------------------------------------------------


def verify_record(record: dict[str, Any], *, progress: Progress | None = None,
                  workers: int | None = None, data: bytes | None = None,
                  require_approvals: bool = False) -> Report:
    """Every check of docs/protocol.md §12. ``data``: the record file's bytes, if the record
    was read from a file: they must be the record's canonical JSON (§11).
    ``require_approvals``: a version-1 record (no trustees' approvals) fails too."""
    report = Report()
    try:
        _verify_form(record, report, data)
        _verify(record, report, progress, workers, require_approvals)
    except StopChecks:
        pass
    return report


def _verify_form(record: Any, report: Report, data: bytes | None) -> None:
    """0. The record's version, fields, canonical form and ordering."""
    title = "Record format (version, fields, canonical form, order)"
    fields = RECORD_FIELDS.get(record.get("version")) if isinstance(record, dict) else None
    report.must(fields is not None and set(record) == set(fields), "format", title,
                f"not a ballot record: version one of {', '.join(RECORD_FIELDS)}, with exactly "
                "its fields")
    if data is not None:
        report.must(canonical_json(record) == data, "format", title,
                    "the file is not the record's canonical JSON (docs/protocol.md §1.2)")
    decs = record["decryptions"]
    ok = isinstance(decs, list) and all(isinstance(d, dict) for d in decs) and \
        [d.get("trustee") for d in decs] == sorted(
            (d.get("trustee") for d in decs), key=lambda t: (not isinstance(t, int), t))
    report.must(ok, "format", title, "decryptions: sorted by trustee")
    # A version-2 record stripped of its close, audit entries, approvals and set-aside tokens
    # and relabelled version 1 would skip their checks: version 1 never had the manifest's
    # receipt key (hashed into the fingerprint) nor board statuses, so either means version 2.
    if record["version"] == RECORD_VERSION_1:
        manifest, board = record.get("manifest"), record.get("board")
        newer = (isinstance(manifest, dict) and "receipt_key" in manifest) or (
            isinstance(board, list) and any(isinstance(e, dict) and "status" in e for e in board))
        report.must(not newer, "format", title,
                    "a version-1 record with a receipt key in its manifest or board statuses: "
                    "a version-2 record relabelled as version 1")
    report.need(True, "format", title, f"{record['version']}"
                + (", canonical JSON" if data is not None else "") + ", fields in order")


def _verify(record: dict[str, Any], report: Report, progress: Progress | None,
            workers: int | None, require_approvals: bool = False) -> None:
    need, must = report.need, report.must

    # 1. Manifest and context (ceremony proofs, base hash).
    try:
        manifest = Manifest.from_json(record["manifest"])
    except (ManifestError, ValueError) as exc:
        need(False, "manifest", "Manifest", str(exc))
    need(True, "manifest", "Manifest",
         f"hash {manifest.manifest_hash().hex()[:16]}…, {len(manifest.units)} units, "
         f"{len(manifest.levels)} levels, {len(manifest.roll)} on the roll")
    bound = isinstance(record["context"], dict) and \
        record["context"].get("manifest_hash") == manifest.manifest_hash().hex()
    need(bound, "manifest_binding", "Manifest bound to the key ceremony",
         "the ceremony was held for this manifest" if bound else
         "the manifest is not the one the trustees' keys and the fingerprint were made for "
         "(was a rule, unit or voter changed?)")
    try:
        ctx = ElectionContext.from_json(manifest, record["context"])
    except (ContextError, ValueError) as exc:
        need(False, "ceremony", "Key ceremony", str(exc))
    k, n = ctx.threshold, manifest.trustees.n
    need(True, "ceremony", "Key ceremony",
         f"{n} trustees, threshold {k}, {n * k} proofs of knowledge verified, joint key "
         f"{ctx.public_key.data.hex()[:16]}…")
    ok = record["base_hash"] == ctx.base_hash.hex()
    need(ok, "base_hash", "Election fingerprint", f"base hash {ctx.base_hash.hex()}" if ok
         else f"the record says {record['base_hash']!r}, recomputed {ctx.base_hash.hex()}")
    v2 = record["version"] != RECORD_VERSION_1
    if v2 or manifest.receipt_key is not None:
        # The receipt key is in the manifest, hence in the fingerprint (docs/protocol.md §9).
        ok = manifest.receipt_key is not None and record["receipt_key"] == manifest.receipt_key
        need(ok, "receipt_key", "Receipt key bound to the election",
             f"receipt key {str(record['receipt_key'])[:16]}…, as in the manifest" if ok else
             "the record's receipt key is not the manifest's: receipts signed by "
             f"{str(manifest.receipt_key)[:16]}… would be disowned")

    # 1b. The trustees' approvals of the fingerprint (version 2; docs/protocol.md §9.2).
    if "approvals" in record:
        try:
            approved = verify_approvals(ctx, record["approvals"])
        except ApprovalError as exc:
            need(False, "approvals", "Trustees' approvals of the fingerprint", str(exc))
        need(True, "approvals", "Trustees' approvals of the fingerprint",
             f"trustees {approved} each signed base hash {ctx.base_hash.hex()[:16]}… with their "
             "ceremony key")
    else:
        must(not require_approvals, "approvals",
             "Trustees' approvals of the fingerprint",
             "the record carries no approvals, and they are required (--require-approvals)")
        report.add("approvals", "Trustees' approvals of the fingerprint", True,
                   "none in this record (a version-1 record, from before trustees approved the "
                   "fingerprint: nothing to check)")

    # 2. Token issuance log.
    log = record["issuance_log"]
    eligible = {e.roll_id for e in manifest.eligible_voters()}
    if not isinstance(log, list) or not all(isinstance(x, str) for x in log):
        need(False, "issuance", "Token issuance log", "not a list of roll ids")
    dupes = sorted({x for x in log if log.count(x) > 1})
    strangers = [x for x in log if x not in eligible]
    need(not dupes and not strangers and log == sorted(log) and len(log) <= len(eligible),
         "issuance", "Token issuance log",
         f"{len(log)} tokens issued to {len(eligible)} eligible members" if not (dupes or strangers)
         else f"issued twice: {dupes}; not eligible: {strangers[:5]}")
    issued = len(log)

    # 3. The board: chain, tokens, signatures, proofs.
    board = record["board"]
    need(isinstance(board, list), "board", "Bulletin board", "a list of entries")
    need(len(board) <= issued, "board_count", "Ballots ≤ tokens issued",
         f"{len(board)} ballots, {issued} tokens issued")
    # Members who received a token and voted on paper instead (a lost phone session): their
    # tokens are set aside, and a ballot cast with one of them shows as an excess
    # (docs/protocol.md, "paper_instead"; docs/threat-model.md).
    aside = record.get("paper_instead", [])
    ok = isinstance(aside, list) and all(isinstance(x, str) for x in aside) \
        and aside == sorted(set(aside)) and set(aside) <= set(log)
    need(ok, "paper_instead", "Tokens set aside (voted on paper instead)",
         f"{len(aside)} members received a token and voted on paper instead" if ok
         else "not a sorted list of distinct roll ids, each of a member who received a token")
    valid = issued - len(aside)
    need(len(board) <= valid, "excess", "Ballots ≤ valid tokens (no excess)",
         f"{len(board)} ballots, {valid} valid tokens ({issued} issued − {len(aside)} set aside)"
         if len(board) <= valid else
         f"excess: {len(board)} ballots for {valid} valid tokens ({issued} issued − "
         f"{len(aside)} set aside for members who voted on paper): a token set aside was used")
    entries = []
    # Statuses (docs/protocol.md, "Received, then checked"): every entry has one, or none has
    # (a record of before, whose ballots were all checked before their receipts: all valid).
    with_statuses = has_statuses(board)
    statuses: list[tuple[str, str | None]] = []
    for i, e in enumerate(board):
        ok = isinstance(e, dict) and e.get("position") == i + 1
        must(ok, "board", "Bulletin board", f"entry {i + 1}: malformed or out of order")
        try:
            statuses.append(entry_status(e, with_statuses))
        except StatusError as exc:
            need(False, "board", "Bulletin board", str(exc))
        entries.append((i + 1, e["ballot"]))
    checked, totals = _run_ballot_checks(ctx, entries, progress, workers)
    checked.sort(key=lambda r: r[0])
    seen_tokens: dict[bytes, int] = {}
    prev = GENESIS
    invalid = 0
    for (position, error, proof_error, token_id, bhash), e, (status, reason) in \
            zip(checked, board, statuses):
        # Token and signature were checked on receipt: an entry without them was never
        # receivable, whatever its status.
        must(error is None, "ballots", "Ballots (token, signature, proofs)",
             f"board position {position}: {error}")
        if status == "valid":
            must(proof_error is None, "ballots", "Ballots (token, signature, proofs)",
                 f"board position {position}: {proof_error}"
                 + (" (marked valid)" if with_statuses else ""))
        else:
            invalid += 1
            must(proof_error is not None, "board_status", "Ballot statuses re-checked",
                 f"board position {position} is marked invalid ({reason}), but its token, "
                 "signature and proofs verify: a valid ballot left out of the count")
        first = seen_tokens.setdefault(token_id, position)
        must(first == position, "tokens_unique", "No token used twice",
             f"board position {position} reuses the token of position {first}")
        expect = entry_hash(prev, position, bhash)
        must(e["prev_hash"] == prev.hex() and e["entry_hash"] == expect.hex(), "chain",
             "Board hash chain", f"board position {position}: the hash chain is broken")
        prev = expect
    received, U = len(board), len(manifest.units)
    B = received - invalid  # the valid ballots: the ones counted
    report.figures.update(ballots=B, proofs=B * U, tokens=issued, set_aside=len(aside))
    if invalid:
        report.figures["invalid_ballots"] = invalid
    report.add("ballots", "Ballots (token, signature, proofs)", True,
               f"{B} ballots: {B} token signatures, {B} ballot signatures, {B * U} proofs verified"
               if not with_statuses else
               f"{received} ballots received: {received} token signatures and ballot "
               f"signatures verified; {B} valid ({B * U} proofs verified), {invalid} invalid")
    if with_statuses:
        report.add("board_status", "Ballot statuses re-checked", True,
                   f"{received} statuses recomputed: {B} valid, {invalid} invalid "
                   "(only valid ballots are counted)")
    limits = ctx.shape.limits
    if limits:
        # Ballot B of a second round: every ballot also proved "at most K agree" per group
        # (docs/protocol.md §8.5), checked above with the ballot.
        groups = "; ".join(f"group {j + 1}: at most {k} of {len(ix)}"
                           for j, (ix, k) in enumerate(limits))
        report.figures["limit_proofs"] = B * len(limits)
        report.add("limits", "At most K agree (second round)", True,
                   f"{B} ballots: {B * len(limits)} limit proofs verified ({groups})")
    report.add("tokens_unique", "No token used twice", True, f"{received} distinct tokens")
    report.add("chain", "Board hash chain", True, f"{received} entries, head {prev.hex()[:16]}…")

    # 4. The aggregate (summed chunk by chunk while the ballots were checked).
    ok = record["aggregate"] == [b64encode(c.to_bytes()) for c in totals]
    need(ok, "aggregate", "Aggregate of the board",
         f"{U} unit totals recomputed from {B} ballots" if ok
         else "the record's aggregate is not the product of the board's ballots")

    # 5. Partial decryptions.
    decs: dict[int, TrusteeDecryption] = {}
    if B == 0:
        # An empty board (all paper): the aggregate is the identity and nothing is decrypted.
        ok = record["decryptions"] == []
        need(ok, "decryption", "Partial decryptions",
             "an empty board: nothing to decrypt, no decryption" if ok else
             "an empty board, yet the record holds decryptions")
    try:
        items = record["decryptions"] if B else []
        if not isinstance(items, list):
            raise DecryptionError("decryptions: a list")
        for i, d in enumerate(items):
            dec = TrusteeDecryption.from_json(d, U, f"decryptions[{i}]")
            if dec.trustee in decs:
                raise DecryptionError(f"trustee {dec.trustee} decrypted twice")
            verify_decryption(ctx, totals, dec)
            decs[dec.trustee] = dec
        if B and len(decs) < k:
            raise DecryptionError(f"{len(decs)} trustees decrypted, {k} needed")
    except DecryptionError as exc:
        need(False, "decryption", "Partial decryptions", str(exc))
    if B:
        need(True, "decryption", "Partial decryptions",
             f"trustees {sorted(decs)}: {len(decs) * U} decryption proofs verified")

    # 6. Electronic counts against the decryption.
    unit_ids = [u.unit_id for u in manifest.units]
    codes = manifest.levels.codes
    try:
        electronic = counts_from_json(record["electronic_counts"], unit_ids, "electronic_counts")
    except (CountError, ValueError) as exc:
        need(False, "electronic_counts", "Electronic counts", str(exc))
    points = combined_points(ctx, totals, decs) if B else [base_mul(0)] * U
    for uid, c, point in zip(unit_ids, electronic, points):
        ok = (c.rows == B and c.blank == 0 and set(dict(c.votes)) <= set(codes)
              and (base_mul(value_of_counts(c, ctx.shape.radix, codes)) == point if B
                   else not any(dict(c.votes).values()) and c.abstain == 0))
        must(ok, "electronic_counts", "Electronic counts",
             f"unit {uid}: the counts do not match the decrypted total")
    report.add("electronic_counts", "Electronic counts", True,
               f"{U} units decrypted and matched, {B} ballots each")

    # 7. Paper counts and totals.
    paper = record["paper"]
    try:
        paper_counts = paper_from_json(paper, unit_ids)
        totals_json = counts_from_json(record["counts"], unit_ids, "counts")
    except (CountError, ValueError) as exc:
        need(False, "counts", "Counts (electronic + paper)", str(exc))
    for uid, e_c, p_c, t_c in zip(unit_ids, electronic, paper_counts, totals_json):
        ok = all(t_c.vote(code) == e_c.vote(code) + p_c.vote(code) for code in codes) and \
            t_c.abstain == e_c.abstain + p_c.abstain and t_c.blank == e_c.blank + p_c.blank and \
            set(dict(t_c.votes)) <= set(codes)
        must(ok, "counts", "Counts (electronic + paper)",
             f"unit {uid}: total ≠ electronic + paper")
    paper_valid = paper["ballots_valid"] if paper else 0
    if paper:
        # The checks the service makes when the paper figures are entered.
        must(paper["ballots_valid"] + paper["ballots_invalid"] <= paper["ballots_issued"],
             "counts", "Counts (electronic + paper)",
             "paper: valid + invalid ballots exceed the paper ballots issued")
        must(paper["ballots_issued"] <= paper["voters"], "counts", "Counts (electronic + paper)",
             "paper: more paper ballots issued than members voting on paper")
        # Members who voted on paper instead of their token are among the paper voters:
        # their set-aside tokens are not counted twice.
        must(valid + paper["voters"] <= len(eligible), "counts", "Counts (electronic + paper)",
             f"paper: {paper['voters']} paper voters + {valid} valid tokens exceed the "
             f"{len(eligible)} eligible members")
        for uid, p_c in zip(unit_ids, paper_counts):
            must(set(dict(p_c.votes)) <= set(codes), "counts", "Counts (electronic + paper)",
                 f"paper.counts.{uid}: a level that is not the manifest's")
    report.add("counts", "Counts (electronic + paper)", True,
               f"{B} electronic + {paper_valid} paper ballots per unit" if paper
               else f"{B} electronic ballots, no paper ballots")

    # 8. Figures and results from the rules.
    try:
        f = record["figures"]
        figures = MeetingFigures(f["convened"], f["excluded"], f["present"], f["ballots_valid"],
                                 f["ballots_invalid"], f["ballots_issued"])
        if figures.to_json() != f:
            raise CountError("figures: unexpected fields")
    except (CountError, KeyError, TypeError) as exc:
        need(False, "figures", "Meeting figures", str(exc))
    p_issued = paper["ballots_issued"] if paper else 0
    p_invalid = paper["ballots_invalid"] if paper else 0
    # convened and excluded are the roll's (docs/protocol.md §11, "figures").
    must(figures.convened == manifest.convened() and figures.excluded == manifest.excluded(),
         "figures", "Meeting figures",
         f"convened {figures.convened}, excluded {figures.excluded}; the roll has "
         f"{manifest.convened()} convened, {manifest.excluded()} excluded")
    ok = (figures.ballots_valid == B + paper_valid
          and figures.ballots_invalid == invalid + p_invalid
          and figures.ballots_issued == valid + p_issued)
    need(ok, "figures", "Meeting figures",
         f"valid {figures.ballots_valid}, invalid {figures.ballots_invalid}, issued "
         f"{figures.ballots_issued}, present {figures.present} of N = {figures.roll_base}"
         if ok else "the ballot figures do not match the board, the tokens and the paper count")
    if v2:
        from .verify_close import check_close

        check_close(record, report, eligible=len(eligible), issued=issued, figures=figures,
                    trustees=sorted(decs))
    try:
        recomputed = count_manifest(manifest, dict(zip(unit_ids, totals_json)), figures).to_json()
    except (CountError, ManifestError) as exc:
        need(False, "results", "Results from the rules", str(exc))
    bad = [r["unit_id"] for r, s in zip(recomputed["units"], record["results"].get("units", []))
           if r != s] if isinstance(record["results"], dict) else ["all"]
    ok = recomputed == record["results"]
    need(ok, "results", "Results from the rules",
         f"{U} results recomputed under the manifest's rules" if ok
         else f"results differ from the rules' for units {bad[:5] or 'summary'}")


#: Tracking codes are base32 (A–Z, 2–7): a typed 0 or 1 can only be the letter O or I.
_TRACKING_READ = str.maketrans({"0": "O", "1": "I"})


def normalise_code(code: str) -> str:
    """A typed tracking code: case, spaces and dashes ignored; 0 read as O and 1 as I (base32
    has neither digit), as invitation codes read O as 0."""
    return "".join(ch for ch in code.upper() if ch.isalnum()).translate(_TRACKING_READ)


def find_receipt(record: dict[str, Any], code: str) -> tuple[int, str] | None:
    """(board position, tracking code) of the ballot with this tracking code, if on the board."""
    want = normalise_code(code)
    manifest = Manifest.from_json(record["manifest"])
    ctx = ElectionContext.from_json(manifest, record["context"])
    for e in record["board"]:
        try:
            b = ballot_from_json(e["ballot"], ctx.shape)
        except (BallotError, EncodingError, KeyError, TypeError):
            continue
        if normalise_code(b.tracking_code) == want:
            return e["position"], b.tracking_code
    return None

