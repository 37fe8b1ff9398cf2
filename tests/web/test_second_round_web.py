"""The second round through the secretary's pages and the JSON API: the "Hold the second
round" button after a first round whose results send candidates to it, the new meeting with
the same trustees' access codes and members' slips, and the first round's minutes filled in."""

from __future__ import annotations

import json
import re

import pytest
from io import BytesIO

from conftest import (ClientHttp, csrf, finish, login, post, roll_csv, run_ceremony, slip_codes_from_page,
                      trustee_codes_from_page, units_csv)

N = 12  # X_max = ⌊12/6⌋ = 2


def create(client, slug: str, *, second_round: bool = True):
    data = {
        "csrf_token": csrf(client, "/admin/new"), "title": "Xếp loại đảng viên 2025",
        "organisation": "Chi bộ Thử nghiệm", "date": "2025-12-15", "slug": slug,
        "preset": "branch_qd366", "meeting_kind": "branch_members",
        "base": "convened_minus_excluded", "trustees": "Ủy viên A\nỦy viên B", "threshold": "2",
        "roll": (BytesIO(roll_csv(N)), "roll.csv"), "units": (BytesIO(units_csv(N)), "units.csv"),
    }
    if second_round:
        data["second_round"] = "on"
    resp = client.post("/admin/new", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)


def first_round(c, slug: str, *, second_round: bool = True):
    from ballot.clients.voter import vote

    create(c, slug, second_round=second_round)
    page = c.get(f"/admin/m/{slug}").get_data(as_text=True)  # a first round: new codes, slips
    assert "chỉ hiện một lần ở trang tiếp theo" in page and 'id="round-two-codes"' not in page
    post(c, f"/admin/m/{slug}/begin")
    codes = trustee_codes_from_page(c.get(f"/admin/m/{slug}/trustee-codes").get_data(as_text=True))
    trustees = run_ceremony(c, slug, codes)
    finish(c, slug, trustees)
    post(c, f"/admin/m/{slug}/open")
    invitations = slip_codes_from_page(c.get(f"/admin/m/{slug}/slips").get_data(as_text=True))
    http = ClientHttp(c)
    for rid in sorted(invitations):  # DV001..DV004 excellent from everyone, the rest good
        vote(http, slug, invitations[rid], [0] * 4 + [1] * (N - 4))
    post(c, f"/admin/m/{slug}/close")
    for device, keys in trustees:
        device.decrypt(keys)
    assert "finalize-done" in post(c, f"/admin/m/{slug}/finalize").get_data(as_text=True)
    return codes, invitations


