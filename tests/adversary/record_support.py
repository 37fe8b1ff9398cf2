"""A small tallied meeting for the record attacks, and helpers to play the operator on its
record file (re-hash what a careful forger would re-hash, so that only the check under test
can catch the change)."""

from __future__ import annotations

import copy
from typing import Any

from ballot.clients.http import Http
from ballot.clients.voter import fetch_election, vote
from ballot.crypto.encoding import canonical_json
from ballot.election.counting import count_manifest
from ballot.election.counts import MeetingFigures, UnitCounts
from ballot.election.manifest import Manifest
from ballot.tally.close import audit_entry_hash
from ballot.tally.record import load_record

from service.test_meeting_flow import MEMBERS, SLUG, open_with_one_trustee

PAPER = {"voters": 1, "ballots_issued": 1, "ballots_valid": 1, "ballots_invalid": 0}


def tallied_meeting(meeting, base_url, *, voters: int = 5, present: int = 7, paper=PAPER):
    """k = 1; ``voters`` members vote (everyone HTTNV), one more on paper; finalized."""
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    receipts = [vote(http, SLUG, invitations[rid], [1] * len(MEMBERS), election)
                for rid, _ in MEMBERS[:voters]]
    closed = meeting.close_voting(SLUG, present=present, paper=paper)
    if paper and paper["ballots_valid"]:
        meeting.enter_paper_counts(SLUG, {"counts": [
            {"unit_id": rid, "votes": {"HTNV": paper["ballots_valid"]}, "abstain": 0, "blank": 0}
            for rid, _ in MEMBERS]})
    if voters:
        device.decrypt(keys)
    path = meeting.finalize(SLUG)
    return path, receipts, closed


def rehash_audit(record: dict[str, Any]) -> None:
    """Recompute every audit entry's hash after an edit (as the operator would)."""
    for e in record["audit"]:
        e["entry_hash"] = audit_entry_hash(e)


def recount(record: dict[str, Any]) -> None:
    """Recompute the results from the record's counts and figures (as the operator would)."""
    manifest = Manifest.from_json(record["manifest"])
    f = record["figures"]
    figures = MeetingFigures(f["convened"], f["excluded"], f["present"], f["ballots_valid"],
                             f["ballots_invalid"], f["ballots_issued"])
    counts = {c["unit_id"]: UnitCounts(c["votes"], c["abstain"], c["blank"])
              for c in record["counts"]}
    record["results"] = count_manifest(manifest, counts, figures).to_json()


def edited(path, change) -> dict[str, Any]:
    record = copy.deepcopy(load_record(path))
    change(record)
    return record


def write(record: dict[str, Any], path) -> None:
    path.write_bytes(canonical_json(record))
