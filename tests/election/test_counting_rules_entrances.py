"""Issue 14: the counting rules reach the count the same way from every entrance.

Partial rules override only the keys they name (JSON, CSV header, web form options, all through
``merge_rules``); names, groups and headers are NFC at every entrance; control characters are
refused in names; the quota base is a switch; CSV numbers have the JSON range; check_counts is
linear; the threshold a cumulative fallback uses is the awarded level's own.
"""

from __future__ import annotations

import json
import unicodedata
from fractions import Fraction
from pathlib import Path

import pytest

from ballot.election.count_file import load_counts, run_count
from ballot.election.counting import check_counts, count
from ballot.election.counts import MeetingFigures, UnitCounts
from ballot.election.errors import CountError, ManifestError
from ballot.election.presets import QD366_LEVELS, branch_qd366, preset_with_options
from ballot.election.rules import QuotaRule, RuleProfile, Threshold, merge_rules
from ballot.election.table import format_result
from ballot.election.units import Unit

from ._support import figures, row

NFC_GROUP = unicodedata.normalize("NFC", "xã_phường")
NFD_GROUP = unicodedata.normalize("NFD", "xã_phường")
assert NFC_GROUP != NFD_GROUP


def _write(tmp_path: Path, name: str, content: str | dict) -> Path:
    path = tmp_path / name
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def _results(path: Path) -> dict:
    text, code = run_count(path, as_json=True)
    assert code == 0, text
    doc = json.loads(text)
    return {u["unit_id"]: u for u in doc["result"]["units"]} | {"_doc": doc}


FIGURES_6 = {"convened": 6, "excluded": 0, "present": 6, "ballots_valid": 6}


# -- 1. a preset with partial rules keeps its quota -----------------------------------------------

def _issue_json(rules: dict | None) -> dict:
    doc = {"format": "ballot/counts/v1", "preset": "branch_qd366",
           "units": [{"unit_id": "g1", "name": "Đảng viên 1"},
                     {"unit_id": "g2", "name": "Đảng viên 2"}],
           "figures": FIGURES_6,
           "counts": {"g1": {"votes": {"HTXSNV": 6}}, "g2": {"votes": {"HTTNV": 6}}}}
    if rules is not None:
        doc["rules"] = rules
    return doc


ISSUE_CSV = """# preset: branch_qd366
# convened: 6
# excluded: 0
# present: 6
# ballots_valid: 6
# cumulative: yes
unit_id;name;HTXSNV;HTTNV;HTNV;KHTNV
g1;Đảng viên 1;6;0;0;0
g2;Đảng viên 2;0;6;0;0
"""


def test_json_preset_with_partial_rules_keeps_the_quota_like_csv(tmp_path):
    js = _results(_write(tmp_path, "c.json", _issue_json({"cumulative": True})))
    cs = _results(_write(tmp_path, "c.csv", ISSUE_CSV))
    for res in (js, cs):
        # n = 2 at HTTNV or better: X_max = ⌊2/6⌋ = 0, so g1 is cut to HTTNV by the quota
        assert (res["g1"]["level"], res["g1"]["outcome"]) == ("HTTNV", "cut_by_quota")
        assert res["_doc"]["result"]["rules"]["cumulative"] is True
        assert res["_doc"]["result"]["rules"]["quota"]["ratio"] == "1/5"
    assert js["_doc"]["result"]["rules"] == cs["_doc"]["result"]["rules"]
    loaded = load_counts(_write(tmp_path, "d.json", _issue_json({"cumulative": True})))
    assert loaded.rules == branch_qd366(cumulative=True).rules
    text = format_result(loaded.count(), loaded.units)
    assert "Tỷ lệ / quota: HTXSNV ≤ 1/5 × HTTNV" in text


def test_partial_rules_override_only_the_keys_they_name():
    base = branch_qd366().rules
    assert merge_rules(base, {}) == base
    quarter = merge_rules(base, {"quota": {"ratio": "1/4"}})
    assert quarter.quota == QuotaRule("HTXSNV", "HTTNV", Fraction(1, 4))
    assert merge_rules(base, {"quota": None}).quota is None
    two_thirds = merge_rules(base, {"thresholds": {"levels": {"HTXSNV": {
        "fraction": "2/3", "kind": "at_least"}}}})
    assert two_thirds.threshold_for("HTXSNV") == Threshold(Fraction(2, 3), "at_least")
    assert two_thirds.quota == base.quota and two_thirds.base == base.base
    off = merge_rules(base, {"constraints": {"head_not_above_collective": False}})
    assert off.constraints.disciplined_not_completed and off.quota == base.quota
    with pytest.raises(ManifestError, match="rules.colour: unknown key"):
        merge_rules(base, {"colour": "red"})


