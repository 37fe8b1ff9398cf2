"""The manifest (units, levels, rules, roll, trustees) and the counting rules (docs/counting.md)."""

from .counting import count, count_manifest
from .counts import MeetingFigures, UnitCounts
from .errors import CountError, ManifestError
from .levels import Level, LevelSet
from .manifest import Manifest
from .presets import Preset, branch_qd366, committee_qd366, criteria_grades, custom
from .results import CountResult, Flag, QuorumResult, QuotaGroup, SecondRoundBallot, UnitResult
from .roll import RollEntry
from .rules import Constraints, QuotaRule, RuleProfile, SecondRoundRule, Threshold
from .second_round import SecondRoundResult, second_round
from .text import Text
from .trustees import Trustees
from .units import Unit

__all__ = [
    "Constraints", "CountError", "CountResult", "Flag", "Level", "LevelSet", "Manifest",
    "ManifestError", "MeetingFigures", "Preset", "QuorumResult", "QuotaGroup", "QuotaRule",
    "RollEntry", "RuleProfile", "SecondRoundBallot", "SecondRoundResult", "SecondRoundRule",
    "Text", "Threshold", "Trustees", "Unit", "UnitCounts", "UnitResult", "branch_qd366",
    "committee_qd366", "count", "count_manifest", "criteria_grades", "custom", "second_round",
]
