"""Ballot B on a phone, in a real browser (Debian's chromium through Playwright; set-up as in
test_browser_meeting.py): a member votes in the first round, keeps the page open, sees the link
to the second round when the secretary creates it, follows it with the same slip, and votes
"agree / disagree" with "at most K agree" enforced by the page before sealing; the server
accepts the ballot (its limit proof verifies)."""

from __future__ import annotations

import pytest
from conftest import PHONE, browser_app, require_browser, serving
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


def ceremony(meeting, base, slug, codes):
    from ballot.clients.http import Http
    from ballot.clients.trustee import TrusteeDevice

    devices = {i: TrusteeDevice(Http(base, bearer=codes[f"T{i}"]), slug, i) for i in (1, 2)}
    keys = {i: d.keygen() for i, d in devices.items()}
    for i, d in devices.items():
        d.send_shares(keys[i])
    keys = {i: d.receive_shares(keys[i]) for i, d in devices.items()}
    meeting.finish_ceremony(slug)
    return devices, keys


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
    meeting.begin_ceremony(SLUG)
    devices, keys = ceremony(meeting, base, SLUG, codes)
    invitations = meeting.open_voting(SLUG)
    http = Http(base)
    election = fetch_election(http, SLUG)
    for rid, _ in MEMBERS[:-1]:
        vote(http, SLUG, invitations[rid], [0] * 4 + [1] * 8, election)

    with sync_playwright() as p:
        b = Browser(p, port)
        try:
            phone = b.page(b.context(**PHONE))
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

            # The secretary tallies and creates the second round; the trustees redo keygen.
            tally(meeting, SLUG, devices, keys)
            slug2 = meeting.create_second_round(SLUG)
            meeting.begin_ceremony(slug2)
            devices2, keys2 = ceremony(meeting, base, slug2, codes)
            meeting.open_voting(slug2)

            # The open receipt page finds the second round (it asks every 20 s).
            expect(phone.locator("#second-round")).to_be_visible(timeout=45_000)
            phone.click("#second-round-link")
            expect(phone.locator("#screen-code")).to_be_visible()
            phone.fill("#code-input", code)  # the same slip
            phone.click("#code-form button[type=submit]")
            expect(phone.locator("#screen-ballot")).to_be_visible()

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
        finally:
            b.browser.close()
    assert b.blocked == [], f"requests to other hosts: {b.blocked}"
    assert b.errors == [], f"errors in the pages (CSP, script): {b.errors}"

    assert meeting.counters(slug2)["ballots"] == 1
    record = load_record(tally(meeting, slug2, devices2, keys2))
    assert len(record["board"][0]["ballot"]["limits"]) == 1
    report = verify_record(record, workers=1)
    assert report.ok and report.figures["limit_proofs"] == 1
    res = {r["unit_id"]: r["counts"]["votes"] for r in meeting.results(slug2)["results"]["units"]}
    assert res == {"M01": {"agree": 1, "disagree": 0}, "M02": {"agree": 0, "disagree": 1},
                   "M03": {"agree": 1, "disagree": 0}, "M04": {"agree": 0, "disagree": 1}}
