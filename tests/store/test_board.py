"""The bulletin board: one ballot per token, positions 1..n, an intact hash chain."""

from __future__ import annotations

import multiprocessing

import pytest
from sqlalchemy import text

from ballot.store import repo
from ballot.store.db import make_engine, session_factory, transaction
from ballot.store.errors import ChainError, DuplicateBallot, DuplicateTrackingCode, ElectionNotOpen
from ballot.store.lifecycle import transition
from ballot.store.models import GENESIS_HASH
from tests.store.helpers import entry_hash, open_election, run_threads, token_id, triggers_disabled


def _append(sf, election_id, n, tracking=None):
    with transaction(sf) as s:
        return repo.append_board_entry(
            s, election_id, token_id(n), f'{{"ballot":{n}}}', tracking or f"T-{n}", entry_hash
        )


def test_append_chains_entries(sf):
    election = open_election(sf)
    first = _append(sf, election.id, 1)
    second = _append(sf, election.id, 2)
    assert (first.position, second.position) == (1, 2)
    assert first.prev_hash == GENESIS_HASH == "0" * 64
    assert first.entry_hash == entry_hash(GENESIS_HASH, 1, '{"ballot":1}')
    assert second.prev_hash == first.entry_hash
    with transaction(sf) as s:
        assert [e.tracking_code for e in repo.board(s, election.id)] == ["T-1", "T-2"]
        assert repo.find_board_entry(s, election.id, "T-2").position == 2
        assert repo.find_board_entry(s, election.id, "T-9") is None
        assert repo.verify_board_chain(s, election.id, entry_hash) == 2


def test_boards_of_two_elections_are_separate_chains(sf):
    a = open_election(sf, slug="a")
    b = open_election(sf, slug="b")
    _append(sf, a.id, 1)
    entry = _append(sf, b.id, 1)  # the same token and tracking code in another election
    assert entry.position == 1 and entry.prev_hash == GENESIS_HASH


def test_duplicate_ballot_and_tracking_code(sf):
    election = open_election(sf)
    _append(sf, election.id, 1)
    with pytest.raises(DuplicateBallot):
        _append(sf, election.id, 1, tracking="T-other")
    with pytest.raises(DuplicateTrackingCode):
        _append(sf, election.id, 2, tracking="T-1")
    with transaction(sf) as s:
        assert len(repo.board(s, election.id)) == 1


def test_bad_arguments(sf):
    election = open_election(sf)
    with pytest.raises(ValueError, match="token_id"):
        with transaction(sf) as s:
            repo.append_board_entry(s, election.id, "XYZ", "{}", "T", entry_hash)
    with pytest.raises(ValueError, match="compute_entry_hash"):
        with transaction(sf) as s:
            repo.append_board_entry(s, election.id, token_id(1), "{}", "T", lambda *a: "nope")


def test_no_ballot_after_close(sf):
    election = open_election(sf)
    with transaction(sf) as s:
        transition(s, election.id, "closed")
    with pytest.raises(ElectionNotOpen, match="cannot accept a ballot while the election is closed"):
        _append(sf, election.id, 1)


def test_verify_board_chain_detects_tampering(engine, sf):
    election = open_election(sf)
    for n in (1, 2, 3):
        _append(sf, election.id, n)
    with triggers_disabled(engine, "board_entries"):
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE board_entries SET ballot_json = :b WHERE position = 2"),
                {"b": '{"ballot":99}'},
            )
    with transaction(sf) as s:
        with pytest.raises(ChainError, match="entry 2: entry_hash does not match") as info:
            repo.verify_board_chain(s, election.id, entry_hash)
    assert info.value.position == 2


@pytest.mark.concurrency
def test_concurrent_submission_of_one_token(sf):
    election = open_election(sf)

    def submit(i):
        return _append(sf, election.id, 7, tracking=f"T-{i}").position

    results = run_threads(20, submit)
    assert [r for kind, r in results if kind == "ok"] == [1]
    errors = [r for kind, r in results if kind == "err"]
    assert len(errors) == 19 and all(isinstance(e, DuplicateBallot) for e in errors), errors
    with transaction(sf) as s:
        assert len(repo.board(s, election.id)) == 1


@pytest.mark.concurrency
def test_concurrent_appends_of_different_tokens(sf):
    election = open_election(sf)

    results = run_threads(20, lambda i: _append(sf, election.id, i).position)
    assert all(kind == "ok" for kind, _ in results), results
    assert sorted(r for _, r in results) == list(range(1, 21))
    with transaction(sf) as s:
        entries = repo.board(s, election.id)
        assert [e.position for e in entries] == list(range(1, 21))
        assert {e.token_id for e in entries} == {token_id(i) for i in range(20)}
        assert repo.verify_board_chain(s, election.id, entry_hash) == 20


def _process_worker(url: str, election_id: int, start: int, count: int) -> None:
    engine = make_engine(url)
    try:
        factory = session_factory(engine)
        for n in range(start, start + count):
            with transaction(factory) as s:
                repo.append_board_entry(
                    s, election_id, token_id(n), f'{{"ballot":{n}}}', f"T-{n}", entry_hash
                )
    finally:
        engine.dispose()


@pytest.mark.concurrency
def test_concurrent_appends_from_several_processes(migrated_db_url, sf):
    election = open_election(sf)
    ctx = multiprocessing.get_context("fork")  # the child builds its own engine
    processes = [
        ctx.Process(target=_process_worker, args=(migrated_db_url, election.id, 100 * p, 5))
        for p in range(4)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=60)
    assert [p.exitcode for p in processes] == [0, 0, 0, 0]
    with transaction(sf) as s:
        assert repo.verify_board_chain(s, election.id, entry_hash) == 20
