"""Engines, sessions, transactions."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text

from ballot.store import repo
from ballot.store.db import make_engine, resolve_database_url, session_factory, transaction
from ballot.store.models import Election
from tests.store.helpers import make_draft


def test_default_url_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("BALLOT_DATABASE_URL", raising=False)
    url = resolve_database_url(None, tmp_path / "inst")
    assert url == f"sqlite:///{tmp_path / 'inst' / 'ballot.sqlite'}"
    assert (tmp_path / "inst").is_dir()
    monkeypatch.setenv("BALLOT_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert resolve_database_url(None, tmp_path) == "postgresql+psycopg://u@h/db"
    assert resolve_database_url("sqlite:///x.db", tmp_path) == "sqlite:///x.db"


def test_sqlite_pragmas(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        engine.dispose()


def test_transaction_commits_or_rolls_back(sf):
    with pytest.raises(RuntimeError):
        with transaction(sf) as s:
            repo.create_election(s, slug="gone", title="x")
            raise RuntimeError("boom")
    with transaction(sf) as s:
        repo.create_election(s, slug="kept", title="x")
    with transaction(sf, read_only=True) as s:
        assert [e.slug for e in s.query(Election)] == ["kept"]


def test_read_only_transaction_does_not_wait_for_a_writer(engine, sf):
    election_id = make_draft(sf, members=2)
    writer = sf()
    try:
        repo.create_election(writer, slug="pending", title="x")
        writer.flush()  # holds SQLite's write lock until rollback
        with transaction(sf, read_only=True) as s:
            assert len(repo.roll(s, election_id)) == 2
            assert repo.get_election(s, election_id).slug == "cb-2025"
    finally:
        writer.rollback()
        writer.close()


def test_times_are_timezone_aware_utc(sf):
    election_id = make_draft(sf)
    with transaction(sf) as s:
        created = repo.get_election(s, election_id).created_at
    assert isinstance(created, datetime) and created.utcoffset().total_seconds() == 0


def test_slugs_are_unique_and_url_safe(sf):
    with transaction(sf) as s:
        repo.create_election(s, slug="cb-2025", title="x")
    with pytest.raises(repo.SlugTaken):
        with transaction(sf) as s:
            repo.create_election(s, slug="cb-2025", title="y")
    with pytest.raises(ValueError, match="slug"):
        with transaction(sf) as s:
            repo.create_election(s, slug="Chi bộ 1", title="y")


def test_several_engines_share_nothing(migrated_db_url):
    a, b = make_engine(migrated_db_url), make_engine(migrated_db_url)
    try:
        with transaction(session_factory(a)) as s:
            repo.create_election(s, slug="from-a", title="x")
        with b.connect() as conn:
            assert conn.execute(text("SELECT slug FROM elections")).scalar_one() == "from-a"
    finally:
        a.dispose()
        b.dispose()
