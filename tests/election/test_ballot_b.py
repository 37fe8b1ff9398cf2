"""The second-round manifest field (ballot B) and its counting: strict validation, hashed with
the manifest, absent from first-round manifests, and counted by the second-round rule."""

from __future__ import annotations

import copy
from fractions import Fraction

import pytest

from ballot.crypto.encoding import b64encode
from ballot.election.ballot_b import BallotB, FirstRound
from ballot.election.counting import count_manifest
from ballot.election.counts import MeetingFigures, UnitCounts
from ballot.election.errors import CountError, ManifestError
from ballot.election.levels import Level, LevelSet
from ballot.election.manifest import Manifest
from ballot.election.presets import branch_qd366
from ballot.election.results import SecondRoundBallot
from ballot.election.roll import RollEntry
from ballot.election.rules import RuleProfile, SecondRoundRule
from ballot.election.trustees import Trustees
from ballot.election.units import Unit

AGREE = LevelSet((Level("agree", "Đồng ý", "Agree", "Đồng ý"),
                  Level("disagree", "Không đồng ý", "Disagree", "Không đồng ý")))
H1, H2 = "a" * 64, "b" * 64


def ballot_b(**changes) -> BallotB:
    fields = dict(first_round=FirstRound("cb-2025", H1, H2), base=10,
                  ballots=(SecondRoundBallot("g1", ("u1", "u2", "u3"), 2),
                           SecondRoundBallot("g2", ("u4", "u5"), 1)))
    fields.update(changes)
    return BallotB(**fields)


def make(**changes) -> Manifest:
    fields = dict(
        title="Vòng hai", organisation="Chi bộ 3", date="2025-12-15",
        meeting_kind="branch_members",
        roll=tuple(RollEntry(f"r{i}", f"Đảng viên {i}") for i in range(1, 11)),
        units=tuple(Unit(f"u{i}", f"Ứng viên {i}", group="g1" if i <= 3 else "g2")
                    for i in range(1, 6)),
        levels=AGREE, rules=RuleProfile(), trustees=Trustees(("T1", "T2"), 2),
        issuer_public_key=b64encode(b"spki"), ballot_b=ballot_b())
    fields.update(changes)
    return Manifest(**fields)


def test_round_trip_hash_and_limits():
    m = make()
    data = m.to_json()
    assert data["ballot_b"] == {
        "first_round": {"slug": "cb-2025", "manifest_hash": H1, "record_sha256": H2},
        "base": 10,
        "ballots": [{"group": "g1", "candidates": ["u1", "u2", "u3"], "k": 2},
                    {"group": "g2", "candidates": ["u4", "u5"], "k": 1}]}
    again = Manifest.from_json(data)
    assert again == m and again.manifest_hash() == m.manifest_hash()
    assert m.ballot_limits() == (((0, 1, 2), 2), ((3, 4), 1))
    # Hashed with the manifest: another K is another election.
    other = make(ballot_b=ballot_b(ballots=(SecondRoundBallot("g1", ("u1", "u2", "u3"), 1),
                                            SecondRoundBallot("g2", ("u4", "u5"), 1))))
    assert other.manifest_hash() != m.manifest_hash()


