"""Ready-made level sets and rules a secretary picks from (domain.md: levels, QĐ 366)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from . import _fields as F
from .errors import ManifestError
from .levels import Level, LevelSet
from .rules import BASES, QUOTA_BASES, QuotaRule, RuleProfile, SecondRoundRule, Threshold, merge_rules

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
    "RULE_OPTIONS",
    "options_to_rules",
    "preset_with_options",
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
           second_round: bool, quota_base: str) -> Preset:
    overrides = (("HTXSNV", TWO_THIRDS_AT_LEAST),) if top_two_thirds else ()
    rules = RuleProfile(
        level_thresholds=overrides,
        base=base,
        cumulative=cumulative,
        abstain_allowed=True,
        quota=QuotaRule(top="HTXSNV", against="HTTNV",
                        ratio=Fraction(1, 4) if outstanding else Fraction(1, 5),
                        base=quota_base),
        second_round=SecondRoundRule(enabled=second_round),
    )
    return Preset(QD366_LEVELS, rules)


def branch_qd366(*, top_two_thirds: bool = False, base: str = "convened_minus_excluded",
                 cumulative: bool = False, outstanding: bool = False,
                 second_round: bool = False, quota_base: str = "against_only") -> Preset:
    """A branch classifies its members under QĐ 366: four levels, more than 1/2 of N
    (convened − excluded) per level, abstain allowed, HTXSNV at most 20% of HTTNV (25% if
    ``outstanding``). ``top_two_thirds``: HTXSNV needs at least 2/3 (the 2011 guide).
    ``quota_base``: ``against_only`` (20% of those rated HTTNV) or ``against_and_above``
    (20% of those rated HTTNV or better)."""
    return _qd366(top_two_thirds=top_two_thirds, base=base, cumulative=cumulative,
                  outstanding=outstanding, second_round=second_round, quota_base=quota_base)


def committee_qd366(*, top_two_thirds: bool = False, base: str = "convened_minus_excluded",
                    cumulative: bool = False, outstanding: bool = False,
                    second_round: bool = False, quota_base: str = "against_only") -> Preset:
    """A standing committee classifies its subordinate organisations (or the cadres it
    manages): the same levels and rules; the committee's members are the roll. Put units of
    different kinds of role in different ``group``s so the 20% quota applies per group."""
    return _qd366(top_two_thirds=top_two_thirds, base=base, cumulative=cumulative,
                  outstanding=outstanding, second_round=second_round, quota_base=quota_base)


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


#: The named options a CSV counts file's header and the web form's new-meeting page set on a
#: preset; each becomes a partial rule profile laid on the preset by :func:`merge_rules`.
RULE_OPTIONS = ("base", "cumulative", "quorum", "quota_ratio", "quota_base", "outstanding",
                "top_two_thirds", "second_round")
_YES = {"yes": True, "true": True, "1": True, "có": True, "on": True,
        "no": False, "false": False, "0": False, "không": False, "off": False, "": False}


def _yesno(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _YES:
        return _YES[value.strip().lower()]
    raise ManifestError(f"{name}: expected yes or no, got {value!r}")


def options_to_rules(levels: LevelSet, rules: RuleProfile,
                     options: Mapping[str, Any]) -> dict[str, Any]:
    """The partial rule profile (JSON) that ``options`` stand for, given the preset's
    ``levels`` and ``rules``. Options left out, or switched off, change nothing."""
    partial: dict[str, Any] = {}

    def quota(option: str, field: str, value: Any) -> None:
        if rules.quota is None:
            raise ManifestError(f"{option}: this preset has no quota")
        partial.setdefault("quota", {})[field] = value

    for key, value in options.items():
        if key not in RULE_OPTIONS:
            raise ManifestError(f"{key}: unknown option (options: {', '.join(RULE_OPTIONS)})")
        if key == "base":
            partial["base"] = F.choice(value, key, BASES)
        elif key == "cumulative":
            partial["cumulative"] = _yesno(value, key)
        elif key == "quorum":
            partial["quorum"] = F.format_fraction(F.fraction(value, key))
        elif key == "quota_ratio":
            quota(key, "ratio", F.format_fraction(F.fraction(value, key, lo_open=True)))
        elif key == "quota_base":
            quota(key, "base", F.choice(value, key, QUOTA_BASES))
        elif key == "outstanding" and _yesno(value, key):
            if "quota_ratio" in options:
                raise ManifestError("outstanding: give either outstanding or quota_ratio")
            quota(key, "ratio", "1/4")
        elif key == "top_two_thirds" and _yesno(value, key):
            partial.setdefault("thresholds", {}).setdefault("levels", {})[levels.top.code] = \
                TWO_THIRDS_AT_LEAST.to_json()
        elif key == "second_round" and _yesno(value, key):
            partial["second_round"] = {"enabled": True}
    return partial


def preset_with_options(name: str, options: Mapping[str, Any]) -> Preset:
    """The preset ``name`` with ``options`` (:data:`RULE_OPTIONS`) applied by
    :func:`merge_rules`: every key the preset sets and the options do not name is kept."""
    levels, rules = preset(name)
    return Preset(levels, merge_rules(rules, options_to_rules(levels, rules, options)))
