"""The receipt's two states on a phone, in a real browser (set-up as in
test_second_round_browser.py): "received" (đã nhận) as soon as the receipt arrives, then
"checked" (đã kiểm tra hợp lệ) once the server has checked the ballot's proofs — and a loud
warning if the server marks the ballot invalid (docs/protocol.md, "Received, then checked")."""

from __future__ import annotations

import pytest
from conftest import PHONE, browser_app, require_browser, serving
from test_browser_meeting import Browser

pytestmark = pytest.mark.browser

SLUG = "cb-nhan"
MEMBERS = [(f"M{i:02d}", f"Đảng viên {i}") for i in range(1, 4)]


@pytest.fixture
def server(db_url, tmp_path):
    require_browser()
    app = browser_app(db_url, tmp_path)
    with serving(app) as port:
        yield app.extensions["ballot.meeting"], port


def cast_on_phone(b, expect, code):
    phone = b.page(b.context(**PHONE))
    phone.goto(f"{b.origin}/v/{SLUG}#{code}")
    expect(phone.locator("#screen-ballot")).to_be_visible()
    phone.select_option("#bulk-level", "1")
    phone.click("#bulk-apply")
    phone.click("#to-review")
    phone.click("#seal")
    phone.click("#cast")
    expect(phone.locator("#screen-receipt")).to_be_visible()
    return phone


def test_received_then_checked_on_the_phone(server):
    from playwright.sync_api import expect, sync_playwright

    from tests.support.ceremony import hold_ceremony
    from ballot.election.presets import branch_qd366
    from ballot.election.roll import RollEntry
    from ballot.election.units import Unit
    from ballot.store import repo
    from ballot.store.db import transaction
    from ballot.store.models import BoardCheck

    expect.set_options(timeout=20_000)
    meeting, port = server
    levels, rules = branch_qd366()
    codes = meeting.create(
        slug=SLUG, title="Xếp loại 2025", organisation="Chi bộ thử", date="2025-12-20",
        meeting_kind="branch_members", levels=levels, rules=rules,
        roll=[RollEntry(rid, name, "official", None) for rid, name in MEMBERS],
        units=[Unit(unit_id=rid, name=name, kind="member") for rid, name in MEMBERS],
        trustee_names=["T1"], threshold=1)
    (device,), (keys,) = hold_ceremony(meeting, f"http://127.0.0.1:{port}", SLUG, codes)
    invitations = meeting.open_voting(SLUG)

    with sync_playwright() as p:
        b = Browser(p, port)
        try:
            # No checker runs in this test server: the receipt says "received" and stays so.
            phone = cast_on_phone(b, expect, invitations["M01"])
            status = phone.locator("#receipt-status")
            expect(status).to_have_attribute("data-status", "received")
            expect(status).to_contain_text("Đã nhận")
            phone.wait_for_timeout(2500)  # one more poll: still received
            expect(status).to_have_attribute("data-status", "received")
            # The proofs are checked (as the background checker does): the phone shows it.
            assert meeting.finish_close(SLUG) is False  # voting still open: no aggregate
            expect(status).to_have_attribute("data-status", "valid")
            expect(status).to_contain_text("Đã kiểm tra hợp lệ")
            # Reopened, the page remembers the status without asking again.
            phone.goto(f"{b.origin}/v/{SLUG}#{invitations['M01']}")
            expect(phone.locator("#receipt-status")).to_have_attribute("data-status", "valid")

            # A lying server marks the next honest ballot invalid: the phone says so, loudly.
            phone2 = cast_on_phone(b, expect, invitations["M02"])
            with transaction(meeting.factory) as s:
                election = repo.get_election(s, SLUG)
                s.add(BoardCheck(election_id=election.id, position=2, status="invalid",
                                 reason="unit 1: the proof that it holds one allowed choice fails"))
            status2 = phone2.locator("#receipt-status")
            expect(status2).to_have_attribute("data-status", "invalid")
            expect(status2).to_contain_text("KHÔNG HỢP LỆ")
            expect(status2).to_contain_text("unit 1: the proof")
        finally:
            b.browser.close()
    assert b.errors == [], f"errors in the pages (CSP, script): {b.errors}"
