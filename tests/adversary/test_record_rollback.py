"""The operator relabels a version-2 record as version 1 to skip the checks version 2 added
(the close and the order of the audit entries, the trustees' approvals, the tokens set aside),
then changes the attendance and recounts. Found by the hostile review of this merge: before the
fix the doctored record verified, and raising `present` flipped the quorum and every result.
Also: a full turnout with one member voting on paper instead must finalize and verify (the
verifier once counted that member's set-aside token and paper vote both)."""

from __future__ import annotations

import copy

from ballot.clients.http import Http
from ballot.clients.voter import fetch_election, obtain_token, vote
from ballot.tally.record import RECORD_VERSION_1, load_record
from ballot.tally.verify import verify_record

from tests.adversary.record_support import recount, tallied_meeting
from tests.service.test_meeting_flow import MEMBERS, SLUG, open_with_one_trustee
from tests.service.test_meeting_flow import server  # noqa: F401 - the fixture


def relabelled(record: dict) -> dict:
    old = copy.deepcopy(record)
    for key in ("approvals", "close", "audit", "paper_instead"):
        del old[key]
    old["version"] = RECORD_VERSION_1
    return old


def test_a_version_two_record_relabelled_version_one_is_refused(server):
    meeting, base_url = server
    path, _, _ = tallied_meeting(meeting, base_url, voters=3, present=4)
    record = load_record(path)
    assert verify_record(record, workers=1).ok
    lying = relabelled(record)
    lying["figures"]["present"] = 7  # the quorum and N as the operator likes them
    recount(lying)
    report = verify_record(lying, workers=1)
    assert not report.ok and report.first_failure.key == "format"
    assert "relabelled as version 1" in report.first_failure.detail
    # Without the board's statuses and the manifest's receipt key, the manifest is not the one
    # the trustees' context and fingerprint were made for.
    for e in lying["board"]:
        e.pop("status"), e.pop("reason", None)
    del lying["manifest"]["receipt_key"]
    report = verify_record(lying, workers=1)
    assert not report.ok and report.first_failure.key == "manifest_binding", \
        report.first_failure


def test_full_turnout_with_a_member_voting_on_paper_instead_verifies(server):
    meeting, base_url = server
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    obtain_token(http, election, invitations[MEMBERS[0][0]])  # its session is lost
    meeting.set_aside_token(SLUG, MEMBERS[0][0])
    for rid, _ in MEMBERS[1:]:
        vote(http, SLUG, invitations[rid], [0] * len(MEMBERS), election)
    paper = {"voters": 1, "ballots_issued": 1, "ballots_valid": 1, "ballots_invalid": 0}
    closed = meeting.close_voting(SLUG, paper=paper)
    assert (closed["tokens"], closed["set_aside"], closed["present"]) == \
        (len(MEMBERS), 1, len(MEMBERS))
    meeting.enter_paper_counts(SLUG, {"counts": [
        {"unit_id": rid, "votes": {"HTTNV": 1}, "abstain": 0, "blank": 0} for rid, _ in MEMBERS]})
    device.decrypt(keys, workers=1)
    record = load_record(meeting.finalize(SLUG))
    report = verify_record(record, workers=1)
    assert report.ok, report.first_failure
