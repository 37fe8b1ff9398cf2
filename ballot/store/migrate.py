"""Schema migrations, run in code (no alembic.ini): ``upgrade(url)`` and the ``ballot db`` commands.

The Alembic scripts live inside the package (``ballot/store/migrations``), so this works from an
installed package as well as from the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ballot.instance import database_options, open_database
from ballot.store.db import make_engine

__all__ = ["MIGRATIONS_DIR", "alembic_config", "head_revision", "upgrade", "current", "db_group"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migration scripts."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest revision in the package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the package ships no migrations")
    return head


def upgrade(
    url: str | None = None,
    revision: str = "head",
    *,
    instance_path: str | os.PathLike | None = None,
) -> str | None:
    """Bring the database at ``url`` (default: see ``db.resolve_database_url``) to ``revision``
    in one transaction; idempotent. Returns the revision the database is at afterwards."""
    engine = make_engine(url, instance_path)
    try:
        cfg = alembic_config()
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def current(
    url: str | None = None, *, instance_path: str | os.PathLike | None = None
) -> str | None:
    """The revision the database is at (None for an empty database)."""
    engine = make_engine(url, instance_path)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


# --- command line: the lead registers ``db_group`` in ballot/cli.py ------------------------------

def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@click.group("db")
def db_group() -> None:
    """Database schema: upgrade, current revision."""


@db_group.command("upgrade")
@database_options
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade_command(database_url: str | None, instance_path: str, revision: str) -> None:
    """Create or migrate the schema (idempotent)."""
    url = open_database(database_url, instance_path)
    try:
        at = upgrade(url, revision)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip()
        raise click.ClickException(f"cannot upgrade {_shown(url)}: {reason}") from None
    click.echo(f"{_shown(url)}: at revision {at} (head {head_revision()})")


@db_group.command("current")
@database_options
def current_command(database_url: str | None, instance_path: str) -> None:
    """Show the database's schema revision."""
    url = open_database(database_url, instance_path)
    try:
        at = current(url)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip()
        raise click.ClickException(f"cannot read {_shown(url)}: {reason}") from None
    head = head_revision()
    if at is None:
        click.echo(f"{_shown(url)}: empty (no schema); run `ballot db upgrade` (head {head})")
    elif at == head:
        click.echo(f"{_shown(url)}: at revision {at} (up to date)")
    else:
        click.echo(f"{_shown(url)}: at revision {at}; head is {head}: run `ballot db upgrade`")
