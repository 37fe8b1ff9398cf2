"""The instance folder: where one installation of ballot keeps its files.

Every command that touches the server's data — ``ballot serve`` (one worker or several),
``ballot admin``, ``ballot audit``, ``ballot db`` — finds the folder here and nowhere else, so
that an account created with ``ballot admin create`` is the one ``ballot serve`` signs in:

- ``$BALLOT_INSTANCE`` when it is set,
- else ``./instance`` in the folder the command is run from.

The folder holds the SQLite database (unless ``$BALLOT_DATABASE_URL`` names another), the
issuer and receipt keys (``keys/``), the election records (``records/``), the session secret
and the sealed slips. Each command prints it when it starts (:func:`describe`).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["INSTANCE_ENV", "DEFAULT_FOLDER", "instance_folder", "describe"]

INSTANCE_ENV = "BALLOT_INSTANCE"
DEFAULT_FOLDER = "instance"


def instance_folder(path: str | os.PathLike | None = None) -> Path:
    """The instance folder as an absolute path: ``path`` if given, else ``$BALLOT_INSTANCE``,
    else ``./instance``. The folder is not created here."""
    chosen = path if path not in (None, "") else os.environ.get(INSTANCE_ENV) or DEFAULT_FOLDER
    return Path(chosen).expanduser().resolve()


def describe(folder: Path, database_url: str) -> str:
    """The line a command prints when it starts: the folder and the database (no password)."""
    from sqlalchemy.engine import make_url

    shown = make_url(database_url).render_as_string(hide_password=True)
    return f"Instance folder: {folder} (database: {shown}; set {INSTANCE_ENV} to use another)"


def database_options(command):
    """The ``--database-url`` and ``--instance-path`` options, the same for every command that
    opens the server's database (``ballot db``, ``ballot audit``)."""
    import click

    from ballot.store.db import DATABASE_URL_ENV

    command = click.option(
        "--instance-path", default=None, type=click.Path(file_okay=False),
        help=f"Instance folder (default: ${INSTANCE_ENV}, else ./instance).")(command)
    return click.option(
        "--database-url", envvar=DATABASE_URL_ENV, default=None,
        help=f"SQLAlchemy URL (default: ${DATABASE_URL_ENV}, else SQLite in the instance "
             "folder).")(command)


def open_database(database_url: str | None, instance_path: str | None) -> str:
    """The database URL a command uses, after printing the start line (on stderr, so that a
    command's own output stays clean)."""
    import click

    from ballot.store.db import resolve_database_url

    folder = instance_folder(instance_path)
    url = resolve_database_url(database_url, folder)
    click.echo(describe(folder, url), err=True)
    return url
