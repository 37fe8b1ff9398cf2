"""The observer's verifier page in Debian chromium (issue 15).

- served by the app from a plain-HTTP, non-loopback origin at ``/verify/<slug>``: it loads the
  meeting's record by itself, verifies it in Web Workers and shows the verdict, the same check
  lines as ``ballot verify`` and the results; a receipt (tracking code, then the phone's saved
  receipt file) is found and counted; a tampered record opened from disk fails at the same
  check as ``ballot verify``; after load, no request leaves the page;
- the exported copy (``ballot verify --export-page``) from ``file://``: the same, with no
  network at all, and its fingerprint is the one printed.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CHROMIUM_ARGS, require_browser, run_until_closed
from tally.test_verify import ctx_of, demo  # noqa: F401 — the demo record fixture
from tally.test_verify_link import rounds  # noqa: F401 — a first round and its second round

from ballot.cli import main
from ballot.crypto.ballots import ballot_from_json
from ballot.crypto.encoding import b64decode, b64encode, canonical_json
from ballot.tally.board import Receipt, sign_receipt
from ballot.tally.record import load_record
from ballot.tally.report import checklist, results_table
from ballot.tally.verify import verify_record
from ballot.tally.verify_link import verify_link
from ballot.web.serve_info import lan_address

pytestmark = pytest.mark.browser


def tampered_result(rec: dict) -> dict:
    bad = copy.deepcopy(rec)
    r = bad["results"]["units"][0]
    r["level"] = "KHTNV" if r["level"] != "KHTNV" else "HTTNV"
    return bad


def tampered_proof(rec: dict) -> dict:
    bad = copy.deepcopy(rec)
    unit = bytearray(b64decode(bad["board"][1]["ballot"]["units"][0]))
    unit[100] ^= 0x01
    bad["board"][1]["ballot"]["units"][0] = b64encode(bytes(unit))
    return bad


def receipt_file(demo_path: Path, rec: dict, index: int) -> dict:
    """The phone's saved receipt (voter.js "Lưu biên nhận"), signed as the server signs it."""
    from ballot.service.keys import KeyStore

    entry = rec["board"][index]
    code = ballot_from_json(entry["ballot"], ctx_of(rec).shape).tracking_code
    key = KeyStore(demo_path.parent / "keys").receipt_key()
    receipt = Receipt(rec["base_hash"], entry["position"], code, entry["entry_hash"],
                      "2025-12-15T02:05:00Z")
    return sign_receipt(key, receipt).to_json()


def wait_verdict(page) -> str:
    # (no wait_for_function: the page's CSP forbids eval, as it should)
    page.wait_for_selector("body[data-verdict]", state="attached", timeout=180_000)
    return page.get_attribute("body", "data-verdict")


def open_record(page, path: Path) -> str:
    page.evaluate("delete document.body.dataset.verdict")
    page.set_input_files("#record-file", str(path))
    return wait_verdict(page)


def first_failure(page) -> str:
    return page.get_attribute("#verdict", "data-first-failure")


def leaving(requests: list[str]) -> list[str]:
    """Requests that leave the page (blob: URLs are the workers' code, already in memory)."""
    return [u for u in requests if not u.startswith(("blob:", "data:"))]


