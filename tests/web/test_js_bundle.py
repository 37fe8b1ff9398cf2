"""The committed phone bundle ``ballot/web/static/js/ballot-crypto.js`` is up to date.

The bundle is built from ``js/`` by ``npm run build`` (esbuild) and committed, so a fresh
``pip install`` never needs npm. Its first line is ``/* ballot-crypto source-sha256: <hex> */``,
the SHA-256 over the sorted repo-relative paths of ``js/src/**`` and ``js/package-lock.json``,
each as path, NUL, bytes, NUL; this test recomputes it without npm. When Node and
``js/node_modules`` are present it also rebuilds into a temporary file and compares the bytes,
and with Debian's chromium it runs the bundle on a page served over plain HTTP from a
non-loopback address (not a secure context: no ``crypto.subtle``), as phones on the LAN do.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ballot.web.serve_info import lan_address

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "js"
BUNDLE = ROOT / "ballot" / "web" / "static" / "js" / "ballot-crypto.js"
VECTORS = ROOT / "tests" / "vectors" / "protocol_v1.json"
FIRST_LINE = re.compile(r"^/\* ballot-crypto source-sha256: ([0-9a-f]{64}) \*/$")


def source_hash(root: Path = ROOT) -> str:
    """SHA-256 over (path, NUL, bytes, NUL) for js/src/** and js/package-lock.json, sorted by path."""
    files = [p for p in (root / "js" / "src").rglob("*") if p.is_file()]
    files.append(root / "js" / "package-lock.json")
    entries = sorted((p.relative_to(root).as_posix().encode("utf-8"), p) for p in files)
    h = hashlib.sha256()
    for rel, path in entries:
        h.update(rel + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _first_line() -> str:
    with BUNDLE.open("rb") as f:
        return f.readline().decode("ascii").rstrip("\n")


def test_the_bundle_is_committed_with_its_source_hash():
    assert BUNDLE.is_file(), "missing bundle: run `cd js && npm ci && npm run build`"
    assert FIRST_LINE.match(_first_line()), f"unexpected first line: {_first_line()[:120]!r}"


def test_the_bundle_matches_js_src_and_the_lock_file():
    match = FIRST_LINE.match(_first_line())
    assert match, "the bundle has no source-sha256 line"
    assert match.group(1) == source_hash(), (
        "ballot-crypto.js is stale (js/src or js/package-lock.json changed since it was built): "
        "run `cd js && npm ci && npm run build` and commit the bundle"
    )


def test_the_bundle_is_self_contained_and_uses_no_secure_context_api():
    text = BUNDLE.read_text(encoding="ascii")  # esbuild writes ASCII (charset: ascii)
    assert text.splitlines()[2].startswith("var BallotCrypto=(()=>{"), "an IIFE defining BallotCrypto"
    assert "subtle" not in text, "crypto.subtle is unavailable on pages served over plain HTTP"
    assert not re.search(r"https?://", text), "the bundle must not load anything (no CDN)"
    assert not re.search(r"\bimport\s*\(", text), "no dynamic imports"


def test_the_lock_file_names_only_the_npm_registry():
    lock = json.loads((JS / "package-lock.json").read_text(encoding="utf-8"))
    for name, entry in lock["packages"].items():
        resolved = entry.get("resolved")
        assert resolved is None or resolved.startswith("https://registry.npmjs.org/"), (name, resolved)
        if name:
            assert entry.get("integrity", "").startswith("sha512-"), name
    pkg = json.loads((JS / "package.json").read_text(encoding="utf-8"))
    for section in ("dependencies", "devDependencies"):
        for name, version in pkg.get(section, {}).items():
            assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: pin an exact version, not {version!r}"


def test_rebuilding_gives_the_same_bytes(tmp_path):
    node = shutil.which("node")
    if shutil.which("npm") is None or node is None or not (JS / "node_modules").is_dir():
        pytest.skip("npm or js/node_modules missing: run `cd js && npm ci` to compare a fresh build")
    out = tmp_path / "ballot-crypto.js"
    proc = subprocess.run([node, "build.mjs", "--out", str(out)], cwd=JS, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == BUNDLE.read_bytes(), (
        "a fresh build differs from the committed bundle: run `cd js && npm run build`"
    )


# -- in a real browser, on a page that is not a secure context -----------------------------------


@pytest.mark.browser
def test_the_bundle_in_chromium_over_plain_http(tmp_path):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    address = lan_address()
    if address is None:
        pytest.skip("no non-loopback address to serve a non-secure page from")
    (tmp_path / "ballot-crypto.js").write_bytes(BUNDLE.read_bytes())
    (tmp_path / "protocol_v1.json").write_bytes(VECTORS.read_bytes())
    (tmp_path / "index.html").write_text(
        '<!doctype html><meta charset="utf-8"><script src="ballot-crypto.js"></script>\n',
        encoding="utf-8")
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    try:
        server = ThreadingHTTPServer((address, 0), handler)
    except OSError as exc:
        pytest.skip(f"cannot serve on {address}: {exc}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium")
            try:
                page = browser.new_page()
                page.goto(f"http://{address}:{server.server_address[1]}/index.html")
                result = page.evaluate(_BROWSER_CHECK)
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert result["secure"] is False and result["subtle"] is False
    assert result["same_ballot"] and result["same_hash"]
    assert result["verified"] == result["tracking_code"]
    assert result["receipt"] is True
    assert result["roundtrip"] is True


_BROWSER_CHECK = """async () => {
  const V = await (await fetch('protocol_v1.json')).json();
  const BC = window.BallotCrypto;
  await BC.ready();
  const E = V.election, BV = E.ballot;
  let i = 0;
  const rng = () => BigInt(BV.rng[i++]);
  const key = BC.voterKeyFromSeed(BC.bytes.fromHex(BV.voter_seed));
  const out = BC.encryptBallot(E.info, BV.token, key, BV.choices, {rng});
  BC.checkReceipt(E.info, E.receipt.receipt, BV.ballot);
  // fresh randomness from crypto.getRandomValues, same token: still a valid ballot
  const again = BC.encryptBallot(E.info, BV.token, key, BV.choices);
  return {
    secure: window.isSecureContext,
    subtle: !!(window.crypto && window.crypto.subtle),
    same_ballot: BC.bytes.toHex(BC.encoding.canonicalJson(out.ballot)) === BV.ballot_canonical_hex,
    same_hash: out.ballotHash === BV.ballot_hash,
    tracking_code: BV.tracking_code,
    verified: BC.verifyBallot(E.info, BV.ballot).trackingCode,
    receipt: true,
    roundtrip: BC.verifyBallot(E.info, again.ballot).ballotHash === again.ballotHash,
  };
}"""
