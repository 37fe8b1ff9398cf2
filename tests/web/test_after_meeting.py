"""After the meeting: the home page lists the published meetings (not drafts, not running
ones); the phone page carries the receipt check (the browser test plays it)."""

from __future__ import annotations

from conftest import (finish, ClientHttp, create_meeting, post, run_ceremony, slip_codes_from_page,
                      trustee_codes_from_page)


def test_home_lists_published_meetings_only(app, admin_client):
    c = admin_client
    create_meeting(c, slug="chi-bo-nhap", n=3, trustees="Một", threshold=1)  # a draft
    create_meeting(c, slug="chi-bo-xong", n=3, trustees="Một", threshold=1)
    post(c, "/admin/m/chi-bo-xong/begin")
    codes = trustee_codes_from_page(c.get("/admin/m/chi-bo-xong/trustee-codes").get_data(as_text=True))
    trustees = run_ceremony(c, "chi-bo-xong", codes)
    finish(c, "chi-bo-xong", trustees)
    (device, keys), = trustees
    post(c, "/admin/m/chi-bo-xong/open")
    anon = app.test_client()
    home = anon.get("/").get_data(as_text=True)
    assert "Chưa có cuộc họp nào được công bố." in home and "chi-bo-xong" not in home
    from ballot.clients.voter import vote

    invitations = slip_codes_from_page(c.get("/admin/m/chi-bo-xong/slips").get_data(as_text=True))
    vote(ClientHttp(c), "chi-bo-xong", invitations["DV001"], [1, 1, 1])
    post(c, "/admin/m/chi-bo-xong/close")
    device.decrypt(keys)
    assert "finalize-done" in post(c, "/admin/m/chi-bo-xong/finalize").get_data(as_text=True)
    assert "chi-bo-xong" not in anon.get("/").get_data(as_text=True)  # tallied, not published
    post(c, "/admin/m/chi-bo-xong/publish")
    home = anon.get("/").get_data(as_text=True)
    assert "Các cuộc họp đã công bố" in home
    for link in ("/r/chi-bo-xong", "/b/chi-bo-xong", "/api/v1/elections/chi-bo-xong/record"):
        assert f'href="{link}"' in home
        assert anon.get(link).status_code == 200, link
    assert "chi-bo-nhap" not in home and "Chi bộ Thử nghiệm" in home and "15/12/2025" in home


def test_phone_page_has_the_after_meeting_check(app, client):
    page = client.get("/static/js/receipt-check.js")
    assert page.status_code == 200 and b"BallotReceiptCheck" in page.data


def test_favicon_instead_of_a_404(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml" and b"<svg" in resp.data
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)
