"""`ballot verify R2 --first-round R1`: round two's candidates, groups, K and base come from
round one's record (ballot/tally/verify_link.py)."""

from __future__ import annotations

import copy
import hashlib
import threading

import pytest
from click.testing import CliRunner
from waitress.server import create_server

from ballot.cli import main
from ballot.clients.voter import vote
from ballot.crypto.encoding import canonical_json
from ballot.demo import run_demo
from ballot.election.manifest import Manifest
from ballot.tally.record import load_record
from ballot.tally.verify_link import NotSecondRound, verify_link
from ballot.web import create_app
from service.test_meeting_flow import run_until_closed
from service.test_second_round import SLUG, first_round, open_round_two


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    """One finalized first round and its finalized second round: (path1, path2)."""
    tmp = tmp_path_factory.mktemp("rounds")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp / 'ballot.sqlite'}",
                      "KEYS_DIR": str(tmp / "keys"), "RECORDS_DIR": str(tmp / "records")})
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=run_until_closed, args=(srv,), daemon=True).start()
    try:
        meeting, base_url = app.extensions["ballot.meeting"], f"http://127.0.0.1:{srv.effective_port}"
        codes, invitations = first_round(meeting, base_url)
        slug2, devices, keys, http, election = open_round_two(meeting, base_url, codes)
        for rid, choices in (("M01", [0, 0, 1, 1]), ("M02", [0, 1, None, 1])):
            vote(http, slug2, invitations[rid], choices, election)
        meeting.close_voting(slug2)
        for i in (1, 2):
            devices[i].decrypt(keys[i])
        path2 = meeting.finalize(slug2)
        return meeting.record_path(SLUG), path2
    finally:
        srv.close()


@pytest.fixture()
def pair(rounds):
    """Fresh copies of (record2, record1, record1 bytes)."""
    path1, path2 = rounds
    return load_record(path2), load_record(path1), path1.read_bytes()


def run(*args):
    return CliRunner().invoke(main, ["verify", *map(str, args), "--workers", "1"])


def link_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "First-round" in line or "Second-round ballots"
            in line or "Base N" in line or "Candidates' names" in line]


def test_the_right_pair_passes(rounds):
    path1, path2 = rounds
    result = run(path2, "--first-round", path1)
    assert result.exit_code == 0, result.output
    assert "KẾT QUẢ: HỢP LỆ" in result.output
    for title in ("First-round record file (SHA-256)", "First-round manifest",
                  "Second-round ballots (groups, candidates, K)", "Base N of the first round",
                  "Candidates' names", "First-round record verifies"):
        assert f"[✓] {title}" in result.output, result.output
    assert f"«{SLUG}»" in result.output
    assert "at most 2" in result.output and "N = 12" in result.output
    # Round two alone still verifies as before, without the link lines.
    alone = run(path2)
    assert alone.exit_code == 0 and not link_lines(alone.output)


def test_the_link_function_passes_on_the_right_pair(pair):
    rec2, rec1, data1 = pair
    report = verify_link(rec2, rec1, data1)
    assert report.ok and [c.key for c in report.checks] == [
        "link_record_sha256", "link_manifest_hash", "link_ballots", "link_base", "link_names",
        "link_inherited"]


def test_a_first_record_with_one_byte_changed(rounds, tmp_path):
    path1, path2 = rounds
    data = bytearray(path1.read_bytes())
    i = data.index(b'"base_hash":"') + len(b'"base_hash":"')
    data[i] = ord("0") if data[i] != ord("0") else ord("1")  # still a valid record file
    altered = tmp_path / "r1.record.json"
    altered.write_bytes(bytes(data))
    result = run(path2, "--first-round", altered)
    assert result.exit_code == 1
    assert "[✗] First-round record file (SHA-256)" in result.output
    assert "first failing check: First-round record file (SHA-256)" in result.output
    assert "FAILED: First-round record file (SHA-256)" in result.stderr


def test_a_different_first_round(rounds, tmp_path):
    _, path2 = rounds
    other = run_demo(out=tmp_path / "demo", voters=4, units=2, trustees=2, threshold=2, seed=3,
                     say=lambda *_: None)
    result = run(path2, "--first-round", other.record)
    assert result.exit_code == 1
    assert "first failing check: First-round record file (SHA-256)" in result.output


