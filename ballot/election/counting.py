"""The rules engine: from the counts of every unit to the result of every unit (domain.md).

Order: validate; the quorum; each unit's level from its own counts (:mod:`.decide`); the quota
per group (:mod:`.quota`); the constraint flags (:mod:`.constraints`). Only ``int`` and
``Fraction`` arithmetic.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Mapping, Sequence

from ._fields import format_fraction
from .constraints import constraint_flags
from .counts import MeetingFigures, UnitCounts
from .decide import decide
from .errors import CountError
from .levels import LevelSet
from .manifest import Manifest, check_units
from .quorum import check_quorum
from .quota import apply_quota
from .results import CountResult, QuorumResult, UnitResult
from .rules import RuleProfile
from .second_round import BallotBResult, check_at_most_k, second_round
from .text import Text
from .units import Unit

__all__ = ["count", "count_manifest", "count_ballot_b", "check_paper_at_most_k", "BASE_TEXT"]

BASE_TEXT = {
    "convened_minus_excluded": Text("N = số đảng viên chính thức được triệu tập − số được trừ",
                                    "N = official members convened − excluded"),
    "present": Text("N = số đảng viên có mặt", "N = members present"),
    "valid_ballots": Text("N = số phiếu hợp lệ", "N = valid ballots"),
}


def count_manifest(
    manifest: Manifest, counts: Mapping[str, UnitCounts], figures: MeetingFigures
) -> CountResult:
    """:func:`count` under a manifest; with a roll, the figures must agree with it."""
    if manifest.roll:
        if figures.convened != manifest.convened():
            raise CountError(f"figures.convened: {figures.convened}, but the roll has "
                             f"{manifest.convened()} official members")
        if figures.excluded != manifest.excluded():
            raise CountError(f"figures.excluded: {figures.excluded}, but the roll has "
                             f"{manifest.excluded()} excluded members")
    if manifest.ballot_b is not None:
        return count_ballot_b(manifest, counts, figures)
    return count(manifest.levels, manifest.rules, manifest.units, counts, figures)


def _shares(levels: LevelSet, c: UnitCounts, n: int) -> tuple[tuple[str, Fraction | None], ...]:
    """Each level's votes as a fraction of the base N (None when N = 0)."""
    return tuple((lv.code, Fraction(c.vote(lv.code), n) if n else None) for lv in levels)


def _quorum_failed(levels: LevelSet, units: Sequence[Unit], counts: Mapping[str, UnitCounts],
                   n: int, quorum: QuorumResult) -> tuple[UnitResult, ...]:
    """Every unit's result when the quorum is not met: counted, no level."""
    return tuple(UnitResult(u.unit_id, counts[u.unit_id], n, _shares(levels, counts[u.unit_id], n),
                            None, "quorum_failed", quorum.text) for u in units)


def count_ballot_b(
    manifest: Manifest, counts: Mapping[str, UnitCounts], figures: MeetingFigures
) -> CountResult:
    """A second-round election: per group, "at most K" candidates selected, each with agree
    votes passing the threshold of the level "agree" (the first round's top level's: more than
    1/2 of N by default) (:func:`second_round`); a tie at the K-th place is reported, never
    broken. Level 0 is "agree", level 1 "disagree". N is of the same kind as in the first round,
    taken in this round: the same roll base, or this round's members present or valid ballots
    (members may arrive or leave between the rounds, and a count may never exceed its N)."""
    bb = manifest.ballot_b
    if bb is None:
        raise CountError("not a second-round election: the manifest has no ballot_b")
    levels, rules, units = manifest.levels, manifest.rules, manifest.units
    check_counts(levels, rules, units, counts, figures)
    n = figures.base(rules.base)
    agree_code = levels.levels[0].code
    quorum = check_quorum(rules.quorum, figures)
    base_text = BASE_TEXT[rules.base]

    if not quorum.met:
        return CountResult(levels, rules, figures, n, base_text, quorum,
                           _quorum_failed(levels, units, counts, n, quorum), ballot_b=())
    threshold = rules.threshold_for(agree_code)
    groups = []
    outcome: dict[str, tuple[str, Text]] = {}
    for b in bb.ballots:
        agree = {c: counts[c].vote(agree_code) for c in b.candidates}
        res = second_round(b.candidates, agree, b.k, base=n, threshold=threshold,
                           ballots=figures.ballots_valid, group=b.group)
        groups.append(BallotBResult(b.group, b.candidates, res))
        rank = {uid: i + 1 for i, (uid, _) in enumerate(res.ranked)}
        name_vi = b.group if b.group is not None else "(chung)"
        name_en = b.group if b.group is not None else "(default)"
        for c in b.candidates:
            v = agree[c]
            passes = threshold.passes(v, n)
            cmp_ = threshold.symbol if passes else threshold.negated_symbol
            head_vi = f"Đồng ý {v} {cmp_} {format_fraction(threshold.fraction)} N (N = {n})"
            head_en = f"Agree {v} {cmp_} {format_fraction(threshold.fraction)} N (N = {n})"
            where_vi = f"hạng {rank[c]}/{len(b.candidates)} nhóm {name_vi}, chọn tối đa {b.k}"
            where_en = f"ranked {rank[c]}/{len(b.candidates)} in group {name_en}, at most {b.k}"
            if c in res.selected:
                outcome[c] = ("selected", Text(f"{head_vi}; {where_vi}: được chọn",
                                               f"{head_en}; {where_en}: selected"))
            elif c in res.tied:
                outcome[c] = ("second_round_tie", Text(
                    f"{head_vi}; {where_vi}: bằng phiếu tại vị trí thứ {b.k} — cấp có thẩm quyền quyết định",
                    f"{head_en}; {where_en}: tied at place {b.k} — for the deciding body"))
            elif not passes:
                outcome[c] = ("not_selected", Text(f"{head_vi}: không đủ quá nửa, không được chọn",
                                                   f"{head_en}: no majority, not selected"))
            else:
                outcome[c] = ("not_selected", Text(f"{head_vi}; {where_vi}: ngoài {b.k} người, không được chọn",
                                                   f"{head_en}; {where_en}: below the {b.k} places, not selected"))
    results = tuple(
        UnitResult(u.unit_id, counts[u.unit_id], n, _shares(levels, counts[u.unit_id], n), None,
                   outcome[u.unit_id][0], outcome[u.unit_id][1])
        for u in units)
    return CountResult(levels, rules, figures, n, base_text, quorum, results,
                       ballot_b=tuple(groups))


