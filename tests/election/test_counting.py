import dataclasses
from fractions import Fraction

import pytest

from ballot.election.counting import count, count_manifest
from ballot.election.counts import MeetingFigures, UnitCounts
from ballot.election.errors import CountError
from ballot.election.presets import QD366_LEVELS, branch_qd366
from ballot.election.rules import QuotaRule, RuleProfile, Threshold
from ballot.election.units import Unit

from ._support import count_one, figures, row

DEFAULT = RuleProfile()


# -- one unit: thresholds ----------------------------------------------------------------------
def test_exactly_half_is_no_majority():
    r = count_one(DEFAULT, row(50, 0, 25, 25), figures(50)).unit("u1")
    assert (r.level, r.outcome) == (None, "no_majority")
    assert "HTTNV 25/50" in r.rule.vi and "HTTNV 25/50" in r.rule.en
    r = count_one(DEFAULT, row(50, 0, 26, 24), figures(50)).unit("u1")
    assert (r.level, r.outcome) == ("HTTNV", "passed")
    assert r.rule.en == "HTTNV: 26/50 votes > 1/2 N"
    assert r.rule.vi == "HTTNV: 26/50 phiếu > 1/2 N"


def test_top_level_at_least_two_thirds():
    rules = dataclasses.replace(branch_qd366(top_two_thirds=True).rules, quota=None)
    r = count_one(rules, row(30, 20, 10), figures(30)).unit("u1")
    assert (r.level, r.rule.en) == ("HTXSNV", "HTXSNV: 20/30 votes ≥ 2/3 N")
    r = count_one(rules, row(30, 19, 11), figures(30)).unit("u1")
    assert r.level is None  # 19 < 20 and 11 is not more than 15
    r = count_one(rules, row(30, 19, 0, 11), figures(30)).unit("u1")
    assert r.level is None


def test_levels_checked_from_the_highest():
    rules = RuleProfile(default_threshold=Threshold(Fraction(1, 2), "more_than"))
    r = count_one(rules, row(10, 6, 4), figures(10)).unit("u1")
    assert r.level == "HTXSNV"


def test_shares_are_exact_fractions_of_n():
    r = count_one(DEFAULT, row(45, 10, 30, 5), figures(60, present=45)).unit("u1")
    assert r.base == 60
    assert r.shares == (("HTXSNV", Fraction(1, 6)), ("HTTNV", Fraction(1, 2)),
                        ("HTNV", Fraction(1, 12)), ("KHTNV", Fraction(0)))
    assert r.level is None  # 30/60 is not more than 1/2


# -- cumulative fallback -------------------------------------------------------------------------
def test_cumulative_off_and_on():
    c = row(50, 20, 20, 10)
    off = count_one(DEFAULT, c, figures(50)).unit("u1")
    assert (off.level, off.outcome, off.cumulative) == (None, "no_majority", False)
    on = count_one(RuleProfile(cumulative=True), c, figures(50)).unit("u1")
    assert (on.level, on.outcome, on.cumulative) == ("HTTNV", "passed", True)
    assert on.rule.en == "HTTNV: 40/50 votes > 1/2 N (cumulative: HTXSNV 20 + HTTNV 20)"
    assert "cộng dồn" in on.rule.vi


def test_cumulative_goes_down_until_one_passes():
    on = RuleProfile(cumulative=True)
    r = count_one(on, row(50, 10, 10, 10, 20), figures(50)).unit("u1")
    assert r.level == "HTNV"  # 10, 20, 30 > 25
    r = count_one(on, row(50, 10, 10, 5, 20, abstain=5), figures(50)).unit("u1")
    assert r.level == "KHTNV"  # 10, 20, 25 (not > 25), 45
    r = count_one(on, row(50, 5, 5, 5, 5, abstain=30), figures(50)).unit("u1")
    assert (r.level, r.outcome) == (None, "no_majority")
    assert "cumulative fallback included" in r.rule.en


def test_a_plain_majority_wins_before_the_fallback():
    r = count_one(RuleProfile(cumulative=True), row(50, 20, 4, 26), figures(50)).unit("u1")
    assert (r.level, r.cumulative) == ("HTNV", False)


