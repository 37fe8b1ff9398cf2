import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from ballot.election.count_file import count_command, load_counts, run_count

from .test_manifest import make_manifest

DATA = Path(__file__).parent / "data"


def test_json_example_text():
    text, code = run_count(DATA / "branch.json")
    assert code == 0
    assert "Chi bộ Phòng Tổ chức" in text
    assert "Hoàn thành xuất sắc nhiệm vụ" in text and "Hoàn thành tốt nhiệm vụ" in text
    assert "N = 12" in text and "Quorum met: 11 present ≥ 2/3 × 12" in text
    assert re.search(r"│ 2 │ m02 │ Trần Thị Bình +│ 8 \(66\.7%\) │ +3 \(25\.0%\) │", text)
    assert "giảm do tỷ lệ" in text
    assert "disciplined during the year but rated HTNV" in text


def test_json_example_results():
    text, code = run_count(DATA / "branch.json", as_json=True)
    assert code == 0
    doc = json.loads(text)
    results = {u["unit_id"]: u for u in doc["result"]["units"]}
    assert (results["m01"]["level"], results["m01"]["outcome"]) == ("HTXSNV", "passed")
    assert (results["m02"]["level"], results["m02"]["outcome"]) == ("HTTNV", "cut_by_quota")
    assert results["m02"]["voted_level"] == "HTXSNV"
    assert (results["m05"]["level"], results["m05"]["outcome"]) == (None, "no_majority")
    assert results["m04"]["counts"] == {"votes": {"HTNV": 3, "HTTNV": 7}, "abstain": 1, "blank": 0}
    assert results["m01"]["shares"]["HTXSNV"] == "3/4"
    assert [f["code"] for f in results["m08"]["flags"]] == ["disciplined_above_lowest"]
    assert doc["result"]["quota"][0]["x_max"] == 1 and doc["result"]["base"] == 12


def test_csv_example():
    text, code = run_count(DATA / "committee.csv", as_json=True)
    assert code == 0, text
    doc = json.loads(text)
    results = {u["unit_id"]: u for u in doc["result"]["units"]}
    assert [results[u]["outcome"] for u in ("d01", "d02")] == ["quota_tie", "quota_tie"]
    assert (results["d05"]["level"], results["d05"]["cumulative"]) == ("HTTNV", True)
    assert (results["d08"]["level"], results["d08"]["outcome"]) == ("HTTNV", "cut_by_quota")
    assert results["d09"]["counts"] == {"votes": {"HTXSNV": 0, "HTNV": 0, "HTTNV": 11,
                                                  "KHTNV": 0}, "abstain": 2, "blank": 0}
    groups = {g["group"]: g for g in doc["result"]["quota"]}
    assert groups["xa_phuong"]["tied"] == ["d01", "d02"] and groups["co_quan"]["x_max"] == 0
    text, code = run_count(DATA / "committee.csv")
    assert code == 0 and "Đảng bộ xã Hải Yên" in text and "cộng dồn" in text


def test_broken_example_names_line_and_column():
    text, code = run_count(DATA / "broken.csv")
    assert code == 1
    assert "line 8 (m02), column HTTNV: expected a whole number ≥ 0, got 'six'" in text


def test_click_command():
    runner = CliRunner()
    ok = runner.invoke(count_command, [str(DATA / "branch.json")])
    assert ok.exit_code == 0 and "KẾT QUẢ KIỂM PHIẾU" in ok.output
    js = runner.invoke(count_command, ["--json", str(DATA / "committee.csv")])
    assert js.exit_code == 0 and json.loads(js.output)["result"]["base"] == 14
    bad = runner.invoke(count_command, [str(DATA / "broken.csv")])
    assert bad.exit_code == 1 and "column HTTNV" in bad.output
    missing = runner.invoke(count_command, [str(DATA / "nope.json")])
    assert missing.exit_code == 1 and "cannot read" in missing.output


def _json_doc() -> dict:
    return json.loads((DATA / "branch.json").read_text("utf-8"))


def _write(tmp_path, name, content) -> Path:
    p = tmp_path / name
    if isinstance(content, dict):
        content = json.dumps(content, ensure_ascii=False)
    p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return p


def _edit(doc, fn):
    fn(doc)
    return doc


