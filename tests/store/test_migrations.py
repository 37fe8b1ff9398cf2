"""The schema comes from the Alembic migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect

from ballot.store.db import make_engine
from ballot.store.migrate import MIGRATIONS_DIR, current, db_group, head_revision, upgrade
from ballot.store.models import Base

TABLES = {
    "elections", "roll_entries", "units", "trustees", "invitations", "token_issuance",
    "board_entries", "tallies", "audit_log", "admins", "rate_events", "board_checks",
}


def test_upgrade_from_empty_creates_every_table(db_url):
    assert current(db_url) is None
    assert upgrade(db_url) == head_revision() == "0010"
    engine = make_engine(db_url)
    try:
        assert TABLES | {"alembic_version"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert upgrade(db_url) == "0010"  # idempotent


def test_models_match_the_migrations(migrated_db_url):
    engine = make_engine(migrated_db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_migrations_ship_inside_the_package():
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert MIGRATIONS_DIR.parent.name == "store"


def test_cli_upgrade_and_current(db_url, monkeypatch, tmp_path):
    monkeypatch.delenv("BALLOT_DATABASE_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(db_group, ["current", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert "empty" in result.output
    result = runner.invoke(db_group, ["upgrade", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert f"at revision {head_revision()}" in result.output
    monkeypatch.setenv("BALLOT_DATABASE_URL", db_url)
    result = runner.invoke(db_group, ["current"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_cli_default_is_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("BALLOT_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(db_group, ["upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "instance" / "ballot.sqlite").is_file()


def test_cli_reports_an_unreachable_database(tmp_path):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    result = CliRunner().invoke(db_group, ["upgrade", "--database-url", url])
    assert result.exit_code != 0
    assert "cannot upgrade" in result.output
