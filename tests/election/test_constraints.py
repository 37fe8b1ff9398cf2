import dataclasses
from fractions import Fraction

import pytest

from ballot.election.counting import count
from ballot.election.errors import CountError
from ballot.election.presets import QD366_LEVELS
from ballot.election.rules import Constraints, RuleProfile, Threshold
from ballot.election.second_round import second_round
from ballot.election.units import Unit

from ._support import figures, row

N = 10
RULES = RuleProfile()


def run(units, votes, rules=RULES):
    counts = {uid: row(N, *v) for uid, v in votes.items()}
    return count(QD366_LEVELS, rules, units, counts, figures(N))


def codes(result, uid):
    return [f.code for f in result.unit(uid).flags]


def test_head_above_collective_is_flagged_not_changed():
    units = [Unit("org", "Chi ủy", kind="organisation"),
             Unit("sec", "Bí thư", kind="leader", collective="org", head=True)]
    result = run(units, {"org": (0, 8, 2), "sec": (9, 1)})
    assert result.unit("sec").level == "HTXSNV"  # the votes stand
    assert codes(result, "sec") == ["head_above_collective"]
    flag = result.unit("sec").flags[0]
    assert flag.related == ("org",) and "above the collective org (HTTNV)" in flag.text.en
    assert codes(result, "org") == []
    same = run(units, {"org": (0, 8, 2), "sec": (0, 9, 1)})
    assert codes(same, "sec") == []


def test_subordinate_organisation_above_parent_is_not_a_head():
    units = [Unit("org", "Đảng bộ", kind="organisation"),
             Unit("sub", "Chi bộ", kind="organisation", collective="org")]
    assert codes(run(units, {"org": (0, 8), "sub": (9, 1)}), "sub") == []


def test_disciplined_above_lowest():
    units = [Unit("m", "Đảng viên", disciplined=True), Unit("k", "Khác", disciplined=True)]
    result = run(units, {"m": (0, 0, 8, 2), "k": (0, 0, 0, 10)})
    assert codes(result, "m") == ["disciplined_above_lowest"]
    assert codes(result, "k") == []
    assert result.unit("m").level == "HTNV"


def test_collective_top_with_disciplined_member():
    units = [Unit("org", "Chi ủy", kind="organisation"),
             Unit("a", "A", kind="leader", collective="org", disciplined=True),
             Unit("b", "B", kind="leader", collective="org")]
    result = run(units, {"org": (9, 1), "a": (0, 0, 0, 10), "b": (0, 9)})
    assert codes(result, "org") == ["collective_top_with_disciplined"]
    assert result.unit("org").flags[0].related == ("a",)
    assert codes(run(units, {"org": (0, 9), "a": (0, 0, 0, 10), "b": (0, 9)}), "org") == []


def test_undecided_units_raise_no_flag():
    units = [Unit("m", "Đảng viên", disciplined=True)]
    assert codes(run(units, {"m": (5, 5)}), "m") == []


def test_constraints_can_be_switched_off():
    units = [Unit("org", "Chi ủy", kind="organisation"),
             Unit("a", "A", kind="leader", collective="org", disciplined=True, head=True)]
    votes = {"org": (0, 9, 1), "a": (9, 1)}
    assert codes(run(units, votes), "a") == ["head_above_collective", "disciplined_above_lowest"]
    off = dataclasses.replace(RULES, constraints=Constraints(False, False, False))
    assert codes(run(units, votes, off), "a") == []
    only = dataclasses.replace(RULES, constraints=Constraints(False, True, False))
    assert codes(run(units, votes, only), "a") == ["disciplined_above_lowest"]


# -- the second round ----------------------------------------------------------------------------
def test_second_round_selects_at_most_k():
    r = second_round(["a", "b", "c"], {"a": 7, "b": 9, "c": 3}, 2)
    assert (r.selected, r.tied, r.not_selected) == (("b", "a"), (), ("c",))
    assert r.ranked == (("b", 9), ("a", 7), ("c", 3))


def test_second_round_tie_at_k():
    r = second_round(["a", "b", "c"], {"a": 9, "b": 7, "c": 7}, 2)
    assert (r.selected, r.tied, r.not_selected) == (("a",), ("b", "c"), ())


