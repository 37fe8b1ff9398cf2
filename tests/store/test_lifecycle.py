"""draft → key_ceremony → open → closed → tallied → published, and nothing else."""

from __future__ import annotations

import itertools

import pytest

from ballot.store import lifecycle, repo
from ballot.store.db import transaction
from ballot.store.errors import ElectionNotOpen, LifecycleError
from ballot.store.lifecycle import STATUSES, TRANSITIONS, check_transition, transition
from tests.store.helpers import advance, make_draft, open_election, run_threads

ALLOWED = set(TRANSITIONS.items())


def test_the_transition_table_matches_the_migration():
    import importlib.util

    from ballot.store.migrate import MIGRATIONS_DIR

    spec = importlib.util.spec_from_file_location(
        "m0001", MIGRATIONS_DIR / "versions" / "0001_initial.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.TRANSITIONS) == ALLOWED


@pytest.mark.parametrize("old,new", sorted(ALLOWED))
def test_allowed_steps(old, new):
    check_transition(old, new)


@pytest.mark.parametrize(
    "old,new",
    [p for p in itertools.product(STATUSES, STATUSES) if p not in ALLOWED],
)
def test_every_other_step_is_refused_with_a_reason(old, new):
    with pytest.raises(LifecycleError, match=f"^cannot go from {old} to {new}: .+"):
        check_transition(old, new)


def test_messages_say_why():
    with pytest.raises(LifecycleError, match="cannot go from open to draft: the lifecycle only "
                       "moves forward .*from open the next step is closed"):
        check_transition("open", "draft")
    with pytest.raises(LifecycleError, match="steps cannot be skipped"):
        check_transition("draft", "open")
    with pytest.raises(LifecycleError, match="a published election is final"):
        check_transition("published", "draft")
    with pytest.raises(LifecycleError, match="already closed"):
        check_transition("closed", "closed")
    with pytest.raises(LifecycleError, match="unknown status 'finished'"):
        check_transition("closed", "finished")
    assert issubclass(LifecycleError, ValueError)


def test_full_lifecycle_sets_timestamps(sf):
    election_id = make_draft(sf)
    advance(sf, election_id, "open")
    with transaction(sf) as s:
        e = repo.get_election(s, election_id)
        assert e.status == "open" and e.opened_at is not None and e.closed_at is None
        assert e.opened_at.tzinfo is not None
    for status in ("closed", "tallied", "published"):
        with transaction(sf) as s:
            assert transition(s, election_id, status).status == status
    with transaction(sf) as s:
        e = repo.get_election(s, election_id)
        assert e.status == "published" and e.closed_at >= e.opened_at


def test_forbidden_transition_leaves_the_status(sf):
    election = open_election(sf)
    with pytest.raises(LifecycleError, match="cannot go from open to draft"):
        with transaction(sf) as s:
            transition(s, election.id, "draft")
    with pytest.raises(LifecycleError, match="cannot go from open to tallied"):
        with transaction(sf) as s:
            transition(s, election.id, "tallied")
    with transaction(sf) as s:
        assert repo.get_election(s, election.id).status == "open"


def test_preconditions(sf):
    election_id = make_draft(sf)
    with pytest.raises(LifecycleError, match="manifest is not frozen"):
        with transaction(sf) as s:
            transition(s, election_id, "key_ceremony")
    advance(sf, election_id, "key_ceremony")
    with pytest.raises(LifecycleError, match="joint key"):
        with transaction(sf) as s:
            transition(s, election_id, "open")


def test_operations_check_the_status(sf):
    election_id = make_draft(sf)
    with pytest.raises(LifecycleError, match="cannot create invitations while the election is draft"):
        with transaction(sf) as s:
            repo.create_invitations(s, election_id)
    advance(sf, election_id, "key_ceremony")
    with pytest.raises(LifecycleError, match="cannot change the manifest"):
        with transaction(sf) as s:
            repo.set_manifest(s, election_id, manifest_json="{}", manifest_hash="0" * 64)
    with pytest.raises(ElectionNotOpen, match="cannot accept a ballot while the election is key_ceremony"):
        with transaction(sf) as s:
            repo.append_board_entry(s, election_id, "a" * 64, "{}", "T", lambda *a: "b" * 64)


@pytest.mark.concurrency
def test_concurrent_transitions_only_one_wins(sf):
    election = open_election(sf)

    def close(_):
        with transaction(sf) as s:
            return lifecycle.transition(s, election.id, "closed").status

    results = run_threads(10, close)
    oks = [r for kind, r in results if kind == "ok"]
    errors = [r for kind, r in results if kind == "err"]
    assert oks == ["closed"]
    assert all(isinstance(e, LifecycleError) for e in errors), errors
    assert all("cannot go from" in str(e) for e in errors)
