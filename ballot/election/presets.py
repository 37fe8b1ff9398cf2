"""Ready-made level sets and rules a secretary picks from (domain.md: levels, QĐ 366)."""

from __future__ import annotations

from fractions import Fraction
from typing import Callable, Iterable, NamedTuple

from .errors import ManifestError
from .levels import Level, LevelSet
from .rules import QuotaRule, RuleProfile, SecondRoundRule, Threshold

__all__ = [
    "Preset",
    "QD366_LEVELS",
    "CRITERIA_LEVELS",
    "branch_qd366",
    "committee_qd366",
    "criteria_grades",
    "custom",
    "PRESETS",
    "preset",
]

#: QĐ 366-QĐ/TW Điều 11, highest first.
QD366_LEVELS = LevelSet((
    Level("HTXSNV", "Hoàn thành xuất sắc nhiệm vụ", "excellently completed tasks", "HTXSNV"),
    Level("HTTNV", "Hoàn thành tốt nhiệm vụ", "completed tasks well", "HTTNV"),
    Level("HTNV", "Hoàn thành nhiệm vụ", "completed tasks", "HTNV"),
    Level("KHTNV", "Không hoàn thành nhiệm vụ", "did not complete tasks", "KHTNV"),
))

#: The earlier criteria grades.
CRITERIA_LEVELS = LevelSet((
    Level("XS", "Xuất sắc", "excellent", "XS"),
    Level("TOT", "Tốt", "good", "Tốt"),
    Level("TB", "Trung bình", "average", "TB"),
    Level("KEM", "Kém", "poor", "Kém"),
))

TWO_THIRDS_AT_LEAST = Threshold(Fraction(2, 3), "at_least")


class Preset(NamedTuple):
    """A level set and a rule profile (unpacks as ``levels, rules = branch_qd366()``)."""

    levels: LevelSet
    rules: RuleProfile


def _qd366(*, top_two_thirds: bool, base: str, cumulative: bool, outstanding: bool,
           second_round: bool) -> Preset:
    overrides = (("HTXSNV", TWO_THIRDS_AT_LEAST),) if top_two_thirds else ()
    rules = RuleProfile(
        level_thresholds=overrides,
        base=base,
        cumulative=cumulative,
        abstain_allowed=True,
        quota=QuotaRule(top="HTXSNV", against="HTTNV",
                        ratio=Fraction(1, 4) if outstanding else Fraction(1, 5)),
        second_round=SecondRoundRule(enabled=second_round),
    )
    return Preset(QD366_LEVELS, rules)


def branch_qd366(*, top_two_thirds: bool = False, base: str = "convened_minus_excluded",
                 cumulative: bool = False, outstanding: bool = False,
                 second_round: bool = False) -> Preset:
    """A branch classifies its members under QĐ 366: four levels, more than 1/2 of N
    (convened − excluded) per level, abstain allowed, HTXSNV at most 20% of HTTNV (25% if
    ``outstanding``). ``top_two_thirds``: HTXSNV needs at least 2/3 (the 2011 guide)."""
    return _qd366(top_two_thirds=top_two_thirds, base=base, cumulative=cumulative,
                  outstanding=outstanding, second_round=second_round)


def committee_qd366(*, top_two_thirds: bool = False, base: str = "convened_minus_excluded",
                    cumulative: bool = False, outstanding: bool = False,
                    second_round: bool = False) -> Preset:
    """A standing committee classifies its subordinate organisations (or the cadres it
    manages): the same levels and rules; the committee's members are the roll. Put units of
    different kinds of role in different ``group``s so the 20% quota applies per group."""
    return _qd366(top_two_thirds=top_two_thirds, base=base, cumulative=cumulative,
                  outstanding=outstanding, second_round=second_round)


def criteria_grades(*, base: str = "convened_minus_excluded", cumulative: bool = False) -> Preset:
    """Xuất sắc / Tốt / Trung bình / Kém (the earlier criteria grades); no quota."""
    return Preset(CRITERIA_LEVELS, RuleProfile(base=base, cumulative=cumulative))


def custom(levels: Iterable[Level | tuple[str, str, str] | tuple[str, str, str, str]],
           rules: RuleProfile | None = None) -> Preset:
    """Any level set, highest first (``Level``s or ``(code, name_vi, name_en[, short])``), with
    the default rules (more than 1/2 of N for every level, no quota) unless ``rules`` is given."""
    built = []
    for i, item in enumerate(levels):
        if isinstance(item, Level):
            built.append(item)
        elif isinstance(item, tuple) and len(item) in (3, 4):
            try:
                built.append(Level(item[0], item[1], item[2], item[3] if len(item) == 4 else item[0]))
            except ManifestError as exc:
                raise ManifestError(f"levels[{i}].{exc}") from None
        else:
            raise ManifestError(f"levels[{i}]: expected a Level or (code, name_vi, name_en)")
    level_set = LevelSet(tuple(built))
    rules = rules if rules is not None else RuleProfile()
    rules.check_levels(level_set)
    return Preset(level_set, rules)


#: The presets a counts file may name (``"preset": "branch_qd366"``), with default options.
PRESETS: dict[str, Callable[[], Preset]] = {
    "branch_qd366": branch_qd366,
    "committee_qd366": committee_qd366,
    "criteria_grades": criteria_grades,
}


def preset(name: str) -> Preset:
    try:
        return PRESETS[name]()
    except KeyError:
        raise ManifestError(
            f"preset: unknown preset {name!r} (presets: {', '.join(PRESETS)})"
        ) from None
