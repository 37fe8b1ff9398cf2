"""Issue 11, point 11: a meeting where everyone votes on paper (no electronic ballot) is
closed, counted and finalized without any decryption, and its record verifies (docs/protocol.md,
"An empty board")."""

from __future__ import annotations

import sys
from pathlib import Path

from ballot.tally.record import load_record
from ballot.tally.verify import verify_record

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adversary.record_support import edited, tallied_meeting  # noqa: E402

from .test_meeting_flow import SLUG, server  # noqa: F401,E402

ALL_PAPER = {"voters": 7, "ballots_issued": 7, "ballots_valid": 6, "ballots_invalid": 1}


def test_an_all_paper_meeting_is_tallied_and_verifies(server):
    meeting, base_url = server
    path, _, closed = tallied_meeting(meeting, base_url, voters=0, present=7, paper=ALL_PAPER)
    assert closed["board"] == {"ballots": 0, "head": "0" * 64} and closed["tokens"] == 0
    record = load_record(path)
    assert record["board"] == [] and record["decryptions"] == []
    assert [a["action"] for a in record["audit"]] == ["close", "paper_counts"]
    report = verify_record(record, workers=1)
    assert report.ok, report.first_failure
    assert {c.key: c.detail for c in report.checks}["decryption"].startswith("an empty board")
    assert all(c["votes"]["HTNV"] == 6 == sum(c["votes"].values()) for c in record["counts"])
    assert record["figures"]["ballots_valid"] == 6 and record["figures"]["present"] == 7
    meeting.publish(SLUG)
    assert meeting.results(SLUG)["results"]["units"][0]["level"] == "HTNV"


def test_an_empty_board_with_a_decryption_or_electronic_votes_fails(server):
    meeting, base_url = server
    path, _, _ = tallied_meeting(meeting, base_url, voters=0, present=7, paper=ALL_PAPER)
    forged = edited(path, lambda r: r["decryptions"].append({"trustee": 1, "units": []}))
    assert verify_record(forged, workers=1).first_failure.key == "decryption"

    def vote(r):
        r["electronic_counts"][0]["votes"] = {"HTXSNV": 1}
        r["counts"][0]["votes"]["HTXSNV"] = 1
    assert verify_record(edited(path, vote), workers=1).first_failure.key == "electronic_counts"
