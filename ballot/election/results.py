"""The counting output: one result per unit, the quorum, the quota groups, the second round."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ._fields import format_fraction
from .counts import MeetingFigures, UnitCounts
from .levels import LevelSet
from .rules import RuleProfile
from .text import Text

__all__ = [
    "OUTCOMES",
    "Flag",
    "UnitResult",
    "QuorumResult",
    "QuotaGroup",
    "SecondRoundBallot",
    "CountResult",
]

#: ``passed``: a level passed its threshold; ``no_majority``: none did (for the deciding body
#: or a second round; never resolved by chance); ``quorum_failed``: too few members present;
#: ``cut_by_quota``: passed the top level but cut to the level below by the quota;
#: ``quota_tie``: tied at the quota cut (level left open for the deciding body);
#: ``second_round``: a top-level candidate sent to the second round (level left open).
#: In a second-round election (ballot B): ``selected``, ``not_selected``, and
#: ``second_round_tie`` (tied at the K-th place, for the deciding body).
OUTCOMES = ("passed", "no_majority", "quorum_failed", "cut_by_quota", "quota_tie", "second_round",
            "selected", "not_selected", "second_round_tie")


def _frac(f: Fraction | None) -> str | None:
    return None if f is None else format_fraction(f)


@dataclass(frozen=True)
class Flag:
    """A constraint between units, shown to the deciding body; it never changes a result."""

    code: str
    unit_id: str
    related: tuple[str, ...]
    text: Text

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "unit_id": self.unit_id, "related": list(self.related),
                "text": self.text.to_json()}


@dataclass(frozen=True)
class UnitResult:
    """``level`` is the final level code (``None`` unless decided); ``voted_level`` the level the
    votes gave before the quota; ``shares`` each level's votes as a fraction of ``base`` N, in
    level order (``None`` when N = 0); ``rule`` says which rule produced the result."""

    unit_id: str
    counts: UnitCounts
    base: int
    shares: tuple[tuple[str, Fraction | None], ...]
    level: str | None
    outcome: str
    rule: Text
    voted_level: str | None = None
    cumulative: bool = False
    flags: tuple[Flag, ...] = ()

    def share(self, code: str) -> Fraction | None:
        return dict(self.shares)[code]

    def to_json(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit_id,
            "counts": self.counts.to_json(),
            "base": self.base,
            "shares": {code: _frac(f) for code, f in self.shares},
            "level": self.level,
            "voted_level": self.voted_level,
            "outcome": self.outcome,
            "cumulative": self.cumulative,
            "rule": self.rule.to_json(),
            "flags": [f.to_json() for f in self.flags],
        }


@dataclass(frozen=True)
class QuorumResult:
    """At least ``required`` × ``reference`` (= convened − excluded) members ``present``."""

    required: Fraction
    present: int
    reference: int
    met: bool
    text: Text

    def to_json(self) -> dict[str, Any]:
        return {"required": _frac(self.required), "present": self.present,
                "reference": self.reference, "met": self.met, "text": self.text.to_json()}


@dataclass(frozen=True)
class QuotaGroup:
    """The quota in one group: ``n`` units at ``against`` or better, at most ``x_max`` at the top.

    ``candidates`` are the units the votes put at the top, ranked by top-level votes then
    score; ``kept`` stay, ``cut`` drop to the level below, ``tied`` straddle the cut and are left
    to the deciding body; with a second round, ``second_round`` is true and the candidates go
    to it instead of being cut. ``limit`` is the number of places (x_max, or the second
    round's K if smaller); ``x_max`` is ``None`` without a quota rule.
    """

    group: str | None
    ratio: Fraction | None
    n: int
    x_max: int | None
    limit: int | None
    candidates: tuple[str, ...]
    kept: tuple[str, ...]
    cut: tuple[str, ...]
    tied: tuple[str, ...]
    second_round: bool
    text: Text

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group, "ratio": _frac(self.ratio), "n": self.n, "x_max": self.x_max,
            "limit": self.limit, "candidates": list(self.candidates), "kept": list(self.kept),
            "cut": list(self.cut), "tied": list(self.tied), "second_round": self.second_round,
            "text": self.text.to_json(),
        }


@dataclass(frozen=True)
class SecondRoundBallot:
    """Ballot B of one group: "agree / disagree" per candidate, "vote for at most ``k``"."""

    group: str | None
    candidates: tuple[str, ...]
    k: int

    def to_json(self) -> dict[str, Any]:
        return {"group": self.group, "candidates": list(self.candidates), "k": self.k}


@dataclass(frozen=True)
class CountResult:
    levels: LevelSet
    rules: RuleProfile
    figures: MeetingFigures
    base: int
    base_text: Text
    quorum: QuorumResult
    units: tuple[UnitResult, ...]
    quota: tuple[QuotaGroup, ...] = ()
    second_round: tuple[SecondRoundBallot, ...] = ()
    #: a second-round election's selection per group (``BallotBResult``); ``None`` otherwise,
    #: and then the JSON has no ``ballot_b`` key (first-round results are unchanged)
    ballot_b: tuple[Any, ...] | None = None

    def unit(self, unit_id: str) -> UnitResult:
        for r in self.units:
            if r.unit_id == unit_id:
                return r
        raise KeyError(unit_id)

    def to_json(self) -> dict[str, Any]:
        out = {
            "levels": self.levels.to_json(),
            "rules": self.rules.to_json(),
            "figures": self.figures.to_json(),
            "base": self.base,
            "base_text": self.base_text.to_json(),
            "quorum": self.quorum.to_json(),
            "units": [u.to_json() for u in self.units],
            "quota": [g.to_json() for g in self.quota],
            "second_round": [b.to_json() for b in self.second_round],
        }
        if self.ballot_b is not None:
            out["ballot_b"] = [g.to_json() for g in self.ballot_b]
        return out
