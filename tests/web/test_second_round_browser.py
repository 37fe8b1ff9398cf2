"""Ballot B on a phone, in a real browser (Debian's chromium through Playwright; set-up as in
test_browser_meeting.py): a member votes in the first round, keeps the page open (a hidden page
asks nothing), sees the link to the second round when the secretary creates it, follows it
without typing the code again, and votes "agree / disagree" with "at most K agree" enforced by
the page before sealing; the server accepts the ballot (its limit proof verifies). Another
member scans the first-round slip after the first round is over and lands on the second
round's ballot; the invitation codes never appear in a URL sent to the server."""

from __future__ import annotations

import time
from urllib.parse import quote, urlsplit

import pytest
from conftest import PHONE, browser_app, require_browser, serving
from service.test_second_round import ceremony
from test_browser_meeting import Browser, shot

pytestmark = pytest.mark.browser

SLUG = "cb-vong"
MEMBERS = [(f"M{i:02d}", f"Đảng viên {i}") for i in range(1, 13)]  # 12: X_max = 2 → K = 2


@pytest.fixture
def server(db_url, tmp_path):
    require_browser()
    app = browser_app(db_url, tmp_path)
    with serving(app) as port:
        yield app.extensions["ballot.meeting"], port


def normalized(code: str) -> str:
    """As the phone and the server read a code (voter.js normalizeCode)."""
    return code.upper().replace("-", "").replace(" ", "").translate(str.maketrans("OIL", "011"))


def code_forms(code: str) -> set[str]:
    forms = {code, normalized(code)}
    return forms | {quote(f, safe="") for f in forms}


