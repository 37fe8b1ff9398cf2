"""The link between a second round (ballot B) and its first round, checked from the two records.

``ballot verify R2 --first-round R1``: round two's manifest names its first round in
``ballot_b.first_round`` (slug, manifest hash, SHA-256 of the record file) and copies the first
round's base N and second-round ballots (group, candidates, K). This module checks those
against the first round's record file, so that an observer sees that round two asks about the
candidates, groups and K that round one's results sent to it.

Like :mod:`ballot.tally.verify`, it needs only :mod:`ballot.crypto`, :mod:`ballot.election` and
the records — never the database or the web app. It works on the loaded record dicts and the
raw bytes of the first round's record file (whose SHA-256 round two's manifest carries).
"""

from __future__ import annotations

import hashlib
from typing import Any

from ballot.crypto.encoding import EncodingError, parse_json
from ballot.election.errors import ManifestError
from ballot.election.manifest import Manifest

from .verify import Report, StopChecks

__all__ = ["NotSecondRound", "is_second_round", "verify_link"]


class NotSecondRound(ValueError):
    """The record given as round two is not a second-round election (no ``ballot_b``)."""


def is_second_round(record: dict[str, Any]) -> bool:
    manifest = record.get("manifest") if isinstance(record, dict) else None
    return isinstance(manifest, dict) and "ballot_b" in manifest


def _ballot_text(b: Any) -> str:
    if not isinstance(b, dict):
        return repr(b)
    return f"group {b.get('group')!r}, candidates {b.get('candidates')!r}, K = {b.get('k')!r}"


def verify_link(record: dict[str, Any], first_record: dict[str, Any],
                first_bytes: bytes) -> Report:
    """Check that ``record`` (round two) follows ``first_record`` (round one), whose file bytes
    are ``first_bytes``. Checks stop at the first failure, which the report names. Raises
    :class:`NotSecondRound` if ``record`` has no ``ballot_b``. Does not verify either record
    itself (:func:`ballot.tally.verify.verify_record` does)."""
    if not is_second_round(record):
        raise NotSecondRound("the record is not a second-round election (its manifest has no "
                             "ballot_b)")
    report = Report()
    try:
        _verify_link(record, first_record, first_bytes, report)
    except StopChecks:
        pass
    return report