# -- bases ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("base,votes,expected_n,passes", [
    ("convened_minus_excluded", 28, 60, False),  # 28 ≤ 30
    ("convened_minus_excluded", 31, 60, True),
    ("present", 28, 45, True),                   # 28 > 22.5
    ("present", 22, 45, False),
    ("valid_ballots", 22, 40, True),             # 22 > 20
    ("valid_ballots", 20, 40, False),
])
def test_each_base(base, votes, expected_n, passes):
    fig = MeetingFigures(convened=63, excluded=3, present=45, ballots_valid=40, ballots_invalid=5)
    r = count_one(RuleProfile(base=base), row(40, 0, votes), fig)
    assert r.base == expected_n
    assert r.unit("u1").level == ("HTTNV" if passes else None)
    assert f"HTTNV {votes}/{expected_n}" in r.unit("u1").rule.en or passes
    assert f"HTTNV: {votes}/{expected_n} votes" in r.unit("u1").rule.en or not passes


def test_base_text_is_reported():
    fig = figures(10)
    assert "valid ballots" in count_one(RuleProfile(base="valid_ballots"), row(10, 6), fig).base_text.en
    assert "convened − excluded" in count_one(DEFAULT, row(10, 6), fig).base_text.en


def test_zero_valid_ballots_is_no_majority():
    fig = MeetingFigures(10, 0, 10, ballots_valid=0, ballots_invalid=10)
    r = count_one(RuleProfile(base="valid_ballots"), UnitCounts({}), fig).unit("u1")
    assert (r.level, r.outcome, r.share("HTXSNV")) == (None, "no_majority", None)
    assert "N = 0" in r.rule.en


# -- abstentions and blanks ----------------------------------------------------------------------
def test_abstentions_count_in_the_base_but_for_no_level():
    r = count_one(DEFAULT, row(10, 0, 5, abstain=5), figures(10)).unit("u1")
    assert r.level is None and r.counts.abstain == 5
    r = count_one(DEFAULT, row(10, 0, 6, abstain=4), figures(10)).unit("u1")
    assert r.level == "HTTNV"


def test_abstain_refused_when_not_allowed():
    with pytest.raises(CountError, match=r"counts.u1.abstain: 1, but the rules allow no abstention"):
        count_one(RuleProfile(abstain_allowed=False), row(10, 0, 6, abstain=1), figures(10))


# -- quorum --------------------------------------------------------------------------------------
def test_quorum_failure_marks_every_unit():
    units = [Unit("a", "A"), Unit("b", "B")]
    counts = {"a": row(33, 0, 33), "b": row(33, 30)}
    result = count(QD366_LEVELS, DEFAULT, units, counts, figures(50, present=33))
    assert not result.quorum.met  # 33 < 2/3 × 50
    assert "33 present < 2/3 × 50" in result.quorum.text.en
    assert [(r.level, r.outcome) for r in result.units] == [(None, "quorum_failed")] * 2
    ok = count(QD366_LEVELS, DEFAULT, units, {"a": row(34, 0, 34), "b": row(34, 30)},
               figures(50, present=34))
    assert ok.quorum.met and ok.unit("a").level == "HTTNV"


def test_exactly_two_thirds_present_is_a_quorum():
    assert count_one(DEFAULT, row(20, 0, 20), figures(30, present=20)).quorum.met
    assert not count_one(DEFAULT, row(19, 0, 19), figures(30, present=19)).quorum.met


def test_quorum_is_measured_against_the_roll_base_for_every_base():
    r = count_one(RuleProfile(base="present"), row(10, 0, 10), figures(30, present=10))
    assert not r.quorum.met and r.unit("u1").outcome == "quorum_failed"


def test_quorum_can_be_turned_off():
    r = count_one(RuleProfile(quorum=Fraction(0)), row(10, 0, 10), figures(30, present=10))
    assert r.quorum.met and r.unit("u1").outcome == "no_majority"  # 10 ≤ 15