def test_one_code_path_for_json_csv_header_and_the_form(tmp_path):
    """The same options give the same rules whichever entrance they come through."""
    form = preset_with_options("branch_qd366", {
        "base": "present", "cumulative": True, "top_two_thirds": True, "outstanding": True,
        "quota_base": "against_and_above", "second_round": True})
    assert form.rules == branch_qd366(base="present", cumulative=True, top_two_thirds=True,
                                      outstanding=True, quota_base="against_and_above",
                                      second_round=True).rules
    header = ("# preset: branch_qd366\n# convened: 6\n# excluded: 0\n# present: 6\n"
              "# ballots_valid: 6\n# base: present\n# cumulative: yes\n# top_two_thirds: yes\n"
              "# outstanding: yes\n# quota_base: against_and_above\n# second_round: yes\n"
              "unit_id;name;HTXSNV;HTTNV;HTNV;KHTNV\ng1;A;6;0;0;0\n")
    assert load_counts(_write(tmp_path, "h.csv", header)).rules == form.rules
    doc = _issue_json({"base": "present", "cumulative": True,
                       "thresholds": {"levels": {"HTXSNV": {"fraction": "2/3",
                                                            "kind": "at_least"}}},
                       "quota": {"ratio": "1/4", "base": "against_and_above"},
                       "second_round": {"enabled": True}})
    assert load_counts(_write(tmp_path, "h.json", doc)).rules == form.rules
    # options switched off change nothing
    assert preset_with_options("branch_qd366", {"cumulative": False,
                                                "outstanding": False}) == branch_qd366()
    with pytest.raises(ManifestError, match="outstanding: this preset has no quota"):
        preset_with_options("criteria_grades", {"outstanding": True})


# -- 2. NFC at every entrance ---------------------------------------------------------------------

def _group_doc(groups: list[str]) -> dict:
    units = [{"unit_id": f"u{i}", "name": f"Xã {i}", "group": g} for i, g in enumerate(groups)]
    counts = {f"u{i}": {"votes": {"HTXSNV" if i in (0, 5) else "HTTNV": 6}}
              for i in range(len(groups))}
    return {"format": "ballot/counts/v1", "preset": "committee_qd366", "units": units,
            "figures": FIGURES_6, "counts": counts}


def test_groups_typed_in_nfc_and_nfd_are_one_group_in_a_json_counts_file(tmp_path):
    res = _results(_write(tmp_path, "g.json", _group_doc([NFC_GROUP] * 5 + [NFD_GROUP] * 5)))
    quota = res["_doc"]["result"]["quota"]
    assert len(quota) == 1 and quota[0]["group"] == NFC_GROUP
    assert quota[0]["n"] == 10 and quota[0]["x_max"] == 1  # ⌊10/6⌋: one place, not 0 + 0
    # two candidates with equal votes and no score for one place: the deciding body chooses
    # (split into two groups of 5, each had X_max = 0 and both were cut)
    assert [res[u]["outcome"] for u in ("u0", "u5")] == ["quota_tie", "quota_tie"]
    names = {u["unit_id"]: u for u in res["_doc"]["units"]}
    assert all(unicodedata.is_normalized("NFC", u["group"]) for u in names.values())


def test_groups_typed_in_nfc_and_nfd_are_one_group_in_a_csv_counts_file(tmp_path):
    lines = ["# preset: committee_qd366", "# convened: 6", "# excluded: 0", "# present: 6",
             "# ballots_valid: 6", "unit_id;name;group;HTXSNV;HTTNV;HTNV;KHTNV"]
    for i in range(10):
        g = NFC_GROUP if i < 5 else NFD_GROUP
        lines.append(f"u{i};Xã {i};{g};{6 if i in (0, 5) else 0};{0 if i in (0, 5) else 6};0;0")
    res = _results(_write(tmp_path, "g.csv", "\n".join(lines) + "\n"))
    assert [g["group"] for g in res["_doc"]["result"]["quota"]] == [NFC_GROUP]


def test_keys_that_differ_only_by_normalisation_are_refused(tmp_path):
    doc = _issue_json({"quota": {"group_ratios": {NFC_GROUP: "1/4", NFD_GROUP: "1/5"}}})
    text, code = run_count(_write(tmp_path, "k.json", doc))
    assert code == 1 and "differ only by Unicode normalisation" in text


