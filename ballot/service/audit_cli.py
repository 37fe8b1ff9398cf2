"""``ballot audit``: check and copy the hash-chained audit log (nhật ký kiểm toán).

The audit log (table ``audit_log``, docs/storage.md) records what the secretary, the trustees
and the system did, and one line per token issued — never a secret, never a vote. The database
refuses UPDATE and DELETE on it (triggers), and each entry carries the SHA-256 of the previous
one, so an entry changed or removed behind the database's back breaks the chain at that entry.

- ``ballot audit verify`` recomputes the chain from the database (or, with ``--file``, from a
  copy made by ``ballot audit export``) and exits 0 only if it is intact. It prints the last
  entry's number and hash: write them in the minutes. Someone able to rewrite the *whole*
  table could recompute every hash; ``--head SEQ:HASH`` with a hash written down earlier
  (minutes, a copy kept by the committee) detects that too.
- ``ballot audit export`` writes a copy (one JSON object per line) to keep with the minutes.

Exit codes: 0 intact; 1 broken (the message names the first bad entry); 2 cannot read.
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable, Iterator

import click

from ballot.instance import database_options, open_database
from ballot.store.db import make_engine, session_factory
from ballot.store.errors import ChainError

__all__ = ["audit_group", "read_export", "export_rows"]

FIELDS = ("seq", "election_id", "actor", "action", "detail_json", "at", "prev_hash",
          "entry_hash")

class _Unreadable(click.ClickException):
    exit_code = 2


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def _db_rows(url: str) -> Iterator[Iterator[Any]]:
    """The entries in seq order, streamed; the connection is closed when the block ends."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from ballot.store.models import AuditEntry

    def unreadable(exc: SQLAlchemyError) -> _Unreadable:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return _Unreadable(f"cannot read the audit log of {_shown(url)}: {reason}")

    def rows(session: Any) -> Iterator[Any]:
        try:
            yield from session.execute(select(AuditEntry).order_by(AuditEntry.seq)
                                       .execution_options(yield_per=1000)).scalars()
        except SQLAlchemyError as exc:
            raise unreadable(exc) from None

    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            it = rows(session)
            try:
                yield it
            finally:
                it.close()
    except SQLAlchemyError as exc:
        raise unreadable(exc) from None
    finally:
        engine.dispose()


def _iso_utc(at: datetime) -> str:
    """The form the chain hashes (docs/storage.md): YYYY-MM-DDTHH:MM:SS.ffffffZ."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def export_rows(rows: Iterable[Any]) -> Iterator[str]:
    """One JSON line per entry, with the stored values (``at`` as ISO 8601 UTC)."""
    for r in rows:
        yield json.dumps({f: (_iso_utc(r.at) if f == "at" else getattr(r, f)) for f in FIELDS},
                         ensure_ascii=False, sort_keys=True)


def read_export(path: Path) -> list[SimpleNamespace]:
    """The entries of an export file, for :func:`ballot.store.repo.check_audit_chain`."""
    rows = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _Unreadable(f"cannot read {path}: {exc}") from None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict) or set(data) != set(FIELDS):
                raise ValueError(f"expected the fields {', '.join(FIELDS)}")
            at = datetime.fromisoformat(data["at"].replace("Z", "+00:00"))
        except (ValueError, TypeError, AttributeError) as exc:
            raise click.ClickException(f"{path} line {n}: not an audit entry ({exc})") from None
        rows.append(SimpleNamespace(**{**data, "at": at}))
    return rows


def _parse_head(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise click.BadParameter("write it as SEQ:HASH, e.g. 42:3f1c… (64 hex digits)",
                                 param_hint="--head")
    return int(seq), digest.lower()


@click.group("audit")
def audit_group() -> None:
    """The audit log: verify its hash chain, export a copy."""


@audit_group.command("verify")
@database_options
@click.option("--file", "from_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Check a copy made by `ballot audit export` instead of the database.")
@click.option("--head", "head", metavar="SEQ:HASH",
              help="An entry number and hash written down earlier (e.g. in the minutes): the "
                   "log must still contain exactly that entry.")
def verify_command(database_url: str | None, instance_path: str, from_file: Path | None,
                   head: str | None) -> None:
    """Recompute the audit log's hash chain; exit 0 only if every entry is intact."""
    from ballot.store.repo import check_audit_chain

    anchor = _parse_head(head)
    seen: dict[int, str] = {}
    last: list[Any] = []

    def watched(rows: Iterable[Any]) -> Iterator[Any]:
        for r in rows:
            if anchor and r.seq == anchor[0]:
                seen[r.seq] = r.entry_hash
            last[:] = [r.seq, r.entry_hash]
            yield r

    try:
        with ExitStack() as stack:
            if from_file is not None:
                source = str(from_file)
                rows: Iterable[Any] = read_export(from_file)
            else:
                url = open_database(database_url, instance_path)
                source = _shown(url)
                rows = stack.enter_context(_db_rows(url))
            n = check_audit_chain(watched(rows))
    except ChainError as exc:
        click.echo(f"Audit log BROKEN at entry {exc.position}: {exc.reason}", err=True)
        click.echo(f"({source}; entries before {exc.position} are intact)", err=True)
        sys.exit(1)
    if anchor is not None:
        seq, digest = anchor
        if seq not in seen:
            click.echo(f"Audit log BROKEN at entry {seq}: the entry written down earlier is "
                       f"missing (the log has {n} entries)", err=True)
            sys.exit(1)
        if seen[seq] != digest:
            click.echo(f"Audit log BROKEN at entry {seq}: its hash is {seen[seq]}, not the "
                       f"{digest} written down earlier (the log was rewritten)", err=True)
            sys.exit(1)
    if n == 0:
        click.echo(f"Audit log OK: empty ({source}).")
        return
    click.echo(f"Audit log OK: {n} entries, each linked to the previous one ({source}).")
    click.echo(f"Last entry: {last[0]}:{last[1]}  (write this in the minutes)")
    if anchor is not None:
        click.echo(f"Entry {anchor[0]} still has the hash written down earlier.")


@audit_group.command("export")
@database_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write (one JSON object per line).")
def export_command(database_url: str | None, instance_path: str, out: Path) -> None:
    """Write a copy of the audit log (to keep with the minutes, or to check elsewhere)."""
    url = open_database(database_url, instance_path)
    with _db_rows(url) as rows:
        lines = list(export_rows(rows))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    click.echo(f"{len(lines)} audit entries written to {out}")
