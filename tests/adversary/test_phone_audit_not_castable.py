"""Someone who gets hold of a Benaloh challenge's data (shown on the phone, copied, downloaded,
pre-filled into the verifier page) and of everything the phone keeps in browser storage —
localStorage, sessionStorage, IndexedDB — tries to cast a ballot with it before the member
does (docs/threat-model.md, "What the phone keeps"). Refused: the phone signs only when the
member presses Cast, so the audit opens an unsigned body, and the voter key and the token are
kept in storage only sealed under a key from the slip's code. The member's real ballot then
goes through; a member whose answer to Cast was lost recovers the receipt after a reload.

Debian chromium (Playwright), a 390 × 844 phone, the page at http://meeting.test:<port>
(not a secure context, as on the meeting's Wi-Fi)."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from ballot.crypto.encoding import b64encode
from ballot.crypto.token import parse_token_message
from ballot.election.presets import branch_qd366
from ballot.election.roll import RollEntry
from ballot.election.units import Unit
from tests.support.ceremony import hold_ceremony

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--host-resolver-rules=MAP meeting.test 127.0.0.1"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
SLUG = "cb-audit"
MEMBERS = [("K1", "Nguyễn Văn An"), ("K2", "Trần Thị Bình"), ("K3", "Lê Hoàng Châu")]

DUMP_STORAGE = """async () => {
  const dump = (s) => Object.fromEntries(Object.keys(s).map((k) => [k, s.getItem(k)]));
  const dbs = indexedDB.databases ? await indexedDB.databases() : [];
  return { local: dump(localStorage), session: dump(sessionStorage), indexeddb: dbs.map((d) => d.name) };
}"""


@pytest.fixture
def site(db_url, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    pytest.importorskip("playwright.sync_api")
    from waitress.server import create_server

    from ballot.web import create_app

    app = create_app({"DATABASE_URL": db_url, "KEYS_DIR": str(tmp_path / "keys"),
                      "RECORDS_DIR": str(tmp_path / "records"),
                      "SEALED_DIR": str(tmp_path / "sealed"),
                      "SECRET_KEY": "adversary test secret key, not for production"})
    srv = create_server(app, host="127.0.0.1", port=0, threads=6)

    def run():
        try:
            srv.run()
        except OSError:
            pass

    threading.Thread(target=run, daemon=True).start()
    meeting = app.extensions["ballot.meeting"]
    api = f"http://127.0.0.1:{srv.effective_port}"
    levels, rules = branch_qd366()
    codes = meeting.create(slug=SLUG, title="Xếp loại 2025", organisation="Chi bộ thử",
                           date="2025-12-20", meeting_kind="branch_members", levels=levels,
                           rules=rules,
                           roll=[RollEntry(r, n, "official", None) for r, n in MEMBERS],
                           units=[Unit(unit_id=r, name=n, kind="member", group="đv")
                                  for r, n in MEMBERS],
                           trustee_names=["T1"], threshold=1)
    hold_ceremony(meeting, api, SLUG, codes)
    slips = meeting.open_voting(SLUG)
    try:
        yield meeting, api, f"http://meeting.test:{srv.effective_port}", slips
    finally:
        srv.close()


def post(api: str, path: str, payload) -> tuple[int, dict]:
    req = urllib.request.Request(api + path, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # nosec B310 - the test's server
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def strings_in(value) -> list[str]:
    """Every string inside a value, JSON-decoding strings that hold JSON (as storage does)."""
    out: list[str] = []
    if isinstance(value, str):
        out.append(value)
        try:
            inner = json.loads(value)
        except ValueError:
            inner = None
        if isinstance(inner, (dict, list)):
            out += strings_in(inner)
    elif isinstance(value, dict):
        for k, v in value.items():
            out += strings_in(k) + strings_in(v)
    elif isinstance(value, list):
        for v in value:
            out += strings_in(v)
    return out


def candidate_seeds(texts: list[str]) -> list[bytes]:
    """Anything in the attacker's haul that could be a 32-byte Ed25519 seed, in any encoding."""
    seeds = set()
    for t in texts:
        for decode in (lambda x: base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)),
                       lambda x: base64.b64decode(x + "=" * (-len(x) % 4)), bytes.fromhex):
            try:
                raw = decode(t)
            except ValueError:  # not that encoding (binascii.Error is a ValueError)
                continue
            if len(raw) == 32:
                seeds.add(raw)
    return sorted(seeds)


def mark_and_seal(page, expect, picks: list[int]) -> str:
    for i, c in enumerate(picks):
        page.locator(f'#units li[data-i="{i}"] button[data-c="{c}"]').click()
    page.click("#to-review")
    page.click("#seal")
    expect(page.locator("#screen-sealed")).to_be_visible()
    return page.locator("#sealed-code").inner_text()