def test_first_round_option_on_a_first_round_record(rounds):
    path1, _ = rounds
    result = run(path1, "--first-round", path1)
    assert result.exit_code != 0
    assert "is not a second-round election" in result.output
    with pytest.raises(NotSecondRound):
        verify_link(load_record(path1), load_record(path1), path1.read_bytes())


def failing(report):
    assert not report.ok
    failure = report.first_failure
    return failure.key, failure.detail


def test_a_different_k(pair):
    rec2, rec1, data1 = pair
    rec2["manifest"]["ballot_b"]["ballots"][0]["k"] = 3
    key, detail = failing(verify_link(rec2, rec1, data1))
    assert key == "link_ballots"
    assert "ballot 1: different K" in detail and "K = 2" in detail and "K = 3" in detail


def test_a_different_group(pair):
    rec2, rec1, data1 = pair
    rec2["manifest"]["ballot_b"]["ballots"][0]["group"] = "khác"
    key, detail = failing(verify_link(rec2, rec1, data1))
    assert key == "link_ballots" and "ballot 1: different group" in detail


def test_different_candidates(pair):
    rec2, rec1, data1 = pair
    # Round two drops M04 (its last unit and candidate): a valid manifest, another ballot.
    rec2["manifest"]["units"].pop()
    rec2["manifest"]["ballot_b"]["ballots"][0]["candidates"].pop()
    rec2["manifest"]["ballot_b"]["ballots"][0]["k"] = 2
    key, detail = failing(verify_link(rec2, rec1, data1))
    assert key == "link_ballots" and detail.startswith("ballot 1: different candidates")
    assert "'M04'" in detail


def test_a_different_number_of_ballots(pair):
    rec2, rec1, data1 = pair
    rec1 = copy.deepcopy(rec1)
    rec1["results"]["second_round"].append({"group": "khác", "candidates": ["M05"], "k": 1})
    data1 = canonical_json(rec1)
    rec2["manifest"]["ballot_b"]["first_round"]["record_sha256"] = hashlib.sha256(data1).hexdigest()
    key, detail = failing(verify_link(rec2, rec1, data1))
    assert key == "link_ballots" and "2 second-round ballots, round two has 1" in detail


def test_a_different_base(pair):
    rec2, rec1, data1 = pair
    rec2["manifest"]["ballot_b"]["base"] = 11
    key, detail = failing(verify_link(rec2, rec1, data1))
    assert key == "link_base" and "11" in detail and "N = 12" in detail


def test_a_different_name(pair):
    rec2, rec1, data1 = pair
    rec2["manifest"]["units"][1]["name"] = "Người khác"
    key, detail = failing(verify_link(rec2, rec1, data1))
    assert key == "link_names"
    assert detail == "M02: named 'Người khác' in round two, 'Đảng viên 2' in round one"


def test_a_different_manifest_hash(pair):
    rec2, rec1, data1 = pair
    rec2["manifest"]["ballot_b"]["first_round"]["manifest_hash"] = "ab" * 32
    key, detail = failing(verify_link(rec2, rec1, data1))
    assert key == "link_manifest_hash" and "another election" in detail


def test_a_record_that_is_not_the_hashed_file(pair):
    rec2, rec1, data1 = pair
    rec1["results"]["base"] = 11
    key, detail = failing(verify_link(rec2, rec1, data1))
    assert key == "link_record_sha256" and "not the content of the hashed file" in detail


def test_a_second_round_given_as_the_first(pair, rounds):
    rec2, _, _ = pair
    _, path2 = rounds
    data2 = path2.read_bytes()
    first = rec2["manifest"]["ballot_b"]["first_round"]
    first["record_sha256"] = hashlib.sha256(data2).hexdigest()
    first["manifest_hash"] = Manifest.from_json(load_record(path2)["manifest"]).manifest_hash().hex()
    key, detail = failing(verify_link(rec2, load_record(path2), data2))
    assert key == "link_manifest_hash" and "itself a second round" in detail