def test_a_first_round_manifest_has_no_ballot_b_key():
    levels, rules = branch_qd366()
    m = make(levels=levels, rules=rules, ballot_b=None)
    assert "ballot_b" not in m.to_json()
    assert m.ballot_limits() == ()
    with pytest.raises(ManifestError, match="expected an object"):
        Manifest.from_json({**m.to_json(), "ballot_b": None})


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["ballot_b"].pop("base"), "ballot_b.base: missing"),
    (lambda d: d["ballot_b"].update(extra=1), "ballot_b.extra: unknown key"),
    (lambda d: d["ballot_b"].update(base=-1), "ballot_b.base: must be at least 0"),
    (lambda d: d["ballot_b"].update(base="10"), "ballot_b.base: expected an integer"),
    (lambda d: d["ballot_b"].update(ballots=[]), "ballot_b.ballots: at least one group"),
    (lambda d: d["ballot_b"]["first_round"].update(slug="Bad Slug"), "first_round.slug"),
    (lambda d: d["ballot_b"]["first_round"].update(manifest_hash="AB"), "manifest_hash"),
    (lambda d: d["ballot_b"]["first_round"].pop("record_sha256"), "record_sha256: missing"),
    (lambda d: d["ballot_b"]["ballots"][0].update(k=0), r"ballots\[0\].k: must be at least 1"),
    (lambda d: d["ballot_b"]["ballots"][0].update(k=True), r"ballots\[0\].k: expected an integer"),
    (lambda d: d["ballot_b"]["ballots"][0].update(candidates=[]), "at least one candidate"),
    (lambda d: d["ballot_b"]["ballots"][1].update(group="g1"), "appears twice"),
    (lambda d: d["ballot_b"]["ballots"][1].update(candidates=["u4", "u1"]), "appears twice"),
    (lambda d: d["ballot_b"]["ballots"][1].update(candidates=["u5", "u4"]),
     "exactly the units in order"),
    (lambda d: d["ballot_b"]["ballots"][1].update(candidates=["u4"]), "exactly the units"),
    (lambda d: d["ballot_b"]["ballots"][0].pop("k"), r"ballots\[0\].k: missing"),
])
def test_strict_validation(edit, message):
    data = copy.deepcopy(make().to_json())
    edit(data)
    with pytest.raises(ManifestError, match=message):
        Manifest.from_json(data)


def test_the_rest_of_the_manifest_must_fit_a_second_round():
    levels, rules = branch_qd366()
    with pytest.raises(ManifestError, match="exactly two levels"):
        make(levels=levels)
    with pytest.raises(ManifestError, match="no quota"):
        make(rules=RuleProfile(second_round=SecondRoundRule(True)))
    # A group larger than the roll (a committee of 2 with 3 candidates): the radix grows.
    small_roll = tuple(RollEntry(f"r{i}", f"Đảng viên {i}") for i in range(1, 3))
    assert make(roll=small_roll).radix() == 4 and make().radix() == 11
    assert make(ballot_b=None, levels=branch_qd366()[0], rules=branch_qd366()[1]).radix() == 11
    units = list(make().units)
    units[0] = Unit("u1", "Ứng viên 1", kind="organisation")
    units[1] = Unit("u2", "Ứng viên 2", collective="u1")
    with pytest.raises(ManifestError, match="names a collective"):
        make(units=tuple(units))


def counts(agree: int, disagree: int, blank: int) -> UnitCounts:
    return UnitCounts({"agree": agree, "disagree": disagree}, blank)


def test_counting_selects_at_most_k_with_a_majority_of_n():
    m = make()  # N = 10: more than 5 agree needed
    fig = MeetingFigures(convened=10, excluded=0, present=10, ballots_valid=10)
    # every count is possible: at most K agree marks per ballot (g1: 20 ≤ 2 × 10, g2: 10 ≤ 10)
    result = count_manifest(m, {
        "u1": counts(7, 3, 0), "u2": counts(6, 3, 1), "u3": counts(7, 3, 0),  # K = 2
        "u4": counts(6, 4, 0), "u5": counts(4, 0, 6),                        # K = 1
    }, fig)
    out = {r.unit_id: r.outcome for r in result.units}
    assert out == {"u1": "selected", "u3": "selected", "u2": "not_selected",
                   "u4": "selected", "u5": "not_selected"}
    assert result.base == 10 and result.unit("u1").level is None
    assert "Đồng ý 7 > 1/2 N (N = 10)" in result.unit("u1").rule.vi
    assert "below the 2 places" in result.unit("u2").rule.en
    g1, g2 = result.ballot_b
    assert (g1.result.selected, g1.result.not_selected) == (("u1", "u3"), ("u2",))
    assert g2.result.selected == ("u4",)
    data = result.to_json()
    assert data["ballot_b"][0]["group"] == "g1" and data["ballot_b"][0]["selected"] == ["u1", "u3"]
    assert data["second_round"] == [] and data["quota"] == []
    tie = count_manifest(m, {
        "u1": counts(8, 2, 0), "u2": counts(6, 4, 0), "u3": counts(6, 4, 0),
        "u4": counts(6, 4, 0), "u5": counts(4, 6, 0)}, fig)
    assert tie.ballot_b[0].result.tied == ("u2", "u3")
    assert tie.unit("u2").outcome == tie.unit("u3").outcome == "second_round_tie"


