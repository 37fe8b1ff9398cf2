"""The minor points of a real meeting (issue 13): trustee codes in the invitation alphabet and
read leniently, tracking codes read with 0/1 for O/I, the sign-in keeps the user name, the
meetings list shows the organisation, confirmations before irreversible steps, the
decryption count's wording, the code screen's text."""

from __future__ import annotations

import re

from conftest import (finish, ADMIN, ClientHttp, create_meeting, csrf, post, run_ceremony,
                      slip_codes_from_page, trustee_codes_from_page)

CROCKFORD_CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}")


def test_trustee_codes_use_the_invitation_alphabet_and_any_case(app, admin_client):
    c = admin_client
    create_meeting(c, slug="chi-bo-k", n=3, trustees="Một\nHai", threshold=1)
    page = c.get("/admin/m/chi-bo-k").get_data(as_text=True)
    assert "data-confirm=" in page.split('id="begin-ceremony"')[0].rsplit("<form", 1)[1]
    post(c, "/admin/m/chi-bo-k/begin")
    codes = trustee_codes_from_page(c.get("/admin/m/chi-bo-k/trustee-codes").get_data(as_text=True))
    assert all(CROCKFORD_CODE.fullmatch(code) for code in codes.values()), codes
    # typed in small letters, without dashes, O for 0 and L for 1: the same (enrolment) code
    def enrol(index: int, code: str, own: str) -> int:
        return c.post(f"/api/v1/elections/chi-bo-k/trustees/{index}/enrol", json={"code": own},
                      headers={"Authorization": f"Bearer {code}"}).status_code

    wrong = codes[1][:-1] + ("A" if codes[1][-1] != "A" else "B")
    assert enrol(1, wrong, "own code of trustee 1") == 403
    typed = codes[1].lower().replace("-", "").replace("0", "o").replace("1", "l")
    assert enrol(1, typed, "own code of trustee 1") == 201
    # a replaced code has the same alphabet
    _, new = app.extensions["ballot.meeting"].new_trustee_code("chi-bo-k", 2)
    assert CROCKFORD_CODE.fullmatch(new)
    assert enrol(2, new.lower(), "own code of trustee 2") == 201


def test_tracking_code_read_with_digits_for_letters(app, admin_client):
    from ballot.clients.voter import vote
    from ballot.tally.verify import normalise_code

    assert normalise_code("y0eb-1abc kl") == "YOEBIABCKL"
    c = admin_client
    create_meeting(c, slug="chi-bo-t", n=3, trustees="Một", threshold=1)
    post(c, "/admin/m/chi-bo-t/begin")
    codes = trustee_codes_from_page(c.get("/admin/m/chi-bo-t/trustee-codes").get_data(as_text=True))
    finish(c, "chi-bo-t", run_ceremony(c, "chi-bo-t", codes))
    page = c.get("/admin/m/chi-bo-t").get_data(as_text=True)
    assert "data-confirm=" in page.split('id="open-voting"')[0].rsplit("<form", 1)[1]
    post(c, "/admin/m/chi-bo-t/open")
    invitations = slip_codes_from_page(c.get("/admin/m/chi-bo-t/slips").get_data(as_text=True))
    receipt = vote(ClientHttp(c), "chi-bo-t", invitations["DV001"], [1, 1, 1])
    code = receipt["tracking_code"]
    typed = code.lower().replace("o", "0").replace("i", "1").replace("-", " ")
    found = c.get(f"/b/chi-bo-t?code={typed}").get_data(as_text=True)
    assert 'id="board-found"' in found, (code, typed)


def test_sign_in_keeps_the_user_name_and_list_shows_the_organisation(app, client):
    token = csrf(client, "/admin/login")
    resp = client.post("/admin/login", data={"username": ADMIN[0], "password": "wrong",
                                             "csrf_token": token})
    html = resp.get_data(as_text=True)
    assert resp.status_code in (401, 429)
    assert f'value="{ADMIN[0]}"' in html and 'type="password" autocomplete="current-password" required autofocus' in html
    assert 'value="' + ADMIN[1] + '"' not in html  # never the password
    token = csrf(client, "/admin/login")
    client.post("/admin/login", data={"username": ADMIN[0], "password": ADMIN[1],
                                      "csrf_token": token})
    create_meeting(client, slug="chi-bo-o", n=3)
    listing = client.get("/admin/").get_data(as_text=True)
    assert "<td>Chi bộ Thử nghiệm</td>" in listing


def test_decryptions_wording_and_code_screen(app, admin_client):
    from ballot.clients.voter import vote

    c = admin_client
    create_meeting(c, slug="chi-bo-d", n=3, trustees="Một\nHai\nBa", threshold=2)
    post(c, "/admin/m/chi-bo-d/begin")
    codes = trustee_codes_from_page(c.get("/admin/m/chi-bo-d/trustee-codes").get_data(as_text=True))
    trustees = run_ceremony(c, "chi-bo-d", codes)
    finish(c, "chi-bo-d", trustees)
    post(c, "/admin/m/chi-bo-d/open")
    invitations = slip_codes_from_page(c.get("/admin/m/chi-bo-d/slips").get_data(as_text=True))
    vote(ClientHttp(c), "chi-bo-d", invitations["DV001"], [1, 1, 1])
    phone = c.get("/v/chi-bo-d").get_data(as_text=True)
    assert "Không phân biệt chữ hoa, chữ thường" in phone and "phải đúng" not in phone
    post(c, "/admin/m/chi-bo-d/close")
    for device, keys in trustees:  # all three decrypt: more than the 2 needed
        device.decrypt(keys)
    page = c.get("/admin/m/chi-bo-d").get_data(as_text=True)
    assert "Đã nhận 3 phần giải mã (cần 2)" in page and "3 trên 2" not in page
    assert "data-confirm=" in page.split('id="finalize"')[0].rsplit("<form", 1)[1]


def test_new_meeting_date_is_the_meetings_not_the_servers(app, admin_client):
    import datetime as dt
    from zoneinfo import ZoneInfo

    # UTC+14 and UTC−12 are 26 hours apart: their dates always differ.
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):
        app.config["TIMEZONE"] = zone
        html = admin_client.get("/admin/new").get_data(as_text=True)
        want = dt.datetime.now(ZoneInfo(zone)).date().isoformat()
        assert f'name="date" type="date" required value="{want}"' in html, zone
