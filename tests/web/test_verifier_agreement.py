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
import unicodedata
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

from tests.service.test_meeting_flow import server  # noqa: F401 — a live meeting (paper, empty board)

from ballot.crypto.encoding import b64decode, b64encode, canonical_json, parse_json
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


def python_cli_report(rec: dict, first: Path | None = None, data: bytes | None = None):
    """What `ballot verify RECORD [--first-round FIRST]` computes (ballot/cli.py): ``data``, the
    record file's bytes (checked to be its canonical JSON)."""
    report = verify_record(rec, workers=1, data=canonical_json(rec) if data is None else data)
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
        # Names in Unicode NFC, one line of printable text; heads only of a collective; the
        # quota's base one of its two kinds (ballot/election/_fields.py, units.py, rules.py).
        "unit_name_not_nfc": lambda r: r["manifest"]["units"][0].__setitem__(
            "name", unicodedata.normalize("NFD", "Nguyễn Văn Ân")),
        "roll_name_control_character": lambda r: r["manifest"]["roll"][0].__setitem__("name", "An\u2028B"),
        "level_name_tab": lambda r: r["manifest"]["levels"][0].__setitem__("name_vi", "Hoàn\tthành"),
        "unit_head_without_collective": lambda r: r["manifest"]["units"][0].__setitem__("head", True),
        "unit_head_null": lambda r: r["manifest"]["units"][0].__setitem__("head", None),
        "quota_base_unknown": lambda r: r["manifest"]["rules"]["quota"].__setitem__("base", "all")
        if r["manifest"]["rules"]["quota"] else r["manifest"]["rules"].__setitem__("base", "all"),
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
        # A version-2 record's receipt key is the manifest's (bound in the fingerprint).
        "receipt_key_changed": lambda r: r.__setitem__("receipt_key", b64encode(bytes(32))),
        # Honest variant: a manifest written with its defaults left out has the same
        # normalised bytes (Manifest.to_json) and hash.
        "honest_level_short_left_out": lambda r: [lv.pop("short") for lv in r["manifest"]["levels"]
                                                   if lv["short"] == lv["code"]],
    }
    return [(name, t(fn)) for name, fn in cases.items()]


def _rehash_audit(entries: list[dict]) -> None:
    """Re-chain audit entries after an edit, as an operator rewriting the log would."""
    from ballot.tally.close import audit_entry_hash

    prev = entries[0]["prev_hash"]
    for e in entries:
        e["prev_hash"] = prev
        e["entry_hash"] = prev = audit_entry_hash(e)


