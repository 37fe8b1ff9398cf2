"""The counting rules of a meeting (docs/counting.md): thresholds, base, quorum, fallback, quota.

Every number is an ``int`` or an exact :class:`fractions.Fraction`; in JSON a fraction is the
string ``"p/q"`` in lowest terms (``"1/2"``, ``"2/3"``, ``"1/1"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from . import _fields as F
from .errors import ManifestError
from .levels import LevelSet

__all__ = [
    "BASES",
    "THRESHOLD_KINDS",
    "Threshold",
    "QuotaRule",
    "SecondRoundRule",
    "Constraints",
    "RuleProfile",
    "QUOTA_BASES",
    "merge_rules",
    "merge_json",
]

#: How the base N is taken from the meeting figures.
BASES = ("convened_minus_excluded", "present", "valid_ballots")
THRESHOLD_KINDS = ("more_than", "at_least")
#: What "r × the number rated HTTNV" counts: ``against_only`` (default, the literal reading):
#: the units left at the ``against`` level, so X ≤ r·(n − X); ``against_and_above``: the
#: units at ``against`` or better, the excellent ones included, so X ≤ r·n.
QUOTA_BASES = ("against_only", "against_and_above")
HALF = Fraction(1, 2)


@dataclass(frozen=True)
class Threshold:
    """A level passes when its votes are ``more_than`` / ``at_least`` ``fraction`` × N.

    Only strict majorities are accepted (more than 1/2, or at least a fraction above 1/2), so two
    levels can never pass at once.
    """

    fraction: Fraction = HALF
    kind: str = "more_than"

    def __post_init__(self) -> None:
        F.choice(self.kind, "kind", THRESHOLD_KINDS)
        if not isinstance(self.fraction, Fraction):
            raise ManifestError(f"fraction: expected a Fraction, got {type(self.fraction).__name__}")
        if self.kind == "more_than" and not HALF <= self.fraction < 1:
            raise ManifestError(
                f"fraction: 'more_than' needs 1/2 <= fraction < 1, got {F.format_fraction(self.fraction)}"
            )
        if self.kind == "at_least" and not HALF < self.fraction <= 1:
            raise ManifestError(
                f"fraction: 'at_least' needs 1/2 < fraction <= 1 (a strict majority), "
                f"got {F.format_fraction(self.fraction)}"
            )

    def passes(self, votes: int, n: int) -> bool:
        """Exact integer comparison of ``votes`` with ``fraction`` × ``n``; nothing passes if n = 0."""
        if n <= 0:
            return False
        lhs, rhs = votes * self.fraction.denominator, self.fraction.numerator * n
        return lhs > rhs if self.kind == "more_than" else lhs >= rhs

    @property
    def symbol(self) -> str:
        return ">" if self.kind == "more_than" else "≥"

    @property
    def negated_symbol(self) -> str:
        return "≤" if self.kind == "more_than" else "<"

    def describe(self) -> str:
        """``"> 1/2 N"`` or ``"≥ 2/3 N"``."""
        return f"{self.symbol} {F.format_fraction(self.fraction)} N"

    def to_json(self) -> dict[str, Any]:
        return {"fraction": F.format_fraction(self.fraction), "kind": self.kind}

    @classmethod
    def from_json(cls, value: Any, where: str = "threshold") -> "Threshold":
        d = F.obj(value, where)
        F.keys(d, where, required=("fraction", "kind"))
        with F.context(where):
            return cls(F.fraction(d["fraction"], "fraction"), d["kind"])


@dataclass(frozen=True)
class QuotaRule:
    """At most ``ratio`` × (number at ``against``) units at ``top``, per group of similar roles.

    With n units at ``against`` or better in a group, X_max = ⌊ratio·n/(1+ratio)⌋: ⌊n/6⌋ at 1/5
    (the QĐ 366 default), ⌊n/5⌋ at 1/4 (outstanding units). ``group_ratios`` overrides the ratio
    for named groups. ``base`` (:data:`QUOTA_BASES`): with ``against_and_above`` the excellent
    units count in the base too, X_max = ⌊ratio·n⌋ (⌊n/5⌋ at 1/5).
    """

    top: str
    against: str
    ratio: Fraction = Fraction(1, 5)
    group_ratios: tuple[tuple[str, Fraction], ...] = ()
    base: str = "against_only"

    def __post_init__(self) -> None:
        F.string(self.top, "top")
        F.string(self.against, "against")
        F.choice(self.base, "base", QUOTA_BASES)
        if self.top == self.against:
            raise ManifestError(f"against: must be a level below top, got {self.against!r} twice")
        F.fraction(self.ratio, "ratio", lo_open=True)
        if not isinstance(self.group_ratios, tuple):
            object.__setattr__(self, "group_ratios", tuple(self.group_ratios))
        seen = set()
        for group, ratio in self.group_ratios:
            F.nfc_string(group, "group_ratios")
            if group in seen:
                raise ManifestError(f"group_ratios.{group}: appears twice")
            seen.add(group)
            F.fraction(ratio, f"group_ratios.{group}", lo_open=True)
        object.__setattr__(self, "group_ratios", tuple(sorted(self.group_ratios)))

    def ratio_for(self, group: str | None) -> Fraction:
        return dict(self.group_ratios).get(group, self.ratio) if group is not None else self.ratio

    @staticmethod
    def x_max(ratio: Fraction, n: int, base: str = "against_only") -> int:
        """``against_only``: the largest X with X ≤ ratio·(n − X), i.e. ⌊ratio·n/(1+ratio)⌋ =
        ⌊p·n/(p+q)⌋; ``against_and_above``: the largest X with X ≤ ratio·n, ⌊p·n/q⌋."""
        p, q = ratio.numerator, ratio.denominator
        if base == "against_and_above":
            return (p * n) // q
        return (p * n) // (p + q)

    def formula(self, ratio: Fraction, n: int) -> str:
        """``"⌊1/5·50/(1+1/5)⌋ = 8"`` or, counting the excellent in the base, ``"⌊1/5·50⌋ = 10"``."""
        r = F.format_fraction(ratio)
        if self.base == "against_and_above":
            return f"⌊{r}·{n}⌋ = {self.x_max(ratio, n, self.base)}"
        return f"⌊{r}·{n}/(1+{r})⌋ = {self.x_max(ratio, n, self.base)}"

    def to_json(self) -> dict[str, Any]:
        out = {
            "top": self.top,
            "against": self.against,
            "ratio": F.format_fraction(self.ratio),
            "group_ratios": {g: F.format_fraction(r) for g, r in self.group_ratios},
        }
        if self.base != "against_only":  # the default is left out: older manifests' bytes
            out["base"] = self.base
        return out

    @classmethod
    def from_json(cls, value: Any, where: str = "quota") -> "QuotaRule":
        d = F.obj(value, where)
        F.keys(d, where, required=("top", "against"), optional=("ratio", "group_ratios", "base"))
        with F.context(where):
            ratio = F.fraction(d.get("ratio", "1/5"), "ratio", lo_open=True)
            groups = F.obj(d.get("group_ratios", {}), "group_ratios")
            pairs = tuple(
                (g, F.fraction(r, f"group_ratios.{g}", lo_open=True)) for g, r in groups.items()
            )
            return cls(d["top"], d["against"], ratio, pairs, d.get("base", "against_only"))


@dataclass(frozen=True)
class SecondRoundRule:
    """A separate "agree / disagree" round for excellent candidates instead of cutting by votes.

    When enabled, a group whose candidates exceed its limit (X_max under the quota, and
    ``max_k`` if set) is sent to a second round with "vote for at most K" = that limit.
    """

    enabled: bool = False
    max_k: int | None = None

    def __post_init__(self) -> None:
        F.boolean(self.enabled, "enabled")
        F.integer(self.max_k, "max_k", lo=1, none=True)

    def to_json(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "max_k": self.max_k}

    @classmethod
    def from_json(cls, value: Any, where: str = "second_round") -> "SecondRoundRule":
        d = F.obj(value, where)
        F.keys(d, where, required=("enabled",), optional=("max_k",))
        with F.context(where):
            return cls(d["enabled"], d.get("max_k"))


@dataclass(frozen=True)
class Constraints:
    """Which constraint flags are raised (flags only: counts and results are never altered)."""

    head_not_above_collective: bool = True
    disciplined_not_completed: bool = True
    collective_top_needs_clean_record: bool = True

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            F.boolean(getattr(self, name), name)

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, value: Any, where: str = "constraints") -> "Constraints":
        d = F.obj(value, where)
        F.keys(d, where, optional=tuple(cls.__dataclass_fields__))
        with F.context(where):
            return cls(**d)


@dataclass(frozen=True)
class RuleProfile:
    """All the counting rules of one meeting; defaults are the best-supported ones (domain.md).

    - ``default_threshold``: every level more than 1/2 of N; ``level_thresholds`` overrides per
      level code (e.g. the top level at least 2/3);
    - ``base``: N = official members convened minus excluded (default), members present, or
      valid ballots;
    - ``quorum``: at least this fraction of (convened − excluded) present (default 2/3; 0/1 turns
      the check off);
    - ``cumulative``: if no level passes, votes for higher levels count for the level below,
      going down (default off);
    - ``abstain_allowed``: whether a row may be marked "abstain";
    - ``quota``, ``second_round``, ``constraints``: see their classes.
    """

    default_threshold: Threshold = field(default_factory=Threshold)
    level_thresholds: tuple[tuple[str, Threshold], ...] = ()
    base: str = "convened_minus_excluded"
    quorum: Fraction = Fraction(2, 3)
    cumulative: bool = False
    abstain_allowed: bool = True
    quota: QuotaRule | None = None
    second_round: SecondRoundRule = field(default_factory=SecondRoundRule)
    constraints: Constraints = field(default_factory=Constraints)

    def __post_init__(self) -> None:
        if not isinstance(self.default_threshold, Threshold):
            raise ManifestError("thresholds.default: expected a Threshold")
        if not isinstance(self.level_thresholds, tuple):
            object.__setattr__(self, "level_thresholds", tuple(self.level_thresholds))
        seen = set()
        for code, threshold in self.level_thresholds:
            F.string(code, "thresholds.levels")
            if code in seen:
                raise ManifestError(f"thresholds.levels.{code}: appears twice")
            seen.add(code)
            if not isinstance(threshold, Threshold):
                raise ManifestError(f"thresholds.levels.{code}: expected a Threshold")
        object.__setattr__(self, "level_thresholds", tuple(sorted(self.level_thresholds)))
        F.choice(self.base, "base", BASES)
        F.fraction(self.quorum, "quorum")
        F.boolean(self.cumulative, "cumulative")
        F.boolean(self.abstain_allowed, "abstain_allowed")
        if self.quota is not None and not isinstance(self.quota, QuotaRule):
            raise ManifestError("quota: expected a QuotaRule or None")
        if not isinstance(self.second_round, SecondRoundRule):
            raise ManifestError("second_round: expected a SecondRoundRule")
        if not isinstance(self.constraints, Constraints):
            raise ManifestError("constraints: expected a Constraints")

    def threshold_for(self, code: str) -> Threshold:
        return dict(self.level_thresholds).get(code, self.default_threshold)

    def check_levels(self, levels: LevelSet, where: str = "rules") -> None:
        """Every level code the rules name must be in ``levels``; the quota's top above against."""
        with F.context(where):
            for code, _ in self.level_thresholds:
                levels.check_code(code, f"thresholds.levels.{code}")
            if self.quota is not None:
                levels.check_code(self.quota.top, "quota.top")
                levels.check_code(self.quota.against, "quota.against")
                if levels.rank(self.quota.against) <= levels.rank(self.quota.top):
                    raise ManifestError(
                        f"quota.against: {self.quota.against!r} must be a level below "
                        f"{self.quota.top!r}"
                    )

    def to_json(self) -> dict[str, Any]:
        return {
            "thresholds": {
                "default": self.default_threshold.to_json(),
                "levels": {code: t.to_json() for code, t in self.level_thresholds},
            },
            "base": self.base,
            "quorum": F.format_fraction(self.quorum),
            "cumulative": self.cumulative,
            "abstain_allowed": self.abstain_allowed,
            "quota": None if self.quota is None else self.quota.to_json(),
            "second_round": self.second_round.to_json(),
            "constraints": self.constraints.to_json(),
        }

    @classmethod
    def from_json(cls, value: Any, where: str = "rules") -> "RuleProfile":
        """Strict: unknown keys are rejected; missing optional keys take the defaults."""
        d = F.obj(value, where)
        F.keys(d, where, optional=("thresholds", "base", "quorum", "cumulative",
                                   "abstain_allowed", "quota", "second_round", "constraints"))
        kwargs: dict[str, Any] = {}
        if "thresholds" in d:
            tw = F.join(where, "thresholds")
            t = F.obj(d["thresholds"], tw)
            F.keys(t, tw, optional=("default", "levels"))
            if "default" in t:
                kwargs["default_threshold"] = Threshold.from_json(t["default"], F.join(tw, "default"))
            lw = F.join(tw, "levels")
            per_level = F.obj(t.get("levels", {}), lw)
            kwargs["level_thresholds"] = tuple(
                (code, Threshold.from_json(v, F.join(lw, code))) for code, v in per_level.items()
            )
        if d.get("quota") is not None:
            kwargs["quota"] = QuotaRule.from_json(d["quota"], F.join(where, "quota"))
        if "second_round" in d:
            kwargs["second_round"] = SecondRoundRule.from_json(
                d["second_round"], F.join(where, "second_round"))
        if "constraints" in d:
            kwargs["constraints"] = Constraints.from_json(
                d["constraints"], F.join(where, "constraints"))
        with F.context(where):
            if "quorum" in d:
                kwargs["quorum"] = F.fraction(d["quorum"], "quorum")
            for name in ("base", "cumulative", "abstain_allowed"):
                if name in d:
                    kwargs[name] = d[name]
            return cls(**kwargs)


def merge_json(base: Any, over: Any) -> Any:
    """``over`` laid on ``base``: objects merge key by key (recursively), anything else (a
    value, a list, ``null``) replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge_json(base[k], v) if k in base else v
        return out
    return over


def merge_rules(base: RuleProfile, partial: Any, where: str = "rules") -> RuleProfile:
    """``base`` with the keys that ``partial`` (a JSON rule profile, any subset) names, and only
    those: ``{"cumulative": true}`` over a QĐ 366 preset keeps its quota; ``{"quota":
    {"ratio": "1/4"}}`` keeps the quota's levels and base; ``{"quota": null}`` removes it. The
    one path by which counts files (JSON and CSV), the web form and presets' options change a
    preset's rules (docs/counting.md, "Partial rules")."""
    F.obj(partial, where)
    return RuleProfile.from_json(merge_json(base.to_json(), partial), where)
