"""Properties of the rules engine over random meetings (hypothesis)."""

import dataclasses
from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ballot.election.counting import count
from ballot.election.counts import MeetingFigures, UnitCounts
from ballot.election.presets import QD366_LEVELS
from ballot.election.rules import QuotaRule, RuleProfile, Threshold
from ballot.election.units import Unit

CODES = QD366_LEVELS.codes
MAJORITIES = [Threshold(), Threshold(Fraction(2, 3), "at_least"),
              Threshold(Fraction(2, 3), "more_than"), Threshold(Fraction(3, 5), "at_least"),
              Threshold(Fraction(1), "at_least")]


@st.composite
def meeting_figures(draw):
    convened = draw(st.integers(1, 40))
    excluded = draw(st.integers(0, convened - 1))
    present = draw(st.integers(0, convened - excluded))
    valid = draw(st.integers(0, present))
    invalid = draw(st.integers(0, present - valid))
    return MeetingFigures(convened, excluded, present, valid, invalid)


def unit_counts(valid: int):
    """Six non-negative parts (four levels, abstain, blank) summing to ``valid``."""
    cuts = st.lists(st.integers(0, valid), min_size=5, max_size=5).map(sorted)

    def build(c):
        edges = [0] + c + [valid]
        parts = [edges[i + 1] - edges[i] for i in range(6)]
        return UnitCounts(dict(zip(CODES, parts[:4])), parts[4], parts[5])

    return cuts.map(build)


@st.composite
def profiles(draw, quota=False):
    levels = tuple((code, draw(st.sampled_from(MAJORITIES))) for code in CODES
                   if draw(st.booleans()))
    return RuleProfile(
        default_threshold=draw(st.sampled_from(MAJORITIES)),
        level_thresholds=levels,
        base=draw(st.sampled_from(["convened_minus_excluded", "present", "valid_ballots"])),
        quorum=draw(st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(2, 3)])),
        cumulative=draw(st.booleans()),
        quota=QuotaRule("HTXSNV", "HTTNV", draw(st.sampled_from([Fraction(1, 5), Fraction(1, 4)])))
        if quota else None,
    )


def outcome(result, uid):
    r = result.unit(uid)
    return (r.level, r.outcome, r.rule, r.voted_level, r.cumulative, r.shares, r.flags)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_unit_depends_only_on_its_own_counts_without_quota(data):
    fig = data.draw(meeting_figures())
    rules = data.draw(profiles(quota=False))
    k = data.draw(st.integers(1, 5))
    units = [Unit(f"u{i}", f"U{i}", score=data.draw(st.none() | st.integers(0, 100)),
                  disciplined=data.draw(st.booleans())) for i in range(k + 1)]
    mine = data.draw(unit_counts(fig.ballots_valid))
    others_a = [data.draw(unit_counts(fig.ballots_valid)) for _ in range(k)]
    others_b = [data.draw(unit_counts(fig.ballots_valid)) for _ in range(k)]
    a = count(QD366_LEVELS, rules, units, {"u0": mine, **{f"u{i+1}": c for i, c in enumerate(others_a)}}, fig)
    b = count(QD366_LEVELS, rules, units, {"u0": mine, **{f"u{i+1}": c for i, c in enumerate(others_b)}}, fig)
    assert outcome(a, "u0") == outcome(b, "u0")


def _rank(level):
    return len(CODES) if level is None else CODES.index(level)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_moving_a_vote_up_never_lowers_the_result_with_cumulative_fallback(data):
    fig = data.draw(meeting_figures())
    rules = dataclasses.replace(data.draw(profiles(quota=False)), cumulative=True)
    before = data.draw(unit_counts(fig.ballots_valid))
    votes = dict(before.votes)
    movable = [i for i in range(1, 4) if votes[CODES[i]] > 0]
    assume(movable)
    src = data.draw(st.sampled_from(movable))
    dst = data.draw(st.integers(0, src - 1))
    votes[CODES[src]] -= 1
    votes[CODES[dst]] += 1
    after = UnitCounts(votes, before.abstain, before.blank)
    unit = [Unit("u", "U")]
    old = count(QD366_LEVELS, rules, unit, {"u": before}, fig).unit("u")
    new = count(QD366_LEVELS, rules, unit, {"u": after}, fig).unit("u")
    assert _rank(new.level) <= _rank(old.level)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_quota_invariants(data):
    n_units = data.draw(st.integers(1, 30))
    valid = data.draw(st.integers(1, 15))
    fig = MeetingFigures(valid, 0, valid, valid)
    rules = data.draw(profiles(quota=True))
    units, counts = [], {}
    for i in range(n_units):
        units.append(Unit(f"u{i}", "U", group=data.draw(st.sampled_from([None, "a", "b"])),
                          score=data.draw(st.none() | st.integers(0, 100))))
        counts[f"u{i}"] = data.draw(unit_counts(valid))
    result = count(QD366_LEVELS, rules, units, counts, fig)
    for g in result.quota:
        members = [r for r, u in zip(result.units, units) if u.group == g.group]
        top = [r.unit_id for r in members if r.level == "HTXSNV"]
        assert tuple(sorted(top)) == tuple(sorted(g.kept))
        assert len(g.kept) <= g.x_max
        assert g.x_max <= g.ratio * (g.n - g.x_max) and not (g.x_max + 1 <= g.ratio * (g.n - g.x_max - 1))
        assert set(g.kept) | set(g.tied) | set(g.cut) == set(g.candidates)
        assert not g.tied or len(g.kept) + len(g.tied) > g.x_max
        good = sum(1 for r in members if r.voted_level in ("HTXSNV", "HTTNV"))
        assert good == g.n
        top_votes = {uid: counts[uid].vote("HTXSNV") for uid in g.candidates}
        if g.kept and g.cut:
            assert min(top_votes[u] for u in g.kept) >= max(top_votes[u] for u in g.cut)
        for uid in g.cut:
            assert (result.unit(uid).level, result.unit(uid).outcome) == ("HTTNV", "cut_by_quota")
    for r in result.units:  # counts are never altered
        assert r.counts == counts[r.unit_id]