def check_page(page, rec: dict, tmp_path: Path, requests: list[str], demo_path: Path) -> None:
    """The verdict, the lines, the results; a receipt; a tampered record; no request."""
    report = verify_record(rec, workers=1, data=demo_path.read_bytes())  # as `ballot verify FILE`
    assert page.get_attribute("#verdict", "class") == "verdict ok"
    assert "HỢP LỆ" in page.inner_text("#verdict")
    assert page.text_content("#checklist") == checklist(report)
    assert page.text_content("#results-text") == results_table(rec, lang="vi")
    rows = page.locator("table.results tbody tr")
    assert rows.count() == len(rec["manifest"]["units"])
    names = [u["name"] for u in rec["manifest"]["units"]]
    assert page.text_content("table.results").count(names[0]) >= 1
    assert page.locator("table.results .bar").count() == len(names) * len(rec["manifest"]["levels"])
    # one progress bar per phase, all full; the ballots' bar counted every ballot
    for phase in ("setup", "ballots", "tally"):
        bar = page.locator(f"#phase-{phase}")
        assert bar.get_attribute("value") == bar.get_attribute("max"), phase
    assert page.text_content("#phase-ballots-n") == f"{len(rec['board'])}/{len(rec['board'])}"
    n_checks = page.locator("#checks li.ok").count()
    assert n_checks == len(report.checks)
    before = len(requests)

    # A receipt: the tracking code pasted, then the phone's receipt file.
    code = ballot_from_json(rec["board"][2]["ballot"], ctx_of(rec).shape).tracking_code
    page.fill("#receipt-code", code.lower().replace("-", " "))
    page.click("#receipt-form button[type=submit]")
    page.wait_for_selector("#receipt-result[data-result]", state="attached")
    assert page.get_attribute("#receipt-result", "data-result") == "counted"
    assert "position 3" in page.inner_text("#receipt-result")
    path = tmp_path / "receipt.json"
    path.write_bytes(canonical_json(receipt_file(demo_path, rec, 4)))
    page.fill("#receipt-code", "")
    page.set_input_files("#receipt-file", str(path))
    page.evaluate("delete document.getElementById('receipt-result').dataset.result")
    page.click("#receipt-form button[type=submit]")
    page.wait_for_selector("#receipt-result[data-result]", state="attached")
    text = page.inner_text("#receipt-result")
    assert page.get_attribute("#receipt-result", "data-result") == "counted", text
    for key in ("signature", "position", "entry_hash", "on_board"):
        assert page.locator(f"#receipt-result li.ok[data-key={key}]").count() == 1, text
    forged = receipt_file(demo_path, rec, 4)
    forged["position"] = 1  # the signature no longer covers it
    path.write_bytes(canonical_json(forged))
    page.set_input_files("#receipt-file", str(path))
    page.evaluate("delete document.getElementById('receipt-result').dataset.result")
    page.click("#receipt-form button[type=submit]")
    page.wait_for_selector("#receipt-result[data-result]", state="attached")
    assert page.get_attribute("#receipt-result", "data-result") == "not-counted"
    assert page.locator("#receipt-result li.bad[data-key=signature]").count() == 1
    page.set_input_files("#receipt-file", [])

    # Tampered records opened from disk: the same first failing check as ballot verify.
    for make, key in ((tampered_result, "results"), (tampered_proof, "ballots")):
        bad = make(rec)
        assert verify_record(bad, workers=1).first_failure.key == key
        path = tmp_path / f"bad-{key}.json"
        path.write_bytes(canonical_json(bad))
        assert open_record(page, path) == "bad"
        assert first_failure(page) == key
        assert "KHÔNG HỢP LỆ" in page.inner_text("#verdict")
        assert page.locator(f"#checks li.bad[data-key={key}]").count() == 1
        assert page.text_content("#checklist") == checklist(
            verify_record(bad, workers=1, data=canonical_json(bad)))
    # Not a record at all: a clear message, no crash.
    path = tmp_path / "garbage.json"
    path.write_text("{not json")
    assert open_record(page, path) == "unreadable"
    assert "not a ballot record" in page.inner_text("#verdict")
    # English on request, Vietnamese first.
    page.click("button[data-lang=en]")
    assert "Verify an election record" in page.inner_text("h1")
    page.click("button[data-lang=vi]")
    assert leaving(requests[before:]) == [], requests[before:]


def test_served_over_plain_http_from_a_lan_address(demo, tmp_path):  # noqa: F811
    require_browser()
    from playwright.sync_api import sync_playwright
    from waitress.server import create_server

    from ballot.web import create_app

    address = lan_address()
    if address is None:
        pytest.skip("no non-loopback address to serve a non-secure page from")
    out = demo.parent
    app = create_app({"DATABASE_URL": f"sqlite:///{out / 'ballot.sqlite'}",
                      "KEYS_DIR": str(out / "keys"), "RECORDS_DIR": str(out),
                      "SECRET_KEY": "browser test secret key, not for production"})
    slug = demo.name.removesuffix(".record.json")
    # The record is public once the results are published (ballot/web/gate.py).
    from ballot.service.meeting import ServiceError

    try:
        app.extensions["ballot.meeting"].publish(slug)
    except ServiceError:
        pass  # already published by an earlier test of this module
    client = app.test_client()
    resp = client.get(f"/verify/{slug}")
    assert resp.status_code == 200 and "wasm-unsafe-eval" in resp.headers["Content-Security-Policy"]
    assert client.get("/verify/Not_A_Slug!").status_code == 404
    try:
        srv = create_server(app, host=address, port=0, threads=4)
    except OSError as exc:
        pytest.skip(f"cannot serve on {address}: {exc}")
    threading.Thread(target=run_until_closed, args=(srv,), daemon=True).start()
    base = f"http://{address}:{srv.effective_port}"
    rec = load_record(demo)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                requests: list[str] = []
                page.on("request", lambda r: requests.append(r.url))
                page.goto(f"{base}/verify/{slug}")
                assert wait_verdict(page) == "ok", page.inner_text("#verdict")
                assert page.evaluate("window.isSecureContext") is False
                # Loading: the page and the record it was asked for, nothing else.
                assert leaving(requests) == [f"{base}/verify/{slug}",
                                             f"{base}/api/v1/elections/{slug}/record"]
                assert any(u.startswith("blob:") for u in requests), "the ballots ran in workers"
                check_page(page, rec, tmp_path, requests, demo)
                # A meeting whose record is not published: said so, in Vietnamese first.
                page.goto(f"{base}/verify/khong-co")
                assert wait_verdict(page) == "unreadable"
                assert "chưa được công bố" in page.inner_text("#verdict")
            finally:
                browser.close()
    finally:
        srv.close()


