from fractions import Fraction

import pytest

from ballot.election.errors import ManifestError
from ballot.election.levels import Level
from ballot.election.presets import (
    PRESETS,
    branch_qd366,
    committee_qd366,
    criteria_grades,
    custom,
    preset,
)
from ballot.election.rules import RuleProfile, Threshold


def test_branch_qd366():
    levels, rules = branch_qd366()
    assert [(lv.code, lv.name_vi, lv.name_en) for lv in levels] == [
        ("HTXSNV", "Hoàn thành xuất sắc nhiệm vụ", "excellently completed tasks"),
        ("HTTNV", "Hoàn thành tốt nhiệm vụ", "completed tasks well"),
        ("HTNV", "Hoàn thành nhiệm vụ", "completed tasks"),
        ("KHTNV", "Không hoàn thành nhiệm vụ", "did not complete tasks"),
    ]
    assert rules.abstain_allowed
    assert (rules.quota.top, rules.quota.against, rules.quota.ratio) == (
        "HTXSNV", "HTTNV", Fraction(1, 5))
    assert all(rules.threshold_for(c) == Threshold() for c in levels.codes)
    assert rules.cumulative is False and rules.base == "convened_minus_excluded"


def test_branch_options():
    _, rules = branch_qd366(top_two_thirds=True, outstanding=True, cumulative=True,
                            base="present", second_round=True)
    assert rules.threshold_for("HTXSNV") == Threshold(Fraction(2, 3), "at_least")
    assert rules.threshold_for("HTTNV") == Threshold()
    assert rules.quota.ratio == Fraction(1, 4)
    assert rules.cumulative and rules.base == "present" and rules.second_round.enabled


def test_committee_same_levels():
    assert committee_qd366().levels == branch_qd366().levels
    assert committee_qd366().rules.quota is not None


def test_criteria_grades():
    levels, rules = criteria_grades()
    assert [lv.name_vi for lv in levels] == ["Xuất sắc", "Tốt", "Trung bình", "Kém"]
    assert rules.quota is None


def test_custom():
    levels, rules = custom([("TSVM", "Trong sạch, vững mạnh", "clean and strong"),
                            Level("YK", "Yếu kém", "weak", "YK")])
    assert levels.codes == ("TSVM", "YK") and rules == RuleProfile()
    with pytest.raises(ManifestError, match=r"levels\[1\].code"):
        custom([("A", "Một", "one"), ("", "Hai", "two")])
    with pytest.raises(ManifestError, match="at least 2"):
        custom([("A", "Một", "one")])


def test_preset_by_name():
    assert set(PRESETS) == {"branch_qd366", "committee_qd366", "criteria_grades"}
    assert preset("branch_qd366") == branch_qd366()
    with pytest.raises(ManifestError, match="unknown preset 'qd124'"):
        preset("qd124")
