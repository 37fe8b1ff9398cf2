"""Adversary: paper counts of a second round (ballot B) that no set of ballots can give.

A second round is "vote for at most K agree" per group. Electronic ballots prove it one by one
(docs/protocol.md §8.5); paper ballots only reach the count as totals, so a committee (or an
operator writing to the database) could report more agree marks than K × valid ballots and
make candidates pass or tie. The totals are refused at entry (HTTP 422 / ServiceError) and,
when written straight into the database past that check, the tally refuses to count them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ballot.clients.voter import vote
from ballot.crypto.encoding import canonical_json
from ballot.service.meeting import ServiceError
from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.models import Election

from tests.service.test_meeting_flow import server  # noqa: F401 - the fixture
from tests.service.test_second_round import MEMBERS, first_round, open_round_two

K = 2  # first_round: 4 candidates in group "đv", X_max = 2


def _figures(valid: int) -> dict:
    """The paper figures fixed at the close: ``valid`` paper ballots, all valid."""
    return {"ballots_issued": valid, "ballots_valid": valid, "ballots_invalid": 0,
            "voters": valid}


def _paper(agree_each: int, valid: int) -> dict:
    """``valid`` paper ballots, each candidate with ``agree_each`` agree marks."""
    candidates = [rid for rid, _ in MEMBERS[:4]]
    return {**_figures(valid), "counts": [{"unit_id": c, "votes": {"agree": agree_each,
                                                "disagree": valid - agree_each},
                        "abstain": 0, "blank": 0} for c in candidates]}


def test_impossible_paper_agree_totals_are_refused_at_entry_and_at_the_tally(server):
    meeting, base_url = server
    codes, invitations = first_round(meeting, base_url)
    slug2, devices, keys, http, election = open_round_two(meeting, base_url, codes)
    for rid, _ in MEMBERS[:6]:  # six vote on the phone, agree for the first two candidates
        vote(http, slug2, invitations[rid], [0, 0, 1, 1], election)
    meeting.close_voting(slug2, paper=_figures(4))

    # 4 paper ballots, each candidate marked "agree" on all 4: 16 marks > K × 4 = 8
    with pytest.raises(ServiceError) as info:
        meeting.enter_paper_counts(slug2, _paper(4, 4))
    assert info.value.status == 422
    assert "group đv: 16 agree marks in all" in str(info.value)
    assert "at most K × valid ballots = 8" in str(info.value)

    # The operator writes the same totals into the database, past the check: not counted.
    with transaction(meeting.factory) as s:
        election_id = s.execute(select(Election.id).where(Election.slug == slug2)).scalar_one()
        repo.add_tally(s, election_id, "paper_counts", canonical_json(_paper(4, 4)).decode())
    for i in (1, 2):
        devices[i].decrypt(keys[i])
    with pytest.raises(ServiceError) as info:
        meeting.finalize(slug2)
    assert info.value.status == 409 and "agree marks in all" in str(info.value)
    assert not meeting.record_path(slug2).exists()


def test_possible_paper_agree_totals_are_counted(server):
    meeting, base_url = server
    codes, invitations = first_round(meeting, base_url)
    slug2, devices, keys, http, election = open_round_two(meeting, base_url, codes)
    for rid, _ in MEMBERS[:6]:
        vote(http, slug2, invitations[rid], [0, 0, 1, 1], election)
    meeting.close_voting(slug2, paper=_figures(4))
    meeting.enter_paper_counts(slug2, _paper(2, 4))  # 8 marks = K × 4: possible
    for i in (1, 2):
        devices[i].decrypt(keys[i])
    meeting.finalize(slug2)
    assert meeting.record_path(slug2).exists()
