"""A committee's long ballot on 390 × 844 phones, one at 150 % text (Debian's chromium through
Playwright): sections per group, each cadre's kind and group, "next unmarked row", the bulk
action without a default level, "set every unmarked row to its proposed level", the review
screen's per-level counts and quota note, the Back button, marks kept in a second tab, the
"next voter" link hidden while sending; after the meeting, the receipt checked against the
board, and the home page's published meetings. Screenshots go to ``test-artifacts/`` (the
ones in docs/img/ come from here)."""

from __future__ import annotations

import re
import time

import pytest
from conftest import (ARTIFACTS, CHROMIUM, CHROMIUM_ARGS as ARGS, PHONE, browser_app,
                      require_browser, serving)

pytestmark = pytest.mark.browser

SLUG = "btv-dai"
LEADERS = [(f"CB{i:02d}", name, grp) for i, (name, grp) in enumerate([
    ("Nguyễn Văn Trưởng", "Trưởng phòng"), ("Trần Thị Lan", "Trưởng phòng"),
    ("Lê Văn Hùng", "Trưởng phòng"), ("Phạm Thị Mai", "Trưởng phòng"),
    ("Hoàng Văn Nam", "Trưởng phòng"), ("Vũ Thị Hoa", "Trưởng phòng"),
    ("Đặng Văn Phó", "Phó trưởng phòng"), ("Bùi Thị Hạnh", "Phó trưởng phòng"),
    ("Đỗ Văn Long", "Phó trưởng phòng"), ("Hồ Thị Thu", "Phó trưởng phòng"),
    ("Ngô Văn Bình", "Phó trưởng phòng"), ("Dương Thị Ngọc", "Phó trưởng phòng"),
], 1)]
ORGS = [(f"TC{i:02d}", f"Chi bộ Phòng số {i}", "Chi bộ trực thuộc") for i in range(1, 7)]
MEMBERS = [(f"UV{i:02d}", f"Ủy viên {i}") for i in range(1, 6)]


def _make_meeting(meeting, api):
    from tests.support.ceremony import hold_ceremony
    from ballot.election.presets import committee_qd366
    from ballot.election.roll import RollEntry
    from ballot.election.units import Unit

    levels, rules = committee_qd366()
    units = [Unit(unit_id=uid, name=name, kind="leader", group=grp, proposed_level="HTTNV",
                  self_level="HTXSNV" if i % 3 == 0 else "HTTNV")
             for i, (uid, name, grp) in enumerate(LEADERS)]
    units += [Unit(unit_id=uid, name=name, kind="organisation", group=grp,
                   proposed_level="HTNV" if i == 0 else "HTTNV")
              for i, (uid, name, grp) in enumerate(ORGS)]
    codes = meeting.create(slug=SLUG, title="Đánh giá, xếp loại cán bộ và tổ chức năm 2025",
                           organisation="Ban Thường vụ Đảng ủy Thử nghiệm", date="2025-12-15",
                           meeting_kind="committee_units", levels=levels, rules=rules,
                           roll=[RollEntry(r, n, "official", None) for r, n in MEMBERS],
                           units=units, trustee_names=["Kiểm phiếu Một"], threshold=1)
    (device,), (keys,) = hold_ceremony(meeting, api, SLUG, codes)
    return device, keys, meeting.open_voting(SLUG)


def shot(page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


LAYOUT = """() => {
  const buttons = [...document.querySelectorAll('#units .choices button')];
  const px = (b) => parseFloat(getComputedStyle(b).fontSize);
  const foot = document.querySelector('.voter-foot .next-voter').getBoundingClientRect();
  return {
    scrollWidth: document.documentElement.scrollWidth,
    bodyWidth: document.body.scrollWidth,
    minFont: Math.min(...buttons.map(px)),
    maxRight: Math.max(...buttons.map((b) => b.getBoundingClientRect().right)),
    footHeight: foot.height, footWidth: foot.width,
  };
}"""


def test_long_committee_ballot_on_phones(db_url, tmp_path):
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)
    app = browser_app(db_url, tmp_path)
    meeting = app.extensions["ballot.meeting"]
    with serving(app) as port, sync_playwright() as p:
        device, keys, invitations = _make_meeting(meeting, f"http://127.0.0.1:{port}")
        origin = f"http://meeting.test:{port}"
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        errors: list[str] = []
        try:
            _phones(browser, origin, invitations, meeting, device, keys, expect, errors)
        finally:
            browser.close()
        assert errors == [], errors