def test_a_manifest_unit_with_an_nfd_name_or_group_is_refused_not_changed():
    with pytest.raises(ManifestError, match="group: .* is not in Unicode NFC form"):
        Unit("u1", "Xã 1", group=NFD_GROUP)
    with pytest.raises(ManifestError, match="name: .* is not in Unicode NFC form"):
        Unit("u1", unicodedata.normalize("NFD", "Nguyễn Văn An"))


# -- 3. the head's role in the counts-file formats --------------------------------------------

def test_the_head_role_in_json_and_csv_counts_files(tmp_path):
    units = [{"unit_id": "cb", "name": "Chi bộ 3", "kind": "organisation"},
             {"unit_id": "bt", "name": "Bí thư", "collective": "cb", "head": True},
             {"unit_id": "m1", "name": "Đảng viên", "collective": "cb"}]
    doc = {"format": "ballot/counts/v1", "preset": "criteria_grades", "units": units,
           "figures": FIGURES_6,
           "counts": {"cb": {"votes": {"TOT": 6}}, "bt": {"votes": {"XS": 6}},
                      "m1": {"votes": {"XS": 6}}}}
    js = _results(_write(tmp_path, "h.json", doc))
    csv = ("# preset: criteria_grades\n# convened: 6\n# excluded: 0\n# present: 6\n"
           "# ballots_valid: 6\nunit_id;name;kind;collective;head;XS;TOT;TB;KEM\n"
           "cb;Chi bộ 3;organisation;;;0;6;0;0\nbt;Bí thư;member;cb;yes;6;0;0;0\n"
           "m1;Đảng viên;member;cb;no;6;0;0;0\n")
    cs = _results(_write(tmp_path, "h.csv", csv))
    for res in (js, cs):
        assert [f["code"] for f in res["bt"]["flags"]] == ["head_above_collective"]
        assert res["m1"]["flags"] == []
    assert [u.get("head", False) for u in cs["_doc"]["units"]] == [False, True, False]


# -- 5. the quota base ----------------------------------------------------------------------------

def test_quota_base_switch():
    assert [QuotaRule.x_max(Fraction(1, 5), n) for n in (5, 6, 10, 50)] == [0, 1, 1, 8]
    assert [QuotaRule.x_max(Fraction(1, 5), n, "against_and_above")
            for n in (5, 6, 10, 50)] == [1, 1, 2, 10]
    # 10 units at HTTNV or better, 2 excellent: 2 ≤ 1/5 × 10 (and above) but 2 > 1/5 × 8 (only)
    units = [Unit(f"u{i}", f"Đảng viên {i}", score=90 - i) for i in range(10)]
    counts = {u.unit_id: row(10, 9, 1) if i < 2 else row(10, 0, 9) for i, u in enumerate(units)}
    literal = count(QD366_LEVELS, branch_qd366().rules, units, counts, figures(10))
    assert [literal.unit(u).level for u in ("u0", "u1")] == ["HTXSNV", "HTTNV"]
    above = branch_qd366(quota_base="against_and_above").rules
    result = count(QD366_LEVELS, above, units, counts, figures(10))
    assert [result.unit(u).level for u in ("u0", "u1")] == ["HTXSNV", "HTXSNV"]
    assert "⌊1/5·10⌋ = 2" in result.quota[0].text.vi
    # JSON: the default is left out (older manifests' bytes), the other reading is written
    assert "base" not in branch_qd366().rules.to_json()["quota"]
    assert above.to_json()["quota"]["base"] == "against_and_above"
    assert RuleProfile.from_json(above.to_json()) == above
    with pytest.raises(ManifestError, match="quota.base: expected one of"):
        RuleProfile.from_json({"quota": {"top": "HTXSNV", "against": "HTTNV", "base": "all"}})


def test_quota_base_in_the_minutes_rule_lines():
    from ballot.tally.minutes import _rules_lines

    above = branch_qd366(quota_base="against_and_above").rules.to_json()
    lines = dict(_rules_lines(above, (), "N", "N"))
    assert any("X ≤ ⌊r·n⌋" in vi and "HTTNV trở lên" in vi for vi in lines)
    literal = dict(_rules_lines(branch_qd366().rules.to_json(), (), "N", "N"))
    assert any("X ≤ ⌊r·n/(1+r)⌋" in vi for vi in literal)


# -- 6. X_max = 0: no second round ------------------------------------------------------------

def test_x_max_zero_cuts_without_a_second_round():
    units = [Unit("a", "A"), Unit("b", "B")]
    rules = branch_qd366(second_round=True).rules
    result = count(QD366_LEVELS, rules, units, {"a": row(6, 6), "b": row(6, 0, 6)}, figures(6))
    assert result.quota[0].x_max == 0 and result.second_round == ()
    assert (result.unit("a").level, result.unit("a").outcome) == ("HTTNV", "cut_by_quota")


