"""``ballot verify-audit``: check a Benaloh-audited ballot (docs/protocol.md §8.4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ballot.crypto.ballots import AuditRecord, BallotError, ballot_from_json, check_audit
from ballot.crypto.encoding import EncodingError, b64decode, parse_json
from ballot.crypto.group import decode_scalar
from ballot.election.manifest import Manifest
from ballot.tally.context import ElectionContext

from .http import ApiError, Http


def _context(info_or_record: dict) -> ElectionContext:
    return ElectionContext.from_json(Manifest.from_json(info_or_record["manifest"]),
                                     info_or_record["context"])


def is_signed(doc: Any) -> bool:
    """Does this audit document carry a signed (castable) ballot? The phone's audits since
    docs/protocol.md §8.4 open an unsigned body; older files carried the signature."""
    if isinstance(doc, dict) and isinstance(doc.get("ballot"), dict):
        return "signature" in doc["ballot"]
    return False


def check_audit_document(ctx: ElectionContext, doc: dict) -> tuple[str, list]:
    """(tracking code, choices) of an audited ballot that encrypts what it says; raises
    BallotError naming the first unit that does not. The ballot is the unsigned body (or, in
    an older file, the signed ballot)."""
    if isinstance(doc, dict) and isinstance(doc.get("audit"), dict):  # the phone page's file
        doc = {"ballot": doc.get("ballot"), **doc["audit"]}
    if not isinstance(doc, dict) or not {"ballot", "choices", "nonces"} <= set(doc):
        raise BallotError("an audit document has ballot, choices and nonces")
    ballot = ballot_from_json(doc["ballot"], ctx.shape, signed=is_signed(doc))
    if ballot.election != ctx.base_hash:
        raise BallotError("the audited ballot is for another election")
    try:
        nonces = tuple(decode_scalar(b64decode(n, 32, f"nonces[{i}]"), f"nonces[{i}]")
                       for i, n in enumerate(doc["nonces"]))
    except (EncodingError, TypeError) as exc:
        raise BallotError(str(exc)) from None
    choices = doc["choices"]
    if not isinstance(choices, list) or not all(
            c is None or (isinstance(c, int) and not isinstance(c, bool)) for c in choices):
        raise BallotError("choices: a list of level indices or null")
    check_audit(ballot, ctx.shape, ctx.public_key, AuditRecord(tuple(choices), nonces))
    return ballot.tracking_code, choices


@click.command("verify-audit")
@click.argument("audit", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--record", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The election record (or the election info JSON of the phone page).")
@click.option("--server", help="Fetch the election from this server instead, with --election.")
@click.option("--election", "slug", help="The election's short name on --server.")
def verify_audit(audit: Path, record: Path | None, server: str | None, slug: str | None) -> None:
    """Check that an audited (not cast) ballot encrypts exactly the choices it shows."""
    try:
        if record is not None:
            ctx = _context(parse_json(record.read_bytes()))
        elif server and slug:
            ctx = _context(Http(server).get(f"/api/v1/elections/{slug}"))
        else:
            raise click.UsageError("give --record, or --server and --election")
        doc = parse_json(audit.read_bytes())
        code, choices = check_audit_document(ctx, doc)
    except (BallotError, EncodingError, KeyError, ValueError, ApiError) as exc:
        raise click.ClickException(f"audit FAILED: {exc}") from None
    levels = ctx.manifest.levels.codes
    click.echo(f"Audit OK: ballot {code} encrypts exactly the shown choices "
               f"({len(choices)} units).")
    for unit, choice in zip(ctx.manifest.units, choices):
        click.echo(f"  {unit.name}: {levels[choice] if choice is not None else 'bỏ qua / abstain'}")
    click.echo("This ballot was audited, so it must not be cast; the phone encrypts again.")
    if is_signed(doc):
        click.echo("Warning: this file carries a SIGNED ballot (an older phone page): whoever "
                   "holds it could cast it while its token is unspent. Phones now open an "
                   "unsigned body.")
