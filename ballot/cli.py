"""The ``ballot`` command line."""

from __future__ import annotations

import importlib
import os
import sys
import threading
from pathlib import Path

import click

from ballot import __version__


class _LazyGroup(click.Group):
    """Commands defined in other modules are imported only when they run (or for --help):
    ``ballot verify`` must start fast, in its worker processes too, which import this module."""

    lazy = {
        "count": ("ballot.election.count_file", "count_command"),
        "db": ("ballot.store.migrate", "db_group"),
        "trustee": ("ballot.clients.trustee_cli", "trustee_group"),
        "verify-audit": ("ballot.clients.audit_cli", "verify_audit"),
        "admin": ("ballot.web.admin_cli", "admin_group"),
        "audit": ("ballot.service.audit_cli", "audit_group"),
        "monitor": ("ballot.clients.monitor", "monitor_command"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attr = self.lazy[name]
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup)
@click.version_option(__version__, prog_name="ballot")
def main() -> None:
    """ballot — bỏ phiếu kín điện tử, kiểm chứng được / verifiable secret ballot."""


@main.command()
@click.option("--voters", default=87, show_default=True, help="Official members on the roll.")
@click.option("--units", default=87, show_default=True, help="Members to classify.")
@click.option("--trustees", default=3, show_default=True, help="Vote-counting committee size n.")
@click.option("--threshold", default=2, show_default=True, help="Trustees needed to decrypt (k).")
@click.option("--record", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the election record (default: in --out).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("ballot-demo"), show_default=True, help="Working folder (recreated).")
@click.option("--seed", type=int, default=None, help="Seed for the simulated preferences.")
def demo(voters: int, units: int, trustees: int, threshold: int, record: Path | None, out: Path,
         seed: int | None) -> None:
    """Run a whole meeting end to end and verify its record."""
    from ballot.demo import run_demo

    if voters < 1 or units < 1 or trustees < 1:
        raise click.UsageError("--voters, --units and --trustees must be at least 1")
    if not 1 <= threshold <= trustees:
        raise click.UsageError("--threshold must be between 1 and --trustees")
    if units > voters:
        raise click.UsageError("a branch classifies its own members: --units ≤ --voters")
    state = {}

    def progress(label: str, done: int, total: int) -> None:
        if state.get("label") != label:
            state["label"] = label
            click.echo("")
        width = 30
        filled = width * done // max(total, 1)
        click.echo(f"\r{label}: [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", nl=False)
        if done == total:
            click.echo("")
            state["label"] = None

    result = run_demo(out=out, voters=voters, units=units, trustees=trustees,
                      threshold=threshold, record=record, seed=seed, say=click.echo,
                      progress=progress)
    sys.exit(0 if result.ok else 1)


@main.command()
@click.argument("record", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--export-page", "export_page", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Write the browser verifier as one self-contained HTML file (works offline, "
                   "from file://) and print its SHA-256 fingerprint; RECORD is then optional.")
@click.option("--receipt", "receipt", default=None,
              help="The receipt file the phone saved (“Lưu biên nhận”): its signature, position "
                   "and entry hash are checked; or a tracking code to look up.")
@click.option("--workers", type=int, default=None, help="Processes for ballot checks.")
@click.option("--first-round", "first_round", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="For a second round: the first round's record; also verify it and that "
                   "this round's candidates, groups, K and base come from its results.")
@click.option("--require-approvals", is_flag=True,
              help="Fail if the record has no trustees' approvals of the fingerprint (every "
                   "election opened since approvals exist has them).")
def verify(record: Path | None, receipt: str | None, workers: int | None,
           first_round: Path | None, require_approvals: bool = False,
           export_page: Path | None = None) -> None:
    """Verify an election record from the file alone.

    Exit status: 0 every check passed (and the receipt, if given, is on the board as signed);
    1 the record fails a check; 2 bad usage; 3 the receipt is not on the board, or the receipt
    file does not check (signature, position, entry hash)."""
    if export_page is not None:
        from ballot.web.verifier import export_page as write_page

        try:
            fingerprint = write_page(export_page)
        except OSError as exc:
            raise click.ClickException(f"cannot write {export_page}: {exc.strerror}") from None
        click.echo(f"Verifier page written to {export_page}\n"
                   f"Dấu vân tay / fingerprint (SHA-256): {fingerprint}")
        if record is None:
            return
    if record is None:
        raise click.UsageError("give the RECORD to verify (or --export-page FILE)")
    from ballot.tally.record import RecordError, load_record
    from ballot.tally.report import checklist
    from ballot.tally.verify import find_receipt, verify_record

    try:
        rec = load_record(record)
        rec_bytes = record.read_bytes()
    except RecordError as exc:
        raise click.ClickException(str(exc)) from None
    first_rec = first_bytes = None
    if first_round is not None:
        from ballot.tally.verify_link import is_second_round

        if not is_second_round(rec):
            raise click.UsageError(f"--first-round: {record} is not a second-round election "
                                   "(its manifest has no ballot_b); verify it without "
                                   "--first-round")
        try:
            first_bytes = first_round.read_bytes()
        except OSError as exc:
            raise click.ClickException(f"cannot read {first_round}: {exc.strerror}") from None
        try:
            first_rec = load_record(first_round)
        except RecordError as exc:
            raise click.ClickException(str(exc)) from None
    state = {"shown": False}

    def progress_for(label: str):
        def progress(done: int, total: int) -> None:
            if sys.stderr.isatty() or os.environ.get("BALLOT_PROGRESS"):
                width = 30
                filled = width * done // max(total, 1)
                click.echo(f"\r{label}: [{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
                           nl=done == total, err=True)
                state["shown"] = True
        return progress

    report = verify_record(rec, progress=progress_for("Ballots"), workers=workers, data=rec_bytes,
                           require_approvals=require_approvals)
    if first_rec is not None:
        from ballot.tally.verify_link import verify_link

        # The link (round two's ballot_b against round one's record), then round one itself.
        report.checks.extend(verify_link(rec, first_rec, first_bytes).checks)
        report1 = verify_record(first_rec, progress=progress_for("First-round ballots"),
                                workers=workers)
        failure1 = report1.first_failure
        report.add("first_round_record", "First-round record verifies", report1.ok,
                   f"all {len(report1.checks)} checks passed" if report1.ok else
                   f"first failing check: {failure1.title}: {failure1.detail}" if failure1 else
                   "no check run")
    click.echo(checklist(report))
    receipt_file = Path(receipt) if receipt is not None else None
    if receipt_file is not None and (receipt_file.is_file() or receipt.lstrip().startswith("{")):
        from ballot.crypto.encoding import EncodingError, parse_json
        from ballot.tally.verify_receipt import check_receipt_file

        try:
            text = receipt_file.read_text(encoding="utf-8") if receipt_file.is_file() else receipt
            checked = check_receipt_file(rec, parse_json(text))
        except (OSError, UnicodeDecodeError, EncodingError) as exc:
            raise click.ClickException(f"cannot read the receipt file {receipt}: {exc}") from None
        for line in checked.lines:
            click.echo(f"  Receipt: {line}")
        if not checked.ok:
            click.echo(f"Receipt file {receipt}: DOES NOT CHECK — {checked.failure}.")
            sys.exit(3)
        counted = "and counted in the verified tally" if report.ok else \
            "but the record does not verify, so the count cannot be confirmed"
        click.echo(f"Receipt file {receipt}: on the board as signed, {counted}.")
    elif receipt is not None:
        try:
            found = find_receipt(rec, receipt)
        except ValueError as exc:
            raise click.ClickException(f"cannot look up the receipt: {exc}") from None
        if found is None:
            click.echo(f"Receipt {receipt}: NOT on the board — this ballot is not in the record.")
            sys.exit(3)
        position, code = found
        entry = rec["board"][position - 1]
        invalid = isinstance(entry, dict) and entry.get("status") == "invalid"
        counted = ("but marked invalid (its proofs fail: "
                   f"{entry.get('reason')}), so NOT counted" + ("" if report.ok else
                   "; and the record does not verify")) if invalid else \
            "and counted in the verified tally" if report.ok else \
            "but the record does not verify, so the count cannot be confirmed"
        click.echo(f"Receipt {code}: on the board at position {position}, {counted}.")
    if not report.ok:
        failure = report.first_failure
        click.echo(f"FAILED: {failure.title}: {failure.detail}", err=True)
        sys.exit(1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int,
              help="Worker processes sharing the port (SO_REUSEPORT); proofs are CPU-bound, "
                   "so about one per core.")
def serve(host: str, port: int, threads: int, workers: int) -> None:
    """Serve the app with waitress (the instance folder: $BALLOT_INSTANCE, else ./instance;
    SQLite there unless BALLOT_DATABASE_URL)."""
    if workers > 1:
        from ballot.service.serve_workers import main as serve_workers

        sys.exit(serve_workers(["--workers", str(workers), "--host", host, "--port", str(port),
                                "--threads", str(threads), "--reuse-port"]))
    from waitress import serve as waitress_serve

    from ballot.instance import describe
    from ballot.web import create_app
    from ballot.web.serve_info import RequestLog, addresses

    app = create_app()
    url = app.extensions["ballot.engine"].url.render_as_string(hide_password=False)
    click.echo(describe(Path(app.instance_path), url))
    for what, address in addresses(host, port, app.config.get("PUBLIC_URL")):
        click.echo(f"  {what}: {address}")
    # The ballots' proofs are checked by a background process (docs/protocol.md, "Received,
    # then checked"), restarted if it dies; closing voting checks whatever it left.
    import signal

    from ballot.service.serve_workers import CheckerProcess, supervise_checkers

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the checker on the way out
    checker = None
    stop = threading.Event()
    if ":memory:" not in url and "mode=memory" not in url:
        checker = CheckerProcess(url).start()
        supervise_checkers([checker], stop)
    try:
        # One line per request, without the client's address (waitress logs none by itself).
        waitress_serve(RequestLog(app), host=host, port=port, threads=threads)
    finally:
        stop.set()
        if checker is not None:
            checker.stop()