HIDE = """() => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
  delete document.hidden;
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def tally(meeting, slug, devices, keys):
    meeting.close_voting(slug)
    for i in (1, 2):
        devices[i].decrypt(keys[i])
    return meeting.finalize(slug)


def test_ballot_b_on_a_phone(server):
    from playwright.sync_api import expect, sync_playwright

    from ballot.clients.http import Http
    from ballot.clients.voter import fetch_election, vote
    from ballot.election.presets import branch_qd366
    from ballot.election.roll import RollEntry
    from ballot.election.units import Unit
    from ballot.tally.record import load_record
    from ballot.tally.verify import verify_record

    expect.set_options(timeout=20_000)
    meeting, port = server
    base = f"http://127.0.0.1:{port}"
    levels, rules = branch_qd366(second_round=True)
    codes = meeting.create(
        slug=SLUG, title="Xếp loại 2025", organisation="Chi bộ thử", date="2025-12-20",
        meeting_kind="branch_members", levels=levels, rules=rules,
        roll=[RollEntry(rid, name, "official", None) for rid, name in MEMBERS],
        units=[Unit(unit_id=rid, name=name, kind="member") for rid, name in MEMBERS],
        trustee_names=["T1", "T2"], threshold=2)
    from ballot.service.trustee_access import enrol_all

    codes = enrol_all(meeting, SLUG, codes)
    meeting.begin_ceremony(SLUG)
    devices, keys = ceremony(meeting, base, SLUG, codes)
    invitations = meeting.open_voting(SLUG)
    http = Http(base)
    election = fetch_election(http, SLUG)
    for rid, _ in MEMBERS[:-1]:
        vote(http, SLUG, invitations[rid], [0] * 4 + [1] * 8, election)

    with sync_playwright() as p:
        b = Browser(p, port)
        requests: list[str] = []  # every URL the browser asked for, as Playwright reports it
        try:
            phone_ctx = b.context(**PHONE)
            phone_ctx.on("request", lambda r: requests.append(r.url))
            phone = b.page(phone_ctx)
            code = invitations["M12"]
            # Round one on the phone: the last member (12 rows, bulk "HTTNV" after 4 × HTXSNV).
            phone.goto(f"{b.origin}/v/{SLUG}#{code}")
            expect(phone.locator("#screen-ballot")).to_be_visible()
            expect(phone.locator("#limits")).to_be_hidden()  # no limits in a first round
            for i in range(4):
                phone.locator(f'#units li[data-i="{i}"] button[data-c="0"]').click()
            phone.select_option("#bulk-level", "1")
            phone.click("#bulk-apply")
            phone.click("#to-review")
            phone.click("#seal")
            phone.click("#cast")
            expect(phone.locator("#screen-receipt")).to_be_visible()
            expect(phone.locator("#second-round")).to_be_hidden()
            assert "#" not in phone.url  # the code left the address bar at once

            # The receipt page asks for /rounds every 20 s, but not while the page is hidden.
            def rounds_asked() -> int:
                return sum(urlsplit(u).path == f"/api/v1/elections/{SLUG}/rounds" for u in requests)

            phone.wait_for_timeout(1000)
            assert rounds_asked() >= 1
            phone.evaluate(HIDE)
            hidden_at, asked = time.monotonic(), rounds_asked()

            # The secretary tallies and creates the second round; the trustees redo keygen.
            tally(meeting, SLUG, devices, keys)
            slug2 = meeting.create_second_round(SLUG)
            meeting.begin_ceremony(slug2)
            devices2, keys2 = ceremony(meeting, base, slug2, codes)
            meeting.open_voting(slug2)

            phone.wait_for_timeout(max(0.0, 22 - (time.monotonic() - hidden_at)) * 1000)
            assert rounds_asked() == asked, "a hidden page went on polling"
            expect(phone.locator("#second-round")).to_be_hidden()
            # Shown again: it asks at once and finds the second round.
            phone.evaluate(SHOW)
            expect(phone.locator("#second-round")).to_be_visible(timeout=5_000)
            assert rounds_asked() == asked + 1

            # The link carries the code this page still holds (in the fragment): no typing.
            phone.click("#second-round-link")
            expect(phone.locator("#screen-ballot")).to_be_visible()
            assert urlsplit(phone.url).path == f"/v/{slug2}" and "#" not in phone.url
            expect(phone.locator("#screen-code")).to_be_hidden()

            # Ballot B: 4 candidates, "at most 2 agree", with a live counter.
            expect(phone.locator("#units li")).to_have_count(4)
            counter = phone.locator("#limits .limit-count")
            expect(phone.locator("#limits")).to_contain_text("tối đa 2")
            expect(counter).to_have_text("0/2")
            agree = [phone.locator(f'#units li[data-i="{i}"] button[data-c="0"]') for i in range(4)]
            disagree = [phone.locator(f'#units li[data-i="{i}"] button[data-c="1"]') for i in range(4)]
            agree[0].click()
            agree[1].click()
            expect(counter).to_have_text("2/2")
            expect(agree[2]).to_be_disabled()  # a third "agree" is refused before sealing
            expect(agree[3]).to_be_disabled()
            agree[2].click(force=True)  # even forced: nothing happens
            expect(agree[2]).to_have_attribute("aria-checked", "false")
            expect(counter).to_have_text("2/2")
            shot(phone, "phone-ballot-b-full", full_page=False)
            agree[1].click()  # taking one back frees a place
            expect(counter).to_have_text("1/2")
            expect(agree[2]).to_be_enabled()
            agree[2].click()
            disagree[1].click()
            disagree[3].click()
            expect(counter).to_have_text("2/2")
            phone.click("#to-review")
            expect(phone.locator("#review-list li")).to_have_count(4)
            expect(phone.locator("#seal")).to_be_enabled()
            phone.click("#seal")
            expect(phone.locator("#screen-sealed")).to_be_visible()
            phone.click("#cast")
            expect(phone.locator("#screen-receipt")).to_be_visible()
            shot(phone, "phone-ballot-b-receipt")
            expect(phone.locator("#second-round")).to_be_hidden()  # no round after the second

            # Another member scans the first-round slip now that the first round is over: the
            # page goes on to the second round with the code it read, without asking for it.
            other_ctx = b.context(**PHONE)
            other_ctx.on("request", lambda r: requests.append(r.url))
            other = b.page(other_ctx)
            other_code = invitations["M01"]
            other.goto(f"{b.origin}/v/{SLUG}#{other_code}")
            expect(other.locator("#screen-ballot")).to_be_visible()
            assert urlsplit(other.url).path == f"/v/{slug2}" and "#" not in other.url
            expect(other.locator("#units li")).to_have_count(4)
            expect(other.locator("#limits")).to_contain_text("tối đa 2")

            # Without a code (the link typed by hand): "closed", and a button to the second round.
            other.goto(f"{b.origin}/v/{SLUG}")
            expect(other.locator("#screen-message")).to_be_visible()
            link = other.locator("#message-second-round-link")
            expect(link).to_be_visible()
            expect(link).to_have_text("Sang vòng hai")
            assert link.get_attribute("href") == f"/v/{slug2}"
            link.click()
            # The token is kept, sealed under the slip's code (docs/web.md "Storage"): the page
            # asks for the code, then carries on with the same token (no "already used").
            expect(other.locator("#message-text")).to_contain_text("khóa bằng mã trên phiếu mời")
            other.click("#message-code")
            expect(other.locator("#screen-code")).to_be_visible()
            other.fill("#code-input", other_code)
            other.click('#code-form button[type="submit"]')
            expect(other.locator("#screen-ballot")).to_be_visible()
        finally:
            b.browser.close()
    assert b.blocked == [], f"requests to other hosts: {b.blocked}"
    # The codes travel only in fragments, which no browser sends: not in any path or query,
    # and no request but the navigation to a phone page carries them even in its fragment.
    forms = code_forms(code) | code_forms(other_code)
    paths = [urlsplit(u).path for u in requests]
    assert f"/v/{SLUG}" in paths and f"/v/{slug2}" in paths and f"/api/v1/elections/{slug2}/tokens" in paths
    for url in requests:
        sent, _, fragment = url.partition("#")
        assert not any(f in sent for f in forms), f"an invitation code in a request: {sent}"
        if any(f in fragment for f in forms):
            assert urlsplit(sent).path in (f"/v/{SLUG}", f"/v/{slug2}"), url
    assert b.errors == [], f"errors in the pages (CSP, script): {b.errors}"

    assert meeting.counters(slug2)["ballots"] == 1
    record = load_record(tally(meeting, slug2, devices2, keys2))
    assert len(record["board"][0]["ballot"]["limits"]) == 1
    report = verify_record(record, workers=1)
    assert report.ok and report.figures["limit_proofs"] == 1
    res = {r["unit_id"]: r["counts"]["votes"] for r in meeting.results(slug2)["results"]["units"]}
    assert res == {"M01": {"agree": 1, "disagree": 0}, "M02": {"agree": 0, "disagree": 1},
                   "M03": {"agree": 1, "disagree": 0}, "M04": {"agree": 0, "disagree": 1}}