def test_hold_the_second_round_from_the_meeting_page(app, admin_client):
    from ballot.clients.voter import vote

    c = admin_client
    codes, invitations = first_round(c, "cb-a")
    page = c.get("/admin/m/cb-a").get_data(as_text=True)
    assert 'id="hold-second-round"' in page and "Tổ chức vòng hai" in page
    # The minutes before the second round: the candidates, no counts yet.
    assert "Bỏ phiếu vòng hai" in c.get("/admin/m/cb-a/minutes").get_data(as_text=True)

    resp = post(c, "/admin/m/cb-a/second-round")
    assert resp.headers["Location"].endswith("/admin/m/cb-a-v2")
    page = c.get("/admin/m/cb-a-v2").get_data(as_text=True)
    assert 'id="round-two-note"' in page and "vòng hai" in page.lower()
    # The draft step of a second round: no new trustee codes (not "shown once, on the next page").
    assert 'id="round-two-codes"' in page
    assert "Không có mã truy cập mới" in page and "mã truy cập của vòng một" in page
    assert "chỉ hiện một lần ở trang tiếp theo" not in page
    english = c.get("/admin/m/cb-a-v2?lang=en").get_data(as_text=True)
    assert "each trustee signs in with the access code of the first round" in english
    assert "is shown once, on the next page" not in english
    c.get("/admin/m/cb-a-v2?lang=vi")
    first = c.get("/admin/m/cb-a").get_data(as_text=True)
    assert 'id="hold-second-round"' not in first and 'id="second-round-link"' in first
    # Once only: a second POST is refused with the reason, nothing is created.
    post(c, "/admin/m/cb-a/second-round")
    assert "already exists" in c.get("/admin/m/cb-a").get_data(as_text=True)

    # Begin: no new codes page, the trustees keep their access codes.
    resp = post(c, "/admin/m/cb-a-v2/begin")
    assert resp.headers["Location"].endswith("/admin/m/cb-a-v2")
    page = c.get("/admin/m/cb-a-v2").get_data(as_text=True)
    assert "đăng nhập bằng mã truy cập của vòng một" in page
    assert 'href="/admin/m/cb-a-v2/trustee-codes"' not in page
    trustees = run_ceremony(c, "cb-a-v2", codes)
    finish(c, "cb-a-v2", trustees)
    # The open step: the members keep their first-round slips, nothing to print.
    page = c.get("/admin/m/cb-a-v2").get_data(as_text=True)
    assert 'id="open-voting"' in page and 'id="round-two-open"' in page
    assert "Không có phiếu mời mới" in page and "hãy in phiếu mời ngay sau đó" not in page
    resp = post(c, "/admin/m/cb-a-v2/open")
    assert resp.headers["Location"].endswith("/admin/m/cb-a-v2")  # no slips to print
    page = c.get("/admin/m/cb-a-v2").get_data(as_text=True)
    assert 'id="close-voting"' in page and 'id="round-two-slips"' in page
    assert "Không có phiếu mời để in" in page
    assert 'id="slips-link"' not in page and "phiếu mời đã được in" not in page
    english = c.get("/admin/m/cb-a-v2?lang=en").get_data(as_text=True)
    assert "No slips to print: members vote with the slips of the first round" in english
    c.get("/admin/m/cb-a-v2?lang=vi")
    phone = c.get("/v/cb-a-v2").get_data(as_text=True)
    assert 'id="limits"' in phone and "Chọn tối đa" not in phone  # the script writes it
    strings = json.loads(re.search(r'<script type="application/json" id="strings">(.*?)</script>',
                                   phone, re.S).group(1))
    assert strings["limit"] == "Nhóm %(group)s: chọn tối đa %(k)s người “%(agree)s”"

    http = ClientHttp(c)
    for i, rid in enumerate(sorted(invitations)):
        vote(http, "cb-a-v2", invitations[rid], [0, 0, 1, 1] if i < 9 else [1, 0, 0, None])
    post(c, "/admin/m/cb-a-v2/close")
    for device, keys in trustees:
        device.decrypt(keys)
    assert "finalize-done" in post(c, "/admin/m/cb-a-v2/finalize").get_data(as_text=True)
    results = c.get("/api/v1/elections/cb-a-v2/results.json").get_json()["results"]
    assert [r["outcome"] for r in results["units"]] == [
        "selected", "selected", "not_selected", "not_selected"]
    assert "được chọn" in c.get("/r/cb-a-v2").get_data(as_text=True)
    minutes2 = c.get("/admin/m/cb-a-v2/minutes").get_data(as_text=True)
    assert "Mỗi phiếu không quá K phiếu Đồng ý" in minutes2

    # The first round's minutes now carry the second round's counts and selection.
    minutes = c.get("/admin/m/cb-a/minutes").get_data(as_text=True)
    assert "Được chọn" in minutes and "Không được chọn" in minutes
    assert c.get("/admin/m/cb-a/minutes.pdf").data.startswith(b"%PDF")
    html = c.get("/admin/m/cb-a/minutes.html").get_data(as_text=True)
    assert "Được chọn" in html


