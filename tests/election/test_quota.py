import dataclasses
from fractions import Fraction

from ballot.election.counting import count
from ballot.election.presets import QD366_LEVELS, branch_qd366
from ballot.election.quota import split_at_cut
from ballot.election.rules import QuotaRule, SecondRoundRule
from ballot.election.units import Unit

from ._support import figures, row

LEVELS, RULES = branch_qd366()
N = 20
FIG = figures(N)


def meeting(top_votes: list[int], good: int, *, scores=None, groups=None, rules=RULES,
            others: int = 0, good_group=None):
    """Units e0.. voted HTXSNV with the given votes, g0.. voted HTTNV, o0.. voted HTNV."""
    units, counts = [], {}
    for i, v in enumerate(top_votes):
        uid = f"e{i}"
        units.append(Unit(uid, f"E{i}", score=None if scores is None else scores[i],
                          group=None if groups is None else groups[i]))
        counts[uid] = row(N, v, N - v)
    for i in range(good):
        units.append(Unit(f"g{i}", f"G{i}", group=good_group))
        counts[f"g{i}"] = row(N, 0, N)
    for i in range(others):
        units.append(Unit(f"o{i}", f"O{i}"))
        counts[f"o{i}"] = row(N, 0, 0, N)
    return count(LEVELS, rules, units, counts, FIG)


def test_worked_example_n50_at_most_8():
    # 10 units voted excellent, 40 good: n = 50 at good or better → X_max = ⌊50/6⌋ = 8.
    votes = [20, 19, 18, 17, 16, 15, 14, 13, 12, 11]
    result = meeting(votes, 40, others=5)
    (group,) = result.quota
    assert (group.n, group.x_max, group.ratio) == (50, 8, Fraction(1, 5))
    assert group.kept == tuple(f"e{i}" for i in range(8))
    assert group.cut == ("e8", "e9") and group.tied == ()
    assert [result.unit(f"e{i}").level for i in range(10)] == ["HTXSNV"] * 8 + ["HTTNV"] * 2
    assert result.unit("e9").outcome == "cut_by_quota"
    assert result.unit("e9").voted_level == "HTXSNV"
    assert "⌊1/5·50/(1+1/5)⌋ = 8" in result.unit("e9").rule.en
    tops = sum(1 for r in result.units if r.level == "HTXSNV")
    goods = sum(1 for r in result.units if r.level == "HTTNV")
    assert tops == 8 and tops <= Fraction(1, 5) * goods  # 8 ≤ 0.2 × 42


def test_outstanding_quota_25_percent():
    rules = branch_qd366(outstanding=True).rules
    result = meeting([20, 19, 18, 17, 16, 15, 14, 13, 12, 11], 40, rules=rules)
    assert result.quota[0].x_max == 10  # ⌊50/5⌋
    assert result.quota[0].cut == ()


def test_within_the_quota_nothing_changes():
    result = meeting([15, 14], 10)  # n = 12 → 2
    assert [result.unit(u).outcome for u in ("e0", "e1")] == ["passed", "passed"]
    assert result.quota[0].kept == ("e0", "e1")


def test_tie_straddling_the_cut_is_reported_not_broken():
    result = meeting([18, 15, 15, 12], 8)  # n = 12 → X_max = 2
    (group,) = result.quota
    assert (group.kept, group.tied, group.cut) == (("e0",), ("e1", "e2"), ("e3",))
    for uid in ("e1", "e2"):
        r = result.unit(uid)
        assert (r.level, r.outcome) == (None, "quota_tie")
        assert "2 units for 1 place(s)" in r.rule.en
    assert result.unit("e0").level == "HTXSNV"
    assert (result.unit("e3").level, result.unit("e3").outcome) == ("HTTNV", "cut_by_quota")


def test_tie_entirely_above_the_cut_is_no_tie():
    result = meeting([15, 15, 12], 9)  # n = 12 → 2 places for the two 15s
    assert result.quota[0].kept == ("e0", "e1") and result.quota[0].tied == ()


def test_score_breaks_a_vote_tie():
    result = meeting([15, 15, 15], 9, scores=[80, 95, 88])  # X_max = 2
    (group,) = result.quota
    assert group.candidates == ("e1", "e2", "e0")
    assert (group.kept, group.tied, group.cut) == (("e1", "e2"), (), ("e0",))


