from fractions import Fraction

import pytest

from ballot.crypto.encoding import canonical_json, parse_json
from ballot.election.errors import ManifestError
from ballot.election.presets import QD366_LEVELS, branch_qd366
from ballot.election.rules import (
    Constraints,
    QuotaRule,
    RuleProfile,
    SecondRoundRule,
    Threshold,
)


def test_exactly_half_is_not_more_than_half():
    t = Threshold()
    assert not t.passes(25, 50)
    assert t.passes(26, 50)
    assert not t.passes(3, 7) and t.passes(4, 7)


def test_exactly_two_thirds_passes_at_least_two_thirds():
    t = Threshold(Fraction(2, 3), "at_least")
    assert t.passes(20, 30)
    assert not t.passes(19, 30)
    assert not Threshold(Fraction(2, 3), "more_than").passes(20, 30)


def test_nothing_passes_with_empty_base():
    assert not Threshold(Fraction(2, 3), "at_least").passes(0, 0)


@pytest.mark.parametrize("fraction,kind", [
    (Fraction(1, 3), "more_than"), (Fraction(1, 2), "at_least"), (Fraction(1), "more_than"),
    (Fraction(3, 2), "at_least"), (Fraction(2, 3), "most"),
])
def test_only_strict_majorities(fraction, kind):
    with pytest.raises(ManifestError):
        Threshold(fraction, kind)


def test_defaults_follow_the_domain():
    r = RuleProfile()
    assert r.threshold_for("ANY") == Threshold(Fraction(1, 2), "more_than")
    assert r.base == "convened_minus_excluded"
    assert r.quorum == Fraction(2, 3)
    assert r.cumulative is False
    assert r.quota is None and r.second_round.enabled is False
    assert r.constraints == Constraints(True, True, True)


def test_x_max_worked_example():
    assert QuotaRule.x_max(Fraction(1, 5), 50) == 8
    assert 8 <= Fraction(1, 5) * (50 - 8) and not 9 <= Fraction(1, 5) * (50 - 9)
    for n in range(0, 400):
        assert QuotaRule.x_max(Fraction(1, 5), n) == n // 6
        assert QuotaRule.x_max(Fraction(1, 4), n) == n // 5


def _full_profile() -> RuleProfile:
    return RuleProfile(
        level_thresholds=(("HTXSNV", Threshold(Fraction(2, 3), "at_least")),),
        base="valid_ballots",
        quorum=Fraction(3, 4),
        cumulative=True,
        abstain_allowed=False,
        quota=QuotaRule("HTXSNV", "HTTNV", Fraction(1, 4), (("xa", Fraction(1, 5)),)),
        second_round=SecondRoundRule(True, 3),
        constraints=Constraints(False, True, False),
    )


def test_rule_profile_json_round_trip():
    for profile in (RuleProfile(), branch_qd366().rules, _full_profile()):
        doc = profile.to_json()
        assert RuleProfile.from_json(doc) == profile
        again = RuleProfile.from_json(parse_json(canonical_json(doc)))
        assert canonical_json(again.to_json()) == canonical_json(doc)


def test_rule_profile_json_shape():
    doc = _full_profile().to_json()
    assert doc == {
        "thresholds": {"default": {"fraction": "1/2", "kind": "more_than"},
                       "levels": {"HTXSNV": {"fraction": "2/3", "kind": "at_least"}}},
        "base": "valid_ballots",
        "quorum": "3/4",
        "cumulative": True,
        "abstain_allowed": False,
        "quota": {"top": "HTXSNV", "against": "HTTNV", "ratio": "1/4",
                  "group_ratios": {"xa": "1/5"}},
        "second_round": {"enabled": True, "max_k": 3},
        "constraints": {"head_not_above_collective": False, "disciplined_not_completed": True,
                        "collective_top_needs_clean_record": False},
    }


@pytest.mark.parametrize("doc,message", [
    ({"colour": 1}, r"rules.colour: unknown key"),
    ({"base": "everybody"}, r"rules.base: expected one of"),
    ({"quorum": "0.5"}, r"rules.quorum: expected a fraction"),
    ({"quorum": 0.5}, r"rules.quorum: expected a fraction"),
    ({"quorum": "4/6"}, r"rules.quorum: write '4/6' in lowest terms, as '2/3'"),
    ({"quorum": "4/3"}, r"rules.quorum: must be in"),
    ({"cumulative": "yes"}, r"rules.cumulative: expected true or false"),
    ({"thresholds": {"default": {"fraction": "1/2", "kind": "at_least"}}},
     r"rules.thresholds.default.fraction: 'at_least' needs"),
    ({"thresholds": {"levels": {"A": {"fraction": "1/2"}}}},
     r"rules.thresholds.levels.A.kind: missing"),
    ({"quota": {"top": "HTXSNV", "against": "HTTNV", "ratio": "0/1"}}, r"rules.quota.ratio"),
    ({"quota": {"top": "HTXSNV"}}, r"rules.quota.against: missing"),
    ({"second_round": {"enabled": True, "max_k": 0}}, r"rules.second_round.max_k"),
    ({"constraints": {"other": True}}, r"rules.constraints.other: unknown key"),
    ([], r"rules: expected an object"),
])
def test_rule_profile_strict(doc, message):
    with pytest.raises(ManifestError, match=message):
        RuleProfile.from_json(doc)


def test_rules_checked_against_levels():
    RuleProfile(quota=QuotaRule("HTXSNV", "HTTNV")).check_levels(QD366_LEVELS)
    with pytest.raises(ManifestError, match="quota.against: 'HTXSNV' must be a level below"):
        RuleProfile(quota=QuotaRule("HTTNV", "HTXSNV")).check_levels(QD366_LEVELS)
    with pytest.raises(ManifestError, match="quota.top: 'XS' is not a level"):
        RuleProfile(quota=QuotaRule("XS", "HTTNV")).check_levels(QD366_LEVELS)
    with pytest.raises(ManifestError, match="thresholds.levels.XS"):
        RuleProfile(level_thresholds=(("XS", Threshold()),)).check_levels(QD366_LEVELS)


def test_group_ratio_overrides():
    q = QuotaRule("HTXSNV", "HTTNV", Fraction(1, 5), (("noi_bat", Fraction(1, 4)),))
    assert q.ratio_for("noi_bat") == Fraction(1, 4)
    assert q.ratio_for("other") == Fraction(1, 5)
    assert q.ratio_for(None) == Fraction(1, 5)