def test_paper_counts_with_more_agree_marks_than_k_per_ballot_are_refused():
    """Issue 14, point 4: K = 1 and 5 valid ballots cannot give 14 agree marks; it used to be
    reported as a tie. The error explains the rule (at most K × valid ballots)."""
    fig = MeetingFigures(convened=10, excluded=0, present=5, ballots_valid=5,
                         ballots_invalid=0)
    quorum_off = make(rules=RuleProfile(quorum=Fraction(0)))
    ok = {"u1": counts(3, 2, 0), "u2": counts(3, 2, 0), "u3": counts(4, 1, 0)}  # 10 = 2 × 5
    with pytest.raises(CountError) as info:
        count_manifest(quorum_off, {**ok, "u4": counts(5, 0, 0), "u5": counts(5, 0, 0)}, fig)
    message = str(info.value)
    assert "group g2: 10 agree marks" in message and "at most K = 1" in message
    assert "K × valid ballots = 5" in message
    with pytest.raises(CountError, match="group g1: 11 agree marks"):
        count_manifest(quorum_off, {**ok, "u3": counts(5, 0, 0), "u4": counts(5, 0, 0),
                                    "u5": counts(0, 5, 0)}, fig)
    # the limit holds exactly: 2 × 5 in g1 and 1 × 5 in g2 are counted
    result = count_manifest(quorum_off, {**ok, "u4": counts(5, 0, 0), "u5": counts(0, 5, 0)},
                            fig)
    assert result.unit("u4").outcome == "not_selected"  # 5 is not more than 1/2 of N = 10


def test_counting_without_a_majority_and_without_quorum():
    m = make()
    fig = MeetingFigures(convened=10, excluded=0, present=9, ballots_valid=9)
    result = count_manifest(m, {
        "u1": counts(5, 4, 0), "u2": counts(0, 0, 9), "u3": counts(9, 0, 0),
        "u4": counts(2, 7, 0), "u5": counts(0, 9, 0)}, fig)
    out = {r.unit_id: r.outcome for r in result.units}
    assert out == {"u1": "not_selected", "u2": "not_selected", "u3": "selected",
                   "u4": "not_selected", "u5": "not_selected"}
    assert "5 ≤ 1/2 N" in result.unit("u1").rule.vi
    few = MeetingFigures(convened=10, excluded=0, present=5, ballots_valid=5)
    result = count_manifest(m, {u: counts(5, 0, 0) for u in ("u1", "u2", "u3", "u4", "u5")}, few)
    assert {r.outcome for r in result.units} == {"quorum_failed"}
    assert result.to_json()["ballot_b"] == []
    with pytest.raises(CountError, match="votes.HTXSNV: not a level"):
        count_manifest(m, {u: UnitCounts({"HTXSNV": 9}) for u in ("u1", "u2", "u3", "u4", "u5")},
                       MeetingFigures(convened=10, excluded=0, present=9, ballots_valid=9))


def test_a_present_or_valid_base_is_taken_in_the_second_round():
    # Round one had 7 present (its base N = 7 is recorded in ballot_b.base); 9 came to round
    # two: N is this round's 9, so 8 agree is a majority and is not "more than N".
    for kind, fig in (("present", MeetingFigures(convened=10, excluded=0, present=9,
                                                  ballots_valid=9)),
                      ("valid_ballots", MeetingFigures(convened=10, excluded=0, present=9,
                                                        ballots_valid=9))):
        m = make(rules=RuleProfile(base=kind), ballot_b=ballot_b(base=7))
        result = count_manifest(m, {
            "u1": counts(8, 1, 0), "u2": counts(1, 8, 0), "u3": counts(0, 9, 0),
            "u4": counts(5, 4, 0), "u5": counts(4, 5, 0)}, fig)
        assert result.base == 9, kind
        out = {r.unit_id: r.outcome for r in result.units}
        assert out == {"u1": "selected", "u2": "not_selected", "u3": "not_selected",
                       "u4": "selected", "u5": "not_selected"}, kind
        assert "N = 9" in result.unit("u1").rule.vi
