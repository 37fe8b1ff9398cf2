"""Alembic environment for ballot (run through ballot.store.migrate, never needs alembic.ini).

``ballot.store.migrate`` passes an open connection in ``config.attributes["connection"]``; when
it is absent (e.g. ``alembic -x``-style use), the URL comes from the ``sqlalchemy.url`` option,
``$BALLOT_DATABASE_URL`` or the default SQLite file.
"""

from __future__ import annotations

from alembic import context

from ballot.store.db import make_engine
from ballot.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("ballot migrations run online only (ballot db upgrade)")
run_migrations_online()
