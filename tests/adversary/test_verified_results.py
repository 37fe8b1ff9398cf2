"""Issue 11, point 3: every result shown or printed comes from the record file that was
verified (cached by its SHA-256), never from the mutable ``tallies`` rows. The attacker is the
server operator: UPDATE on the database, edits in the records folder."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request

import pytest
from sqlalchemy import text

from ballot.service import verified
from ballot.service.meeting import ServiceError
from ballot.store.db import transaction
from ballot.tally.record import load_record

from service.test_meeting_flow import SLUG, server  # noqa: F401

from .record_support import edited, recount, tallied_meeting, write


def get_json(url):
    with urllib.request.urlopen(url) as resp:
        return json.loads(resp.read())


def test_an_update_of_the_tallies_rows_changes_no_result(server):
    meeting, base_url = server
    path, _, _ = tallied_meeting(meeting, base_url)
    meeting.publish(SLUG)
    before = get_json(f"{base_url}/api/v1/elections/{SLUG}/results.json")
    rec = load_record(path)
    assert before["results"] == rec["results"] and before["counts"] == rec["counts"]
    # The operator rewrites the stored result: every unit "HTXSNV", 8 votes.
    forged = json.loads(json.dumps(rec["results"]))
    for u in forged["units"]:
        u["level"], u["counts"]["votes"] = "HTXSNV", {"HTXSNV": 8}
    payload = json.dumps({"counts": rec["counts"], "results": forged}, sort_keys=True,
                         separators=(",", ":"), ensure_ascii=False)
    with transaction(meeting.factory) as s:
        try:
            s.execute(text("UPDATE tallies SET payload_json = :p WHERE kind = 'result'"),
                      {"p": payload})
        except Exception:  # an append-only trigger refuses it: even better
            pass
    after = get_json(f"{base_url}/api/v1/elections/{SLUG}/results.json")
    assert after == before
    with urllib.request.urlopen(f"{base_url}/r/{SLUG}?lang=en") as resp:
        assert "HTXSNV · passed" not in resp.read().decode()


def test_an_edited_record_file_is_refused_everywhere(server):
    """The operator edits the record file (a level, recounted consistently) and even writes a
    cache entry saying the new bytes verified: every result page refuses, since the file's
    SHA-256 is not the one written at finalize."""
    meeting, base_url = server
    path, _, _ = tallied_meeting(meeting, base_url)
    meeting.publish(SLUG)

    def lie(r):
        for c in r["counts"][:2]:
            c["votes"] = {"HTXSNV": 6}
        recount(r)

    forged = edited(path, lie)
    write(forged, path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    cache = path.with_name(f"{SLUG}.record.verified.json")
    body = json.loads(cache.read_text())
    body["record_sha256"] = sha
    cache.write_text(json.dumps(body))
    verified._CACHE.clear()
    for url in (f"/api/v1/elections/{SLUG}/results.json", f"/api/v1/elections/{SLUG}/results.csv",
                f"/r/{SLUG}"):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(base_url + url)
        assert e.value.code == 409, url
        assert "changed after the tally" in e.value.read().decode(), url
    with pytest.raises(ServiceError) as e:
        meeting.second_round_minutes(SLUG) or meeting.verified_record(SLUG)
    assert e.value.status == 409


def test_a_record_that_fails_verification_is_never_shown(server):
    """The operator edits the record and the SHA-256 in the audit log's tallied entry (its
    chain is then broken, but say they re-chain it): the record is verified again, fails, and
    nothing is shown from it."""
    meeting, base_url = server
    path, _, _ = tallied_meeting(meeting, base_url)

    def lie(r):
        r["counts"][0]["votes"] = {"HTXSNV": 6}
        recount(r)

    write(edited(path, lie), path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    with transaction(meeting.factory) as s:  # the operator drops the append-only trigger
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log"))
        else:
            s.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        s.execute(text("UPDATE audit_log SET detail_json = :d WHERE action = 'tallied'"),
                  {"d": json.dumps({"record_sha256": sha})})
    verified._CACHE.clear()
    with pytest.raises(ServiceError) as e:
        meeting.results(SLUG)
    assert e.value.status == 409 and "does not verify" in str(e.value)


def test_the_minutes_come_from_the_cached_verification(server, monkeypatch):
    """Verified once, at finalize: the minutes (HTML) are made from the record file and the
    cached checklist without verifying again, and carry the record's SHA-256."""
    meeting, base_url = server
    path, _, _ = tallied_meeting(meeting, base_url)
    verified._CACHE.clear()  # a fresh worker: only the cache file next to the record

    def no(*a, **k):
        raise AssertionError("verified again")

    monkeypatch.setattr(verified, "verify_record", no)
    v = meeting.verified_record(SLUG)
    assert v.report.ok and v.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    from ballot.tally.minutes import render_minutes_html

    page = render_minutes_html(v.record, v.report, meeting={"verification": v.line})
    assert v.sha256 in page


def test_round_ones_minutes_print_round_two_from_its_verified_record(server):
    """Round one's minutes print round two's outcome from round two's verified record — not
    from its ``tallies`` rows — with round two's own SHA-256 and verification line."""
    from ballot.clients.voter import vote

    from service.test_second_round import SLUG as R1
    from service.test_second_round import first_round, open_round_two

    meeting, base_url = server
    codes, invitations = first_round(meeting, base_url)
    slug2, devices, keys, http, election = open_round_two(meeting, base_url, codes)
    for rid, choices in (("M01", [0, 0, 1, 1]), ("M02", [0, 1, None, 1])):
        vote(http, slug2, invitations[rid], choices, election)
    meeting.close_voting(slug2)
    for i in (1, 2):
        devices[i].decrypt(keys[i])
    path2 = meeting.finalize(slug2)
    before = meeting.second_round_minutes(R1)
    assert hashlib.sha256(path2.read_bytes()).hexdigest() in before["second_round"]["verification"]
    rec2 = load_record(path2)
    forged = json.loads(json.dumps(rec2["results"]))
    for u in forged["units"]:
        u["outcome"] = "selected"
    with transaction(meeting.factory) as s:
        try:
            s.execute(text("UPDATE tallies SET payload_json = :p WHERE kind = 'result' AND "
                           "election_id = (SELECT id FROM elections WHERE slug = :s)"),
                      {"p": json.dumps({"counts": rec2["counts"], "results": forged}),
                       "s": slug2})
        except Exception:
            pass
    assert meeting.second_round_minutes(R1) == before
    # Round two's record edited: round one's minutes refuse to print it.
    write(edited(path2, lambda r: r["results"]["units"][0].update(outcome="selected")), path2)
    verified._CACHE.clear()
    with pytest.raises(ServiceError) as e:
        meeting.second_round_minutes(R1)
    assert e.value.status == 409
