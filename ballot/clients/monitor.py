"""``ballot monitor URL``: an observer's watch on a running server (issue 15), as Belenios'
auditors keep one. Run it during and after a meeting, at irregular times; each run compares
what the server serves now with the installed release and with what it served last time:

1. **The code phones and trustees run**: every file of the release's ``ballot/web/static``
   (the phone's and trustee's JavaScript, the crypto bundle, the style) is fetched and must be
   byte-identical to the installed package's file (:func:`release_hashes`, printable with
   ``--print-hashes`` for the minutes); the pages (``/v/<slug>``, ``/v/<slug>/audit``,
   ``/t/<slug>``) may load only those files and run no inline script; the verifier page
   ``/verify`` must be the release's page byte for byte (:func:`ballot.web.verifier.page_fingerprint`).
2. **The board only grows**: no entry seen at an earlier look removed or changed, positions
   1, 2, 3, … without a gap.
3. **The manifest and the context never change after opening**: their SHA-256 (and the base
   hash) are kept from the first look after the key ceremony and compared.

Each change is printed; the state (the last look) lives in ``--state DIR``, which the observer
keeps. Exit status: 0 nothing wrong, 1 a change or a mismatch found, 2 the server cannot be
read. Needs only the standard library and the installed package (no database, no Flask app).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import click

__all__ = ["MonitorResult", "monitor_command", "monitor_once", "release_hashes"]

OPENED = ("open", "closed", "tallied", "published")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def release_hashes() -> dict[str, str]:
    """The installed release's served files and their SHA-256 (:mod:`ballot.web.verifier`)."""
    from ballot.web.verifier import release_hashes as hashes

    return hashes()


class _Assets(HTMLParser):
    """The scripts and style sheets a page loads, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.inline: list[str] = []
        self._script: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.assets.append(a["src"] or "")
            self._script = a
            self._text = []
        elif tag == "link" and (a.get("rel") or "").lower() in ("stylesheet", "modulepreload", "preload"):
            self.assets.append(a.get("href") or "")

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            kind = (self._script.get("type") or "").lower()
            if not self._script.get("src") and "".join(self._text).strip() and kind != "application/json":
                self.inline.append("".join(self._text)[:60])
            self._script = None


@dataclass
class MonitorResult:
    changes: list[str] = field(default_factory=list)  # something wrong: reported, exit 1
    notes: list[str] = field(default_factory=list)  # information

    @property
    def ok(self) -> bool:
        return not self.changes


class ServerError(RuntimeError):
    pass


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Accept": "*/*", "Cache-Control": "no-cache"})
    try:
        # The scheme is checked by the command (http or https only) (bandit B310).
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # nosec B310
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise ServerError(f"{url}: {getattr(exc, 'reason', exc)}") from None


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical_sha(value: Any) -> str:
    from ballot.crypto.encoding import canonical_json

    return _sha(canonical_json(value))


def split_url(url: str, slug: str | None) -> tuple[str, str]:
    """(base URL, slug) from ``http://host[:port][/v/<slug>|/verify/<slug>|/t/<slug>]``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"expected an http:// or https:// address, got {url!r}", param_hint="URL")
    base = f"{parts.scheme}://{parts.netloc}"
    m = re.match(r"^/(?:v|t|p|b|r|verify)/([^/]+)", parts.path)
    found = slug or (m.group(1) if m else None)
    if not found or not _SLUG.match(found):
        raise click.BadParameter("give the meeting's address (…/v/<slug>) or --slug", param_hint="URL")
    return base, found