def _v2(record: dict) -> list[tuple[str, dict]]:
    """Tampering of what record version 2 adds: the format, the receipt key, the trustees'
    approvals, the tokens set aside, the close and the audit order."""
    assert record["version"] == "ballot/v2/record"

    def t(fn):
        rec = copy.deepcopy(record)
        fn(rec)
        return rec

    def close_late(r):  # a decryption entered before the close, the log re-chained
        a = r["audit"]
        a[0], a[1] = a[1], a[0]
        a[0]["seq"], a[1]["seq"] = a[1]["seq"], a[0]["seq"]
        _rehash_audit(a)

    def decryption_before_close(r):  # the seqs say the decryption came first
        a = r["audit"]
        a[1]["seq"] = a[0]["seq"] - 1
        _rehash_audit(a)

    def audit_other_action(r):
        r["audit"].append({**copy.deepcopy(r["audit"][-1]), "action": "note",
                           "seq": r["audit"][-1]["seq"] + 1})
        _rehash_audit(r["audit"])

    def audit_dropped_decryption(r):
        r["audit"].pop()

    def audit_paper_entry(r):
        r["audit"].insert(1, {**copy.deepcopy(r["audit"][1]), "action": "paper_counts",
                              "actor": "committee", "detail": {"counts_sha256": "00" * 32}})
        for i, e in enumerate(r["audit"]):
            e["seq"] = r["audit"][0]["seq"] + i
        _rehash_audit(r["audit"])

    cases = {
        "format_decryptions_unsorted": lambda r: r["decryptions"].reverse(),
        "receipt_key_in_manifest_changed": lambda r: r["manifest"].__setitem__(
            "receipt_key", b64encode(bytes(32))),
        "approvals_not_a_list": lambda r: r.__setitem__("approvals", {}),
        "approval_dropped": lambda r: r["approvals"].pop(),
        "approvals_reordered": lambda r: r["approvals"].reverse(),
        "approval_twice": lambda r: r["approvals"].__setitem__(1, copy.deepcopy(r["approvals"][0])),
        "approval_signature": lambda r: r["approvals"][0].__setitem__(
            "signature", _flip(r["approvals"][0]["signature"], 3)),
        "approval_other_fingerprint": lambda r: r["approvals"][0].__setitem__("base_hash", "ab" * 32),
        "approval_extra_field": lambda r: r["approvals"][0].__setitem__("at", "now"),
        "approval_trustee_zero": lambda r: r["approvals"][0].__setitem__("trustee", 0),
        "paper_instead_stranger": lambda r: r.__setitem__("paper_instead", ["ZZ99"]),
        "paper_instead_not_a_list": lambda r: r.__setitem__("paper_instead", "DV001"),
        "paper_instead_unsorted": lambda r: r.__setitem__("paper_instead", sorted(r["issuance_log"][:2])[::-1]),
        "paper_instead_twice": lambda r: r.__setitem__("paper_instead", [r["issuance_log"][0]] * 2),
        "excess": lambda r: r.__setitem__("paper_instead", r["issuance_log"][:1]),
        "figures_convened": lambda r: r["figures"].__setitem__("convened", r["figures"]["convened"] + 1),
        "close_not_an_object": lambda r: r.__setitem__("close", []),
        "close_extra_field": lambda r: r["close"].__setitem__("extra", 0),
        "close_present": lambda r: r["close"].__setitem__("present", r["close"]["present"] - 1),
        "close_present_too_many": lambda r: r["close"].__setitem__("present", 99),
        "close_tokens": lambda r: r["close"].__setitem__("tokens", r["close"]["tokens"] + 1),
        "close_set_aside": lambda r: r["close"].__setitem__("set_aside", 1),
        "close_head": lambda r: r["close"]["board"].__setitem__("head", "11" * 32),
        "close_head_not_hex": lambda r: r["close"]["board"].__setitem__("head", "XY"),
        "close_ballots": lambda r: r["close"]["board"].__setitem__("ballots", 1),
        "close_paper": lambda r: r["close"]["paper"].__setitem__("voters", 1),
        "close_paper_negative": lambda r: r["close"]["paper"].__setitem__("voters", -1),
        "audit_empty": lambda r: r.__setitem__("audit", []),
        "audit_not_a_list": lambda r: r.__setitem__("audit", {}),
        "audit_entry_altered": lambda r: r["audit"][1].__setitem__("at", "2000-01-01T00:00:00Z"),
        "audit_entry_extra_field": lambda r: r["audit"][0].__setitem__("extra", 1),
        "audit_entry_seq_zero": lambda r: r["audit"][0].__setitem__("seq", 0),
        "audit_close_detail": lambda r: (r["audit"][0]["detail"].__setitem__("present", 1),
                                         _rehash_audit(r["audit"])),
        "audit_close_late": close_late,
        "audit_decryption_before_close": decryption_before_close,
        "audit_other_action": audit_other_action,
        "audit_dropped_decryption": audit_dropped_decryption,
        "audit_paper_entry_without_paper": audit_paper_entry,
        "audit_other_election": lambda r: (r["audit"][-1].__setitem__("election_id", 99),
                                           _rehash_audit(r["audit"])),
    }
    return [(name, t(fn)) for name, fn in cases.items()]


def test_the_js_verifier_agrees_on_honest_and_tampered_records(demo, rounds, tmp_path):  # noqa: F811
    record = load_record(demo)
    path1, path2 = rounds
    tampered = _from_test_verify(record) + _more(record) + _v2(record)
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
    assert tampered_count >= 100
    honest = [n for n, py in zip(names, expected) if py.ok]
    assert {"honest_demo", "honest_first_round", "honest_second_round_with_first",
            "honest_level_short_left_out"} <= set(honest)
    for name, js in zip(names, got):
        if name.startswith("honest_") and "second_round" not in name:
            own = name.startswith(("honest_demo", "honest_level"))
            rec = load_record(tmp_path / f"{name}.json") if own else load_record(path1)
            assert js["table"] == results_table(rec, lang="en"), name
            assert js["table_vi"] == results_table(rec, lang="vi"), name


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
                 for name in ("checks.js", "link.js", "index.js", "page.js", "close.js"))
    missing = []
    for name in ("verify.py", "verify_link.py", "verify_close.py"):
        text = (ROOT / "ballot" / "tally" / name).read_text(encoding="utf-8")
        # title = "…" variables, at any indentation
        titles = dict(re.findall(r'^\s*(\w+) = "([^"]+)"$', text, re.MULTILINE))
        for key, title, var in pattern.findall(text):
            title = title or titles.get(var, "")
            if f'"{key}"' not in js and f"{key}:" not in js:
                missing.append(f"{name}: check id {key!r}")
            elif title and title not in js:
                missing.append(f"{name}: title {title!r} of {key!r}")
    assert not missing, missing


