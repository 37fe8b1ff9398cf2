"""Invariants the database itself enforces, checked with raw SQL (no ORM, no repo code)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ballot.store import repo
from ballot.store.db import transaction
from tests.store.helpers import advance, entry_hash, make_draft, open_election, token_id


@pytest.fixture
def filled(sf):
    """An open election with one token issued, one ballot and one audit entry."""
    election = open_election(sf, members=2)
    with transaction(sf) as s:
        repo.record_token_issued(s, election.id, election.roll_entry_ids[0])
        repo.append_board_entry(s, election.id, token_id(1), '{"b":1}', "T-1", entry_hash)
        repo.append_audit(s, actor="test", action="ballot.accepted", election_id=election.id)
    return election


def _refused(engine, sql: str, match: str = "ballot:") -> None:
    with pytest.raises(IntegrityError, match=match):
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE board_entries SET ballot_json = '{\"b\":2}'",
        "UPDATE board_entries SET position = position + 1",
        "DELETE FROM board_entries",
        "UPDATE token_issuance SET roll_entry_id = roll_entry_id",
        "DELETE FROM token_issuance",
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ],
)
def test_append_only_tables_refuse_update_and_delete(engine, filled, sql):
    _refused(engine, sql, match="append-only")


def test_board_is_unchanged_after_refusals(engine, sf, filled):
    _refused(engine, "DELETE FROM board_entries", match="append-only")
    with transaction(sf) as s:
        assert [e.ballot_json for e in repo.board(s, filled.id)] == ['{"b":1}']
        assert repo.verify_board_chain(s, filled.id, entry_hash) == 1


def test_truncate_refused_on_postgresql(engine, filled):
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    # board_checks references the board (migration 0010): a plain TRUNCATE is refused by the
    # foreign key already; with CASCADE, by the append-only triggers of both tables.
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="board_checks"):
        with engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE board_entries")
    _refused(engine, "TRUNCATE board_entries CASCADE", match="append-only")
    _refused(engine, "TRUNCATE board_checks", match="append-only")


def test_one_token_per_roll_entry_per_election(engine, filled):
    entry = filled.roll_entry_ids[0]
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO token_issuance (election_id, roll_entry_id) "
                    "VALUES (:e, :r)"
                ),
                {"e": filled.id, "r": entry},
            )


def test_token_issuance_must_name_a_roll_entry_of_the_same_election(engine, sf, filled):
    other = make_draft(sf, slug="other", members=1)
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO token_issuance (election_id, roll_entry_id) "
                    "VALUES (:e, :r)"
                ),
                {"e": other, "r": filled.roll_entry_ids[1]},
            )


def test_one_ballot_per_token_and_one_entry_per_position(engine, filled):
    insert = (
        "INSERT INTO board_entries (election_id, position, token_id, ballot_json, tracking_code,"
        " prev_hash, entry_hash) VALUES (:e, :p, :t, '{}', :c, :h, :h)"
    )
    h = "0" * 64
    for params in (
        {"e": filled.id, "p": 2, "t": token_id(1), "c": "T-new"},  # same token
        {"e": filled.id, "p": 1, "t": token_id(2), "c": "T-new"},  # same position
        {"e": filled.id, "p": 2, "t": token_id(2), "c": "T-1"},  # same tracking code
    ):
        with pytest.raises(IntegrityError):
            with engine.begin() as conn:
                conn.execute(text(insert), {**params, "h": h})


def test_redeemed_invitation_cannot_be_reset_or_deleted(engine, sf, filled):
    code = filled.codes[filled.roll_entry_ids[0]]
    with transaction(sf) as s:
        repo.redeem_invitation(s, filled.id, repo.hash_invitation_code(code, "cb-2025"))
    _refused(engine, "UPDATE invitations SET redeemed_at = NULL", match="redeemed invitation")
    _refused(engine, "DELETE FROM invitations WHERE redeemed_at IS NOT NULL", match="redeemed")


def test_election_status_cannot_jump_or_go_back(engine, filled):
    for status in ("draft", "key_ceremony", "tallied", "published"):
        _refused(engine, f"UPDATE elections SET status = '{status}'", match="ballot:")
    with engine.begin() as conn:  # the one allowed step
        conn.execute(text("UPDATE elections SET status = 'closed'"))


def test_new_election_starts_in_draft(engine):
    _refused(
        engine,
        "INSERT INTO elections (slug, status, title, created_at) "
        "VALUES ('x', 'open', 'x', CURRENT_TIMESTAMP)",
        match="draft",
    )


def test_manifest_frozen_after_draft_and_context_after_key_ceremony(engine, sf):
    election_id = make_draft(sf, slug="frozen")
    advance(sf, election_id, "key_ceremony")
    _refused(engine, "UPDATE elections SET manifest_json = '{}'", match="manifest is frozen")
    _refused(engine, "UPDATE elections SET manifest_hash = NULL", match="manifest is frozen")
    with engine.begin() as conn:  # still allowed during the ceremony
        conn.execute(text("UPDATE elections SET context_json = '{\"joint_key\":\"y\"}'"))
    advance(sf, election_id, "open")
    _refused(engine, "UPDATE elections SET context_json = '{}'", match="context is frozen")
    _refused(engine, "UPDATE elections SET base_hash = NULL", match="context is frozen")


def test_only_a_draft_election_can_be_deleted(engine, sf):
    draft = make_draft(sf, slug="d", members=0)
    opened = open_election(sf, slug="o", members=1)
    _refused(engine, f"DELETE FROM elections WHERE id = {opened.id}", match="draft")
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM elections WHERE id = {draft}"))


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO roll_entries (election_id, position, roll_id, name, status) "
        "VALUES (:e, 9, 'X', 'X', 'guest')",
        "INSERT INTO units (election_id, unit_id, position, name, kind) "
        "VALUES (:e, 'U', 1, 'U', 'robot')",
        "INSERT INTO units (election_id, unit_id, position, name, kind, score) "
        "VALUES (:e, 'U', 1, 'U', 'member', 101)",
        "INSERT INTO units (election_id, unit_id, position, name, kind, collective) "
        "VALUES (:e, 'U', 1, 'U', 'member', 'NOPE')",
        "INSERT INTO tallies (election_id, kind, payload_json, created_at) "
        "VALUES (:e, 'guess', '{}', CURRENT_TIMESTAMP)",
    ],
)
def test_check_and_foreign_key_constraints(engine, sf, sql):
    election_id = make_draft(sf, slug="checks", members=0)
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(text(sql), {"e": election_id})