# -- validation of the input ---------------------------------------------------------------------
def test_rows_must_match_valid_ballots():
    with pytest.raises(CountError, match=r"counts.u1: 6 level votes \+ 0 abstain \+ 0 blank = 6, "
                                         r"but there are 10 valid ballots"):
        count_one(DEFAULT, UnitCounts({"HTTNV": 6}), figures(10))


def test_counts_must_cover_exactly_the_units():
    units = [Unit("a", "A"), Unit("b", "B")]
    with pytest.raises(CountError, match=r"counts.b: missing"):
        count(QD366_LEVELS, DEFAULT, units, {"a": row(10, 0, 10)}, figures(10))
    with pytest.raises(CountError, match=r"counts.c: no such unit"):
        count(QD366_LEVELS, DEFAULT, units[:1], {"a": row(10, 0, 10), "c": row(10)}, figures(10))
    with pytest.raises(CountError, match=r"counts.a.votes.XS: not a level"):
        count(QD366_LEVELS, DEFAULT, units[:1], {"a": UnitCounts({"XS": 10})}, figures(10))


@pytest.mark.parametrize("kwargs,message", [
    (dict(convened=10, excluded=0, present=11, ballots_valid=0), r"present: 11 exceeds convened − excluded = 10"),
    (dict(convened=10, excluded=2, present=9, ballots_valid=0), r"present: 9 exceeds"),
    (dict(convened=10, excluded=10, present=0, ballots_valid=0), r"excluded: must be at most 9"),
    (dict(convened=0, excluded=0, present=0, ballots_valid=0), r"convened: must be at least 1"),
    (dict(convened=10, excluded=0, present=8, ballots_valid=8, ballots_invalid=1), r"ballots_valid: valid \+ invalid = 9 exceeds present = 8"),
    (dict(convened=10, excluded=0, present=8, ballots_valid=7, ballots_issued=9), r"ballots_issued: 9 exceeds present = 8"),
    (dict(convened=10, excluded=0, present=8, ballots_valid=-1), r"ballots_valid: must be at least 0"),
    (dict(convened=10, excluded=0, present=True, ballots_valid=0), r"present: expected an integer"),
])
def test_figures_validated(kwargs, message):
    with pytest.raises(CountError, match=message):
        MeetingFigures(**kwargs)


@pytest.mark.parametrize("value", [-1, True, "3"])
def test_unit_counts_validated(value):
    with pytest.raises(CountError, match="votes.HTTNV: expected a count"):
        UnitCounts({"HTTNV": value})
    with pytest.raises(CountError, match="abstain: expected a count"):
        UnitCounts({}, abstain=value)


def test_figures_derived_values():
    f = MeetingFigures(convened=60, excluded=3, present=55, ballots_valid=54, ballots_invalid=1)
    assert (f.roll_base, f.returned, f.absent) == (57, 55, 5)


def test_count_manifest_checks_the_roll():
    from .test_manifest import make_manifest

    m = make_manifest()  # roll: 2 official + 1 excluded (+1 probationary): convened 3, N = 2
    counts = {u.unit_id: row(2, 0, 2) for u in m.units}
    result = count_manifest(m, counts, MeetingFigures(3, 1, 2, 2))
    assert result.base == 2 and result.unit("u1").level == "HTTNV"
    with pytest.raises(CountError, match=r"figures.convened: 4, but the roll has 3"):
        count_manifest(m, counts, MeetingFigures(4, 2, 2, 2))
    with pytest.raises(CountError, match=r"figures.excluded: 0, but the roll has 1"):
        count_manifest(m, counts, MeetingFigures(3, 0, 2, 2))


def test_count_result_json_uses_fraction_strings():
    r = count_one(DEFAULT, row(3, 0, 2, 1), figures(3)).to_json()
    assert r["units"][0]["shares"] == {"HTXSNV": "0/1", "HTTNV": "2/3", "HTNV": "1/3",
                                       "KHTNV": "0/1"}
    assert r["quorum"]["required"] == "2/3"
    from ballot.crypto.encoding import canonical_json

    canonical_json(r)  # no floats anywhere
