"""The browser's verifier (js/src/verifier) agrees with `ballot verify` (issue 15).

The same JavaScript modules the verifier page bundles run here under Node, on the honest
records of the test suite (a first round, a second round with its first) and on more than 30
tampered records — the tampering of tests/tally/test_verify.py and test_verify_link.py, replayed,
and more — and must give the same verdict and name the same first failing check as the Python
verifier; on honest records the very same checklist lines and results table.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from tally import test_verify as tv
from tally import test_verify_link as tvl
from tally.test_verify import demo  # noqa: F401 — the module's demo record fixture
from tally.test_verify_link import rounds  # noqa: F401 — a first round and its second round

from ballot.crypto.encoding import b64decode, b64encode, canonical_json
from ballot.tally.record import load_record
from ballot.tally.report import checklist, results_table
from ballot.tally.verify import verify_record
from ballot.tally.verify_link import verify_link

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None or not (JS / "node_modules" / "libsodium-wrappers-sumo").is_dir(),
    reason="needs Node and js/node_modules (npm ci --prefix js)")


def start_js(jobs: list[dict], tmp_path: Path) -> subprocess.Popen:
    """Node runs the jobs while Python verifies the same records (two cores)."""
    spec = tmp_path / "jobs.json"
    spec.write_text(json.dumps(jobs))
    return subprocess.Popen([NODE, "test/verifier-run.mjs", "--jobs", str(spec)], cwd=JS,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def js_results(proc: subprocess.Popen) -> list[dict]:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return json.loads(out)


def python_cli_report(rec: dict, first: Path | None = None):
    """What `ballot verify RECORD [--first-round FIRST]` computes (ballot/cli.py)."""
    report = verify_record(rec, workers=1)
    if first is not None:
        rec1 = load_record(first)
        report.checks.extend(verify_link(rec, rec1, first.read_bytes()).checks)
        report1 = verify_record(rec1, workers=1)
        f1 = report1.first_failure
        report.add("first_round_record", "First-round record verifies", report1.ok,
                   f"all {len(report1.checks)} checks passed" if report1.ok else
                   f"first failing check: {f1.title}: {f1.detail}" if f1 else "no check run")
    return report


# -- tampered records --------------------------------------------------------------------------

def _from_test_verify(record: dict) -> list[tuple[str, dict]]:
    """Replay every tampering test of tests/tally/test_verify.py that ends in failing(record),
    capturing the tampered record instead of only its verdict."""
    out = []
    for name, fn in inspect.getmembers(tv, inspect.isfunction):
        if not name.startswith("test_") or list(inspect.signature(fn).parameters) != ["record"]:
            continue
        if "failing(" not in inspect.getsource(fn):
            continue
        rec = copy.deepcopy(record)
        seen = []
        real = tv.failing
        tv.failing = lambda r, _seen=seen, _real=real: (_seen.append(copy.deepcopy(r)), _real(r))[1]
        try:
            fn(rec)
        finally:
            tv.failing = real
        assert seen, name
        out.append((name, seen[0]))
    return out


def _flip(text: str, i: int) -> str:
    raw = bytearray(b64decode(text))
    raw[i] ^= 1
    return b64encode(bytes(raw))


def _more(record: dict) -> list[tuple[str, dict]]:
    """More tampering, one field of the record at a time (and two honest variants)."""
    def t(fn):
        rec = copy.deepcopy(record)
        fn(rec)
        return rec

    def swap_aggregate(r):
        r["aggregate"][0], r["aggregate"][1] = r["aggregate"][1], r["aggregate"][0]

    def electronic_blank(r):
        c = r["electronic_counts"][0]
        c["blank"], c["abstain"] = c["blank"] + 1, c["abstain"] - 1

    cases = {
        "title_changed": lambda r: r["manifest"].__setitem__("title", r["manifest"]["title"] + " (sửa)"),
        "manifest_unknown_key": lambda r: r["manifest"].__setitem__("extra", 1),
        "manifest_bad_date": lambda r: r["manifest"].__setitem__("date", "2025-02-30"),
        "manifest_level_code_reserved": lambda r: r["manifest"]["levels"][0].__setitem__("code", "votes"),
        "manifest_unit_twice": lambda r: r["manifest"]["units"].append(copy.deepcopy(r["manifest"]["units"][0])),
        "roll_member_added": lambda r: r["manifest"]["roll"].append(
            {"roll_id": "ZZ99", "name": "Người mới", "status": "official", "reason": None}),
        "context_radix": lambda r: r["context"].__setitem__("radix", r["context"]["radix"] + 1),
        "context_joint_key": lambda r: r["context"].__setitem__(
            "joint_public_key", r["context"]["trustees"][0]["commitments"][0]),
        "context_extra_field": lambda r: r["context"].__setitem__("extra", 1),
        "context_trustees_swapped": lambda r: r["context"]["trustees"].reverse(),
        "base_hash_upper": lambda r: r.__setitem__("base_hash", r["base_hash"].upper()),
        "issuance_unsorted": lambda r: r["issuance_log"].reverse(),
        "board_not_a_list": lambda r: r.__setitem__("board", {}),
        "board_entry_extra_field": lambda r: r["board"][1].__setitem__("accepted_at", "x"),
        "board_prev_hash": lambda r: r["board"][2].__setitem__("prev_hash", "11" * 32),
        "board_entry_hash": lambda r: r["board"][3].__setitem__("entry_hash", "22" * 32),
        "ballot_signature": lambda r: r["board"][0]["ballot"].__setitem__(
            "signature", _flip(r["board"][0]["ballot"]["signature"], 5)),
        "ballot_token_signature": lambda r: r["board"][1]["ballot"]["token"].__setitem__(
            "signature", _flip(r["board"][1]["ballot"]["token"]["signature"], 7)),
        "ballot_election": lambda r: r["board"][2]["ballot"].__setitem__("election", "ab" * 32),
        "ballot_unit_dropped": lambda r: r["board"][0]["ballot"]["units"].pop(),
        "aggregate_swapped": swap_aggregate,
        "decryption_unknown_trustee": lambda r: r["decryptions"][0].__setitem__("trustee", 9),
        "decryption_twice": lambda r: r["decryptions"].append(copy.deepcopy(r["decryptions"][0])),
        "decryption_not_a_list": lambda r: r.__setitem__("decryptions", {}),
        "electronic_blank": electronic_blank,
        "electronic_wrong_unit": lambda r: r["electronic_counts"][0].__setitem__("unit_id", "nobody"),
        "counts_missing_unit": lambda r: r["counts"].pop(),
        "paper_malformed": lambda r: r.__setitem__("paper", {"ballots_valid": 1}),
        "figures_extra_field": lambda r: r["figures"].__setitem__("extra", 0),
        "figures_missing_field": lambda r: r["figures"].pop("present"),
        "figures_present": lambda r: r["figures"].__setitem__("present", r["figures"]["present"] - 2),
        "results_rule_text": lambda r: r["results"]["units"][0]["rule"].__setitem__("vi", "khác"),
        "results_base_text": lambda r: r["results"]["base_text"].__setitem__("en", "N = ?"),
        "results_share": lambda r: r["results"]["units"][1]["shares"].__setitem__(
            r["manifest"]["levels"][0]["code"], "1/1"),
        "results_quota_dropped": lambda r: r["results"].__setitem__("quota", []),
        "results_not_an_object": lambda r: r.__setitem__("results", []),
        # Honest variants: the receipt key is not checked by §12, and a manifest written with
        # its defaults left out has the same normalised bytes (Manifest.to_json) and hash.
        "honest_receipt_key_changed": lambda r: r.__setitem__("receipt_key", b64encode(bytes(32))),
        "honest_level_short_left_out": lambda r: [lv.pop("short") for lv in r["manifest"]["levels"]
                                                   if lv["short"] == lv["code"]],
    }
    return [(name, t(fn)) for name, fn in cases.items()]


def test_the_js_verifier_agrees_on_honest_and_tampered_records(demo, rounds, tmp_path):  # noqa: F811
    record = load_record(demo)
    path1, path2 = rounds
    tampered = _from_test_verify(record) + _more(record)
    jobs, names, records = [], [], []
    for name, rec in [("honest_demo", record)] + tampered:
        path = tmp_path / f"{name}.json"
        path.write_bytes(canonical_json(rec))
        jobs.append({"record": str(path)})
        records.append((rec, None))
        names.append(name)
    for name, path, first in (("honest_first_round", path1, None),
                              ("honest_second_round", path2, None),
                              ("honest_second_round_with_first", path2, path1)):
        jobs.append({"record": str(path), **({"first": str(first)} if first else {})})
        records.append((load_record(path), first))
        names.append(name)
    proc = start_js(jobs, tmp_path)
    expected = [python_cli_report(rec, first) for rec, first in records]
    got = js_results(proc)

    tampered_count = 0
    for name, py, js in zip(names, expected, got):
        assert "error" not in js, (name, js)
        first = py.first_failure.key if py.first_failure else None
        assert (js["ok"], js["first_failure"]) == (py.ok, first), name
        if py.ok:
            assert js["checklist"] == checklist(py), name
        else:
            tampered_count += 1
            # the failing line names the same check with the same title
            assert f"first failing check: {py.first_failure.title}" in js["checklist"], name
    assert tampered_count >= 30
    honest = [n for n, py in zip(names, expected) if py.ok]
    assert {"honest_demo", "honest_first_round", "honest_second_round_with_first",
            "honest_receipt_key_changed", "honest_level_short_left_out"} <= set(honest)
    for name, js in zip(names, got):
        if name.startswith("honest_") and "second_round" not in name:
            own = name.startswith(("honest_demo", "honest_receipt", "honest_level"))
            rec = load_record(tmp_path / f"{name}.json") if own else load_record(path1)
            assert js["table"] == results_table(rec), name


def _link_cases(rec2: dict, rec1: dict, data1: bytes) -> list[tuple[str, dict, bytes]]:
    """The tampering of tests/tally/test_verify_link.py that a pair of files can carry."""
    out = []

    def case(name, fn, first=None):
        r2 = copy.deepcopy(rec2)
        d1 = fn(r2) or data1
        out.append((name, r2, d1))

    case("a_different_k", lambda r: r["manifest"]["ballot_b"]["ballots"][0].__setitem__("k", 3))
    case("a_different_group", lambda r: r["manifest"]["ballot_b"]["ballots"][0].__setitem__("group", "khác"))

    def drop_candidate(r):
        r["manifest"]["units"].pop()
        r["manifest"]["ballot_b"]["ballots"][0]["candidates"].pop()
        r["manifest"]["ballot_b"]["ballots"][0]["k"] = 2
    case("different_candidates", drop_candidate)

    def more_ballots(r):
        r1 = copy.deepcopy(rec1)
        r1["results"]["second_round"].append({"group": "khác", "candidates": ["M05"], "k": 1})
        d1 = canonical_json(r1)
        r["manifest"]["ballot_b"]["first_round"]["record_sha256"] = hashlib.sha256(d1).hexdigest()
        return d1
    case("a_different_number_of_ballots", more_ballots)
    case("a_different_base", lambda r: r["manifest"]["ballot_b"].__setitem__("base", 11))
    case("a_different_name", lambda r: r["manifest"]["units"][1].__setitem__("name", "Người khác"))
    case("a_different_manifest_hash",
         lambda r: r["manifest"]["ballot_b"]["first_round"].__setitem__("manifest_hash", "ab" * 32))

    def altered_first(r):
        d = bytearray(data1)
        i = d.index(b'"base_hash":"') + len(b'"base_hash":"')
        d[i] = ord("0") if d[i] != ord("0") else ord("1")
        return bytes(d)
    case("a_first_record_with_one_byte_changed", altered_first)
    return out


def test_the_js_link_checks_agree(rounds, tmp_path):  # noqa: F811
    path1, path2 = rounds
    rec2, rec1, data1 = load_record(path2), load_record(path1), path1.read_bytes()
    cases = [("right_pair", copy.deepcopy(rec2), data1)] + _link_cases(rec2, rec1, data1)
    jobs, expected = [], []
    for name, r2, d1 in cases:
        p2, p1 = tmp_path / f"{name}.2.json", tmp_path / f"{name}.1.json"
        p2.write_bytes(canonical_json(r2))
        p1.write_bytes(d1)
        jobs.append({"link": str(p2), "first": str(p1)})
        expected.append(verify_link(r2, json.loads(d1), d1))
    for (name, _, _), py, js in zip(cases, expected, js_results(start_js(jobs, tmp_path))):
        first = py.first_failure.key if py.first_failure else None
        assert (js["ok"], js["first_failure"]) == (py.ok, first), name
        assert js["checklist"] == checklist(py), name
    assert len(cases) >= 9 and inspect.getsource(tvl).count("def test_a") >= 6


def test_every_python_check_has_its_js_twin_with_the_same_title():
    """When a check is added to ballot/tally/verify.py or verify_link.py, the browser's verifier
    must get the same check (js/src/verifier/checks.js STEPS or link.js): this names the ones
    missing, before any record is compared."""
    import re

    pattern = re.compile(r"""(?:need|must|add)\(\s*[^"]*?"(\w+)",\s*(?:"([^"]+)"|(\w+))""", re.DOTALL)
    js = "".join((JS / "src" / "verifier" / name).read_text(encoding="utf-8")
                 for name in ("checks.js", "link.js", "index.js", "page.js"))
    missing = []
    for name in ("verify.py", "verify_link.py"):
        text = (ROOT / "ballot" / "tally" / name).read_text(encoding="utf-8")
        titles = dict(re.findall(r'^(\w+) = "([^"]+)"$', text, re.MULTILINE))  # title = "…" variables
        for key, title, var in pattern.findall(text):
            title = title or titles.get(var, "")
            if f'"{key}"' not in js and f"{key}:" not in js:
                missing.append(f"{name}: check id {key!r}")
            elif title and title not in js:
                missing.append(f"{name}: title {title!r} of {key!r}")
    assert not missing, missing
