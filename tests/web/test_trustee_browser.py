"""The trustee's page does the key ceremony and the partial decryption in a real browser.

Debian's chromium through Playwright, set up as ``test_browser_meeting.py`` (waitress, the host
``meeting.test`` mapped to 127.0.0.1 so that the page is not a secure context, every request to
another host aborted, page errors and CSP violations fail the test). A meeting with 3 trustees,
k = 2: trustees 1 and 2 do the whole ceremony in the browser (passphrase, the key file downloaded,
public keys, shares, checks), trustee 3 with the Python client of ``ballot trustee``
(``ballot/clients/trustee.py``) — so each side must accept the other's bytes. Three members vote
with the Python voter client (before that, after "Finish", trustees 1 and 2 approve the election
fingerprint in the page, which first refuses a context whose trustee-3 keys the server swapped:
issue 11, key substitution); after closing, trustee 1 decrypts in a fresh browser context from
its downloaded key file (a wrong passphrase first, and a partial decryption tampered on its way
to the server, both refused with a clear message on the page); trustee 2 opens its FIRST key
file (saved before the shares were checked, no share): the page rebuilds the share from the
shares the server still holds (altered shares refused first), downloads the ``-with-share`` key
file again (it opens in Python with the ceremony's share) and decrypts, without posting any
accept or complaint again; trustee 3 decrypts with the Python client; the secretary finalizes
and the record verifies. Before decrypting, trustee 1's page is served a board cut down to one
ballot (it shows 1 ballot and another head; the trustee stops), a forged ballot and lying counters
(refused), and a per-ballot "aggregate" it never asks for (issue 11, the decryption oracle).
No request the pages sent carries the
trustees' secret coefficients, Box keys or shares (compared with the key files opened in Python).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import (ARTIFACTS, create_meeting, login, post, require_browser, roll_csv,
                      serving, slip_codes_from_page, trustee_codes_from_page, units_csv)
from test_browser_meeting import Browser as MeetingBrowser

SLUG = "chi-bo-tb"
PASSPHRASES = {1: "mật khẩu tổ viên một", 2: "second trustee passphrase"}
#: The access codes the trustees choose at their first sign-in (the secretary's only enrol).
OWN = {1: "ma-rieng-cua-to-vien-1", 2: "own code of trustee two", 3: "own code of trustee three"}
#: Console messages that the expected refusals produce (a fetch answered 403 or 422).
EXPECTED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of (401|403|422)")


def test_the_trustee_page_may_compile_webassembly_and_the_sign_in_page_may_not(app, admin_client):
    create_meeting(admin_client, slug="chi-bo-tw")
    post(admin_client, "/admin/m/chi-bo-tw/begin")
    login_page = app.test_client().get("/t/chi-bo-tw")
    assert "wasm-unsafe-eval" not in login_page.headers["Content-Security-Policy"]
    trustee = app.test_client()
    with trustee.session_transaction() as s:
        s["trustee"] = {"slug": "chi-bo-tw", "index": 2}
    page = trustee.get("/t/chi-bo-tw/status")
    assert page.status_code == 200
    assert "script-src 'self' 'wasm-unsafe-eval';" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert 'src="/static/js/ballot-crypto.js"' in html and 'src="/static/js/trustee.js"' in html
    progress = trustee.get("/t/chi-bo-tw/progress").get_json()
    assert progress["status"] == "key_ceremony" and [t["index"] for t in progress["trustees"]] == [1, 2, 3]
    assert set(progress["trustees"][0]) == {"index", "name", "published", "shares_sent", "accepted",
                                             "approved", "decrypted"}
    assert progress["finished"] is False
    assert app.test_client().get("/t/chi-bo-tw/progress").status_code == 302


@pytest.fixture
def served(app):
    require_browser()
    with serving(app) as port:
        yield app, port


class Browser(MeetingBrowser):
    """The meeting test's browser, with downloads (the key files), a desktop window, and the
    console errors of the refusals this test provokes ignored."""

    ignored_console = EXPECTED_CONSOLE

    def context(self, **options):
        return super().context(accept_downloads=True, viewport={"width": 900, "height": 1000},
                               **options)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(b, page, index: int, code: str, expect, new_code: str | None = None) -> None:
    page.goto(f"{b.origin}/t/{SLUG}")
    page.select_option('select[name="index"]', str(index))
    page.fill('input[name="code"]', code)
    if new_code is not None:  # the first sign-in: the trustee chooses their own access code
        page.fill('input[name="new_code"]', new_code)
        page.fill('input[name="new_code2"]', new_code)
        code = new_code
    page.click('button[type="submit"]')
    expect(page.locator("h1")).to_contain_text(f"{index}:")
    assert page.evaluate("window.isSecureContext") is False
    # the sign-in hands the code to the page: not typed twice, not left in the page
    expect(page.locator("#code-msg")).to_have_class(re.compile(r"\bok\b"))
    expect(page.locator("#code-form")).to_be_hidden()
    assert page.url.endswith(f"/t/{SLUG}/status")
    assert page.evaluate("document.getElementById('trustee-app').dataset.code") is None
    assert code not in page.content()


def save_download(page, button: str, folder: Path):
    with page.expect_download(timeout=30_000) as info:
        page.click(button)
    download = info.value
    path = folder / download.suggested_filename
    download.save_as(str(path))
    return path


@pytest.mark.browser
def test_the_key_ceremony_and_the_decryption_in_the_browser(served, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)
    app, port = served
    with sync_playwright() as p:
        b = Browser(p, port)
        try:
            keyfiles = _meeting(b, app, port, expect, tmp_path)
        finally:
            b.browser.close()
    assert b.blocked == [], f"requests to other hosts: {b.blocked}"
    assert b.errors == [], f"errors in the pages (CSP, script): {b.errors}"

    # No request of the pages carries a secret: compare with the key files opened in Python.
    from ballot.crypto.encoding import b64encode
    from ballot.crypto.group import encode_scalar
    from ballot.tally.trustee_keyfile import open_keys, read_keyfile

    secrets: list[bytes] = []
    for i, path in keyfiles.items():
        keys = open_keys(read_keyfile(path), PASSPHRASES[i])
        values = [*keys.secret.coefficients, keys.share]
        raw = [encode_scalar(v) for v in values] + [keys.secret.box_secret]
        for r in raw:
            secrets += [b64encode(r).encode(), r.hex().encode(), r]
        secrets += [str(v).encode() for v in values]
        secrets.append(PASSPHRASES[i].encode())
    trustee_requests = [(m, u, body) for m, u, body in b.requests if "/t/" in u or "/api/" in u]
    assert any(u.endswith("/trustees/1/decryption") for _, u, _ in trustee_requests)
    for method, url, body in trustee_requests:
        for s in secrets:
            assert s not in body and s.decode("latin-1") not in url, (method, url)


def _meeting(b, app, port, expect, tmp_path) -> dict[int, Path]:
    from ballot.clients.http import Http
    from ballot.clients.trustee import TrusteeDevice
    from ballot.clients.voter import vote
    from ballot.tally.trustee_keyfile import open_keys, read_keyfile

    # -- the secretary (Flask test client: the pages are tested elsewhere) -------------------------
    sec = app.test_client()
    login(sec)
    resp = create_meeting(sec, slug=SLUG, roll=roll_csv(3), units=units_csv(4))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    post(sec, f"/admin/m/{SLUG}/begin")
    codes = trustee_codes_from_page(sec.get(f"/admin/m/{SLUG}/trustee-codes").get_data(as_text=True))
    api = f"http://127.0.0.1:{port}"
    t3 = TrusteeDevice(Http(api, bearer=codes[3]), SLUG, 3)
    t3.enrol(OWN[3])  # trustee 3's first sign-in, with the CLI's code

    # -- trustees 1 and 2 in their browsers: the access code, then keys + the key file -------------
    pages, ctxs = {}, {}
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    first_files = {}
    for i in (1, 2):
        ctxs[i] = b.context()
        pages[i] = page = b.page(ctxs[i])
        if i == 1:  # the first sign-in enrols; a wrong or used-up code is refused clearly
            page.goto(f"{b.origin}/t/{SLUG}")
            page.select_option('select[name="index"]', "1")
            page.fill('input[name="code"]', codes[1])
            page.click('button[type="submit"]')  # the secretary's code alone does not sign in
            expect(page.locator(".flash.error")).to_have_text(
                "Đăng nhập lần đầu: đây là mã dùng một lần của thư ký. Hãy chọn mã truy cập riêng "
                "của đồng chí ở dưới (nhập hai lần); sau đó mã của thư ký không còn dùng được.")
            page.select_option('select[name="index"]', "1")
            page.fill('input[name="code"]', codes[1])
            page.fill('input[name="new_code"]', OWN[1])
            page.fill('input[name="new_code2"]', OWN[1] + " typo")
            page.click('button[type="submit"]')
            expect(page.locator(".flash.error")).to_have_text("Hai mã truy cập không giống nhau.")
            shot(page, "trustee-browser-enrol")
            sign_in(b, page, 1, codes[1], expect, new_code=OWN[1])
            page.reload()  # a reload forgets the code: the page asks for it
            expect(page.locator("#code-form")).to_be_visible()
            page.fill("#code", codes[1])  # the secretary's code no longer works
            page.click("#code-form button[type=submit]")
            expect(page.locator("#code-msg")).to_have_text("Sai thành viên hoặc sai mã truy cập.")
            expect(page.locator("#code-msg")).to_have_class(re.compile(r"\berror\b"))
            expect(page.locator("#keygen")).to_be_disabled()
            page.goto(f"{b.origin}/t/{SLUG}")
            page.select_option('select[name="index"]', "1")
            page.fill('input[name="code"]', codes[1])
            page.click('button[type="submit"]')
            expect(page.locator(".flash.error")).to_have_text("Sai thành viên hoặc sai mã truy cập.")
            sign_in(b, page, i, OWN[i], expect)
        else:
            sign_in(b, page, i, codes[i], expect, new_code=OWN[i])
        page.fill("#pass1", "short")
        page.fill("#pass2", "short")
        page.click("#keygen")
        expect(page.locator("#keygen-msg")).to_have_text("Mật khẩu phải có ít nhất 8 ký tự.")
        page.fill("#pass1", PASSPHRASES[i])
        page.fill("#pass2", PASSPHRASES[i])
        first_files[i] = save_download(page, "#keygen", downloads)
        expect(page.locator("#keygen-msg")).to_have_class(re.compile(r"\bok\b"))
        assert first_files[i].name == f"{SLUG}-trustee-{i}.json"
        if i == 1:
            shot(page, "trustee-browser-keys")
    keys3 = t3.keygen()

    # -- shares: the browsers and the Python client ---------------------------------------------------
    for i in (1, 2):
        pages[i].click("#refresh")
        expect(pages[i].locator("#send-shares")).to_be_enabled()
        pages[i].click("#send-shares")
        expect(pages[i].locator("#shares-msg")).to_have_class(re.compile(r"\bok\b"))
    t3.send_shares(keys3)
    final_files = {}
    for i in (1, 2):
        pages[i].click("#refresh")
        expect(pages[i].locator("#check-shares")).to_be_enabled()
        final_files[i] = save_download(pages[i], "#check-shares", downloads)
        expect(pages[i].locator("#check-msg")).to_have_class(re.compile(r"\bok\b"))
        assert final_files[i].name == f"{SLUG}-trustee-{i}-with-share.json"
        expect(pages[i].locator("#progress-table tr[data-index='%d'] [data-col=accepted]" % i)).to_have_text("✓")
    keys3 = t3.receive_shares(keys3)  # the Python client checks the browsers' shares
    shot(pages[1], "trustee-browser-ceremony-done")

    # -- the secretary finishes; each trustee checks the election key and approves it --------------
    post(sec, f"/admin/m/{SLUG}/finish")
    assert "Đã hoàn tất tạo khóa" in sec.get(f"/admin/m/{SLUG}").get_data(as_text=True)
    base_hash = app.extensions["ballot.meeting"].ceremony_state(SLUG)["base_hash"]
    fingerprint = " ".join(base_hash[i:i + 4] for i in range(0, 64, 4))
    # the operator serves a context with trustee 3's keys swapped for its own (valid proofs):
    # the page refuses to approve, and says why
    from ballot.crypto.threshold import new_trustee
    from ballot.election.manifest import Manifest
    from ballot.tally.context import ElectionContext

    info = Http(api).get(f"/api/v1/elections/{SLUG}")
    manifest = Manifest.from_json(info["manifest"])
    real = ElectionContext.from_json(manifest, info["context"])
    _, rogue = new_trustee(real.manifest_hash, 3, real.threshold)
    swapped = ElectionContext(manifest, (*real.trustees[:2], rogue))
    lying = {**info, "context": swapped.to_json(), "base_hash": swapped.base_hash.hex()}
    pages[1].route(f"**/api/v1/elections/{SLUG}", lambda route: route.fulfill(status=200, json=lying))
    pages[1].click("#refresh")
    expect(pages[1].locator("#approve-check")).to_be_enabled()
    pages[1].click("#approve-check")
    expect(pages[1].locator("#approve-msg")).to_contain_text(
        "Không được phê duyệt: the election key is NOT made of the trustees' keys")
    expect(pages[1].locator("#fingerprint-check")).to_be_hidden()
    shot(pages[1], "trustee-browser-key-substitution-refused")
    pages[1].unroute(f"**/api/v1/elections/{SLUG}")
    assert not [u for m, u, _ in b.requests if m == "POST" and u.endswith("/approval")]
    with pytest.raises(Exception, match="have not approved"):
        app.extensions["ballot.meeting"].open_voting(SLUG)
    for i in (1, 2):
        pages[i].click("#refresh")
        expect(pages[i].locator("#approve-check")).to_be_enabled()
        pages[i].click("#approve-check")
        expect(pages[i].locator("#fingerprint")).to_have_text(fingerprint)
        if i == 1:  # the trustee compares with the projector first, and may say no
            pages[i].click("#reject-fingerprint")
            expect(pages[i].locator("#approve-msg")).to_have_text(
                "Chưa phê duyệt. Hãy báo ban kiểm phiếu và thư ký.")
            pages[i].click("#approve-check")
            expect(pages[i].locator("#fingerprint")).to_have_text(fingerprint)
            shot(pages[i], "trustee-browser-fingerprint")
        pages[i].click("#confirm-fingerprint")
        expect(pages[i].locator("#approve-msg")).to_have_class(re.compile(r"\bok\b"))
        expect(pages[i].locator("#progress-table tr[data-index='%d'] [data-col=approved]" % i)).to_have_text("✓")
    t3.approve(keys3)
    for i in (1, 2):
        assert pages[i].evaluate("localStorage.length + sessionStorage.length") == 0
        ctxs[i].close()

    # the browsers' key files open with the CLI's code; the first has no share, the second has it
    for i in (1, 2):
        first = open_keys(read_keyfile(first_files[i]), PASSPHRASES[i])
        final = open_keys(read_keyfile(final_files[i]), PASSPHRASES[i])
        assert first.share is None and final.share is not None and first.secret == final.secret
        assert json.loads(first_files[i].read_text())["kdf"]["memlimit"] == 67108864

    # -- the secretary finishes the ceremony and opens voting; three members vote --------------------
    post(sec, f"/admin/m/{SLUG}/open")
    invitations = slip_codes_from_page(sec.get(f"/admin/m/{SLUG}/slips").get_data(as_text=True))
    choices = {"DV001": [0, 1, None, 2], "DV002": [0, 0, 3, 1], "DV003": [1, None, 0, 2]}
    for rid, picks in choices.items():
        vote(Http(api), SLUG, invitations[rid], picks)
    post(sec, f"/admin/m/{SLUG}/close")

    # -- trustee 1 decrypts in a fresh browser context from its downloaded key file -------------------
    ctx = b.context()
    page = b.page(ctx)
    sign_in(b, page, 1, OWN[1], expect)
    expect(page.locator("#status")).to_have_attribute("data-status", "closed")
    page.click("#decrypt")
    expect(page.locator("#decrypt-msg")).to_have_text("Hãy mở tệp khóa trước (bằng mật khẩu của nó).")
    page.set_input_files("#keyfile", str(final_files[1]))
    page.fill("#open-pass", "not the passphrase")
    page.click("#open")
    expect(page.locator("#open-msg")).to_have_text("Sai mật khẩu, hoặc tệp khóa đã bị sửa đổi.")
    page.fill("#open-pass", PASSPHRASES[1])
    page.click("#open")
    expect(page.locator("#open-msg")).to_contain_text("Đã mở tệp khóa: thành viên 1, phần khóa bí mật: có.")

    # -- the operator lies about the board (issue 11, the decryption oracle) ---------------------------
    honest = Http(api).get(f"/api/v1/elections/{SLUG}/board/ballots")
    head = honest["board"][-1]["entry_hash"]
    grouped = " ".join(head[i:i + 4] for i in range(0, 64, 4))
    rogue_aggregate = {"aggregate": [u[:86] for e in honest["board"] for u in e["ballot"]["units"]]}
    page.route("**/aggregate", lambda route: route.fulfill(status=200, json=rogue_aggregate))
    # a board cut down to one ballot: the page shows 1 ballot and another head; the trustee stops
    page.route("**/board/ballots", lambda route: route.fulfill(
        status=200, json={**honest, "board": honest["board"][:1]}))
    page.click("#decrypt")
    expect(page.locator("#head-check")).to_be_visible()
    expect(page.locator("#head-text")).to_contain_text("Đã kiểm tra bảng phiếu: 1 phiếu (3 thẻ đã cấp)")
    expect(page.locator("#head-hash")).not_to_have_text(grouped)
    shot(page, "trustee-browser-cut-board")
    page.click("#reject-head")
    expect(page.locator("#decrypt-msg")).to_have_text(
        "Chưa xác nhận: chưa giải mã gì. Hãy báo ban kiểm phiếu và thư ký.")
    page.unroute("**/board/ballots")
    # a forged ballot (ballot 3 carries ballot 1's first unit), re-chained: refused before any question
    forged = json.loads(json.dumps(honest))
    forged["board"][2]["ballot"]["units"][0] = forged["board"][0]["ballot"]["units"][0]
    page.route("**/board/ballots", lambda route: route.fulfill(status=200, json=forged))
    page.click("#decrypt")
    expect(page.locator("#decrypt-msg")).to_contain_text("Bảng phiếu không hợp lệ, chưa giải mã gì: board position 3")
    expect(page.locator("#head-check")).to_be_hidden()
    page.unroute("**/board/ballots")
    # more ballots than the tokens the counters report
    page.route("**/counters", lambda route: route.fulfill(
        status=200, json={"status": "closed", "eligible": 3, "tokens": 2, "ballots": 3}))
    page.click("#decrypt")
    expect(page.locator("#decrypt-msg")).to_contain_text("3 ballots but only 2 tokens were issued")
    page.unroute("**/counters")
    assert not [u for m, u, _ in b.requests if m == "POST" and u.endswith("/decryption")]

    # a partial decryption altered on its way (unit 1 gets unit 2's) is refused, and the page says so
    def tamper(route):
        body = json.loads(route.request.post_data)
        units = body["decryption"]["units"]
        units[0] = units[1]
        route.continue_(post_data=json.dumps(body))

    page.route("**/trustees/1/decryption", tamper)
    page.click("#decrypt")
    expect(page.locator("#head-text")).to_contain_text("Đã kiểm tra bảng phiếu: 3 phiếu (3 thẻ đã cấp)")
    expect(page.locator("#head-hash")).to_have_text(grouped)
    shot(page, "trustee-browser-board-head")
    page.click("#confirm-head")
    expect(page.locator("#decrypt-msg")).to_have_text(
        "Máy chủ từ chối: decryption refused: trustee 1: the decryption proof for unit 1 does not verify")
    expect(page.locator("#decrypt-msg")).to_have_class(re.compile(r"\berror\b"))
    shot(page, "trustee-browser-decryption-refused")
    page.unroute("**/trustees/1/decryption", tamper)
    page.click("#decrypt")
    page.click("#confirm-head")
    expect(page.locator("#decrypt-msg")).to_have_text(
        "Phần giải mã đã được chấp nhận; đến nay đã có 1 thành viên giải mã.")
    expect(page.locator("#progress-table tr[data-index='1'] [data-col=decrypted]")).to_have_text("✓")
    expect(page.locator("#decrypt")).to_be_disabled()
    shot(page, "trustee-browser-decrypted")
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    ctx.close()

    # -- trustee 2 opens its FIRST key file (no share) at decryption: the share is rebuilt ----------
    ctx = b.context()
    page = b.page(ctx)
    sign_in(b, page, 2, OWN[2], expect)
    expect(page.locator("#status")).to_have_attribute("data-status", "closed")
    expect(page.locator("#check-shares")).to_be_disabled()
    page.set_input_files("#keyfile", str(first_files[2]))
    page.fill("#open-pass", PASSPHRASES[2])
    page.click("#open")
    expect(page.locator("#open-msg")).to_contain_text("Đã mở tệp khóa: thành viên 2, phần khóa bí mật: chưa có.")

    inbox2 = Http(api, bearer=OWN[2]).get(f"/api/v1/elections/{SLUG}/trustees/2/shares")

    def alter(route):  # the share from trustee 3 altered on its way: refused, nothing sent
        body = json.loads(json.dumps(inbox2))
        for sh in body["shares"]:
            if sh["sender"] == 3:
                c = sh["ciphertext"]
                sh["ciphertext"] = c[:40] + ("B" if c[40] == "A" else "A") + c[41:]
        route.fulfill(status=200, json=body)

    page.route("**/trustees/2/shares", alter)
    page.click("#decrypt")
    expect(page.locator("#decrypt-msg")).to_have_text(
        "Các phần khóa gửi cho đồng chí không đúng (share from trustee 3 to trustee 2: does not "
        "decrypt): không thể dựng lại phần khóa bí mật. Hãy báo thư ký.")
    expect(page.locator("#decrypt-msg")).to_have_class(re.compile(r"\berror\b"))
    expect(page.locator("#download-rebuilt")).to_be_hidden()
    page.unroute("**/trustees/2/shares", alter)
    rebuilt_dir = tmp_path / "rebuilt"
    rebuilt_dir.mkdir()
    rebuilt = save_download(page, "#decrypt", rebuilt_dir)
    page.click("#confirm-head")
    assert rebuilt.name == f"{SLUG}-trustee-2-with-share.json"
    expect(page.locator("#rebuild-msg")).to_contain_text(f"đã được tải lại với tên {rebuilt.name}")
    expect(page.locator("#download-rebuilt")).to_be_visible()
    expect(page.locator("#decrypt-msg")).to_have_text(
        "Phần giải mã đã được chấp nhận; đến nay đã có 2 thành viên giải mã.")
    expect(page.locator("#keyfile-state")).to_contain_text("phần khóa bí mật: có.")
    shot(page, "trustee-browser-share-rebuilt")
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    ctx.close()
    # the rebuilt file: the ceremony's share, the first file's salt (same derived key), a new nonce
    again = open_keys(read_keyfile(rebuilt), PASSPHRASES[2])
    final2 = open_keys(read_keyfile(final_files[2]), PASSPHRASES[2])
    assert again.share == final2.share and again.secret == final2.secret
    docs = {n: json.loads(f.read_text()) for n, f in (("first", first_files[2]), ("final", final_files[2]), ("again", rebuilt))}
    assert docs["again"]["kdf"] == docs["first"]["kdf"]
    assert len({d["secretbox"][:32] for d in docs.values()}) == 3  # three different nonces
    # accept (or complain) was posted once per browser trustee: during the ceremony only
    # the pages never asked for the server's "aggregate"
    assert not [u for _, u, _ in b.requests if u.endswith("/aggregate")]
    accepts = [u for m, u, _ in b.requests if m == "POST" and u.endswith("/accept")]
    assert sorted(accepts) == [f"{b.origin}/api/v1/elections/{SLUG}/trustees/{i}/accept" for i in (1, 2)]

    assert t3.decrypt(keys3) == 3  # the Python client, with the keys it made

    # -- finalize; the record verifies and counts the three ballots ---------------------------------
    assert "finalize-done" in post(sec, f"/admin/m/{SLUG}/finalize").get_data(as_text=True)
    from ballot.tally.verify import verify_record

    from ballot.tally.record import load_record

    record_path = tmp_path / "record.json"
    record_path.write_bytes(sec.get(f"/admin/m/{SLUG}/record").data)
    rec = load_record(record_path)
    assert verify_record(rec).ok
    assert sorted(d["trustee"] for d in rec["decryptions"]) == [1, 2, 3]
    codes_ = [lv["code"] for lv in rec["manifest"]["levels"]]
    for u, c in enumerate(rec["electronic_counts"]):
        picks = [v[u] for v in choices.values()]
        assert c["votes"] == {code: picks.count(i) for i, code in enumerate(codes_)}
        assert c["abstain"] == picks.count(None)
    return final_files
