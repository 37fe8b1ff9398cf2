"""Smoke test of the benchmark suite (benchmarks/suite.py): its --quick configuration's Python
parts run end to end and produce the table and the JSON they promise.

Only the structure is checked, never a time: performance is measured by the suite, not
asserted by tests (DEVELOPERS.md). ElectionGuard (its own venv, minutes) and the browser step
are left out; the 10 x 10 record is generated into a temporary cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "benchmarks" / "suite.py"


def _is_runs(step: dict, runs: int) -> bool:
    return (step["runs"] == runs and len(step["wall_s"]) == runs and len(step["cpu_s"]) == runs
            and step["median_wall_s"] is not None)


def test_quick_suite_python_parts(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(SUITE), "--quick", "--no-eg", "--no-browser", "--json", str(out),
         "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text(encoding="utf-8"))

    cfg = r["config"]
    assert cfg["quick"] is True and (cfg["voters"], cfg["units"]) == (10, 10)
    assert (cfg["levels"], cfg["trustees"], cfg["threshold"]) == (4, 3, 2)
    for key in ("date", "cpu", "cores", "python", "pynacl", "load_start", "load_end"):
        assert key in r["machine"], key

    # the floor's unit costs: every libsodium group call measured on both clocks
    assert set(r["primitives"]) == {"var", "base", "add", "valid"}
    assert all(p["cpu_s"] > 0 and p["wall_s"] > 0 for p in r["primitives"].values())
    assert set(r["machine_factor"]) == {"var", "base", "add"}

    # 1 client and 2 server: timed runs, counted group calls, a floor for each
    py = r["client"]["python"]
    assert _is_runs(py, cfg["repeat"])
    assert py["ops"]["var"] > 0 and py["ops"]["base"] > 0 and py["floor_s"] > 0
    assert r["client"]["browser"] == {"skipped": "--no-browser"}
    for step in ("verify", "cast"):
        s = r["server"][step]
        assert _is_runs(s, cfg["repeat"]) and s["ops"]["var"] > 0 and s["floor_multiple"] > 0
    assert set(r["server"]["verify"]["parts"]) == {"decode", "token_and_signature", "proofs"}
    assert r["server"]["ballots_per_second_one_core"] > 0

    # 3 committee: every sub-step, warm and cold totals, the dlog table
    com = r["committee"]
    assert set(com["parts"]) == {"aggregate", "partial", "verify", "combine_dlog", "rules"}
    assert _is_runs(com["total"], cfg["committee_repeat"])
    assert _is_runs(com["total_one_process"], cfg["committee_repeat"])
    assert _is_runs(com["cold"], 2) and _is_runs(com["cold_one_process"], 2)
    assert com["ballots"] == 10 and com["units"] == 10 and len(com["trustees_present"]) == 2
    assert com["dlog_table"]["entries"] >= 1024 and com["parse_checked"]["cpu_s"] > 0
    assert com["cold_cpu_s"] == com["cold"]["median_cpu_s"] and com["workers"] >= 1

    # 4 observer: 1 and 2 workers; every check of the verifier passed on the record
    obs = r["observer"]
    assert _is_runs(obs["workers_1"], cfg["observer_repeat"])
    assert _is_runs(obs["workers_2"], cfg["observer_repeat"])
    assert obs["ballots"] == 10 and "ballots" in obs["checks"] and "results" in obs["checks"]
    assert obs["ops"]["var"] > 0 and obs["floor_s"] > 0

    # 5 sizes: a 10-unit ballot is 10 units of 384 bytes in base64url plus the token and keys
    sz = r["sizes"]
    assert sz["unit_bytes"] == 384 and sz["ballot_json_bytes"] > 10 * 512
    assert sz["board_ballots"] == 10 and sz["record_bytes"] > sz["parts_bytes"]["board"] > 0

    # 6 ElectionGuard left out; 7 every target has a verdict
    assert r["electionguard"] == {"skipped": "--no-eg"}
    ids = {t["id"] for t in r["targets"]}
    assert {"encrypt_python_floor", "encrypt_js", "verify_server_floor", "tally_3s",
            "verify_record_8s", "vs_electionguard", "tally_both_cores"} <= ids
    for t in r["targets"]:
        assert t["verdict"] in {"met", "MISSED", "n/a"} and t["measured"]

    # the printed table is the one saved in the JSON
    assert r["table"].strip() in proc.stdout
    for label in ("1 client", "2 server", "3 committee", "4 observer", "5 sizes",
                  "6 ElectionGuard: not run", "7 targets"):
        assert label in proc.stdout, label