@pytest.mark.parametrize("edit,message", [
    (lambda d: d.update(extra=1), "extra: unknown key"),
    (lambda d: d.update(format="ballot/counts/v0"), "format: expected 'ballot/counts/v1'"),
    (lambda d: d.pop("preset"), "preset: missing (give a preset, or both levels and rules)"),
    (lambda d: d.update(preset="qd124"), "preset: unknown preset 'qd124'"),
    (lambda d: d["units"][2].update(score=120), r"units[2].score: must be at most 100"),
    (lambda d: d["units"][2].update(colour="red"), r"units[2].colour: unknown key"),
    (lambda d: d["figures"].pop("present"), "figures.present: missing"),
    (lambda d: d["figures"].update(present=13), "figures.present: 13 exceeds convened − excluded = 12"),
    (lambda d: d["counts"]["m03"]["votes"].update(HTTNV=11), "counts.m03.votes: 12 level votes + 0 abstain exceed the 11 valid ballots"),
    (lambda d: d["counts"]["m03"]["votes"].update(XS=0), "counts.m03.votes.XS: not a level"),
    (lambda d: d["counts"]["m03"].update(blank=3), "counts.m03: 11 level votes + 0 abstain + 3 blank = 14, but there are 11 valid ballots"),
    (lambda d: d["counts"]["m03"]["votes"].update(HTNV=-1), "counts.m03.votes.HTNV: expected a count"),
    (lambda d: d["counts"].pop("m07"), "counts.m07: missing"),
    (lambda d: d["counts"].update(m99={"votes": {}}), "counts.m99: no such unit"),
    (lambda d: d["counts"]["m01"].update(votes=[9, 2]), "counts.m01.votes: expected an object"),
    (lambda d: d.update(rules={"base": "all"}), "rules.base: expected one of"),
])
def test_broken_json_files(tmp_path, edit, message):
    path = _write(tmp_path, "counts.json", _edit(_json_doc(), edit))
    text, code = run_count(path)
    assert code == 1
    assert message in text


def test_json_syntax_and_floats(tmp_path):
    text, code = run_count(_write(tmp_path, "a.json", '{"format": '))
    assert code == 1 and "not valid JSON" in text
    text, code = run_count(_write(tmp_path, "b.json", '{"format": 1.5}'))
    assert code == 1 and "floats are not allowed" in text
    text, code = run_count(_write(tmp_path, "c.csv", b"\xff\xfe"))
    assert code == 1 and "not UTF-8" in text


def test_json_with_rules_override(tmp_path):
    doc = _json_doc()
    doc["rules"] = {"cumulative": True, "quota": None}
    loaded = load_counts(_write(tmp_path, "c.json", doc))
    result = loaded.count()
    assert result.quota == () and result.unit("m05").level == "HTTNV"  # 4 + 4 > 6


def test_json_with_levels_and_rules(tmp_path):
    doc = _json_doc()
    doc.pop("preset")
    doc["levels"] = [{"code": c, "name_vi": c, "name_en": c}
                     for c in ("HTXSNV", "HTTNV", "HTNV", "KHTNV")]
    doc["rules"] = {}
    assert load_counts(_write(tmp_path, "c.json", doc)).count().quota == ()


def test_json_with_a_manifest(tmp_path):
    m = make_manifest()
    doc = {"format": "ballot/counts/v1", "manifest": m.to_json(),
           "figures": {"convened": 3, "excluded": 1, "present": 2, "ballots_valid": 2},
           "counts": {u.unit_id: {"votes": {"HTTNV": 2}} for u in m.units}}
    text, code = run_count(_write(tmp_path, "m.json", doc))
    assert code == 0 and "Xếp loại đảng viên 2025" in text
    doc["figures"]["convened"] = 4
    doc["figures"]["excluded"] = 2
    text, code = run_count(_write(tmp_path, "m.json", doc))
    assert code == 1 and "figures.convened: 4, but the roll has 3" in text
    doc["units"] = []
    text, code = run_count(_write(tmp_path, "m.json", doc))
    assert code == 1 and "units: not allowed with 'manifest'" in text
    doc.pop("units")
    doc["manifest"]["title"] = ""
    text, code = run_count(_write(tmp_path, "m.json", doc))
    assert code == 1 and "manifest.title: must not be empty" in text


CSV_HEAD = """# preset: branch_qd366
# convened: 10
# excluded: 0
# present: 9
# ballots_valid: 9
"""


