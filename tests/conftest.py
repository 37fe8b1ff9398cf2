"""Shared fixtures: a database for each test.

``db_url`` is an empty database: a temporary SQLite file by default, or, when
``BALLOT_TEST_DATABASE_URL`` is set (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``),
a fresh PostgreSQL schema used through ``search_path`` and dropped after the test, so tests are
isolated and several test runs can share one server. ``migrated_db_url`` has the schema.
"""

from __future__ import annotations

import os
import uuid

import pytest

TEST_DATABASE_ENV = "BALLOT_TEST_DATABASE_URL"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "concurrency: several threads or processes against one database (SQLite and PostgreSQL)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get(TEST_DATABASE_ENV)
    if not url:
        return "database: SQLite (temporary files); set BALLOT_TEST_DATABASE_URL for PostgreSQL"
    from sqlalchemy.engine import make_url

    return f"database: {make_url(url).render_as_string(hide_password=True)} (schema per test)"


@pytest.fixture
def db_url(tmp_path):
    """The URL of an empty database for this test."""
    base = os.environ.get(TEST_DATABASE_ENV)
    if not base:
        yield f"sqlite:///{tmp_path / 'ballot.sqlite'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    schema = f"ballot_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, poolclass=NullPool)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        # Named after the schema, so that the connections this test's engines leave in their
        # pools (apps are not disposed) are closed when it ends: PostgreSQL allows 100.
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}",
                                                "application_name": schema})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                         {"name": schema})
            conn.execute(text("SET LOCAL lock_timeout = '20s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def migrated_db_url(db_url):
    """The URL of a database with the current schema (``ballot db upgrade``)."""
    from ballot.store.migrate import upgrade

    upgrade(db_url)
    return db_url
