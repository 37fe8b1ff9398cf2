"""Engines, sessions and transactions (docs/storage.md, "Connections").

Nothing here is global: every web app, CLI command or test builds its own engine with
:func:`make_engine` and its own session factory with :func:`session_factory`, so several
processes (or several apps in one process) never share mutable state.

SQLite (the default, one file ``<instance>/ballot.sqlite``) is opened in WAL mode with foreign
keys on and a busy timeout, and every transaction starts with ``BEGIN IMMEDIATE``: writers are
serialised by SQLite's write lock (waiting up to the busy timeout) instead of failing with
"database is locked" when a read transaction tries to become a write transaction. Pass
``read_only=True`` to :func:`transaction` for a plain ``BEGIN`` (deferred) that does not take
the write lock. PostgreSQL uses READ COMMITTED; the repository functions lock rows where needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "DATABASE_URL_ENV",
    "SQLITE_FILENAME",
    "BUSY_TIMEOUT_MS",
    "resolve_database_url",
    "make_engine",
    "session_factory",
    "transaction",
]

DATABASE_URL_ENV = "BALLOT_DATABASE_URL"
SQLITE_FILENAME = "ballot.sqlite"
BUSY_TIMEOUT_MS = 30_000

# Execution option read by the SQLite "begin" hook: "IMMEDIATE" (default) or "DEFERRED".
_SQLITE_BEGIN_OPTION = "ballot_sqlite_begin"


def resolve_database_url(
    url: str | None = None, instance_path: str | os.PathLike | None = None
) -> str:
    """The URL to use: ``url`` if given, else ``$BALLOT_DATABASE_URL``, else the SQLite file
    ``<instance_path>/ballot.sqlite`` (``instance_path`` defaults to the instance folder of
    ``ballot.instance``; it is created if missing)."""
    if url:
        return url
    env = os.environ.get(DATABASE_URL_ENV)
    if env:
        return env
    from ballot.instance import instance_folder

    folder = instance_folder(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / SQLITE_FILENAME}"


def _is_memory_sqlite(database: str | None) -> bool:
    return not database or database == ":memory:" or "mode=memory" in database


def _configure_sqlite(engine: Engine, *, memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
        # Take transaction control away from the sqlite3 module (see the "begin" hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = FULL")  # a receipted ballot survives a power cut
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def make_engine(
    url: str | None = None,
    instance_path: str | os.PathLike | None = None,
    **engine_kwargs,
) -> Engine:
    """Build an engine for ``url`` (see :func:`resolve_database_url` for the default)."""
    resolved = make_url(resolve_database_url(url, instance_path))
    backend = resolved.get_backend_name()
    if backend == "sqlite":
        memory = _is_memory_sqlite(resolved.database)
        connect_args = dict(engine_kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", BUSY_TIMEOUT_MS / 1000)
        if not memory:
            Path(resolved.database).parent.mkdir(parents=True, exist_ok=True)
            connect_args.setdefault("check_same_thread", False)
        engine_kwargs.setdefault("pool_size", 20)
        engine_kwargs.setdefault("max_overflow", 20)
        if memory:
            # One in-memory database per connection would be useless: share one.
            from sqlalchemy.pool import StaticPool

            engine_kwargs.pop("pool_size")
            engine_kwargs.pop("max_overflow")
            engine_kwargs.setdefault("poolclass", StaticPool)
            connect_args.setdefault("check_same_thread", False)
        engine = create_engine(resolved, connect_args=connect_args, **engine_kwargs)
        _configure_sqlite(engine, memory=memory)
        return engine
    if backend == "postgresql":
        engine_kwargs.setdefault("pool_pre_ping", True)
        engine_kwargs.setdefault("pool_size", 10)
        engine_kwargs.setdefault("max_overflow", 20)
    return create_engine(resolved, **engine_kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session], *, read_only: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception, always close.

    ``read_only=True`` starts a deferred transaction on SQLite (no write lock; a write inside it
    may then fail with "database is locked"); it has no effect on PostgreSQL.
    """
    session = factory()
    try:
        if read_only:
            session.connection(execution_options={_SQLITE_BEGIN_OPTION: "DEFERRED"})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
