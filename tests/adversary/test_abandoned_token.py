"""Attacks on the lost-session remedy (docs/threat-model.md, "A lost phone session: voting on
paper instead"): the abandoned token used after its member voted on paper, a server that
counts it anyway, an operator who deletes the set-aside."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import text

from ballot.clients.http import Http
from ballot.clients.voter import cast, fetch_election, obtain_token, seal, vote
from ballot.service.meeting import ServiceError
from ballot.store.db import make_engine
from ballot.tally.record import load_record
from ballot.tally.verify import verify_record
from tests.service.test_meeting_flow import MEMBERS, SLUG, open_with_one_trustee, server  # noqa: F401

N = len(MEMBERS)


def test_abandoned_token_used_later_is_an_excess_and_the_count_refuses_it(server):
    meeting, base_url = server
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    # A1's token stays in the other browser; the secretary records A1 votes on paper.
    abandoned = obtain_token(http, election, invitations["A1"])
    meeting.set_aside_token(SLUG, "A1")
    vote(http, SLUG, invitations["A2"], [0] * N, election)
    a3 = obtain_token(http, election, invitations["A3"])  # A3 is still filling the ballot
    # Later someone with that browser casts with the abandoned token: the server cannot tell
    # it from A3's (it never knew which token A1 held) ...
    ballot, _ = seal(election, *abandoned, [1] * N)
    cast(http, election, ballot)
    assert meeting.paper_instead(SLUG)["figures"]["excess"] == 0  # 2 ballots, 2 valid tokens
    ballot, _ = seal(election, *a3, [0] * N)
    cast(http, election, ballot)
    # ... but once the others have voted there are more ballots than valid tokens.
    figures = meeting.paper_instead(SLUG)["figures"]
    assert figures == {"issued": 3, "set_aside": 1, "valid": 2, "ballots": 3, "excess": 1}
    meeting.close_voting(SLUG)
    device.decrypt(keys)
    with pytest.raises(ServiceError) as e:
        meeting.finalize(SLUG)
    assert e.value.status == 409 and "excess: 3 electronic ballots for 2 valid tokens" \
        in str(e.value)


@pytest.fixture
def honest_record(server):
    meeting, base_url = server
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    obtain_token(http, election, invitations["A1"])
    meeting.set_aside_token(SLUG, "A1")
    for rid in ("A2", "A3", "A4"):
        vote(http, SLUG, invitations[rid], [0] * N, election)
    # A1 is among the paper voters, fixed at the close; A1's token is set aside there too.
    closed = meeting.close_voting(SLUG, paper={
        "ballots_issued": 1, "ballots_valid": 1, "ballots_invalid": 0, "voters": 1})
    assert (closed["tokens"], closed["set_aside"], closed["present"]) == (4, 1, 4)
    meeting.enter_paper_counts(SLUG, {
        "counts": [{"unit_id": rid, "votes": {"HTTNV": 1}, "abstain": 0, "blank": 0}
                   for rid, _ in MEMBERS]})
    device.decrypt(keys)
    record = load_record(meeting.finalize(SLUG))
    assert verify_record(record, workers=1).ok
    return meeting, record


def failed(record) -> str:
    report = verify_record(record, workers=1)
    assert not report.ok
    return report.first_failure.key


def test_verifier_catches_a_server_that_counts_a_set_aside_token(honest_record):
    _, record = honest_record
    # A server that set A2's token aside too (A2 "voted on paper") yet counted all 3 ballots:
    # more ballots than valid tokens.
    lying = copy.deepcopy(record)
    lying["paper_instead"] = ["A1", "A2"]
    assert failed(lying) == "excess"
    # Naming a member who never received a token, or a list out of order, is refused.
    for bad in (["A1", "A8"], ["A2", "A1"], ["A1", "A1"], "A1", [1]):
        lying = copy.deepcopy(record)
        lying["paper_instead"] = bad
        assert failed(lying) == "paper_instead", bad
    # Hiding the set-aside leaves the ballots-issued figure counting A1 twice.
    lying = copy.deepcopy(record)
    lying["paper_instead"] = []
    assert failed(lying) == "figures"


def test_the_set_aside_is_fixed_at_the_close_and_cannot_be_dropped(honest_record, tmp_path):
    from ballot.crypto.encoding import canonical_json
    _, record = honest_record
    assert record["paper_instead"] == ["A1"] and record["close"]["set_aside"] == 1
    # A close that hides the set-aside no longer matches the record's paper_instead.
    lying = copy.deepcopy(record)
    lying["close"]["set_aside"] = 0
    assert failed(lying) == "close"
    # The field belongs to version 2: a record without it is refused, not read as empty
    # (version-1 records never had it: tests/tally/test_verify_v1_record.py).
    del record["paper_instead"]
    path = tmp_path / "old.json"
    path.write_bytes(canonical_json(record))
    with pytest.raises(Exception, match="missing fields"):
        load_record(path)


def test_operator_cannot_delete_a_set_aside(honest_record, db_url):
    engine = make_engine(db_url)
    try:
        for sql in ("DELETE FROM token_set_asides", "UPDATE token_set_asides SET roll_entry_id = 0"):
            with pytest.raises(Exception) as e:
                with engine.begin() as conn:
                    conn.execute(text(sql))
            assert "append-only" in str(e.value)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM token_set_asides")).scalar() == 1
    finally:
        engine.dispose()