V1 = ROOT / "tests" / "tally" / "data" / "record_v1.json"


def _run_files(cases: list[tuple[str, bytes, dict]], tmp_path: Path) -> list[dict]:
    jobs = []
    for name, data, extra in cases:
        path = tmp_path / f"{name}.json"
        path.write_bytes(data)
        jobs.append({"record": str(path), **extra})
    return js_results(start_js(jobs, tmp_path))


def test_the_js_verifier_agrees_on_version_1_records_and_the_record_format(demo, tmp_path):  # noqa: F811
    """A version-1 record (no close, no approvals, receipt key outside the manifest) verifies
    with the same lines; its tampering, a file that is not canonical JSON, and
    --require-approvals fail the same check in both."""
    v1 = V1.read_bytes()
    v2 = demo.read_bytes()
    rec1 = json.loads(v1)
    altered = copy.deepcopy(rec1)
    altered["figures"]["present"] -= 1
    cases = [
        ("honest_v1", v1, {}),
        ("v1_present_changed", canonical_json(altered), {}),
        ("v1_not_canonical", json.dumps(rec1, indent=1).encode(), {}),
        ("v1_require_approvals", v1, {"require_approvals": True}),
        ("v2_not_canonical", json.dumps(json.loads(v2), ensure_ascii=False).encode(), {}),
        ("honest_v2_require_approvals", v2, {"require_approvals": True}),
    ]
    got = _run_files(cases, tmp_path)
    for (name, data, extra), js in zip(cases, got):
        rec = json.loads(data)
        py = verify_record(rec, workers=1, data=data,
                           require_approvals=bool(extra.get("require_approvals")))
        first = py.first_failure.key if py.first_failure else None
        assert (js["ok"], js["first_failure"]) == (py.ok, first), name
        if py.ok:
            assert js["checklist"] == checklist(py), name
            assert js["table"] == results_table(rec, lang="en"), name
        else:
            assert f"first failing check: {py.first_failure.title}" in js["checklist"], name
    assert [g["ok"] for g in got] == [True, False, False, False, False, True]
    assert [g["first_failure"] for g in got[1:5]] == ["figures", "format", "approvals", "format"]


# -- board statuses ("Received, then checked", branch burst) ----------------------------------------

def test_the_js_verifier_recomputes_board_statuses(demo, tmp_path):  # noqa: F811
    """Board entries with a status (every entry or none): the verifier recomputes each; a
    ballot marked invalid whose proofs verify fails board_status; malformed statuses fail
    board. Records without statuses keep verifying (every test above)."""
    record = load_record(demo)
    honest = copy.deepcopy(record)
    for e in honest["board"]:
        e["status"] = "valid"

    def t(fn):
        rec = copy.deepcopy(honest)
        fn(rec)
        return canonical_json(rec)

    cases = [
        ("honest_statuses", canonical_json(honest), {}),
        ("valid_marked_invalid", t(lambda r: r["board"][2].update(status="invalid",
                                                                    reason="proof fails")), {}),
        ("status_on_one_entry_only", t(lambda r: [e.pop("status") for e in r["board"][1:]]), {}),
        ("status_unknown", t(lambda r: r["board"][0].__setitem__("status", "maybe")), {}),
        ("invalid_without_reason", t(lambda r: r["board"][0].__setitem__("status", "invalid")), {}),
        ("invalid_empty_reason", t(lambda r: r["board"][0].update(status="invalid", reason="")), {}),
        ("valid_with_reason", t(lambda r: r["board"][0].__setitem__("reason", "x")), {}),
    ]
    got = _run_files(cases, tmp_path)
    # Python's verifier reads statuses too (ballot/tally/verify.py): the same lines.
    py = verify_record(honest, workers=1, data=canonical_json(honest))
    assert py.ok
    assert got[0]["ok"], got[0]["checklist"]
    assert got[0]["checklist"] == checklist(py)
    for (name, data, _), g in zip(cases[1:], got[1:]):
        rec = parse_json(data)
        report = verify_record(rec, workers=1, data=data)
        assert (report.ok, report.first_failure.key) == (g["ok"], g["first_failure"]), name
    assert [(g["ok"], g["first_failure"]) for g in got[1:]] == [
        (False, "board_status"), (False, "board"), (False, "board"), (False, "board"),
        (False, "board"), (False, "board")]
    assert "board position 3 is marked invalid (proof fails), but its token, signature and " \
        "proofs verify" in got[1]["checklist"]