def monitor_once(base: str, slug: str, state_dir: Path, *, timeout: float = 30) -> MonitorResult:
    """One look at the server; compares with the release and with the state in ``state_dir``,
    then saves the new state. Raises :class:`ServerError` when the server cannot be read."""
    res = MonitorResult()
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / f"{slug}.monitor.json"
    try:
        old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except ValueError:
        raise click.ClickException(f"{path}: not a monitor state file") from None
    now = datetime.now(UTC).isoformat(timespec="seconds")

    # 1. The code served to phones and trustees, against the release.
    release = release_hashes()
    for asset, want in release.items():
        status, data = _get(base + asset, timeout)
        if status != 200:
            res.changes.append(f"{asset}: HTTP {status} (the release has this file)")
        elif _sha(data) != want:
            res.changes.append(f"{asset}: served bytes differ from the installed release "
                               f"(SHA-256 {_sha(data)[:16]}…, release {want[:16]}…)")
    for page in (f"/v/{slug}", f"/v/{slug}/audit", f"/t/{slug}"):
        status, data = _get(base + page, timeout)
        if status != 200:
            res.notes.append(f"{page}: HTTP {status}")
            continue
        parser = _Assets()
        parser.feed(data.decode("utf-8", "replace"))
        for src in parser.assets:
            p = urllib.parse.urlsplit(urllib.parse.urljoin(base + page, src))
            if f"{p.scheme}://{p.netloc}" != base or p.path not in release:
                res.changes.append(f"{page}: loads {src}, which is not a file of the release")
        for text in parser.inline:
            res.changes.append(f"{page}: runs an inline script that is not in the release: {text!r}")

    # 2. The board only grows.
    status, data = _get(f"{base}/api/v1/elections/{slug}/board", timeout)
    board: list[dict[str, Any]] = []
    if status == 200:
        try:
            board = json.loads(data)["board"]
        except (ValueError, KeyError, TypeError):
            raise ServerError(f"{base}/api/v1/elections/{slug}/board: not a board") from None
    elif status != 404:
        raise ServerError(f"{base}/api/v1/elections/{slug}/board: HTTP {status}")
    for i, e in enumerate(board, 1):
        if not isinstance(e, dict) or e.get("position") != i:
            res.changes.append(f"board: entry {i} is out of order or malformed")
            break
    seen = {int(k): v for k, v in old.get("board", {}).items()}
    now_board = {e.get("position"): _canonical_sha(e) for e in board if isinstance(e, dict)}
    for position, digest in sorted(seen.items()):
        if position not in now_board:
            res.changes.append(f"board: entry {position} was removed (seen at an earlier look)")
        elif now_board[position] != digest:
            res.changes.append(f"board: entry {position} changed since the last look")
    grown = len(now_board) - len(seen)
    if grown > 0:
        res.notes.append(f"board: {grown} new entries ({len(now_board)} in all)")

    # 3. The manifest and the context, fixed from the opening on.
    status, data = _get(f"{base}/api/v1/elections/{slug}", timeout)
    fixed = old.get("fixed")
    info_status = None
    if status == 200:
        try:
            info = json.loads(data)
            info_status = info.get("status")
            current = {"manifest": _canonical_sha(info["manifest"]),
                       "context": _canonical_sha(info["context"]), "base_hash": info["base_hash"]}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ServerError(f"{base}/api/v1/elections/{slug}: not an election") from None
        if fixed:
            for key in ("manifest", "context", "base_hash"):
                if current[key] != fixed[key]:
                    res.changes.append(f"{key}: changed after the opening (was {fixed[key][:16]}…, "
                                       f"now {current[key][:16]}…)")
        elif info_status in OPENED:
            fixed = current
            res.notes.append(f"opened: manifest {current['manifest'][:16]}…, base hash "
                             f"{current['base_hash'][:16]}… kept for later looks")
    elif status == 404 and fixed:
        res.changes.append("the election is no longer served (it was open at an earlier look)")
    elif status == 404:
        raise ServerError(f"no meeting {slug!r} on this server ({base}/api/v1/elections/{slug}: "
                          "HTTP 404)")
    elif status == 409:
        res.notes.append("the key ceremony is not finished: manifest and context not fixed yet")
    else:
        raise ServerError(f"{base}/api/v1/elections/{slug}: HTTP {status}")

    # Keep the union of what was seen: a removed entry stays reported at every later look.
    keep = {**{str(k): v for k, v in seen.items()}, **{str(k): v for k, v in now_board.items()
                                                      if k not in seen}}
    log = old.get("looks", [])[-99:] + [{"at": now, "status": info_status, "board": len(board),
                                         "changes": res.changes}]
    new_state = {"url": base, "slug": slug, "fixed": fixed, "board": keep, "looks": log}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(new_state, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    return res


@click.command("monitor")
@click.argument("url", required=False)
@click.option("--state", "state_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder that keeps what was seen at earlier looks (keep it between runs).")
@click.option("--slug", default=None, help="The meeting's short name (if URL is the server's base).")
@click.option("--print-hashes", is_flag=True, help="Print the installed release's file hashes.")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds per request.")
def monitor_command(url: str | None, state_dir: Path | None, slug: str | None, print_hashes: bool,
                    timeout: float) -> None:
    """Watch a meeting's server: served code = this release, the board only grows, the
    manifest and context never change after opening (exit 1 if anything changed)."""
    if print_hashes:
        from ballot.web.verifier import release_fingerprint

        for asset, digest in sorted(release_hashes().items()):
            click.echo(f"{digest}  {asset}")
        click.echo(f"# release fingerprint (SHA-256 of the lines above): {release_fingerprint()}")
        if url is None:
            return
    if url is None or state_dir is None:
        raise click.UsageError("give the meeting's URL and --state DIR")
    base, slug = split_url(url, slug)
    try:
        res = monitor_once(base, slug, state_dir, timeout=timeout)
    except ServerError as exc:
        click.echo(f"Cannot read the server / không đọc được máy chủ: {exc}", err=True)
        sys.exit(2)
    for note in res.notes:
        click.echo(f"  · {note}")
    for change in res.changes:
        click.echo(f"  ✗ {change}")
    if res.ok:
        click.echo(f"{slug}: không có thay đổi bất thường / nothing wrong "
                   f"({len(release_hashes())} release files checked)")
    else:
        click.echo(f"{slug}: {len(res.changes)} thay đổi bất thường / changes found", err=True)
        sys.exit(1)