def test_the_api_links_the_rounds_and_only_the_secretary_page_creates_one(app, client):
    # The JSON API takes no cookie (docs/web.md): creating a second round is the secretary's
    # form (session + CSRF token), not an API call.
    login(client)
    first_round(client, "cb-b")
    api = "/api/v1/elections/cb-b"
    assert client.get(f"{api}/rounds").get_json() == {
        "round": 1, "first_round": None, "second_round": None, "second_round_status": None,
        "candidates": True}
    assert client.post(f"{api}/second-round", json={}).status_code in (400, 404, 405)
    assert app.test_client().post("/admin/m/cb-b/second-round").status_code in (400, 403)
    assert client.post("/admin/m/cb-b/second-round").status_code == 400  # no CSRF token
    assert client.get(f"{api}/rounds").get_json()["second_round"] is None
    resp = post(client, "/admin/m/cb-b/second-round")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/m/cb-b-v2")
    assert client.get(f"{api}/rounds").get_json()["second_round"] == "cb-b-v2"
    assert client.get("/api/v1/elections/cb-b-v2/rounds").get_json()["round"] == 2
    resp = post(client, "/admin/m/cb-b/second-round")  # again: refused, said on the page
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/m/cb-b")
    page = client.get("/admin/m/cb-b").get_data(as_text=True)
    assert "already exists" in page
    assert client.get("/api/v1/elections/nope/rounds").status_code == 404


def test_no_button_without_candidates(app, admin_client):
    c = admin_client
    first_round(c, "cb-c", second_round=False)
    page = c.get("/admin/m/cb-c").get_data(as_text=True)
    assert 'id="hold-second-round"' not in page
    resp = post(c, "/admin/m/cb-c/second-round")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/m/cb-c")
    assert "no candidate" in c.get("/admin/m/cb-c").get_data(as_text=True)


def test_a_trustee_who_lost_the_code_gets_a_new_one_before_enrolling(app, admin_client):
    # Round two keeps round one's trustees' own access codes (chosen at their first sign-in):
    # the secretary can no longer replace them. Before a trustee enrols, the secretary can
    # give a new one-time enrolment code (the old one stops working).
    from ballot.clients.http import ApiError
    from ballot.clients.trustee import TrusteeDevice
    from ballot.store import repo
    from ballot.store.db import transaction

    c = admin_client
    first_round(c, "cb-n")
    post(c, "/admin/m/cb-n/second-round")
    post(c, "/admin/m/cb-n-v2/begin")
    page = c.get("/admin/m/cb-n-v2").get_data(as_text=True)
    assert 'id="new-code-1"' not in page and 'id="new-code-2"' not in page
    resp = post(c, "/admin/m/cb-n-v2/trustee/2/new-code")
    assert resp.status_code == 302
    assert "has chosen their own access code" in c.get("/admin/m/cb-n-v2").get_data(as_text=True)
    m = app.extensions["ballot.meeting"]
    with transaction(m.factory, read_only=True) as s:  # the round-one own code works
        election = repo.get_election(s, "cb-n-v2")
        assert m.trustee_login(s, election, 2, "own code of trustee 2").index == 2
    # a meeting whose trustee 2 has not enrolled yet: a new enrolment code, shown once
    create(c, "cb-m")
    post(c, "/admin/m/cb-m/begin")
    old = trustee_codes_from_page(c.get("/admin/m/cb-m/trustee-codes").get_data(as_text=True))[2]
    resp = post(c, "/admin/m/cb-m/trustee/2/new-code")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="trustee-codes"' in html
    new = re.search(r'<tr data-index="2">.*?<code class="code">([^<]+)</code>', html, re.S).group(1)
    device = TrusteeDevice(ClientHttp(app.test_client(), bearer=old), "cb-m", 2)
    with pytest.raises(ApiError) as e:
        device.enrol("my own code 2")
    assert e.value.status == 403
    device.http.bearer = new
    device.enrol("my own code 2")
    device.keygen()
    assert 'id="new-code-2"' not in c.get("/admin/m/cb-m").get_data(as_text=True)
    resp = post(c, "/admin/m/cb-m/trustee/2/new-code")
    assert resp.status_code == 302
    assert "already published keys" in c.get("/admin/m/cb-m").get_data(as_text=True)
    assert post(c, "/admin/m/cb-m/trustee/9/new-code").status_code == 302