def check_paper_at_most_k(manifest: Manifest, counts: Sequence[UnitCounts],
                          ballots_valid: int) -> None:
    """Paper counts of a second round (one :class:`UnitCounts` per unit, in order): in each
    group, the agree marks are at most K × the valid paper ballots."""
    if manifest.ballot_b is None:
        return
    agree_code = manifest.levels.levels[0].code
    by_id = {u.unit_id: c for u, c in zip(manifest.units, counts)}
    for b in manifest.ballot_b.ballots:
        total = sum(by_id[c].vote(agree_code) for c in b.candidates if c in by_id)
        check_at_most_k(b.group, total, b.k, ballots_valid)


def check_counts(
    levels: LevelSet, rules: RuleProfile, units: Sequence[Unit],
    counts: Mapping[str, UnitCounts], figures: MeetingFigures,
) -> None:
    """Every unit has counts and nothing else does; each row adds up to the valid ballots.
    Linear in the number of units (a set, not a list, answers "is this a unit?")."""
    ids = [u.unit_id for u in units]
    known = set(ids)
    for uid in counts:
        if uid not in known:
            raise CountError(f"counts.{uid}: no such unit")
    for uid in ids:
        c = counts.get(uid)
        if c is None:
            raise CountError(f"counts.{uid}: missing")
        if not isinstance(c, UnitCounts):
            raise CountError(f"counts.{uid}: expected UnitCounts")
        for code, _ in c.votes:
            if code not in levels:
                raise CountError(f"counts.{uid}.votes.{code}: not a level "
                                 f"(levels: {', '.join(levels.codes)})")
        if c.abstain and not rules.abstain_allowed:
            raise CountError(f"counts.{uid}.abstain: {c.abstain}, but the rules allow no abstention")
        if c.rows != figures.ballots_valid:
            raise CountError(
                f"counts.{uid}: {c.marked} level votes + {c.abstain} abstain + {c.blank} blank = "
                f"{c.rows}, but there are {figures.ballots_valid} valid ballots (each valid "
                "ballot has exactly one entry per row)"
            )


def count(
    levels: LevelSet,
    rules: RuleProfile,
    units: Sequence[Unit],
    counts: Mapping[str, UnitCounts],
    figures: MeetingFigures,
) -> CountResult:
    units = tuple(units)
    rules.check_levels(levels)
    check_units(units, levels)
    check_counts(levels, rules, units, counts, figures)
    n = figures.base(rules.base)
    quorum = check_quorum(rules.quorum, figures)

    if not quorum.met:
        return CountResult(levels, rules, figures, n, BASE_TEXT[rules.base], quorum,
                           _quorum_failed(levels, units, counts, n, quorum))

    decisions = {u.unit_id: decide(levels, rules, counts[u.unit_id], n) for u in units}
    voted = {uid: d.level for uid, d in decisions.items()}
    top = rules.quota.top if rules.quota else levels.top.code
    groups, ballots, changes = apply_quota(
        levels, rules, units, voted, lambda uid: counts[uid].vote(top))

    final: dict[str, str | None] = {}
    staged = []
    for u in units:
        d = decisions[u.unit_id]
        level, outcome, rule = d.level, ("passed" if d.level else "no_majority"), d.rule
        change = changes.get(u.unit_id)
        if change is not None:
            level, outcome = change.level, change.outcome
            rule = Text(f"{d.rule.vi}; {change.rule.vi}", f"{d.rule.en}; {change.rule.en}")
        final[u.unit_id] = level
        staged.append((u, d, level, outcome, rule))
    flags = constraint_flags(levels, rules.constraints, units, final)
    results = tuple(
        UnitResult(u.unit_id, counts[u.unit_id], n, _shares(levels, counts[u.unit_id], n), level,
                   outcome, rule, d.level, d.cumulative, flags[u.unit_id])
        for u, d, level, outcome, rule in staged
    )
    return CountResult(levels, rules, figures, n, BASE_TEXT[rules.base], quorum, results,
                       groups, ballots)
