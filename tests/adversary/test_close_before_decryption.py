"""Issue 11, point 4: attendance and the paper figures are fixed at the close, before any
decryption; the record carries the audit entries that order them, and the verifier checks it.
The attacker is the server operator (database, files, records folder)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from ballot.service.meeting import ServiceError
from ballot.store.db import transaction
from ballot.store.models import BoardEntry, Election
from ballot.tally.record import load_record
from ballot.tally.verify import verify_record

from service.test_meeting_flow import SLUG, open_with_one_trustee, server  # noqa: F401

from .record_support import edited, recount, rehash_audit, tallied_meeting


def failing(record) -> str:
    report = verify_record(record, workers=1)
    assert not report.ok
    return report.first_failure.key


def test_the_record_carries_the_close_and_its_order(server):
    meeting, base_url = server
    path, _, closed = tallied_meeting(meeting, base_url)
    record = load_record(path)
    report = verify_record(record, workers=1)
    assert report.ok, report.first_failure
    assert record["close"]["present"] == 7 == record["figures"]["present"]
    assert [a["action"] for a in record["audit"]] == ["close", "paper_counts", "decryption"]
    assert record["audit"][0]["entry_hash"] == closed["entry_hash"]
    checks = {c.key: c.detail for c in report.checks}
    assert "close entry #" in checks["audit_order"] and "then decryptions" in checks["audit_order"]
    with pytest.raises(TypeError):  # finalize no longer takes attendance
        meeting.finalize(SLUG, present=3)


def test_attendance_typed_after_the_decryption_is_detected(server):
    """The operator writes a new close entry with another attendance AFTER the decryption
    (a later seq, hashes recomputed) and recounts the results: the order check refuses it."""
    meeting, base_url = server
    path, _, _ = tallied_meeting(meeting, base_url)

    def retype(r):
        last = r["audit"][-1]
        close = r["audit"].pop(0)
        close["detail"]["present"] = r["close"]["present"] = r["figures"]["present"] = 6
        close["seq"], close["prev_hash"] = last["seq"] + 1, last["entry_hash"]
        r["audit"].append(close)
        r["audit"].insert(0, r["audit"].pop())  # the record lists the close first
        r["audit"].sort(key=lambda a: a["seq"])
        rehash_audit(r)
        recount(r)

    record = edited(path, retype)
    assert failing(record) == "audit_order"


def test_attendance_changed_in_place_is_detected_or_changes_the_projected_hash(server):
    """Change ``present`` in the close entry without moving it: the entry hash no longer
    matches; re-hash it and the verifier passes — but its hash is not the one the projector
    and the secretary's page showed at the close, before any decryption (the committee's
    comparison; docs/threat-model.md)."""
    meeting, base_url = server
    path, _, closed = tallied_meeting(meeting, base_url)

    def change(r):
        r["audit"][0]["detail"]["present"] = r["close"]["present"] = r["figures"]["present"] = 8
        recount(r)

    assert failing(edited(path, change)) == "audit_order"  # the entry hash breaks

    def change_and_rehash(r):
        change(r)
        rehash_audit(r)

    forged = edited(path, change_and_rehash)
    assert verify_record(forged, workers=1).ok
    assert forged["audit"][0]["entry_hash"] != closed["entry_hash"]  # ≠ what the room saw


def test_paper_counts_entered_after_the_decryption_are_detected(server):
    meeting, base_url = server
    path, _, _ = tallied_meeting(meeting, base_url)

    def late(r):
        paper = r["audit"][1]
        assert paper["action"] == "paper_counts"
        paper["seq"] = r["audit"][-1]["seq"] + 1
        r["audit"].sort(key=lambda a: a["seq"])
        rehash_audit(r)

    assert failing(edited(path, late)) == "audit_order"


def test_other_paper_counts_than_the_audited_ones_are_detected(server):
    meeting, base_url = server
    path, _, _ = tallied_meeting(meeting, base_url)

    def swap(r):
        for u in (r["paper"]["counts"][0], r["counts"][0]):
            u["votes"]["HTNV"] -= 1
            u["votes"]["HTTNV"] = u["votes"].get("HTTNV", 0) + 1
        recount(r)

    assert failing(edited(path, swap)) == "audit_order"


def test_a_trustee_cannot_decrypt_before_the_paper_counts_are_in(server):
    meeting, base_url = server
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    from ballot.clients.http import ApiError, Http
    from ballot.clients.voter import fetch_election, vote

    http = Http(base_url)
    vote(http, SLUG, invitations["A1"], [1] * 8, fetch_election(http, SLUG))
    meeting.close_voting(SLUG, paper={"voters": 1, "ballots_issued": 1, "ballots_valid": 1,
                                      "ballots_invalid": 0})

    with pytest.raises(ApiError) as e:
        device.decrypt(keys)
    assert e.value.status == 409 and "paper" in e.value.message


def test_close_figures_out_of_range_are_refused(server):
    meeting, base_url = server
    open_with_one_trustee(meeting, base_url)
    for present, paper, why in [
            (9, None, "exceeds the 8"),
            (0, {"voters": 1}, "fewer than"),
            (None, {"voters": 1, "ballots_issued": 2}, "more paper ballots issued"),
            (None, {"voters": 2, "ballots_issued": 1, "ballots_valid": 1, "ballots_invalid": 1},
             "exceed the paper ballots issued"),
            (None, {"voters": 9}, "exceed the 8 eligible"),
            (None, {"voters": -1}, "0 or more"),
            (None, {"spoilt": 1}, "unknown fields")]:
        with pytest.raises(ServiceError) as e:
            meeting.close_voting(SLUG, present=present, paper=paper)
        assert e.value.status == 422 and why in str(e.value), (present, paper, str(e.value))


def test_a_ballot_slipped_onto_the_board_after_the_close_stops_finalize(server):
    """The operator inserts a board row after the close (straight into the table): finalize
    sees that the board is not the one whose head was shown at the close."""
    meeting, base_url = server
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    from ballot.clients.http import Http
    from ballot.clients.voter import fetch_election, vote

    http = Http(base_url)
    election = fetch_election(http, SLUG)
    vote(http, SLUG, invitations["A1"], [1] * 8, election)
    meeting.close_voting(SLUG)
    device.decrypt(keys)
    with transaction(meeting.factory) as s:
        eid = s.scalar(select(Election.id).where(Election.slug == SLUG))
        row = s.execute(select(BoardEntry).where(BoardEntry.election_id == eid)).scalar_one()
        s.execute(insert(BoardEntry).values(
            election_id=eid, position=2, token_id="ab" * 32, ballot_json=row.ballot_json,
            tracking_code="ZZZZ-ZZZZ", prev_hash=row.entry_hash, entry_hash="cd" * 32))
    with pytest.raises(ServiceError) as e:
        meeting.finalize(SLUG)
    assert "not the one closed" in str(e.value)


def test_paper_figures_and_roll_figures_are_verifier_checks(server):
    """The checks the service makes at entry are the verifier's too: a record (its close entry
    re-hashed to match) with more paper ballots issued than paper voters, or figures that are
    not the roll's, fails."""
    meeting, base_url = server
    path, _, _ = tallied_meeting(meeting, base_url)

    def issued_more(r):
        for p in (r["paper"], r["close"], r["audit"][0]["detail"]["paper"]):
            p["ballots_issued"] = 2
        r["figures"]["ballots_issued"] += 1
        rehash_audit(r)
        recount(r)

    record = edited(path, issued_more)
    report = verify_record(record, workers=1)
    assert report.first_failure.key == "counts" and "voting on paper" in report.first_failure.detail

    def convened(r):
        r["figures"]["convened"] += 1

    report = verify_record(edited(path, convened), workers=1)
    assert report.first_failure.key == "figures" and "the roll has" in report.first_failure.detail

    def negative(r):
        r["counts"][0]["abstain"] = -1
    assert verify_record(edited(path, negative), workers=1).first_failure.key == "counts"


def test_the_minutes_print_the_close_entry_and_the_board_head(server):
    """The anchor the committee compares with what the projector showed at the close: a close
    entry changed and re-hashed verifies from the record alone, but not against the minutes."""
    from ballot.tally.minutes import render_minutes_html
    from ballot.tally.minutes_pdf import render_minutes_pdf

    meeting, base_url = server
    path, _, closed = tallied_meeting(meeting, base_url)
    record = load_record(path)
    v = meeting.verified_record(SLUG)
    html = render_minutes_html(record, v.report)
    assert f"bút toán nhật ký số {closed['seq']}, mã băm {closed['entry_hash']}" in html
    assert closed["board"]["head"] in html
    assert render_minutes_pdf(record, v.report).startswith(b"%PDF")