def _verify_link(record: dict[str, Any], first_record: dict[str, Any], first_bytes: bytes,
                 report: Report) -> None:
    need, must = report.need, report.must

    # Round two's manifest (already checked by the verifier; parsed again here).
    try:
        manifest2 = Manifest.from_json(record["manifest"])
    except (ManifestError, ValueError) as exc:
        need(False, "link_round_two", "Round-two manifest", str(exc))
    bb = manifest2.ballot_b
    if bb is None:
        need(False, "link_round_two", "Round-two manifest", "not a second round (no ballot_b)")
    first = bb.first_round

    # 1. The first round's record file, byte for byte.
    digest = hashlib.sha256(first_bytes).hexdigest()
    must(digest == first.record_sha256, "link_record_sha256", "First-round record file (SHA-256)",
         f"the file's SHA-256 is {digest[:16]}…, round two names {first.record_sha256[:16]}… "
         "(a different or altered first-round record)")
    try:
        same = parse_json(first_bytes) == first_record
    except EncodingError:
        same = False
    need(same, "link_record_sha256", "First-round record file (SHA-256)",
         f"SHA-256 {digest[:16]}…, as named by round two" if same else
         "the record checked is not the content of the hashed file")

    # 2. Its manifest hash (the record carries no slug: the manifest hash identifies it).
    try:
        manifest1 = Manifest.from_json(first_record["manifest"])
    except (ManifestError, ValueError, KeyError, TypeError) as exc:
        need(False, "link_manifest_hash", "First-round manifest", str(exc))
    h1 = manifest1.manifest_hash().hex()
    must(h1 == first.manifest_hash, "link_manifest_hash", "First-round manifest",
         f"the first round's manifest hash is {h1[:16]}…, round two names "
         f"{first.manifest_hash[:16]}… (another election)")
    need(manifest1.ballot_b is None, "link_manifest_hash", "First-round manifest",
         f"hash {h1[:16]}…, as named by round two for «{first.slug}» (the record carries no "
         "slug: the manifest hash identifies the election)" if manifest1.ballot_b is None else
         "the record given as the first round is itself a second round")

    # 3. The second-round ballots: round one's results, in order, equal ballot_b.ballots.
    results = first_record.get("results")
    results = results if isinstance(results, dict) else {}
    sent = results.get("second_round")
    sent = sent if isinstance(sent, list) else []
    mine = [b.to_json() for b in bb.ballots]
    title = "Second-round ballots (groups, candidates, K)"
    must(bool(sent), "link_ballots", title,
         "the first round's results send no candidate to a second round")
    for j, (a, b) in enumerate(zip(sent, mine), 1):
        if a != b:
            what = "group" if not isinstance(a, dict) or a.get("group") != b["group"] else \
                "candidates" if a.get("candidates") != b["candidates"] else "K"
            must(False, "link_ballots", title,
                 f"ballot {j}: different {what} — round one's results: {_ballot_text(a)}; "
                 f"round two: {_ballot_text(b)}")
    must(len(sent) == len(mine), "link_ballots", title,
         f"round one's results have {len(sent)} second-round ballots, round two has {len(mine)}")
    need(True, "link_ballots", title,
         "; ".join(f"{b['group'] or '—'}: {len(b['candidates'])} candidates, at most {b['k']}"
                   for b in mine) + " — as round one's results")

    # 4. The base N.
    base1 = results.get("base")
    need(base1 == bb.base, "link_base", "Base N of the first round",
         f"N = {bb.base}, as round one's results" if base1 == bb.base else
         f"round two's ballot_b.base is {bb.base}, round one's results give N = {base1!r}")

    # 5. The candidates: round two's units are round one's, under the same names.
    units1 = {u.unit_id: u for u in manifest1.units}
    for u in manifest2.units:
        u1 = units1.get(u.unit_id)
        must(u1 is not None, "link_names", "Candidates' names",
             f"{u.unit_id}: not a unit of the first round")
        must(u1.name == u.name, "link_names", "Candidates' names",
             f"{u.unit_id}: named {u.name!r} in round two, {u1.name!r} in round one")
    need(True, "link_names", "Candidates' names",
         f"{len(manifest2.units)} candidates, the same ids and names as in round one")

    # 6. What round two inherits (docs/counting.md, "The second round as its own election"):
    #    the roll, the trustees and threshold, the base kind, the quorum, and the threshold
    #    of round one's top level as the threshold of "agree".
    title = "Inherited from round one (roll, trustees, base, quorum, threshold)"
    must([e.to_json() for e in manifest2.roll] == [e.to_json() for e in manifest1.roll],
         "link_inherited", title,
         "the roll differs from round one's (a member added, removed or changed)")
    must(manifest2.trustees.to_json() == manifest1.trustees.to_json(), "link_inherited", title,
         "the trustees or their threshold differ from round one's")
    r1, r2 = manifest1.rules, manifest2.rules
    must(r2.base == r1.base, "link_inherited", title,
         f"base N of kind {r2.base!r}, round one's is {r1.base!r}")
    must(r2.quorum == r1.quorum, "link_inherited", title,
         f"quorum {r2.quorum}, round one's is {r1.quorum}")
    agree = manifest2.levels.codes[0]
    t1, t2 = r1.threshold_for(manifest1.levels.top.code), r2.threshold_for(agree)
    must(t2 == t1, "link_inherited", title,
         f"“{agree}” needs {t2.describe()}, round one's top level needed {t1.describe()}")
    need(True, "link_inherited", title,
         f"{len(manifest2.roll)} on the roll, {manifest2.trustees.n} trustees (k = "
         f"{manifest2.trustees.threshold}), base {r2.base}, quorum {r2.quorum}, "
         f"“{agree}” {t2.describe()} — as round one")