def test_equal_scores_or_missing_score_leave_the_tie():
    g = meeting([15, 15, 15], 3, scores=[80, 88, 88]).quota[0]  # n = 6 → 1 place
    assert (g.x_max, g.kept, g.tied, g.cut) == (1, (), ("e1", "e2"), ("e0",))
    g = meeting([15, 15, 15], 9, scores=[80, None, 88]).quota[0]  # n = 12 → 2 places
    assert (g.x_max, g.kept, g.tied, g.cut) == (2, (), ("e0", "e1", "e2"), ())


def test_small_group_allows_no_excellent():
    result = meeting([19], 4)  # n = 5 → ⌊5/6⌋ = 0
    assert result.quota[0].x_max == 0
    assert (result.unit("e0").level, result.unit("e0").outcome) == ("HTTNV", "cut_by_quota")


def test_quota_per_group():
    groups = ["a", "b", "b"]
    units, counts = [], {}
    for i, (v, g) in enumerate(zip([18, 17, 16], groups)):
        units.append(Unit(f"e{i}", "E", group=g))
        counts[f"e{i}"] = row(N, v, N - v)
    for i in range(11):  # group a: 1 + 5 good = 6 → 1; group b: 2 + 6 good = 8 → 1
        g = "a" if i < 5 else "b"
        units.append(Unit(f"g{i}", "G", group=g))
        counts[f"g{i}"] = row(N, 0, N)
    result = count(LEVELS, RULES, units, counts, FIG)
    by_group = {q.group: q for q in result.quota}
    assert (by_group["a"].n, by_group["a"].x_max, by_group["a"].cut) == (6, 1, ())
    assert (by_group["b"].n, by_group["b"].x_max, by_group["b"].cut) == (8, 1, ("e2",))


def test_group_ratio_override():
    quota = QuotaRule("HTXSNV", "HTTNV", Fraction(1, 5), (("noi_bat", Fraction(1, 4)),))
    rules = dataclasses.replace(RULES, quota=quota)
    result = meeting([18, 17], 8, groups=["noi_bat", "noi_bat"], good_group="noi_bat",
                     rules=rules)
    assert result.quota[0].x_max == 2 and result.quota[0].cut == ()  # ⌊10/5⌋
    result = meeting([18, 17], 8, rules=rules)
    assert result.quota[0].x_max == 1 and result.quota[0].cut == ("e1",)  # ⌊10/6⌋


def test_no_quota_no_cut():
    rules = dataclasses.replace(RULES, quota=None)
    result = meeting([18, 17, 16], 0, rules=rules)
    assert result.quota == () and all(r.level == "HTXSNV" for r in result.units)


def test_second_round_instead_of_cutting():
    rules = dataclasses.replace(RULES, second_round=SecondRoundRule(True))
    result = meeting([18, 15, 15, 12], 8, rules=rules)
    (ballot,) = result.second_round
    assert ballot.candidates == ("e0", "e1", "e2", "e3") and ballot.k == 2
    assert all(result.unit(f"e{i}").outcome == "second_round" for i in range(4))
    assert all(result.unit(f"e{i}").level is None for i in range(4))
    assert result.quota[0].second_round and result.quota[0].cut == ()


def test_second_round_max_k_lowers_the_limit():
    rules = dataclasses.replace(RULES, second_round=SecondRoundRule(True, 1))
    result = meeting([18, 15], 10, rules=rules)  # X_max = 2 but K = 1
    assert result.second_round[0].k == 1


def test_second_round_not_needed_within_the_limit():
    rules = dataclasses.replace(RULES, second_round=SecondRoundRule(True))
    result = meeting([18, 15], 10, rules=rules)
    assert result.second_round == () and result.unit("e1").outcome == "passed"


def test_split_at_cut():
    keys = [("a", (9,)), ("b", (8,)), ("c", (8,)), ("d", (7,))]
    assert split_at_cut(keys, 0) == ((), (), ("a", "b", "c", "d"))
    assert split_at_cut(keys, 1) == (("a",), (), ("b", "c", "d"))
    assert split_at_cut(keys, 2) == (("a",), ("b", "c"), ("d",))
    assert split_at_cut(keys, 3) == (("a", "b", "c"), (), ("d",))
    assert split_at_cut(keys, 9) == (("a", "b", "c", "d"), (), ())
