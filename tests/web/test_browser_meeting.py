"""A whole meeting in a real browser (Debian's chromium through Playwright).

The app runs on waitress at 127.0.0.1:<port>; the browser reaches it as
``http://meeting.test:<port>`` (``--host-resolver-rules``), so, as on a phone on the meeting's
Wi-Fi, the page is not a secure context. Every request to any other host is aborted and
recorded; the test asserts that there was none. Phones use a 390 × 844 viewport, each voter in
their own browser context. Screenshots of the ballot, the review and the receipt are written to
``test-artifacts/``.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from conftest import (ADMIN, ARTIFACTS, CHROMIUM, CHROMIUM_ARGS as ARGS, NAMES, PHONE,
                      browser_app, require_browser, roll_csv, serving, units_csv)

pytestmark = pytest.mark.browser


@pytest.fixture
def server(db_url, tmp_path):
    require_browser()
    from ballot.web.auth import create_admin

    app = browser_app(db_url, tmp_path)
    create_admin(app.extensions["ballot.meeting"].factory, *ADMIN)
    with serving(app) as port:
        yield port


class Browser:
    """One chromium; contexts that may talk only to meeting.test:<port>; every request kept.
    Console errors are collected (but those matching ``ignored_console``, the ones a test
    provokes on purpose)."""

    ignored_console: re.Pattern | None = None

    def __init__(self, playwright, port: int):
        self.port = port
        self.origin = f"http://meeting.test:{port}"
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.requests: list[tuple[str, str, bytes]] = []  # method, url, body
        self.browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)

    def context(self, **options):
        ctx = self.browser.new_context(**options)
        ctx.set_default_timeout(20_000)

        def guard(route):
            url = route.request.url
            if urlsplit(url).netloc == f"meeting.test:{self.port}":
                route.continue_()
            else:
                self.blocked.append(url)
                route.abort()

        ctx.route("**/*", guard)
        ctx.on("request", lambda r: self.requests.append((r.method, r.url, r.post_data_buffer or b"")))
        return ctx

    def page(self, ctx):
        page = ctx.new_page()

        def console(m):
            if m.type == "error" and not (self.ignored_console and self.ignored_console.search(m.text)):
                self.errors.append(f"{page.url}: {m.text}")

        page.on("console", console)
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: {e}"))
        page.on("dialog", lambda d: d.accept())
        return page


FETCH_HEAD = """async (url) => {
  const r = await fetch(url);
  const head = new Uint8Array(await r.arrayBuffer()).slice(0, 5);
  return [r.status, r.headers.get("content-type"), String.fromCharCode(...head)];
}"""


def shot(page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def vote_rows(page, picks: list[str]) -> None:
    """Click one level (button text) per row; "" leaves the row unmarked."""
    for i, label in enumerate(picks):
        if label:
            page.locator(f'#units li[data-i="{i}"] button', has_text=label).first.click()


def test_a_whole_meeting_on_phones(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)
    from ballot.clients.http import Http
    from ballot.clients.trustee import TrusteeDevice

    port = server
    with sync_playwright() as p:
        b = Browser(p, port)
        try:
            _meeting(b, port, expect, Http, TrusteeDevice, tmp_path)
        finally:
            b.browser.close()
    assert b.blocked == [], f"requests to other hosts: {b.blocked}"
    assert b.errors == [], f"errors in the pages (CSP, script): {b.errors}"


def _meeting(b, port, expect, Http, TrusteeDevice, tmp_path):
    origin = b.origin
    # -- the secretary: log in, create the meeting from CSV files --------------------------------
    desk = b.context(viewport={"width": 1100, "height": 900})
    sec = b.page(desk)
    sec.goto(f"{origin}/admin/")
    assert sec.evaluate("window.isSecureContext") is False
    assert sec.url.startswith(f"{origin}/admin/login")
    sec.fill('input[name="username"]', ADMIN[0])
    sec.fill('input[name="password"]', ADMIN[1])
    sec.click('button[type="submit"]')
    sec.click("text=Cuộc họp mới")
    sec.fill('input[name="title"]', "Đánh giá, xếp loại chất lượng đảng viên năm 2025")
    sec.fill('input[name="organisation"]', "Chi bộ Phòng Thử nghiệm")
    sec.fill('input[name="date"]', "2025-12-15")
    sec.fill('input[name="slug"]', "chi-bo-tn")
    sec.fill('textarea[name="trustees"]', "Nguyễn Kiểm Một\nTrần Kiểm Hai\nLê Kiểm Ba")
    sec.fill('input[name="threshold"]', "2")
    sec.set_input_files('input[name="roll"]', {"name": "roll.csv", "mimeType": "text/csv",
                                                "buffer": roll_csv(5)})
    sec.set_input_files('input[name="units"]', {"name": "units.csv", "mimeType": "text/csv",
                                                 "buffer": units_csv(5)})
    sec.click("text=Tạo cuộc họp")
    # making the issuer's 3072-bit RSA key takes a moment on a busy machine
    expect(sec.locator("#status")).to_have_text("Bản nháp", timeout=60_000)
    shot(sec, "admin-meeting-draft")

    # -- key ceremony: codes shown once, trustees on their own devices (Python client, HTTP) ------
    sec.click("#begin-ceremony")
    rows = sec.locator("#trustee-codes tbody tr")
    expect(rows).to_have_count(3)
    codes = {int(r.get_attribute("data-index")): r.locator("code").inner_text() for r in rows.all()}
    api = f"http://127.0.0.1:{port}"
    devices = [TrusteeDevice(Http(api, bearer=codes[i]), "chi-bo-tn", i) for i in (1, 2, 3)]
    for d in devices:  # first sign-in: each trustee chooses their own access code
        d.enrol(f"own code of trustee {d.index}")
    keys = [d.keygen() for d in devices]
    for d, k in zip(devices, keys):
        d.send_shares(k)
    keys = [d.receive_shares(k) for d, k in zip(devices, keys)]

    # a trustee's page on their own device: sign in with the access code, see the state
    tctx = b.context(**PHONE)
    tpage = b.page(tctx)
    tpage.goto(f"{origin}/t/chi-bo-tn")
    tpage.select_option('select[name="index"]', "2")
    tpage.fill('input[name="code"]', "own code of trustee 2")
    tpage.click('button[type="submit"]')
    expect(tpage.locator("h1")).to_contain_text("Trần Kiểm Hai")
    assert "ballot trustee" in tpage.content()
    shot(tpage, "trustee-status")
    tctx.close()

    sec.click("text=Xong: quay lại cuộc họp")
    sec.click("#finish-ceremony")
    for d, k in zip(devices, keys):  # each trustee approves the fingerprint on their device
        d.approve(k)
    sec.click("#open-voting")

    # -- slips: read each invitation from the printable page --------------------------------------
    slips = sec.locator("article.slip")
    expect(slips).to_have_count(5)
    invitations = {s.get_attribute("data-roll-id"): s.get_attribute("data-url") for s in slips.all()}
    assert all(url.startswith(f"{origin}/v/chi-bo-tn#") for url in invitations.values())
    assert sec.locator("article.slip img.qr").first.evaluate("i => i.naturalWidth > 0")
    shot(sec, "admin-slips")
    pdf = sec.evaluate(FETCH_HEAD, f"{origin}/admin/m/chi-bo-tn/slips.pdf")
    assert pdf == [200, "application/pdf", "%PDF-"]

    projector = b.page(desk)
    projector.goto(f"{origin}/p/chi-bo-tn")
    expect(projector.locator("#c-eligible")).to_have_text("5")
    expect(projector.locator("#c-ballots")).to_have_text("0")

    receipts = {}

    # -- voter 1: marks rows, searches, uses "set all unmarked", reviews, casts -----------------
    v1 = b.context(**PHONE)
    page = b.page(v1)
    page.goto(invitations["DV001"])
    expect(page.locator("#screen-ballot")).to_be_visible()
    assert page.evaluate("window.isSecureContext") is False
    assert "#" not in page.url  # the code left the address bar (and the history)
    expect(page.locator("#progress")).to_have_text("0/5")
    vote_rows(page, ["HTXSNV", "HTTNV", "", "", "Không chọn"])
    expect(page.locator("#progress")).to_have_text("3/5")
    page.fill("#search", "chau")  # without diacritics: Lê Hoàng Châu
    expect(page.locator("#units li:visible")).to_have_count(1)
    page.fill("#search", "")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "phone-ballot", full_page=False)  # what the phone's screen shows
    page.select_option("#bulk-level", "2")  # HTNV
    page.click("#bulk-apply")
    expect(page.locator("#progress")).to_have_text("5/5")
    page.click("#to-review")
    expect(page.locator("#review-list li")).to_have_count(5)
    expect(page.locator("#review-list li").nth(2)).to_contain_text("HTNV")
    shot(page, "phone-review")
    page.click("#seal")
    expect(page.locator("#screen-sealed")).to_be_visible()
    sealed_code = page.locator("#sealed-code").inner_text()
    shot(page, "phone-sealed")
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", sealed_code)
    page.click("#cast")
    expect(page.locator("#screen-receipt")).to_be_visible()
    receipts["DV001"] = page.locator("#receipt-code").inner_text()
    assert receipts["DV001"] == sealed_code
    expect(page.locator("#receipt-qr svg")).to_have_count(1)
    shot(page, "phone-receipt")
    # reopening the link shows the receipt, not a new ballot
    page.goto(invitations["DV001"])
    expect(page.locator("#screen-receipt")).to_be_visible()
    assert page.locator("#receipt-code").inner_text() == receipts["DV001"]

    # -- voter 2: audits an encryption, checks it on the verifier page, then casts a new one ------
    v2 = b.context(**PHONE)
    page = b.page(v2)
    page.goto(invitations["DV002"])
    vote_rows(page, ["HTTNV", "HTTNV", "HTXSNV", "HTNV", "KHTNV"])
    page.click("#to-review")
    page.click("#seal")
    expect(page.locator("#screen-sealed")).to_be_visible()
    audited_code = page.locator("#sealed-code").inner_text()
    page.click("#audit")
    expect(page.locator("#screen-audit")).to_be_visible()
    audit = json.loads(page.locator("#audit-json").input_value())
    assert audit["tracking_code"] == audited_code and audit["audit"]["choices"] == [1, 1, 0, 2, 3]
    shot(page, "phone-audit")
    with v2.expect_page() as opened:
        page.click("#audit-verify-link")
    verifier = opened.value
    verifier.on("console", lambda m: m.type == "error" and b.errors.append(f"verifier: {m.text}"))
    verifier.click("#audit-check")
    expect(verifier.locator("#audit-result")).to_contain_text(audited_code)
    expect(verifier.locator("#audit-result")).to_have_class(re.compile("ok"))
    expect(verifier.locator("#audit-choices li")).to_have_count(5)
    # a tampered audit is caught
    tampered = dict(audit, audit={"choices": [0, 1, 0, 2, 3], "nonces": audit["audit"]["nonces"]})
    verifier.fill("#audit-input", json.dumps(tampered))
    verifier.click("#audit-check")
    expect(verifier.locator("#audit-result")).to_have_class(re.compile("error"))
    verifier.close()
    page.click("#reseal")
    expect(page.locator("#screen-sealed")).to_be_visible()
    cast_code = page.locator("#sealed-code").inner_text()
    assert cast_code != audited_code
    page.click("#cast")
    expect(page.locator("#screen-receipt")).to_be_visible()
    receipts["DV002"] = page.locator("#receipt-code").inner_text()
    assert receipts["DV002"] == cast_code

    # -- voter 3: votes, then tries again on another phone and is refused ------------------------
    v3 = b.context(**PHONE)
    page = b.page(v3)
    page.goto(invitations["DV003"])
    vote_rows(page, ["HTTNV", "HTNV", "HTTNV", "HTTNV", "HTTNV"])
    page.click("#to-review")
    page.click("#seal")
    page.click("#cast")
    expect(page.locator("#screen-receipt")).to_be_visible()
    receipts["DV003"] = page.locator("#receipt-code").inner_text()
    again = b.context(**PHONE)
    page = b.page(again)
    page.goto(invitations["DV003"])
    expect(page.locator("#screen-message")).to_be_visible()
    expect(page.locator("#message-text")).to_contain_text("Phiếu mời này đã được dùng")
    shot(page, "phone-used-invitation")
    # the refusal is an expected 409 in the console; it is not an error of the page
    b.errors[:] = [e for e in b.errors if "409" not in e]

    # -- voter 4: on the shared tablet, typing the code from the slip, then "next voter" ---------
    tablet = b.context(**PHONE)
    page = b.page(tablet)
    page.goto(f"{origin}/v/chi-bo-tn")
    expect(page.locator("#screen-code")).to_be_visible()
    code4 = invitations["DV004"].rsplit("#", 1)[1]
    # typed the way people do: lower case, spaces for dashes, O and L for 0 and 1
    page.fill("#code-input", code4.lower().replace("-", " ").replace("0", "o").replace("1", "l"))
    page.click('#code-form button[type="submit"]')
    expect(page.locator("#screen-ballot")).to_be_visible()
    vote_rows(page, ["HTTNV"] * 5)
    page.click("#to-review")
    page.click("#seal")
    page.click("#cast")
    expect(page.locator("#screen-receipt")).to_be_visible()
    receipts["DV004"] = page.locator("#receipt-code").inner_text()
    page.click("footer .next-voter")
    expect(page.locator("#screen-code")).to_be_visible()
    assert page.evaluate("Object.keys(localStorage).concat(Object.keys(sessionStorage))"
                         ".filter(k => k.startsWith('ballot:')).length") == 0

    # -- the projector counts, the secretary closes --------------------------------------------------
    expect(projector.locator("#c-ballots")).to_have_text("4", timeout=10_000)
    expect(projector.locator("#c-tokens")).to_have_text("4")
    shot(projector, "projector")
    sec.goto(f"{origin}/admin/m/chi-bo-tn")
    shot(sec, "admin-meeting-open")
    sec.fill("#close-form input[name=present]", "5")
    sec.click("#close-voting")
    expect(sec.locator("#status")).to_have_text("Đã kết thúc bỏ phiếu")
    # Fixed at the close, before any decryption: on the secretary's page and the projector.
    expect(sec.locator("#close-present")).to_have_text("5")
    head = sec.locator("#close-head").inner_text()
    expect(projector.locator("#p-close")).to_be_visible(timeout=10_000)
    expect(projector.locator("#p-present")).to_have_text("5")
    expect(projector.locator("#p-board-ballots")).to_have_text("4")
    expect(projector.locator("#p-board-head")).to_have_text(head)
    shot(projector, "projector-closed")

    # a phone that opens its link after closing is told so
    late = b.page(b.context(**PHONE))
    late.goto(f"{origin}/v/chi-bo-tn?code={invitations['DV005'].rsplit('#', 1)[1]}")
    expect(late.locator("#message-text")).to_have_text("Đã kết thúc bỏ phiếu.")
    assert "code=" not in late.url  # ?code= works too, and is scrubbed from the address bar

    # -- every cast ballot is on the board with its tracking code ------------------------------------
    board = b.page(desk)
    board.goto(f"{origin}/b/chi-bo-tn")
    codes_on_board = board.locator("#board .tracking-cell").all_inner_texts()
    assert sorted(codes_on_board) == sorted(receipts.values())
    assert audited_code not in codes_on_board
    board.goto(f"{origin}/b/chi-bo-tn?code={receipts['DV002']}")
    expect(board.locator("#board-found")).to_be_visible()

    # -- the trustees decrypt; the record verifies --------------------------------------------------
    for d, k in list(zip(devices, keys))[:2]:
        d.decrypt(k)
    sec.goto(f"{origin}/admin/m/chi-bo-tn")
    sec.click("#finalize")
    # The record is verified as it is finalized, its progress shown; then the meeting page.
    expect(sec.locator("#finalize-done")).to_be_visible(timeout=60_000)
    expect(sec.locator("#finalize-progress .progress").last).to_contain_text("4 trên 4 phiếu")
    sec.click("#back-to-meeting")
    expect(sec.locator("#status")).to_have_text("Đã kiểm phiếu")
    from ballot.tally.record import load_record
    from ballot.tally.verify import verify_record

    path = tmp_path / "record.json"
    path.write_text(sec.evaluate("async u => await (await fetch(u)).text()",
                                 f"{origin}/admin/m/chi-bo-tn/record"), encoding="utf-8")
    rec = load_record(path)
    assert verify_record(rec).ok
    assert rec["issuance_log"] == ["DV001", "DV002", "DV003", "DV004"]
    counts = {c["unit_id"]: c for c in rec["electronic_counts"]}
    assert counts["DV003"]["votes"]["HTXSNV"] == 1 and counts["DV005"]["abstain"] == 1
    assert NAMES[0] in json.dumps(rec["manifest"], ensure_ascii=False)
