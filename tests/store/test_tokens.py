"""Invitations are redeemed once; each official member receives one token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.errors import (
    ElectionNotOpen,
    InvitationAlreadyRedeemed,
    NotEligible,
    TokenAlreadyIssued,
    UnknownInvitation,
)
from ballot.store.models import Invitation, TokenIssuance
from tests.store.helpers import advance, make_draft, open_election, run_threads

SLUG = "cb-2025"  # open_election's default slug


def test_invitations_store_only_a_hash(sf):
    election = open_election(sf, members=3)
    assert len(election.codes) == 3
    with transaction(sf) as s:
        stored = {i.code_hash for i in s.execute(select(Invitation)).scalars()}
    assert stored == {repo.hash_invitation_code(c, SLUG) for c in election.codes.values()}
    assert not stored & set(election.codes.values())


def test_invitations_only_for_official_members(sf):
    election = open_election(sf, members=3, statuses={2: "probationary", 3: "excluded"})
    assert list(election.codes) == [election.roll_entry_ids[0]]
    with pytest.raises(NotEligible, match="probationary"):
        with transaction(sf) as s:
            repo.create_invitations(s, election.id, roll_entry_ids=[election.roll_entry_ids[1]])
    with transaction(sf) as s:  # a second call creates nothing new
        assert repo.create_invitations(s, election.id) == {}


def test_redeem_once(sf):
    election = open_election(sf, members=2)
    entry_id = election.roll_entry_ids[0]
    code_hash = repo.hash_invitation_code(election.codes[entry_id], SLUG)
    with transaction(sf) as s:
        entry = repo.redeem_invitation(s, election.id, code_hash)
        assert entry.id == entry_id and entry.name == "Nguyễn Văn 1"
    with pytest.raises(InvitationAlreadyRedeemed):
        with transaction(sf) as s:
            repo.redeem_invitation(s, election.id, code_hash)
    with pytest.raises(UnknownInvitation):
        with transaction(sf) as s:
            repo.redeem_invitation(s, election.id, repo.hash_invitation_code("wrong", SLUG))


def test_redeem_needs_an_open_election(sf):
    election_id = make_draft(sf, members=1)
    advance(sf, election_id, "key_ceremony")
    with transaction(sf) as s:
        codes = repo.create_invitations(s, election_id)
    (code,) = codes.values()
    with pytest.raises(ElectionNotOpen):
        with transaction(sf) as s:
            repo.redeem_invitation(s, election_id, repo.hash_invitation_code(code, SLUG))


def test_code_of_another_election_is_unknown(sf):
    a = open_election(sf, slug="a", members=1)
    b = open_election(sf, slug="b", members=1)
    (code_a,) = a.codes.values()
    with pytest.raises(UnknownInvitation):
        with transaction(sf) as s:
            repo.redeem_invitation(s, b.id, repo.hash_invitation_code(code_a, "b"))


def test_reissue_replaces_a_lost_code(sf):
    election = open_election(sf, members=1)
    (entry_id, old_code), = election.codes.items()
    with transaction(sf) as s:
        new_code = repo.reissue_invitation(s, election.id, entry_id)
    with pytest.raises(UnknownInvitation):
        with transaction(sf) as s:
            repo.redeem_invitation(s, election.id, repo.hash_invitation_code(old_code, SLUG))
    with transaction(sf) as s:
        repo.redeem_invitation(s, election.id, repo.hash_invitation_code(new_code, SLUG))
    with pytest.raises(InvitationAlreadyRedeemed):
        with transaction(sf) as s:
            repo.reissue_invitation(s, election.id, entry_id)


def test_one_token_per_member(sf):
    election = open_election(sf, members=2, statuses={2: "probationary"})
    first, second = election.roll_entry_ids
    with transaction(sf) as s:
        repo.record_token_issued(s, election.id, first)
    with pytest.raises(TokenAlreadyIssued):
        with transaction(sf) as s:
            repo.record_token_issued(s, election.id, first)
    with pytest.raises(NotEligible):
        with transaction(sf) as s:
            repo.record_token_issued(s, election.id, second)
    with transaction(sf) as s:
        assert repo.tokens_issued(s, election.id) == 1
        # the row says who, never which token
        # and never when (docs/storage.md "Times")
        assert set(TokenIssuance.__table__.columns.keys()) == {
            "id", "election_id", "roll_entry_id"
        }


@pytest.mark.concurrency
def test_concurrent_redemption_of_one_invitation(sf):
    election = open_election(sf, members=1)
    (entry_id, code), = election.codes.items()
    code_hash = repo.hash_invitation_code(code, SLUG)

    def redeem(_):
        with transaction(sf) as s:
            entry = repo.redeem_invitation(s, election.id, code_hash)
            repo.record_token_issued(s, election.id, entry.id)
            return entry.id

    results = run_threads(20, redeem)
    oks = [r for kind, r in results if kind == "ok"]
    errors = [r for kind, r in results if kind == "err"]
    assert oks == [entry_id]
    assert len(errors) == 19
    assert all(isinstance(e, InvitationAlreadyRedeemed) for e in errors), errors
    with transaction(sf) as s:
        assert repo.tokens_issued(s, election.id) == 1


@pytest.mark.concurrency
def test_concurrent_token_issuance_for_one_member(sf):
    election = open_election(sf, members=1)
    entry_id = election.roll_entry_ids[0]

    def issue(_):
        with transaction(sf) as s:
            return repo.record_token_issued(s, election.id, entry_id).roll_entry_id

    results = run_threads(20, issue)
    assert [r for kind, r in results if kind == "ok"] == [entry_id]
    errors = [r for kind, r in results if kind == "err"]
    assert len(errors) == 19 and all(isinstance(e, TokenAlreadyIssued) for e in errors), errors


def test_invitation_codes_are_easy_to_type_and_read_back_leniently():
    code = repo.new_invitation_code()
    assert len(code) == 23 and code.count("-") == 3
    assert set(code.replace("-", "")) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert repo.hash_invitation_code(typed, SLUG) == repo.hash_invitation_code(code, SLUG)
    assert repo.hash_invitation_code(code[:-1] + ("A" if code[-1] != "A" else "B"), SLUG) != \
        repo.hash_invitation_code(code, SLUG)
    assert len({repo.new_invitation_code() for _ in range(200)}) == 200