# -- paper, tokens set aside, an empty board (meetings run through the service) ----------------

def test_the_js_verifier_agrees_on_paper_and_empty_board_records(server, tmp_path):  # noqa: F811
    """A meeting with paper ballots (a paper counts audit entry) and an all-paper meeting (an
    empty board, no decryption), honest and tampered: same verdict, same first failing check,
    same lines when honest."""
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from adversary.record_support import recount, rehash_audit, tallied_meeting

    from ballot.tally.close import paper_counts_sha256

    meeting, base_url = server
    path, _, _ = tallied_meeting(meeting, base_url, voters=3, present=7,
                                 paper={"voters": 2, "ballots_issued": 2, "ballots_valid": 1,
                                        "ballots_invalid": 1})
    mixed = load_record(path)
    assert [a["action"] for a in mixed["audit"]][:2] == ["close", "paper_counts"]

    def t(rec, fn):
        rec = copy.deepcopy(rec)
        fn(rec)
        return rec

    def paper_counts_changed(r):  # counts changed, results recomputed: the audit entry differs
        r["paper"]["counts"][0]["votes"] = {"HTTNV": 1}
        c = r["counts"][0]
        c["votes"]["HTNV"] -= 1
        c["votes"]["HTTNV"] = c["votes"].get("HTTNV", 0) + 1
        recount(r)

    def paper_counts_forged_with_entry(r):  # ... and the entry rewritten to match: the chain
        paper_counts_changed(r)
        r["audit"][1]["detail"] = {"counts_sha256": paper_counts_sha256(r["paper"]["counts"])}
        rehash_audit(r)

    cases = [
        ("honest_paper", mixed),
        ("paper_issued_below_returned", t(mixed, lambda r: r["paper"].__setitem__("ballots_issued", 1))),
        ("paper_voters_below_issued", t(mixed, lambda r: r["paper"].__setitem__("voters", 1))),
        ("paper_level_unknown", t(mixed, lambda r: r["paper"]["counts"][0]["votes"].__setitem__("XX", 0))),
        ("paper_figures_not_the_close", t(mixed, lambda r: (r["paper"].__setitem__("ballots_invalid", 0),
                                                            r["figures"].__setitem__("ballots_invalid", 0)))),
        ("paper_counts_changed", t(mixed, paper_counts_changed)),
        ("paper_counts_entry_rewritten", t(mixed, paper_counts_forged_with_entry)),
        ("paper_counts_entry_dropped", t(mixed, lambda r: r["audit"].pop(1))),
        ("paper_instead_hidden_figures", t(mixed, lambda r: r.__setitem__("paper_instead", [r["issuance_log"][0]]))),
    ]
    jobs, expected = [], []
    for name, rec in cases:
        p = tmp_path / f"{name}.json"
        p.write_bytes(canonical_json(rec))
        jobs.append({"record": str(p)})
        expected.append((name, rec, verify_record(rec, workers=1, data=canonical_json(rec))))
    got = js_results(start_js(jobs, tmp_path))
    for (name, rec, py), js in zip(expected, got):
        assert "error" not in js, (name, js)
        first = py.first_failure.key if py.first_failure else None
        assert (js["ok"], js["first_failure"]) == (py.ok, first), name
        if py.ok:
            assert js["checklist"] == checklist(py), name
            assert js["table"] == results_table(rec, lang="en"), name
        else:
            assert f"first failing check: {py.first_failure.title}" in js["checklist"], name
    passing = [name for name, _, py in expected if py.ok]
    # A paper counts entry rewritten and re-hashed verifies from the record alone (both
    # verifiers): the record's audit entries are each hashed, not chained to one another;
    # the audit log's chain (`ballot audit verify --head`) is what shows the rewrite.
    assert passing == ["honest_paper", "paper_counts_entry_rewritten"], passing


