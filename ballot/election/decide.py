"""The level of one unit from its own counts: thresholds, then the cumulative fallback."""

from __future__ import annotations

from dataclasses import dataclass

from .counts import UnitCounts
from .levels import LevelSet
from .rules import RuleProfile
from .text import Text

__all__ = ["Decision", "decide"]


@dataclass(frozen=True)
class Decision:
    level: str | None
    cumulative: bool
    rule: Text


def decide(levels: LevelSet, rules: RuleProfile, counts: UnitCounts, n: int) -> Decision:
    """Check the levels from the highest down; the first whose votes pass its threshold over N
    wins. If none passes and ``rules.cumulative`` is on, a level's votes include those of every
    higher level, checked again from the top down. Otherwise: no majority (level ``None``)."""
    if n <= 0:
        return Decision(None, False, Text(
            "N = 0: không mức nào có thể đạt", "N = 0: no level can pass"))
    for level in levels:
        votes = counts.vote(level.code)
        threshold = rules.threshold_for(level.code)
        if threshold.passes(votes, n):
            return Decision(level.code, False, Text(
                f"{level.code}: {votes}/{n} phiếu {threshold.describe()}",
                f"{level.code}: {votes}/{n} votes {threshold.describe()}",
            ))
    if rules.cumulative:
        total, parts = 0, []
        for level in levels:
            votes = counts.vote(level.code)
            total += votes
            parts.append(f"{level.code} {votes}")
            threshold = rules.threshold_for(level.code)
            if threshold.passes(total, n):
                summed = " + ".join(parts)
                return Decision(level.code, True, Text(
                    f"{level.code}: {total}/{n} phiếu {threshold.describe()} (cộng dồn: {summed})",
                    f"{level.code}: {total}/{n} votes {threshold.describe()} (cumulative: {summed})",
                ))
    best = max(levels, key=lambda lv: counts.vote(lv.code))  # the first among equals
    votes = counts.vote(best.code)
    need = rules.threshold_for(best.code).describe()
    also_vi = ", kể cả cộng dồn" if rules.cumulative else ""
    also_en = ", cumulative fallback included" if rules.cumulative else ""
    return Decision(None, False, Text(
        f"Không mức nào đạt ngưỡng{also_vi}: nhiều phiếu nhất {best.code} {votes}/{n} (cần {need})",
        f"No level reached its threshold{also_en}: most votes {best.code} {votes}/{n} (needs {need})",
    ))
