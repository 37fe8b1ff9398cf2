"""Many requests racing for one token or one invitation, spread over several server worker
processes (three on PostgreSQL, one on SQLite): exactly one wins, every other gets a 409 with
its reason, and nothing else changes."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from ballot.clients.voter import obtain_token, seal
from ballot.crypto import blind_rsa
from ballot.crypto.encoding import b64decode, b64encode
from ballot.crypto.token import Token, new_voter_key, token_message
from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.models import AuditEntry, Invitation, TokenIssuance

from tests.reliability.helpers import (
    SLUG,
    board_rows,
    check_board_chain,
    is_postgres,
    open_meeting,
    run_parallel,
    start_deployment,
    statuses,
    stop_deployment,
)

pytestmark = pytest.mark.concurrency

N = 20


@pytest.fixture
def dep(db_url, tmp_path):
    d = start_deployment(db_url, tmp_path)
    yield d
    stop_deployment(d)


def _cast(dep, ballot_json):
    return dep.http().post(f"/api/v1/elections/{SLUG}/ballots", {"ballot": ballot_json})


def test_twenty_parallel_ballots_with_one_token(dep):
    om = open_meeting(dep)
    e = om.election
    # The same ballot sent 20 times at once (a phone retrying, or a replay).
    token, key = obtain_token(dep.http(), e, om.invitations["M001"])
    ballot, _ = seal(e, token, key, [0, 1, None])
    ok, refused = statuses(run_parallel(N, lambda i: _cast(dep, ballot.to_json())))
    assert len(ok) == 1 and len(refused) == N - 1
    assert ok[0]["receipt"]["tracking_code"] == ballot.tracking_code
    assert all(r.status == 409 and "already been cast with this token" in r.message
               for r in refused), {(r.status, r.message) for r in refused}

    # 20 different ballots, all made with one token (a voter trying to vote 20 times).
    token, key = obtain_token(dep.http(), e, om.invitations["M002"])
    ballots = [seal(e, token, key, [i % 4, (i // 4) % 4, None])[0] for i in range(N)]
    assert len({b.tracking_code for b in ballots}) == N
    ok2, refused2 = statuses(run_parallel(N, lambda i: _cast(dep, ballots[i].to_json())))
    assert len(ok2) == 1 and len(refused2) == N - 1
    assert all(r.status == 409 and "already been cast with this token" in r.message
               for r in refused2), {(r.status, r.message) for r in refused2}
    winner = ok2[0]["receipt"]

    rows = board_rows(dep)
    assert [r.tracking_code for r in rows] == [ballot.tracking_code, winner["tracking_code"]]
    assert rows[1].position == winner["position"] and rows[1].entry_hash == winner["entry_hash"]
    assert {r.token_id for r in rows} == {ballot.token.token_id.hex(), token.token_id.hex()}
    check_board_chain(rows)
    counters = dep.http().get(f"/api/v1/elections/{SLUG}/counters")
    assert counters["ballots"] == 2 and counters["tokens"] == 2


def test_twenty_parallel_redemptions_of_one_invitation(dep):
    om = open_meeting(dep)
    e = om.election
    issuer = e.ctx.issuer
    attempts = []
    for _ in range(N):  # 20 phones, each with its own voter key and blinded message
        key = new_voter_key()
        prepared = blind_rsa.prepare(token_message(e.ctx.base_hash, bytes(key.verify_key)))
        blinded, state = blind_rsa.blind(issuer, prepared)
        attempts.append((prepared, blinded, state))
    code = om.invitations["M003"]

    def redeem(i):
        _, blinded, _ = attempts[i]
        return dep.http().post(f"/api/v1/elections/{SLUG}/tokens",
                               {"invitation": code, "blinded_msg": b64encode(blinded)})

    results = run_parallel(N, redeem)
    ok, refused = statuses(results)
    assert len(ok) == 1 and len(refused) == N - 1
    assert all(r.status == 409 and "already been used" in r.message for r in refused), \
        {(r.status, r.message) for r in refused}
    winner = next(i for i, (kind, _) in enumerate(results) if kind == "ok")
    prepared, blinded, state = attempts[winner]
    sig = blind_rsa.finalize(issuer, prepared, b64decode(ok[0]["blind_sig"]), state)
    Token(prepared, sig).check(issuer, e.ctx.base_hash)  # the one token is valid

    with transaction(dep.meeting.factory, read_only=True) as s:
        election = repo.get_election(s, SLUG)
        assert repo.tokens_issued(s, election.id) == 1
        assert s.scalar(select(func.count()).select_from(TokenIssuance)) == 1
        inv = s.execute(select(Invitation).where(Invitation.redeemed_at.is_not(None))).scalars().all()
        assert len(inv) == 1 and inv[0].blinded_hash == hashlib.sha256(blinded).hexdigest()
        # Issuance is recorded in token_issuance only; the audit log has no per-voter entries.
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.actor == "voter")) == 0
        assert repo.verify_audit_chain(s) >= 1
    # The losers' blinded messages never got a signature: nothing else can be cast.
    assert dep.http().get(f"/api/v1/elections/{SLUG}/counters")["tokens"] == 1


def test_parallel_retries_of_one_redemption_get_the_same_signature(dep):
    """A phone whose answer was lost retries with the same blinded message; retries racing
    each other (and the original) must all get the one signature, and one token is issued."""
    om = open_meeting(dep)
    e = om.election
    key = new_voter_key()
    prepared = blind_rsa.prepare(token_message(e.ctx.base_hash, bytes(key.verify_key)))
    blinded, state = blind_rsa.blind(e.ctx.issuer, prepared)
    request = {"invitation": om.invitations["M004"], "blinded_msg": b64encode(blinded)}
    ok, refused = statuses(run_parallel(
        N, lambda i: dep.http().post(f"/api/v1/elections/{SLUG}/tokens", request)))
    assert not refused, {(r.status, r.message) for r in refused}
    assert len({r["blind_sig"] for r in ok}) == 1
    with transaction(dep.meeting.factory, read_only=True) as s:
        assert s.scalar(select(func.count()).select_from(TokenIssuance)) == 1
