"""A lost phone session: the secretary records that the member votes on paper instead
(ballot/service/paper.py). The figures carry the member as "token issued, voted on paper",
the record names them, the verifier checks it; the abandoned token used later is an excess."""

from __future__ import annotations

import pytest

from ballot.clients.http import Http
from ballot.clients.voter import fetch_election, obtain_token, vote
from ballot.service.meeting import ServiceError
from ballot.store.errors import ElectionNotOpen
from ballot.tally.record import load_record
from ballot.tally.verify import verify_record

from .test_meeting_flow import MEMBERS, SLUG, open_with_one_trustee, server  # noqa: F401

N = len(MEMBERS)


def paper_figures(voters: int, valid: int) -> dict:
    """The paper figures, entered at the close."""
    return {"ballots_issued": voters, "ballots_valid": valid, "ballots_invalid": 0,
            "voters": voters}


def counts(valid: int, level: str = "HTTNV") -> dict:
    """The per-unit paper counts, entered after the close and before the decryption."""
    return {"counts": [{"unit_id": rid, "votes": {level: valid} if valid else {}, "abstain": 0,
                        "blank": 0} for rid, _ in MEMBERS]}


def test_member_whose_session_is_lost_votes_on_paper(server):
    meeting, base_url = server
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    # A1 opened the slip in Zalo's browser, which keeps the token; Chrome says "already used".
    obtain_token(http, election, invitations["A1"])
    view = meeting.paper_instead(SLUG)
    assert [m["roll_id"] for m in view["holders"]] == ["A1"] and view["set_aside"] == []
    figures = meeting.set_aside_token(SLUG, "A1")
    assert figures == {"issued": 1, "set_aside": 1, "valid": 0, "ballots": 0, "excess": 0}
    for rid, _ in MEMBERS[1:5]:
        vote(http, SLUG, invitations[rid], [0] * N, election)
    view = meeting.paper_instead(SLUG)
    assert view["set_aside"] == [{"roll_id": "A1", "name": MEMBERS[0][1]}]
    assert view["figures"] == {"issued": 5, "set_aside": 1, "valid": 4, "ballots": 4, "excess": 0}
    # A1's paper ballot: the paper voters (1) + valid tokens (4) fit the 8 eligible members.
    closed = meeting.close_voting(SLUG, paper=paper_figures(voters=1, valid=1))
    assert (closed["tokens"], closed["set_aside"], closed["present"]) == (5, 1, 5)
    meeting.enter_paper_counts(SLUG, counts(valid=1))
    device.decrypt(keys)
    record = load_record(meeting.finalize(SLUG))
    assert record["paper_instead"] == ["A1"]
    assert record["issuance_log"] == ["A1", "A2", "A3", "A4", "A5"]
    f = record["figures"]
    assert (f["present"], f["ballots_issued"], f["ballots_valid"]) == (5, 5, 5)
    report = verify_record(record, workers=1)
    assert report.ok, report.first_failure
    checks = {c.key: c for c in report.checks}
    assert "1 members received a token and voted on paper instead" in checks["paper_instead"].detail
    assert checks["excess"].detail.startswith("4 ballots, 4 valid tokens (5 issued − 1 set aside)")
    assert report.figures["set_aside"] == 1


def test_setting_a_token_aside_is_refused_when_it_could_give_two_ballots(server):
    meeting, base_url = server
    _, _, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    with pytest.raises(ServiceError) as e:  # no token yet: nothing to set aside
        meeting.set_aside_token(SLUG, "A1")
    assert e.value.status == 409 and "has not received a voting token" in str(e.value)
    with pytest.raises(ServiceError) as e:
        meeting.set_aside_token(SLUG, "ZZ")
    assert e.value.status == 404
    with pytest.raises(ServiceError) as e:
        meeting.set_aside_token(SLUG, "  ")
    assert e.value.status == 400
    vote(http, SLUG, invitations["A1"], [0] * N, election)
    vote(http, SLUG, invitations["A2"], [0] * N, election)
    # Every valid token has voted: A1's token may be one of them (it is): refused.
    with pytest.raises(ServiceError) as e:
        meeting.set_aside_token(SLUG, "A1")
    assert e.value.status == 409 and "every valid token has already cast a ballot" in str(e.value)
    obtain_token(http, election, invitations["A3"])
    meeting.set_aside_token(SLUG, "A3")
    with pytest.raises(ServiceError) as e:
        meeting.set_aside_token(SLUG, "A3")
    assert e.value.status == 409 and "already votes on paper" in str(e.value)
    # Paper voters + valid tokens may not exceed the eligible members: 6 + 2 = 8 fits, 7 not.
    with pytest.raises(ServiceError) as e:
        meeting.close_voting(SLUG, paper=paper_figures(voters=7, valid=7))
    assert e.value.status == 422 and "7 paper voters + 2 valid tokens" in str(e.value)
    meeting.close_voting(SLUG, paper=paper_figures(voters=6, valid=6))
    meeting.enter_paper_counts(SLUG, counts(valid=6))
    with pytest.raises(ElectionNotOpen):  # closed: too late to set a token aside
        meeting.set_aside_token(SLUG, "A1")
