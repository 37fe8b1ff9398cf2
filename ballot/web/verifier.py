"""The observer's verifier page (issue 15; docs/web.md, "Observers").

One self-contained HTML file — the verifier bundle (``static/js/ballot-verifier.js``, built from
``js/src/verifier``) and its style inlined, workers started from Blob URLs — that checks an
election record entirely in the browser, offline, from ``file://`` or from ``ballot serve``:

- ``GET /verify`` and ``GET /verify/<slug>``: the page (the same bytes; at ``/verify/<slug>`` it
  loads ``/api/v1/elections/<slug>/record`` by itself);
- :func:`render_page` gives the bytes (``ballot verify --export-page FILE`` writes them) and
  :func:`page_fingerprint` their SHA-256, which the minutes print so that a saved copy can be
  checked against the meeting.

The page's Content-Security-Policy (in a ``<meta>`` tag, so a saved copy keeps it, and as a
header here) allows exactly its own inline script and style by hash, WebAssembly, workers from
``blob:`` and requests to its own origin only (the record the observer asks for).
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, abort

__all__ = ["export_page", "page_csp", "page_fingerprint", "render_page", "verifier"]

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")

WEB = Path(__file__).resolve().parent
BUNDLE = WEB / "static" / "js" / "ballot-verifier.js"
TEMPLATE = WEB / "verifier_page.html"  # not a Flask template: the page is self-contained

STYLE = """
:root { --ok: #1b6e2d; --bad: #a4161a; --line: #d0d4da; --bar: #2f5d9c; font-family: system-ui, sans-serif; }
body { margin: 0; padding: 1rem; color: #1b1f24; background: #fff; }
main { max-width: 72rem; margin: 0 auto; }
.titlebar { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: .5rem; }
h1 { font-size: 1.4rem; margin: .2rem 0; } h2 { font-size: 1.15rem; margin-top: 1.5rem; }
button { font: inherit; padding: .35rem .8rem; border: 1px solid var(--line); border-radius: .3rem; background: #f4f6f8; cursor: pointer; }
button[aria-pressed="true"] { background: var(--bar); color: #fff; }
.drop { display: block; border: 2px dashed var(--line); border-radius: .5rem; padding: 1rem; margin: .5rem 0; }
.drop.over { border-color: var(--bar); background: #eef3fa; }
.drop input, .first input { display: block; margin-top: .5rem; }
.first { display: block; margin: .5rem 0; font-size: .9rem; }
.url { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0; }
.url input[type=text] { flex: 1; min-width: 12rem; padding: .35rem; font: inherit; }
.phase { display: grid; grid-template-columns: minmax(10rem, 16rem) 1fr 6rem; gap: .5rem; align-items: center; margin: .25rem 0; }
.phase progress { width: 100%; height: 1rem; }
.small { font-size: .85rem; color: #555; }
.verdict { font-weight: bold; font-size: 1.1rem; padding: .6rem; border-radius: .4rem; margin: 1rem 0; }
.verdict:empty { display: none; }
.verdict.ok { background: #e3f3e6; color: var(--ok); } .verdict.bad { background: #fbe5e6; color: var(--bad); }
.checks { padding-left: 1.5rem; } .checks li { margin: .2rem 0; overflow-wrap: anywhere; }
li.ok .mark { color: var(--ok); font-weight: bold; margin-right: .4rem; }
li.bad .mark { color: var(--bad); font-weight: bold; margin-right: .4rem; } li.bad { color: var(--bad); }
pre { white-space: pre; overflow-x: auto; font-size: .8rem; background: #f6f7f9; padding: .5rem; }
table.results { border-collapse: collapse; width: 100%; font-size: .9rem; }
table.results th, table.results td { border-bottom: 1px solid var(--line); padding: .25rem .4rem; text-align: left; vertical-align: top; }
td.level { min-width: 6rem; } td.level .n { display: block; white-space: nowrap; }
.track { display: block; height: .45rem; background: #eceff3; border-radius: .2rem; }
.bar { display: block; height: 100%; background: var(--bar); border-radius: .2rem; }
td.rule { font-size: .8rem; color: #444; }
.warn { color: var(--bad); }
"""


def _sha256_b64(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _csp(script: str, style: str) -> str:
    return (f"default-src 'none'; script-src 'sha256-{_sha256_b64(script)}' 'wasm-unsafe-eval'; "
            f"style-src 'sha256-{_sha256_b64(style)}'; worker-src blob:; connect-src 'self'; "
            "img-src data:; base-uri 'none'; form-action 'none'")


@lru_cache(maxsize=4)
def _render(bundle_mtime: float, template_mtime: float) -> tuple[bytes, str]:
    bundle = BUNDLE.read_text(encoding="ascii")
    if "</script" in bundle.lower():
        raise RuntimeError("the verifier bundle contains </script: it cannot be inlined")
    template = TEMPLATE.read_text(encoding="utf-8")
    csp = _csp(bundle, STYLE)
    page = (template.replace("__CSP__", csp).replace("__STYLE__", STYLE)
            .replace("__BUNDLE__", bundle))
    return page.encode("utf-8"), csp


def render_page() -> bytes:
    """The verifier page: one self-contained HTML file (the same bytes served and exported)."""
    return _render(BUNDLE.stat().st_mtime, TEMPLATE.stat().st_mtime)[0]


def page_fingerprint() -> str:
    """SHA-256 (hex) of :func:`render_page`: printed in the minutes and by
    ``ballot verify --export-page``, so that an observer can check a saved copy."""
    return hashlib.sha256(render_page()).hexdigest()


def page_csp() -> str:
    return _render(BUNDLE.stat().st_mtime, TEMPLATE.stat().st_mtime)[1]

verifier = Blueprint("verifier", __name__)


def _page() -> Response:
    resp = Response(render_page(), mimetype="text/html")
    resp.headers["Content-Security-Policy"] = page_csp() + "; frame-ancestors 'none'"
    resp.headers["X-Fingerprint-SHA256"] = page_fingerprint()
    return resp


@verifier.get("/verify")
def page():
    return _page()


@verifier.get("/verify/<slug>")
def meeting_page(slug: str):
    if not _SLUG.match(slug):
        abort(404)
    return _page()


def export_page(path: str | Path) -> str:
    """Write the page to ``path`` (``ballot verify --export-page``); returns its fingerprint."""
    path = Path(path)
    data = render_page()
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def release_hashes() -> dict[str, str]:
    """``/static/<path>`` → SHA-256 of every file of the installed release's static folder (the
    code phones and trustees run), and ``/verify`` → :func:`page_fingerprint`."""
    static = WEB / "static"
    out = {f"/static/{p.relative_to(static).as_posix()}": hashlib.sha256(p.read_bytes()).hexdigest()
           for p in sorted(static.rglob("*")) if p.is_file()}
    out["/verify"] = page_fingerprint()
    return out


def release_fingerprint() -> str:
    """One SHA-256 over :func:`release_hashes` (``hash  path`` lines, sorted by path, as
    ``ballot monitor --print-hashes`` prints them): printed in the minutes."""
    lines = "".join(f"{h}  {path}\n" for path, h in sorted(release_hashes().items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()
