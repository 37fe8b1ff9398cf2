"""``ballot trustee …``: a trustee's own device, on the command line.

Each step opens the trustee's key file with the passphrase (asked, never stored), talks to
the server's JSON API with the trustee's access code, and writes the key file back (0600).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from ballot.crypto.threshold import ShareError
from ballot.tally.trustee_keyfile import KeyFileError, open_keys, read_keyfile, seal_keys, write_keyfile

from .http import ApiError, Http
from ballot.tally.board_check import CheckedBoard, same_head
from ballot.tally.decryption import DecryptionError

from .trustee import TrusteeCheckError, TrusteeDevice

_common = [
    click.option("--server", required=True, envvar="BALLOT_SERVER", help="e.g. http://192.168.1.10:8000"),
    click.option("--election", "slug", required=True, help="The election's short name (slug)."),
    click.option("--index", type=int, required=True, help="Your trustee number (1..n)."),
    click.option("--code", envvar="BALLOT_TRUSTEE_CODE", prompt="Access code", hide_input=True,
                 help="Your own access code, chosen with 'ballot trustee enrol' (or "
                      "BALLOT_TRUSTEE_CODE)."),
    click.option("--keyfile", type=click.Path(dir_okay=False, path_type=Path), required=True,
                 help="Your key file (created by keygen)."),
]


def common(f):
    for option in reversed(_common):
        f = option(f)
    return f


def _passphrase(confirm: bool = False) -> str:
    env = os.environ.get("BALLOT_TRUSTEE_PASSPHRASE")
    if env:
        return env
    return click.prompt("Passphrase for your key file", hide_input=True,
                        confirmation_prompt=confirm)


def _device(server: str, slug: str, index: int, code: str) -> TrusteeDevice:
    return TrusteeDevice(Http(server, bearer=code), slug, index)


def _load(keyfile: Path):
    try:
        return open_keys(read_keyfile(keyfile), _passphrase())
    except KeyFileError as exc:
        raise click.ClickException(str(exc)) from None


def _api(fn, *args):
    try:
        return fn(*args)
    except ApiError as exc:
        raise click.ClickException(f"the server refused: {exc.message} (HTTP {exc.status})") from None
    except OSError as exc:
        raise click.ClickException(f"cannot reach the server: {exc}") from None


@click.group("trustee")
def trustee_group() -> None:
    """Key ceremony and decryption for a member of the vote-counting committee."""


@trustee_group.command()
@click.option("--server", required=True, envvar="BALLOT_SERVER", help="e.g. http://192.168.1.10:8000")
@click.option("--election", "slug", required=True, help="The election's short name (slug).")
@click.option("--index", type=int, required=True, help="Your trustee number (1..n).")
@click.option("--code", envvar="BALLOT_TRUSTEE_CODE", prompt="Enrolment code from the secretary",
              hide_input=True, help="The one-time code the secretary gave you.")
def enrol(server, slug, index, code) -> None:
    """First sign-in: choose your own access code (the secretary's code stops working)."""
    new = os.environ.get("BALLOT_TRUSTEE_NEW_CODE") or click.prompt(
        "Your own access code (at least 10 characters; keep it, the secretary cannot reset it)",
        hide_input=True, confirmation_prompt=True)
    _api(_device(server, slug, index, code).enrol, new)
    click.echo(f"Enrolled as trustee {index}: use your own access code from now on "
               "(BALLOT_TRUSTEE_CODE or --code).")


@trustee_group.command()
@common
def keygen(server, slug, index, code, keyfile: Path) -> None:
    """Make your keys, publish the public part, write your encrypted key file."""
    if keyfile.exists():
        raise click.ClickException(f"{keyfile} exists: refusing to overwrite a trustee key")
    passphrase = _passphrase(confirm=True)
    keys = _api(_device(server, slug, index, code).keygen)
    write_keyfile(keyfile, seal_keys(keys, passphrase))
    click.echo(f"Keys published for trustee {index}; secret key file: {keyfile} (keep it safe).")


@trustee_group.command("send-shares")
@common
def send_shares(server, slug, index, code, keyfile: Path) -> None:
    """Send your encrypted shares to the other trustees (after all have run keygen)."""
    keys = _load(keyfile)
    _api(_device(server, slug, index, code).send_shares, keys)
    click.echo("Shares sent, each encrypted to its trustee.")


@trustee_group.command("receive-shares")
@common
@click.option("--wait", type=int, default=0, help="Seconds to wait for the others' shares.")
def receive_shares(server, slug, index, code, keyfile: Path, wait: int) -> None:
    """Check the shares the other trustees sent you; store your secret share."""
    passphrase = _passphrase()
    try:
        keys = open_keys(read_keyfile(keyfile), passphrase)
    except KeyFileError as exc:
        raise click.ClickException(str(exc)) from None
    device = _device(server, slug, index, code)
    deadline = time.monotonic() + wait
    while True:
        state = _api(device.state)
        if all(t["shares_sent"] for t in state["trustees"]) or time.monotonic() >= deadline:
            break
        time.sleep(2)
    try:
        keys = _api(device.receive_shares, keys)
    except ShareError as exc:
        raise click.ClickException(f"rejected: {exc} — the ceremony cannot finish; tell the "
                                   "secretary") from None
    write_keyfile(keyfile, seal_keys(keys, passphrase))
    click.echo("Every share checked against its sender's commitments; your share is stored.")


@trustee_group.command()
@common
@click.option("--yes", is_flag=True, help="Do not ask (scripts; better: --expect-fingerprint).")
@click.option("--expect-fingerprint", metavar="HEX",
              help="The election fingerprint shown on the projector (at least its first 16 hex "
                   "digits): approve only if the checked context has it.")
def approve(server, slug, index, code, keyfile: Path, yes: bool,
            expect_fingerprint: str | None) -> None:
    """After the secretary finishes the ceremony: check the election key against the keys your
    shares were checked against, compare the fingerprint with the projector, and approve it
    (voting opens only when every trustee has approved)."""
    keys = _load(keyfile)

    def confirm(base_hash: str) -> bool:
        grouped = " ".join(base_hash[i:i + 4] for i in range(0, 64, 4))
        click.echo("The election key is made of exactly the trustees' keys your shares were "
                   "checked against.")
        click.echo(f"Election fingerprint: {grouped}")
        if expect_fingerprint is not None:
            want = "".join(expect_fingerprint.split()).lower()
            ok = len(want) >= 16 and base_hash.startswith(want)
            if not ok:
                click.echo("This is NOT the fingerprint you expected (--expect-fingerprint).",
                           err=True)
            return ok
        if yes:
            return True
        return click.confirm("Is this the fingerprint on the projector?", default=False)

    device = _device(server, slug, index, code)
    try:
        base_hash = _api(lambda: device.approve(keys, confirm=confirm))
    except TrusteeCheckError as exc:
        raise click.ClickException(f"refused, not approved: {exc}") from None
    click.echo(f"Approval sent for fingerprint {base_hash}.")


def _progress():
    last = [-1]

    def show(done: int, total: int) -> None:
        step = max(1, total // 10)
        if done == total or done // step != last[0]:
            last[0] = done // step
            click.echo(f"  checked {done}/{total} ballots", err=True)

    return show


@trustee_group.command()
@common
@click.option("--yes", is_flag=True,
              help="Do not ask: the board's head was already compared (scripts; better: "
                   "--expect-head).")
@click.option("--expect-head", metavar="HEX",
              help="The head hash shown on the projector at close (at least its first 8 hex "
                   "digits): decrypt only if the checked board ends there.")
@click.option("--expect-ballots", type=int, metavar="N",
              help="The ballot count shown on the projector at close.")
@click.option("--expect-valid", type=int, metavar="N",
              help="The valid ballots (counted) once every ballot is checked.")
def decrypt(server, slug, index, code, keyfile: Path, yes: bool, expect_head: str | None,
            expect_ballots: int | None, expect_valid: int | None) -> None:
    """After voting closes: check the whole board here, recompute the totals from it and
    decrypt them (one per unit, never a single ballot), with proofs."""
    keys = _load(keyfile)
    if keys.share is None:
        raise click.ClickException("this key file has no secret share: run receive-shares first")

    def confirm(checked: CheckedBoard) -> bool:
        invalid = checked.ballots - checked.counted
        click.echo(f"Board checked: {checked.ballots} ballots received "
                   f"({checked.tokens} tokens issued): {checked.counted} valid and counted, "
                   f"{invalid} invalid; every chain link, token, signature and proof verified.")
        if invalid:
            click.echo(f"WARNING: {invalid} ballots are invalid and left out. An honest phone "
                       "never makes one: compare the valid count with the projector before "
                       "you decrypt.", err=True)
        click.echo(f"Board head: {checked.head}")
        if expect_head is not None or expect_ballots is not None or expect_valid is not None:
            ok = same_head(checked, expect_head or checked.head, expect_ballots, expect_valid)
            if not ok:
                click.echo("This is NOT the head you expected (--expect-head, at least 16 "
                           "digits; --expect-ballots/--expect-valid).", err=True)
            return ok
        if yes:
            return True
        return click.confirm("Does this match the projector (ballots received, valid, and the "
                             "head) and the number of members who voted?", default=False)

    device = _device(server, slug, index, code)
    click.echo("Downloading and checking the whole board…", err=True)
    try:
        n = _api(lambda: device.decrypt(keys, confirm=confirm, progress=_progress()))
    except (TrusteeCheckError, DecryptionError) as exc:
        raise click.ClickException(f"refused, nothing decrypted: {exc}") from None
    click.echo(f"Partial decryption accepted; {n} trustee(s) have decrypted so far.")


@trustee_group.command()
@click.option("--server", required=True, envvar="BALLOT_SERVER")
@click.option("--election", "slug", required=True)
def status(server, slug) -> None:
    """Show the key ceremony's progress."""
    state = _api(Http(server).get, f"/api/v1/elections/{slug}/ceremony")
    click.echo(f"Election {slug}: {state['status']}, threshold {state['threshold']}")
    for t in state["trustees"]:
        click.echo(f"  {t['index']}. {t['name']}: keys {'✓' if t['public'] else '…'}, "
                   f"shares sent {'✓' if t['shares_sent'] else '…'}, "
                   f"shares checked {'✓' if t['accepted'] else '…'}, "
                   f"fingerprint approved {'✓' if t.get('approved') else '…'}")