def test_an_audited_ballot_and_the_phones_storage_cannot_be_cast(site):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)
    meeting, api, origin, slips = site
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            # -- the member: marks, seals, challenges (audit) ------------------------------------
            phone = browser.new_context(**PHONE)
            page = phone.new_page()
            page.goto(f"{origin}/v/{SLUG}#{slips['K1']}")
            expect(page.locator("#screen-ballot")).to_be_visible()
            audited = mark_and_seal(page, expect, [1, 2, 0])
            page.click("#audit")
            expect(page.locator("#screen-audit")).to_be_visible()
            challenge = json.loads(page.locator("#audit-json").input_value())
            storage = page.evaluate(DUMP_STORAGE)
            # the verifier page, pre-filled from storage, still checks the audit
            verifier = phone.new_page()
            verifier.goto(f"{origin}/v/{SLUG}/audit")
            verifier.click("#audit-check")
            expect(verifier.locator("#audit-result")).to_contain_text(audited)
            expect(verifier.locator("#audit-result")).to_have_class("flash ok")
            verifier.close()

            # -- the attacker holds the challenge data and all of the browser storage -------------
            body = challenge["ballot"]
            assert challenge["tracking_code"] == audited
            assert "signature" not in body, "the audit opened a signed, castable ballot"
            assert storage["indexeddb"] == []
            haul = strings_in(challenge) + strings_in(storage)
            assert slips["K1"] not in " ".join(haul) and \
                slips["K1"].replace("-", "") not in " ".join(haul), "the slip code is stored"
            # (a) the challenged body as it is
            status, answer = post(api, f"/api/v1/elections/{SLUG}/ballots", {"ballot": body})
            assert status == 422 and "signature" in answer["error"], (status, answer)
            # (b) signed with every 32-byte value found anywhere in the haul, or a fresh key
            voter_key = parse_token_message(base64.urlsafe_b64decode(
                body["token"]["message"] + "=" * (-len(body["token"]["message"]) % 4)))[1]
            seeds = candidate_seeds(haul)
            assert all(bytes(SigningKey(s).verify_key) != voter_key for s in seeds), \
                "the voter key's seed is in storage or in the audit: a ballot can be cast"
            from ballot.crypto.ballots import body_hash

            for seed in [*seeds[:20], bytes(32)]:
                forged = {**body, "signature": b64encode(
                    SigningKey(seed).sign(body_hash(body)).signature)}
                status, answer = post(api, f"/api/v1/elections/{SLUG}/ballots", {"ballot": forged})
                assert status == 422 and "signature" in answer["error"], (status, answer)
            # (c) the attacker's own phone with the victim's storage copied in, without the slip
            thief = browser.new_context(**PHONE)
            thief.add_init_script("(() => { const d = " + json.dumps(storage) + ";"
                                  " for (const [k, v] of Object.entries(d.local)) localStorage.setItem(k, v);"
                                  " for (const [k, v] of Object.entries(d.session)) sessionStorage.setItem(k, v); })()")
            tpage = thief.new_page()
            tpage.goto(f"{origin}/v/{SLUG}")
            # the page asks for the slip's code: what it keeps is locked with it
            expect(tpage.locator("#message-text")).to_contain_text("khóa bằng mã trên phiếu mời")
            assert tpage.locator("#screen-ballot").is_hidden()
            tpage.click("#message-code")
            tpage.fill("#code-input", "00000-00000-00000-00000")  # a guess: not the slip
            tpage.click('#code-form button[type="submit"]')
            expect(tpage.locator("#screen-message")).to_be_visible()
            assert tpage.locator("#screen-ballot").is_hidden()
            thief.close()
            assert meeting.counters(SLUG)["ballots"] == 0

            # -- the member's real ballot goes through ----------------------------------------------
            page.click("#reseal")
            expect(page.locator("#screen-sealed")).to_be_visible()
            real = page.locator("#sealed-code").inner_text()
            assert real != audited
            page.click("#cast")
            expect(page.locator("#screen-receipt")).to_be_visible()
            assert page.locator("#receipt-code").inner_text() == real
            after = page.evaluate(DUMP_STORAGE)
            assert not any(k.endswith(":audit") for k in after["local"]), "the audit outlives the cast"
            assert all(SigningKey(s).verify_key != voter_key
                       for s in candidate_seeds(strings_in(after)))
            codes = [e["tracking_code"] for e in meeting.board(SLUG)]
            assert codes == [real] and audited not in codes

            # -- a member whose answer to Cast is lost, then reloads: the receipt is recovered ----
            phone2 = browser.new_context(**PHONE)
            page2 = phone2.new_page()
            page2.goto(f"{origin}/v/{SLUG}#{slips['K2']}")
            expect(page2.locator("#screen-ballot")).to_be_visible()
            sent = mark_and_seal(page2, expect, [0, 0, 1])

            def lose_answer(route):
                # the server accepts the ballot... (Playwright's own fetch does not know
                # meeting.test: the same request to 127.0.0.1)
                route.fetch(url=route.request.url.replace(origin, api))
                route.abort()  # ...and the answer never reaches the phone

            page2.route("**/ballots", lose_answer)
            page2.click("#cast")
            expect(page2.locator("#message-retry")).to_be_visible()
            page2.unroute("**/ballots")
            assert meeting.board(SLUG)[-1]["tracking_code"] == sent
            page2.goto(f"{origin}/v/{SLUG}")  # a reload: the code is no longer in the address
            page2.click("#message-code")
            expect(page2.locator("#screen-code")).to_be_visible()
            page2.fill("#code-input", slips["K2"].lower().replace("-", " "))
            page2.click('#code-form button[type="submit"]')
            expect(page2.locator("#screen-receipt")).to_be_visible()
            assert page2.locator("#receipt-code").inner_text() == sent
            assert len(meeting.board(SLUG)) == 2
        finally:
            browser.close()