def _page(browser, errors, **options):
    ctx = browser.new_context(**PHONE, **options)
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("dialog", lambda d: d.accept())
    return ctx, page


def _phones(browser, origin, invitations, meeting, device, keys, expect, errors):
    n = len(LEADERS) + len(ORGS)
    slip = f"{origin}/v/{SLUG}#{invitations['UV01']}"
    ctx, page = _page(browser, errors)
    page.goto(slip)
    expect(page.locator("#screen-ballot")).to_be_visible()
    expect(page.locator("#progress")).to_have_text(f"0/{n}")
    # Sections per group; each cadre's kind and group under the name.
    expect(page.locator("#units .section-head")).to_have_text(
        ["Trưởng phòng", "Phó trưởng phòng", "Chi bộ trực thuộc"])
    expect(page.locator('#units li[data-i="0"] .unit-meta')).to_contain_text(
        "Cán bộ — Trưởng phòng")
    expect(page.locator('#units li[data-i="12"] .unit-meta')).to_contain_text("Tổ chức")
    # The bulk action has no default level (it used to be HTXSNV).
    assert page.locator("#bulk-level").input_value() == ""
    page.click("#bulk-apply")
    expect(page.locator("#progress")).to_have_text(f"0/{n}")
    # Layout at 390 px, 100 % text: no sideways scrolling, level buttons at 16 px or more.
    layout = page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= 390 and layout["maxRight"] <= 390, layout
    assert layout["minFont"] >= 16, layout
    assert layout["footHeight"] >= 44 and layout["footWidth"] >= 44, layout

    # Four of the six Trưởng phòng marked excellent, the first Phó abstains.
    for i in range(4):
        page.locator(f'#units li[data-i="{i}"] button', has_text="HTXSNV").click()
    page.locator('#units li[data-i="6"] button.abstain').click()
    expect(page.locator("#progress")).to_have_text(f"5/{n}")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "long-ballot")
    # "Next unmarked" goes to row 5 (the first unmarked), then row 6 is skipped (abstained).
    page.click("#next-unmarked")
    expect(page.locator('#units li[data-i="4"] button[data-c="0"]')).to_be_focused()
    page.click("#next-unmarked")
    expect(page.locator('#units li[data-i="5"] button[data-c="0"]')).to_be_focused()
    page.click("#next-unmarked")
    expect(page.locator('#units li[data-i="7"] button[data-c="0"]')).to_be_focused()

    # A second tab opened from the same slip shows the same marks.
    second = ctx.new_page()
    second.on("pageerror", lambda e: errors.append(str(e)))
    second.goto(slip)
    expect(second.locator("#screen-ballot")).to_be_visible()
    expect(second.locator("#progress")).to_have_text(f"5/{n}")
    expect(second.locator('#units li[data-i="0"] button[data-c="0"]')).to_have_attribute(
        "aria-checked", "true")
    second.close()

    # Every unmarked row to its proposed level: HTTNV for cadres, HTNV for the first branch.
    page.click("#bulk-proposed")
    expect(page.locator("#progress")).to_have_text(f"{n}/{n}")
    expect(page.locator('#units li[data-i="12"] button[data-c="2"]')).to_have_attribute(
        "aria-checked", "true")
    expect(page.locator('#units li[data-i="6"] button.abstain')).to_have_attribute(
        "aria-checked", "true")  # a marked row is kept

    # The review: counts per level, and the quota note (4 HTXSNV of 6 ≥ HTTNV: at most 1).
    page.click("#to-review")
    expect(page.locator("#screen-review")).to_be_visible()
    counts = page.locator("#review-counts li").all_inner_texts()
    assert counts == ["HTXSNV: 4", "HTTNV: 12", "HTNV: 1", "KHTNV: 0", "Không chọn: 1"], counts
    expect(page.locator("#review-quota")).to_be_visible()
    expect(page.locator("#review-quota")).to_contain_text(
        "Nhóm Trưởng phòng: đồng chí chọn HTXSNV cho 4 dòng, nhưng tỷ lệ chỉ giữ tối đa 1")
    shot(page, "long-review")
    # The browser's Back button returns to the ballot, on the same page.
    page.go_back()
    expect(page.locator("#screen-ballot")).to_be_visible()
    assert page.url.startswith(f"{origin}/v/{SLUG}")
    # A tap on a review row goes back to that row of the ballot.
    page.click("#to-review")
    page.locator('#review-list li[data-i="14"]').click()
    expect(page.locator("#screen-ballot")).to_be_visible()
    expect(page.locator('#units li[data-i="14"] button[data-c="0"]')).to_be_focused()
    page.click("#to-review")
    page.click("#seal")
    expect(page.locator("#screen-sealed")).to_be_visible()
    # "Next voter" is hidden while the ballot is being sent.
    held = []
    page.route("**/ballots", lambda route: held.append(route))
    page.click("#cast")
    deadline = time.time() + 10
    while not held and time.time() < deadline:
        page.wait_for_timeout(50)
    assert held, "the ballot was not sent"
    expect(page.locator(".voter-foot")).to_be_hidden()
    held[0].continue_()
    expect(page.locator("#screen-receipt")).to_be_visible()
    expect(page.locator(".voter-foot")).to_be_visible()
    page.unroute("**/ballots")
    code = page.locator("#receipt-code").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code)
    shot(page, "long-receipt")

    # A phone at 150 % text: rows wrap, nothing wider than the screen.
    ctx2, big = _page(browser, errors)
    big.goto(f"{origin}/v/{SLUG}#{invitations['UV02']}")
    expect(big.locator("#screen-ballot")).to_be_visible()
    # the system's text size: the root font size at 150 % (24 px), as a browser setting does
    big.evaluate("document.documentElement.style.fontSize = '150%'")
    layout = big.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= 390 and layout["bodyWidth"] <= 390, layout
    assert layout["maxRight"] <= 390 and layout["minFont"] >= 24, layout
    assert layout["footHeight"] >= 44, layout
    big.locator('#units li[data-i="0"] button.abstain').click()
    shot(big, "long-ballot-150")
    big.click("#bulk-proposed")
    big.click("#to-review")
    assert big.evaluate("document.documentElement.scrollWidth") <= 390
    big.click("#seal")
    # The answer to the cast is lost (the server has the ballot): the phone tries again by
    # itself after a countdown, finds its ballot on the board, and shows when it found it.
    lost = []

    def lose_answer(route):
        if not lost:
            # the server accepts the ballot (Playwright's own request: it resolves no
            # meeting.test, so straight to 127.0.0.1) ...
            lost.append(route.fetch(url=route.request.url.replace("meeting.test", "127.0.0.1")).status)
            route.abort()  # ... and the phone never hears it
        else:
            route.continue_()

    big.route("**/ballots", lose_answer)
    big.click("#cast")
    expect(big.locator("#message-auto")).to_contain_text("Tự thử lại sau")
    expect(big.locator("#screen-receipt")).to_be_visible(timeout=15_000)
    assert lost == [201] or lost == [200], lost
    # the cut answer and the retry's "token already spent" are provoked here, not page errors
    errors[:] = [e for e in errors if "ERR_FAILED" not in e and "409" not in e]
    expect(big.locator("#receipt-time")).to_contain_text("điện thoại này tìm thấy trên bảng")
    assert "–" != big.locator("#receipt-time").inner_text().strip()
    assert big.evaluate("document.documentElement.scrollWidth") <= 390
    ctx2.close()

    # A lost session: UV03 opened the slip in Zalo's browser (the token is there), then in
    # Chrome, which says the slip is used and sends them to the secretary ...
    zalo, zpage = _page(browser, errors)
    zpage.goto(f"{origin}/v/{SLUG}#{invitations['UV03']}")
    expect(zpage.locator("#screen-ballot")).to_be_visible()
    chrome, cpage = _page(browser, errors)
    cpage.goto(f"{origin}/v/{SLUG}#{invitations['UV03']}")
    expect(cpage.locator("#message-text")).to_contain_text("thư ký sẽ ghi nhận đồng chí chuyển "
                                                           "sang bỏ phiếu giấy")
    errors[:] = [e for e in errors if "409" not in e]  # the refusal, provoked here
    chrome.close()
    # ... who records on the meeting page that UV03 votes on paper instead.
    from ballot.web.auth import create_admin

    create_admin(meeting.factory, "thuky", "mat-khau-rat-dai-2025")
    desk = browser.new_context(viewport={"width": 1100, "height": 900})
    sec = desk.new_page()
    sec.on("dialog", lambda d: d.accept())
    sec.goto(f"{origin}/admin/login")
    sec.fill('input[name="username"]', "thuky")
    sec.fill('input[name="password"]', "mat-khau-rat-dai-2025")
    sec.click('button[type="submit"]')
    sec.goto(f"{origin}/admin/m/{SLUG}")
    sec.click("#paper-instead summary")
    sec.select_option("#paper-instead-member", "UV03")
    sec.click("#paper-instead-submit")
    expect(sec.locator("#set-aside-list")).to_contain_text("Ủy viên 3 (UV03)")
    expect(sec.locator("#token-figures")).to_contain_text("Thẻ đã cấp: 3; đã gác lại: 1; "
                                                          "còn hiệu lực: 2; phiếu điện tử: 2.")
    shot(sec, "admin-paper-instead", full_page=True)
    # The projector at 1080p: text readable across a room, the fingerprint unbroken per group.
    room = browser.new_context(viewport={"width": 1920, "height": 1080})
    proj = room.new_page()
    proj.goto(f"{origin}/p/{SLUG}")
    sizes = proj.evaluate("""() => ({
      body: parseFloat(getComputedStyle(document.body).fontSize),
      steps: parseFloat(getComputedStyle(document.querySelector('.instructions')).fontSize),
      fp: getComputedStyle(document.querySelector('.fingerprint code')).wordBreak,
      width: document.documentElement.scrollWidth })""")
    assert sizes["body"] >= 28 and sizes["steps"] >= 34, sizes
    assert sizes["fp"] == "normal" and sizes["width"] <= 1920, sizes
    shot(proj, "projector-1080p")
    room.close()
    zalo.close()

    # After the meeting: a new tab on /v/<slug> shows the kept receipt, on the board, counted.
    meeting.close_voting(SLUG, paper={"ballots_issued": 1, "ballots_valid": 1,
                                      "ballots_invalid": 0, "voters": 1})
    meeting.enter_paper_counts(SLUG, {
        "counts": [{"unit_id": uid, "votes": {"HTTNV": 1}, "abstain": 0, "blank": 0}
                   for uid, _, _ in LEADERS + ORGS]})
    late = ctx.new_page()
    late.on("pageerror", lambda e: errors.append(str(e)))
    late.goto(f"{origin}/v/{SLUG}")
    expect(late.locator("#screen-receipt")).to_be_visible()
    expect(late.locator("#receipt-code")).to_have_text(code)
    expect(late.locator("#after-on-board")).to_be_visible()
    expect(late.locator("#after-not-yet")).to_be_visible()
    device.decrypt(keys)
    meeting.finalize(SLUG)
    meeting.publish(SLUG)
    late.reload()
    expect(late.locator("#after-counted")).to_be_visible()
    expect(late.locator("#after-on-board")).to_contain_text("ở vị trí")
    expect(late.locator("#after-results")).to_be_visible()
    shot(late, "long-receipt-after")
    late.click("#after-results")
    expect(late.locator("h1")).to_contain_text("Kết quả")
    late.goto(f"{origin}/")
    expect(late.locator("#published")).to_contain_text("Đánh giá, xếp loại cán bộ và tổ chức")
    # The record names UV03 as "token issued, voted on paper"; the minutes say so.
    from ballot.tally.record import load_record
    from ballot.tally.verify import verify_record

    rec = load_record(meeting.record_path(SLUG))
    assert rec["paper_instead"] == ["UV03"] and verify_record(rec, workers=1).ok
    assert rec["figures"]["present"] == 3  # 2 valid tokens + 1 paper voter
    sec.goto(f"{origin}/admin/m/{SLUG}/minutes")
    expect(sec.locator("body")).to_contain_text("đã nhận thẻ điện tử nhưng bỏ phiếu giấy")
    desk.close()
    ctx.close()