# -- 7. control characters ------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["Nguyễn\nVăn An", "Nguyễn\rAn", "A\tB", "A\u2028B", "A\x85B"])
def test_control_characters_in_names_are_refused(tmp_path, bad):
    with pytest.raises(ManifestError, match="control character U\\+"):
        Unit("u1", bad)
    doc = _issue_json(None)
    doc["units"][0]["name"] = bad
    text, code = run_count(_write(tmp_path, "n.json", doc))
    assert code == 1 and "units[0].name: control character" in text
    quoted = bad.replace('"', '""')
    csv = ISSUE_CSV.replace("g1;Đảng viên 1;", f'g1;"{quoted}";')
    text, code = run_count(_write(tmp_path, "n.csv", csv))
    assert code == 1 and "control character" in text


# -- 8. CSV numbers: the JSON range ---------------------------------------------------------------

def test_csv_numbers_have_the_json_range(tmp_path):
    big = 1234567890
    csv = (f"# preset: branch_qd366\n# convened: {big}\n# excluded: 0\n# present: 6\n"
           "# ballots_valid: 6\nunit_id;name;HTXSNV;HTTNV;HTNV;KHTNV\ng1;A;0;6;0;0\n")
    loaded = load_counts(_write(tmp_path, "big.csv", csv))
    assert loaded.figures.convened == big
    top = 2**53 - 1
    assert load_counts(_write(tmp_path, "top.csv", csv.replace(str(big), str(top)))
                       ).figures.convened == top
    text, code = run_count(_write(tmp_path, "over.csv", csv.replace(str(big), str(2**53))))
    assert code == 1 and "line 2 (convened): 9007199254740992 is too large: at most 2^53 − 1" in text


# -- 9. check_counts is linear --------------------------------------------------------------------

class _Id(str):
    """A unit id that counts how often it is compared for equality (list look-ups compare
    with every element; set and dict look-ups only with a hash match)."""

    comparisons = 0

    def __eq__(self, other):  # noqa: D105
        type(self).comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_check_counts_is_linear_in_the_number_of_units():
    def comparisons(n: int) -> int:
        units = [Unit(_Id(f"u{i}"), f"Unit {i}") for i in range(n)]
        counts = {u.unit_id: UnitCounts({"HTTNV": 1}) for u in units}
        fig = MeetingFigures(1, 0, 1, 1)
        _Id.comparisons = 0
        check_counts(QD366_LEVELS, RuleProfile(), units, counts, fig)
        return _Id.comparisons

    small, large = comparisons(500), comparisons(4000)
    # quadratic (a list look-up per unit) would make 8 times the units cost 64 times the
    # comparisons (about 8 million at 4000); linear stays within a small multiple of n
    assert large <= 4 * 4000, (small, large)
    assert large <= 10 * max(small, 1)


# -- 10. the threshold of a cumulative fallback -------------------------------------------------

def test_cumulative_fallback_uses_the_awarded_levels_own_threshold():
    """docs/counting.md, "Cumulative fallback": HTTNV needs at least 2/3 of N, the others more
    than 1/2. N = 30; HTXSNV 10, HTTNV 9, HTNV 11: no level passes alone. Cumulatively
    HTXSNV + HTTNV = 19 is more than 1/2 of N but less than HTTNV's own 2/3 (20), so HTTNV is
    not given; HTXSNV + HTTNV + HTNV = 30 > 15 gives HTNV."""
    rules = RuleProfile(cumulative=True, level_thresholds=(
        ("HTTNV", Threshold(Fraction(2, 3), "at_least")),))
    units = [Unit("u1", "Unit 1")]
    result = count(QD366_LEVELS, rules, units, {"u1": row(30, 10, 9, 11)}, figures(30))
    r = result.unit("u1")
    assert (r.level, r.cumulative) == ("HTNV", True)
    assert "HTNV: 30/30 votes > 1/2 N (cumulative: HTXSNV 10 + HTTNV 9 + HTNV 11)" in r.rule.en
    # one more HTTNV vote reaches 2/3: the cumulative total 20 then gives HTTNV
    again = count(QD366_LEVELS, rules, units, {"u1": row(30, 10, 10, 10)}, figures(30))
    assert again.unit("u1").level == "HTTNV"
    assert "HTTNV: 20/30 votes ≥ 2/3 N (cumulative: HTXSNV 10 + HTTNV 10)" in \
        again.unit("u1").rule.en