def test_the_js_verifier_agrees_on_an_empty_board(server, tmp_path):  # noqa: F811
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from adversary.record_support import tallied_meeting

    meeting, base_url = server
    path, _, _ = tallied_meeting(meeting, base_url, voters=0, present=7, paper={
        "voters": 7, "ballots_issued": 7, "ballots_valid": 6, "ballots_invalid": 1})
    rec = load_record(path)
    assert rec["board"] == [] and rec["decryptions"] == []

    def t(fn):
        r = copy.deepcopy(rec)
        fn(r)
        return r

    def votes(r):
        r["electronic_counts"][0]["votes"] = {"HTXSNV": 1}
        r["counts"][0]["votes"]["HTXSNV"] = 1

    cases = [("honest_empty_board", rec),
             ("empty_board_with_a_decryption", t(lambda r: r["decryptions"].append({"trustee": 1, "units": []}))),
             ("empty_board_with_electronic_votes", t(votes)),
             ("empty_board_with_an_abstention", t(lambda r: r["electronic_counts"][0].__setitem__("abstain", 1)))]
    jobs = []
    for name, r in cases:
        p = tmp_path / f"{name}.json"
        p.write_bytes(canonical_json(r))
        jobs.append({"record": str(p)})
    got = js_results(start_js(jobs, tmp_path))
    for (name, r), js in zip(cases, got):
        py = verify_record(r, workers=1, data=canonical_json(r))
        first = py.first_failure.key if py.first_failure else None
        assert (js["ok"], js["first_failure"]) == (py.ok, first), name
        if py.ok:
            assert js["checklist"] == checklist(py), name
    assert got[0]["ok"] and not any(g["ok"] for g in got[1:])


def test_the_js_rules_agree_on_heads_and_the_quota_base(demo, tmp_path):  # noqa: F811
    """The election layer's newer rules, which no record of the suite carries: a unit heading
    its collective (only the head is bound by "not above the collective"; a manifest written
    before heads were marked binds every member), the quota counted with the excellent units
    in its base. Same results (and manifest hash) from count_manifest and the JS rules."""
    from ballot.election.counting import count_manifest
    from ballot.election.counts import MeetingFigures, UnitCounts
    from ballot.election.errors import CountError, ManifestError
    from ballot.election.manifest import Manifest

    rec = load_record(demo)
    base_m = rec["manifest"]
    units = base_m["units"]
    org = {"unit_id": "CB01", "name": "Chi bộ 1", "kind": "organisation", "group": None,
           "self_level": None, "proposed_level": None, "score": None, "collective": None,
           "disciplined": False, "outstanding": False}

    def manifest(head_of: dict | None, quota_base: str | None, disciplined: str | None = None):
        m = copy.deepcopy(base_m)
        m["units"].append(org)
        for u in m["units"]:
            if head_of is not None and u["unit_id"] in head_of:
                u["collective"] = "CB01"
                if head_of[u["unit_id"]] is not None:
                    u["head"] = head_of[u["unit_id"]]
            if u["unit_id"] == disciplined:
                u["disciplined"] = True
        if quota_base is not None:
            m["rules"]["quota"]["base"] = quota_base
        return m

    # Everyone rated top by the votes, the organisation lowest: heads are flagged.
    n = rec["figures"]["ballots_valid"]
    top = base_m["levels"][0]["code"]
    low = base_m["levels"][-1]["code"]
    counts = [{"unit_id": u["unit_id"], "votes": {top: n}, "abstain": 0, "blank": 0} for u in units]
    counts.append({"unit_id": "CB01", "votes": {low: n}, "abstain": 0, "blank": 0})
    ids = [u["unit_id"] for u in units]
    cases = {
        "one_head": manifest({ids[0]: True, ids[1]: False}, None),
        "old_manifest_no_head_key": manifest({ids[0]: None, ids[1]: None}, None),
        "against_and_above": manifest(None, "against_and_above"),
        "against_only_written": manifest(None, "against_only"),
        "head_and_quota_base": manifest({ids[2]: True}, "against_and_above", disciplined=ids[3]),
        "organisation_as_head": manifest(None, None) | {"units": base_m["units"] + [{**org, "head": True, "collective": None}]},
    }
    jobs = [{"count": {"manifest": m, "counts": counts, "figures": rec["figures"]}} for m in cases.values()]
    got = js_results(start_js(jobs, tmp_path))
    for (name, m), js in zip(cases.items(), got):
        f = rec["figures"]
        try:
            manifest_py = Manifest.from_json(m)
            figures = MeetingFigures(f["convened"], f["excluded"], f["present"], f["ballots_valid"],
                                     f["ballots_invalid"], f["ballots_issued"])
            py = count_manifest(manifest_py, {c["unit_id"]: UnitCounts(c["votes"], c["abstain"], c["blank"])
                                              for c in counts}, figures).to_json()
        except (ManifestError, CountError) as exc:
            assert js == {"error": str(exc)}, name
            continue
        assert "error" not in js, (name, js)
        assert js["manifest_hash"] == manifest_py.manifest_hash().hex(), name
        assert js["results"] == py, name
    assert "error" in got[-1] and all("error" not in g for g in got[:-1])
    # the cases tell the rules apart: heads flagged differently, the quota's formula differs
    assert got[0]["results"] != got[1]["results"] and got[2]["results"] != got[3]["results"]


