"""The rules engine: from the counts of every unit to the result of every unit (domain.md).

Order: validate; the quorum; each unit's level from its own counts (:mod:`.decide`); the quota
per group (:mod:`.quota`); the constraint flags (:mod:`.constraints`). Only ``int`` and
``Fraction`` arithmetic.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Mapping, Sequence

from .constraints import constraint_flags
from .counts import MeetingFigures, UnitCounts
from .decide import decide
from .errors import CountError
from .levels import LevelSet
from .manifest import Manifest, check_units
from .quorum import check_quorum
from .quota import apply_quota
from .results import CountResult, UnitResult
from .rules import RuleProfile
from .text import Text
from .units import Unit

__all__ = ["count", "count_manifest", "BASE_TEXT"]

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
    return count(manifest.levels, manifest.rules, manifest.units, counts, figures)


def check_counts(
    levels: LevelSet, rules: RuleProfile, units: Sequence[Unit],
    counts: Mapping[str, UnitCounts], figures: MeetingFigures,
) -> None:
    ids = [u.unit_id for u in units]
    for uid in counts:
        if uid not in ids:
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

    def shares(c: UnitCounts) -> tuple[tuple[str, Fraction | None], ...]:
        return tuple((lv.code, Fraction(c.vote(lv.code), n) if n else None) for lv in levels)

    if not quorum.met:
        results = tuple(
            UnitResult(u.unit_id, counts[u.unit_id], n, shares(counts[u.unit_id]), None,
                       "quorum_failed", quorum.text)
            for u in units
        )
        return CountResult(levels, rules, figures, n, BASE_TEXT[rules.base], quorum, results)

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
        UnitResult(u.unit_id, counts[u.unit_id], n, shares(counts[u.unit_id]), level, outcome,
                   rule, d.level, d.cumulative, flags[u.unit_id])
        for u, d, level, outcome, rule in staged
    )
    return CountResult(levels, rules, figures, n, BASE_TEXT[rules.base], quorum, results,
                       groups, ballots)
