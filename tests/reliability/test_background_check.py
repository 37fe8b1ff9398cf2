"""Received, then checked (docs/protocol.md): the receipt comes after the cheap checks, the
proofs are checked by a background checker process, and closing voting waits for every status.

Real deployments (``tests/reliability/helpers.py``): server worker processes and checker
processes (``python -m ballot.service.checker``) on SQLite or PostgreSQL, phones over HTTP.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from ballot.clients.http import ApiError
from ballot.clients.voter import cast, obtain_token, seal
from ballot.crypto.group import L
from ballot.crypto.proofs import DisjunctiveProof
from ballot.service.serve_workers import CheckerProcess
from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.models import BoardCheck
from ballot.tally.board_status import valid_positions
from ballot.tally.record import load_record
from ballot.tally.verify import verify_record

from tests.reliability.helpers import SLUG, open_meeting, start_deployment, stop_deployment

pytestmark = pytest.mark.concurrency


def forged(election, token, key, choices):
    """A ballot with a valid token and the voter's own signature whose first proof is broken:
    what a modified phone could send. It passes every check made on receipt."""
    ballot, _ = seal(election, token, key, choices)
    ct, proof = ballot.units[0]
    (c0, v0), *rest = proof.branches
    units = ((ct, DisjunctiveProof((((c0 + 1) % L, v0), *rest))), *ballot.units[1:])
    unsigned = replace(ballot, units=units, signature=b"")
    return replace(unsigned, signature=key.sign(unsigned.ballot_hash).signature)


def statuses(dep) -> list[tuple[int, str]]:
    with transaction(dep.meeting.factory, read_only=True) as s:
        election = repo.get_election(s, SLUG)
        return [(c.position, c.status) for c in s.execute(
            select(BoardCheck).where(BoardCheck.election_id == election.id)
            .order_by(BoardCheck.position)).scalars()]


def wait_until(predicate, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def dep_unchecked(db_url, tmp_path):
    """A deployment without a background checker: nothing checks until someone closes."""
    d = start_deployment(db_url, tmp_path, checkers=0)
    yield d
    stop_deployment(d)


@pytest.fixture
def dep(db_url, tmp_path):
    d = start_deployment(db_url, tmp_path, checkers=1)
    yield d
    stop_deployment(d)


def test_the_receipt_comes_before_the_proof_check_and_closing_waits(dep_unchecked):
    dep = dep_unchecked
    om = open_meeting(dep, members=6, units=3)
    http = dep.http(0)
    receipts = []
    for code in list(om.invitations.values())[:4]:
        token, key = obtain_token(http, om.election, code)
        ballot, _ = seal(om.election, token, key, [0, 1, None])
        receipts.append(cast(http, om.election, ballot))
    # Signed receipts, on the board, and no proof checked yet: "received".
    for r in receipts:
        status = http.get(f"/api/v1/elections/{SLUG}/ballots/{r.position}/status")
        assert status == {"position": r.position, "tracking_code": r.tracking_code,
                          "entry_hash": r.entry_hash, "status": "received"}
    counters = http.get(f"/api/v1/elections/{SLUG}/counters")
    assert (counters["ballots"], counters["checked"], counters["unchecked"]) == (4, 0, 4)
    with pytest.raises(ApiError) as e:
        http.get(f"/api/v1/elections/{SLUG}/ballots/99/status")
    assert e.value.status == 404

    # Closed without waiting (as the secretary's page does): no aggregate for the trustees
    # until every ballot is checked; the counters show the progress.
    dep.meeting.close_voting(SLUG, wait=False)
    with pytest.raises(ApiError) as e:
        http.get(f"/api/v1/elections/{SLUG}/aggregate")
    assert e.value.status == 409 and "still being checked: 0 of 4" in e.value.message
    # A checker comes up (e.g. restarted): it checks everything and stores the aggregate.
    checker = CheckerProcess(dep.url).start()
    try:
        wait_until(lambda: len(statuses(dep)) == 4, what="the checker")
        wait_until(lambda: _aggregate(http) is not None, what="the aggregate")
        agg = _aggregate(http)
        assert len(agg["aggregate"]) == 3
    finally:
        checker.stop()
    assert statuses(dep) == [(1, "valid"), (2, "valid"), (3, "valid"), (4, "valid")]
    om.trustee.decrypt(om.keys)
    record = load_record(dep.meeting.finalize(SLUG))
    assert verify_record(record, workers=1).ok
    assert [e["status"] for e in record["board"]] == ["valid"] * 4


def _aggregate(http):
    try:
        return http.get(f"/api/v1/elections/{SLUG}/aggregate")
    except ApiError:
        return None


def test_an_invalid_ballot_is_marked_invalid_and_left_out_of_the_tally(dep):
    om = open_meeting(dep, members=6, units=3)
    http = dep.http(0)
    codes = list(om.invitations.values())
    honest = []
    for code, choices in zip(codes[:3], ([0, 1, 1], [1, 1, 0], [0, 0, None])):
        token, key = obtain_token(http, om.election, code)
        ballot, _ = seal(om.election, token, key, choices)
        honest.append(cast(http, om.election, ballot))
    token, key = obtain_token(http, om.election, codes[3])
    bad = forged(om.election, token, key, [3, 3, 3])
    receipt = cast(http, om.election, bad)  # received: token and signature are good
    assert receipt.position == 4
    wait_until(lambda: len(statuses(dep)) == 4, what="the background checker")
    status = http.get(f"/api/v1/elections/{SLUG}/ballots/4/status")
    assert status["status"] == "invalid"
    assert "unit 1: the proof that it holds one allowed choice fails" in status["reason"]
    assert http.get(f"/api/v1/elections/{SLUG}/ballots/1/status")["status"] == "valid"
    # The token is spent: the same voter cannot cast again.
    again, _ = seal(om.election, token, key, [3, 3, 3])
    with pytest.raises(ApiError) as e:
        cast(http, om.election, again)
    assert e.value.status == 409
    counters = http.get(f"/api/v1/elections/{SLUG}/counters")
    assert (counters["ballots"], counters["valid"], counters["invalid"]) == (4, 3, 1)

    dep.meeting.close_voting(SLUG)
    om.trustee.decrypt(om.keys)
    record = load_record(dep.meeting.finalize(SLUG))
    report = verify_record(record, workers=1)
    assert report.ok, report.first_failure
    assert [e["status"] for e in record["board"]] == ["valid", "valid", "valid", "invalid"]
    assert valid_positions(record["board"]) == [1, 2, 3]
    # Only the three honest ballots are counted: nobody got level 3 (KHTNV).
    counts = {c["unit_id"]: c for c in record["electronic_counts"]}
    levels = [lv["code"] for lv in record["manifest"]["levels"]]
    assert all(c["votes"].get(levels[3], 0) == 0 for c in counts.values())
    assert counts["M001"]["votes"][levels[0]] == 2
    assert record["figures"]["ballots_valid"] == 3 and record["figures"]["ballots_invalid"] == 1
    assert report.figures["invalid_ballots"] == 1


def test_the_checker_killed_9_times_loses_nothing_and_statuses_once(dep):
    """kill -9 the checker again and again while it checks: it is restarted and every entry
    ends with exactly one status; nothing is lost, nothing gets two."""
    om = open_meeting(dep, members=24, units=24)  # ~0.1 s of proofs per ballot
    dep.pool.kill_checkers()
    http = dep.http(0)
    rng = random.Random(7)
    codes = list(om.invitations.values())
    for i, code in enumerate(codes):
        token, key = obtain_token(http, om.election, code)
        choices = [rng.choice([0, 1, 2, 3, None]) for _ in range(24)]
        ballot = forged(om.election, token, key, choices) if i % 6 == 5 else \
            seal(om.election, token, key, choices)[0]
        cast(http, om.election, ballot)
    assert statuses(dep) == []
    kills = 0
    seen = []
    while len(statuses(dep)) < len(codes) and kills < 8:
        dep.pool.restart_checkers()
        time.sleep(0.4 + 0.1 * kills)
        dep.pool.kill_checkers()  # SIGKILL, mid-check most likely
        kills += 1
        seen.append(len(statuses(dep)))
    dep.pool.restart_checkers()
    wait_until(lambda: len(statuses(dep)) == len(codes), what="every status")
    got = statuses(dep)
    assert [p for p, _ in got] == list(range(1, len(codes) + 1))  # one each, none lost
    assert [s for _, s in got] == ["invalid" if i % 6 == 5 else "valid" for i in range(24)]
    assert kills >= 2 and seen == sorted(seen), seen  # progress across the kills
    with transaction(dep.meeting.factory, read_only=True) as s:
        assert s.scalar(select(func.count()).select_from(BoardCheck)) == len(codes)
    dep.meeting.close_voting(SLUG)
    om.trustee.decrypt(om.keys)
    report = verify_record(load_record(dep.meeting.finalize(SLUG)), workers=1)
    assert report.ok, report.first_failure
    print(f"\n{kills} kills of the checker; statuses after each: {seen}")


def test_closing_waits_for_an_entry_a_checker_holds(dep_unchecked):
    """PostgreSQL: a background checker holds an entry (claimed, checking) when the secretary
    closes: closing waits for that entry's status instead of returning without the
    aggregate. (SQLite has no claims: there, closing checks the entry itself.)"""
    import threading

    from sqlalchemy import and_

    from ballot.service.checker import check_one, election_context
    from ballot.store.models import BoardEntry, Election, Tally
    from tests.reliability.helpers import is_postgres

    dep = dep_unchecked
    if not is_postgres(dep.url):
        pytest.skip("claims (SKIP LOCKED) exist only on PostgreSQL")
    om = open_meeting(dep, members=4, units=3)
    http = dep.http(0)
    for code in list(om.invitations.values())[:3]:
        token, key = obtain_token(http, om.election, code)
        cast(http, om.election, seal(om.election, token, key, [0, 1, None])[0])
    held = dep.meeting.factory()  # the "checker": claims entry 2 and keeps checking it
    election = held.scalar(select(Election).where(Election.slug == SLUG))
    row = held.execute(select(BoardEntry).where(and_(
        BoardEntry.election_id == election.id, BoardEntry.position == 2))
        .with_for_update(key_share=True)).scalar_one()
    done = threading.Event()
    closer = threading.Thread(target=lambda: (dep.meeting.close_voting(SLUG), done.set()),
                              daemon=True)
    closer.start()
    try:
        time.sleep(1.0)
        assert not done.is_set(), "closing returned while an entry was still being checked"
        assert [p for p, _ in statuses(dep)] == [1, 3]  # the others, checked by the closer
        status, reason = check_one(election_context(election), row.ballot_json)
        held.add(BoardCheck(election_id=election.id, position=2, status=status, reason=reason))
        held.commit()
    finally:
        held.close()
    closer.join(30)
    assert done.is_set()
    assert statuses(dep) == [(1, "valid"), (2, "valid"), (3, "valid")]
    with transaction(dep.meeting.factory, read_only=True) as s:
        assert s.scalar(select(func.count()).select_from(Tally).where(
            Tally.election_id == election.id, Tally.kind == "aggregate")) == 1