def test_the_js_verifier_leaves_an_invalid_received_ballot_out(server, tmp_path):  # noqa: F811
    """Board statuses with a received ballot whose proofs fail (token and signature good): marked
    invalid it is left out of the aggregate and counted in ballots_invalid, and the record
    verifies; marked valid it fails "ballots" with "(marked valid)"; left out of the figures'
    invalid ballots it fails "figures". (The board entry is made as the burst branch's server
    writes it; the Python verifier of main reads statuses once that branch is merged.)"""
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from adversary.record_support import recount, rehash_audit

    from ballot.clients.http import Http
    from ballot.clients.voter import fetch_election, obtain_token, seal_unsigned, vote
    from ballot.crypto.ballots import body_hash
    from ballot.tally.board import entry_hash
    from tests.service.test_meeting_flow import MEMBERS, SLUG, open_with_one_trustee

    meeting, base_url = server
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    for rid, _ in MEMBERS[:3]:
        vote(http, SLUG, invitations[rid], [1] * len(MEMBERS), election)
    token, key = obtain_token(http, election, invitations[MEMBERS[3][0]])
    unsigned, _ = seal_unsigned(election, token, [0] * len(MEMBERS))
    body = unsigned.body_json()
    body["units"][0] = _flip(body["units"][0], 64)  # one proof scalar changed: the proof fails
    ballot = {**body, "signature": b64encode(key.sign(body_hash(body)).signature)}
    meeting.close_voting(SLUG, present=4, paper=None)
    device.decrypt(keys)
    record = load_record(meeting.finalize(SLUG))
    assert verify_record(record, workers=1).ok

    honest = copy.deepcopy(record)
    board = honest["board"]
    for e in board:
        e["status"] = "valid"
    position = len(board) + 1
    head = entry_hash(bytes.fromhex(board[-1]["entry_hash"]), position, body_hash(body)).hex()
    board.append({"position": position, "ballot": ballot, "prev_hash": board[-1]["entry_hash"],
                  "entry_hash": head, "status": "invalid",
                  "reason": "unit 1: the proof that it holds one allowed choice fails"})
    honest["figures"]["ballots_invalid"] += 1
    recount(honest)
    honest["close"]["board"] = {"ballots": position, "head": head}
    honest["audit"][0]["detail"] = copy.deepcopy(honest["close"])
    rehash_audit(honest)

    marked_valid = copy.deepcopy(honest)
    marked_valid["board"][-1]["status"] = "valid"
    del marked_valid["board"][-1]["reason"]
    marked_valid["figures"]["ballots_invalid"] -= 1
    not_in_figures = copy.deepcopy(honest)
    not_in_figures["figures"]["ballots_invalid"] -= 1
    cases = [("honest_with_an_invalid_ballot", canonical_json(honest), {}),
             ("invalid_marked_valid", canonical_json(marked_valid), {}),
             ("invalid_not_in_the_figures", canonical_json(not_in_figures), {})]
    got = _run_files(cases, tmp_path)
    assert got[0]["ok"], got[0]["checklist"]
    units = len(MEMBERS)
    assert (f"  [✓] Ballots (token, signature, proofs): 4 ballots received: 4 token signatures "
            f"and ballot signatures verified; 3 valid ({3 * units} proofs verified), 1 invalid"
            in got[0]["checklist"].split("\n"))
    assert ("  [✓] Ballot statuses re-checked: 4 statuses recomputed: 3 valid, 1 invalid (only "
            "valid ballots are counted)" in got[0]["checklist"].split("\n"))
    assert "  [✓] Board hash chain: 4 entries, head " in got[0]["checklist"]
    assert (got[1]["ok"], got[1]["first_failure"]) == (False, "ballots")
    assert "board position 4: unit 1: the proof that it holds one allowed choice fails (marked " \
        "valid)" in got[1]["checklist"]
    assert (got[2]["ok"], got[2]["first_failure"]) == (False, "figures")