def test_second_round_threshold_over_base():
    r = second_round(["a", "b", "c"], {"a": 9, "b": 5, "c": 6}, 3, base=10)
    assert (r.selected, r.not_selected) == (("a", "c"), ("b",))  # 5 is not more than 1/2 of 10
    r = second_round(["a", "b"], {"a": 6, "b": 5}, 2, base=9,
                     threshold=Threshold(Fraction(2, 3), "at_least"))
    assert (r.selected, r.not_selected) == (("a",), ("b",))  # 6 ≥ 2/3 × 9 > 5


@pytest.mark.parametrize("args,message", [
    ((["a"], {}, 1), "agree.a: missing"),
    ((["a"], {"a": 1, "z": 2}, 1), "agree.z: not a candidate"),
    ((["a"], {"a": -1}, 1), "agree.a: expected a count"),
    ((["a", "a"], {"a": 1}, 1), "appears twice"),
    ((["a"], {"a": 1}, -1), "max_k"),
])
def test_second_round_input_checked(args, message):
    with pytest.raises(CountError, match=message):
        second_round(*args)


def test_second_round_agree_above_base():
    with pytest.raises(CountError, match="agree.a: 11 exceeds the base N = 10"):
        second_round(["a"], {"a": 11}, 1, base=10)


# -- issue 14, point 3: the head's role ----------------------------------------------------------

def test_only_the_head_is_bound_by_the_collectives_level():
    units = [Unit("cb", "Chi bộ 3", kind="organisation"),
             Unit("bt", "Bí thư", collective="cb", head=True),
             Unit("m1", "Đảng viên 1", collective="cb"),
             Unit("m2", "Đảng viên 2", collective="cb", disciplined=True)]
    votes = {"cb": (9, 1), "bt": (9, 1), "m1": (9, 1), "m2": (0, 0, 0, 10)}
    # the branch at HTTNV: its head above it is flagged, an ordinary member above it is not
    votes["cb"] = (0, 9, 1)
    result = run(units, votes)
    assert codes(result, "bt") == ["head_above_collective"]
    assert codes(result, "m1") == []
    # members attached to the branch still count for the branch's own discipline flag
    votes["cb"] = (9, 1)
    result = run(units, votes)
    assert codes(result, "cb") == ["collective_top_with_disciplined"]
    assert result.unit("cb").flags[0].related == ("m2",)


def test_a_head_needs_a_collective_and_is_a_person():
    with pytest.raises(ValueError, match="head: unit 'bt' is marked as a head but names no"):
        Unit("bt", "Bí thư", head=True)
    with pytest.raises(ValueError, match="only a person"):
        Unit("sub", "Chi bộ", kind="organisation", collective="org", head=True)


def test_a_manifest_written_before_heads_were_marked_keeps_its_flags():
    """An older manifest's unit names a collective without a ``head`` key: it is read as "not
    said" and checked as it was published (every member attached to a collective), its bytes
    unchanged, so a published record still verifies. A new manifest writes ``head`` for every
    unit with a collective; a counts file's unit without ``head`` is not a head."""
    old = {"unit_id": "m1", "name": "A", "kind": "member", "group": None, "self_level": None,
           "proposed_level": None, "score": None, "collective": "cb", "disciplined": False,
           "outstanding": False}
    legacy = Unit.from_json(old, manifest=True)
    assert legacy.head is None and legacy.to_json() == old  # the old bytes, unchanged
    units = [Unit("cb", "Chi bộ 3", kind="organisation"), legacy]
    votes = {"cb": (0, 9, 1), "m1": (9, 1)}
    assert codes(run(units, votes), "m1") == ["head_above_collective"]
    new = Unit.from_json(old)  # a counts file: not a head
    assert new.head is False and new.to_json() == {**old, "head": False}
    assert codes(run([units[0], new], votes), "m1") == []
    assert Unit.from_json(new.to_json(), manifest=True) == new
    # no collective: no key at all, as before heads were marked
    assert "head" not in Unit("x", "X").to_json()
    with pytest.raises(ValueError, match="head: expected true or false, got null"):
        Unit.from_json({**old, "head": None}, manifest=True)