@pytest.mark.parametrize("content,message", [
    ("# preset: branch_qd366\n# convened: 10\n# present: 9\n# ballots_valid: 9\n"
     "unit_id;name;HTXSNV;HTTNV;HTNV;KHTNV\nm01;A;0;9;0;0\n",
     "excluded: missing header line '# excluded: NUMBER'"),
    ("# convened: 10\n# excluded: 0\n# present: 9\n# ballots_valid: 9\n"
     "unit_id;name;HTXSNV;HTTNV;HTNV;KHTNV\nm01;A;0;9;0;0\n", "preset: missing header line"),
    ("# preset: branch_qd366\n# colour: red\n", "line 2: unknown header key 'colour'"),
    ("# preset: branch_qd366\n# convened: ten\n", "line 2 (convened): expected a whole number"),
    ("# preset: branch_qd366\n# present: 9\n# present: 8\n", "line 3: 'present' given twice"),
    (CSV_HEAD, "no table"),
    (CSV_HEAD + "unit_id;name;HTXSNV;HTTNV;HTNV\n", "line 6: missing column 'KHTNV'"),
    (CSV_HEAD + "unit_id;name;HTXSNV;HTTNV;HTNV;KHTNV;XS\n", "line 6: unknown column 'XS'"),
    (CSV_HEAD + "unit_id;name;HTXSNV;HTTNV;HTNV;KHTNV\n", "line 6: the table has no rows"),
    (CSV_HEAD + "unit_id;name;HTXSNV;HTTNV;HTNV;KHTNV\nm01;A;0;9;0\n",
     "line 7: 5 fields, expected 6"),
    (CSV_HEAD + "unit_id;name;HTXSNV;HTTNV;HTNV;KHTNV\nm01;A;0;9;0;1\n",
     "line 7 (m01).votes: 10 level votes + 0 abstain exceed the 9 valid ballots"),
    (CSV_HEAD + "unit_id;name;HTXSNV;HTTNV;HTNV;KHTNV\nm01;A;0;9;0;0\nm01;B;0;9;0;0\n",
     "line 8 (m01): unit_id appears twice"),
    (CSV_HEAD + "unit_id;name;HTXSNV;HTTNV;HTNV;KHTNV\nm 1;A;0;9;0;0\n",
     "line 7 (m 1): unit_id: expected an identifier"),
    (CSV_HEAD + "unit_id;name;score;HTXSNV;HTTNV;HTNV;KHTNV\nm1;A;101;0;9;0;0\n",
     "line 7 (m1): score: must be at most 100"),
    (CSV_HEAD.replace("present: 9", "present: 11"), "figures.present: 11 exceeds"),
    ("# preset: branch_qd366\n# base: everyone\n" + CSV_HEAD[23:], "line 2 (base): expected one of"),
    ("# preset: branch_qd366\n# quorum: 0.5\n" + CSV_HEAD[23:], "line 2 (quorum): expected a fraction"),
    ("# preset: criteria_grades\n# quota_ratio: 1/4\n" + CSV_HEAD[23:], "line 2 (quota_ratio): this preset has no quota"),
    ("# preset: branch_qd366\n# cumulative: maybe\n" + CSV_HEAD[23:], "line 2 (cumulative): expected yes or no"),
])
def test_broken_csv_files(tmp_path, content, message):
    text, code = run_count(_write(tmp_path, "counts.csv", content))
    assert code == 1
    assert message in text


def test_csv_options_and_comma_delimiter(tmp_path):
    content = ("\ufeff# preset: branch_qd366\n# a plain comment line\n# convened: 12\n"
               "# excluded: 1\n# present: 9\n# ballots_valid: 9\n# base: present\n"
               "# top_two_thirds: yes\n# quota_ratio: 1/4\n# quorum: 1/2\n"
               "unit_id,name,group,score,HTXSNV,HTTNV,HTNV,KHTNV,abstain\n"
               "m01,\"Nguyễn, Văn An\",a,90,6,3,0,0,0\n\n# a comment row\n"
               "m02,B,a,,5,4,0,0,0\n"
               + "".join(f"m{i:02d},C{i},a,,0,5,0,0,4\n" for i in range(3, 7)))
    loaded = load_counts(_write(tmp_path, "counts.csv", content))
    r = loaded.rules
    assert (r.base, r.quorum, r.quota.ratio) == ("present", Fraction(1, 2), Fraction(1, 4))
    assert r.threshold_for("HTXSNV").describe() == "≥ 2/3 N"
    assert r.threshold_for("HTTNV").describe() == "> 1/2 N"
    assert (loaded.units[0].name, loaded.units[0].score, loaded.units[0].group) == (
        "Nguyễn, Văn An", 90, "a")
    result = loaded.count()
    assert result.base == 9 and result.quorum.met  # 9 ≥ 1/2 × 11
    assert result.unit("m01").level == "HTXSNV"  # 6 ≥ 2/3 × 9; n = 5 → ⌊5/5⌋ = 1 place
    assert result.unit("m02").level is None  # 5 < 6 and 4 ≤ 4.5
    assert result.unit("m03").counts.abstain == 4
    assert result.quota[0].x_max == 1