def test_the_exported_copy_works_from_file_with_no_network(demo, rounds, tmp_path):  # noqa: F811
    require_browser()
    from playwright.sync_api import sync_playwright

    from ballot.web.verifier import page_fingerprint, render_page

    target = tmp_path / "verifier.html"
    result = CliRunner().invoke(main, ["verify", "--export-page", str(target)])
    assert result.exit_code == 0, result.output
    fingerprint = hashlib.sha256(target.read_bytes()).hexdigest()
    assert fingerprint == page_fingerprint() and fingerprint in result.output
    assert target.read_bytes() == render_page()
    html = target.read_text(encoding="utf-8")
    assert "<script src" not in html and "http://" not in html and "https://" not in html
    rec = load_record(demo)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(offline=True)
            page = context.new_page()
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(target.as_uri())
            assert leaving(requests) == [target.as_uri()]
            assert open_record(page, demo) == "ok", page.inner_text("#verdict")
            check_page(page, rec, tmp_path, requests, demo)
            # A second round with its first: the link checks and round one's own, as
            # `ballot verify R2 --first-round R1`.
            path1, path2 = rounds
            page.set_input_files("#record-file", [])
            page.set_input_files("#first-file", str(path1))
            assert open_record(page, path2) == "ok", page.inner_text("#verdict")
            py = verify_record(load_record(path2), workers=1, data=path2.read_bytes())
            py.checks.extend(verify_link(load_record(path2), load_record(path1),
                                         path1.read_bytes()).checks)
            py1 = verify_record(load_record(path1), workers=1)
            py.add("first_round_record", "First-round record verifies", py1.ok,
                   f"all {len(py1.checks)} checks passed")
            assert page.text_content("#checklist") == checklist(py)
            assert page.locator("#checks li.ok[data-key=link_ballots]").count() == 1
            assert leaving(requests) == [target.as_uri()]
        finally:
            browser.close()


def test_the_minutes_print_the_pages_fingerprint(demo):  # noqa: F811
    from ballot.tally.minutes import render_minutes_html
    from ballot.web.verifier import page_fingerprint, release_fingerprint

    rec = load_record(demo)
    fp, rfp = page_fingerprint(), release_fingerprint()
    html = render_minutes_html(rec, verify_record(rec, workers=1),
                               meeting={"verifier_fingerprint": fp, "release_fingerprint": rfp})
    assert " ".join(fp[i:i + 8] for i in range(0, 64, 8)) in html
    assert " ".join(rfp[i:i + 8] for i in range(0, 64, 8)) in html
    # the release fingerprint is the SHA-256 of what `ballot monitor --print-hashes` prints
    out = CliRunner().invoke(main, ["monitor", "--print-hashes"]).output
    listed = "".join(line + "\n" for line in out.splitlines() if not line.startswith("#"))
    assert hashlib.sha256(listed.encode()).hexdigest() == rfp and rfp in out
    assert "ballot verify --export-page" in html
    assert "export-page" not in render_minutes_html(rec, None)


def test_the_verifier_bundle_is_current(tmp_path):
    """ballot-verifier.js is built from js/src with the phone's bundle (`npm run build`)."""
    import shutil
    import subprocess

    from test_js_bundle import source_hash

    root = Path(__file__).resolve().parents[2]
    bundle = root / "ballot" / "web" / "static" / "js" / "ballot-verifier.js"
    first = bundle.read_bytes().split(b"\n", 1)[0].decode("ascii")
    assert first == f"/* ballot-verifier source-sha256: {source_hash()} */", (
        "ballot-verifier.js is stale: run `cd js && npm ci && npm run build` and commit it")
    node = shutil.which("node")
    if node and (root / "js" / "node_modules" / "esbuild").is_dir():
        subprocess.run([node, "build.mjs", "--out", str(tmp_path / "c.js"), "--verifier-out",
                        str(tmp_path / "v.js")], cwd=root / "js", check=True, capture_output=True)
        assert (tmp_path / "v.js").read_bytes() == bundle.read_bytes()
