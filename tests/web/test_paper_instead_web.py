"""The secretary's page for a lost phone session: the member votes on paper instead."""

from __future__ import annotations

import json

from conftest import (finish, ClientHttp, create_meeting, post, run_ceremony, slip_codes_from_page,
                      trustee_codes_from_page)


def test_secretary_records_a_member_voting_on_paper_instead(app, admin_client):
    from ballot.clients.voter import fetch_election, obtain_token, vote

    c = admin_client
    create_meeting(c, slug="chi-bo-z", n=4, trustees="Một", threshold=1)
    post(c, "/admin/m/chi-bo-z/begin")
    codes = trustee_codes_from_page(c.get("/admin/m/chi-bo-z/trustee-codes").get_data(as_text=True))
    trustees = run_ceremony(c, "chi-bo-z", codes)
    finish(c, "chi-bo-z", trustees)
    (device, keys), = trustees
    post(c, "/admin/m/chi-bo-z/open")
    invitations = slip_codes_from_page(c.get("/admin/m/chi-bo-z/slips").get_data(as_text=True))
    http = ClientHttp(c)
    # DV001 opened the slip in Zalo's browser: the token is there.
    obtain_token(http, fetch_election(http, "chi-bo-z"), invitations["DV001"])
    page = c.get("/admin/m/chi-bo-z").get_data(as_text=True)
    assert 'id="paper-instead"' in page and '<option value="DV001">' in page
    assert '<option value="DV002">' not in page  # no token, nothing to set aside
    assert "Ghi nhận đảng viên này chuyển sang bỏ phiếu giấy?" in page  # asks before
    # A member without a token, and no member at all: refused in Vietnamese.
    post(c, "/admin/m/chi-bo-z/paper-instead", {"roll_id": "DV002"})
    assert "chưa nhận thẻ bỏ phiếu điện tử" in c.get("/admin/m/chi-bo-z").get_data(as_text=True)
    post(c, "/admin/m/chi-bo-z/paper-instead", {"roll_id": ""})
    assert "Hãy chọn đảng viên bỏ phiếu giấy" in c.get("/admin/m/chi-bo-z").get_data(as_text=True)
    resp = post(c, "/admin/m/chi-bo-z/paper-instead", {"roll_id": "DV001"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#paper-instead")
    page = c.get("/admin/m/chi-bo-z").get_data(as_text=True)
    assert "thẻ điện tử của đồng chí đã bị gác lại" in page
    assert "Đã nhận thẻ, bỏ phiếu giấy:" in page and "(DV001)" in page
    assert "Thẻ đã cấp: 1; đã gác lại: 1; còn hiệu lực: 0; phiếu điện tử: 0." in page
    post(c, "/admin/m/chi-bo-z/paper-instead", {"roll_id": "DV001"})
    assert "đã được ghi là bỏ phiếu giấy" in c.get("/admin/m/chi-bo-z").get_data(as_text=True)
    # Without signing in: nothing.
    anon = app.test_client()
    assert anon.post("/admin/m/chi-bo-z/paper-instead", data={"roll_id": "DV001"}).status_code \
        in (302, 400, 403)
    for rid in ("DV002", "DV003"):
        vote(http, "chi-bo-z", invitations[rid], [1, 1, 1, 1])
    # DV001 votes on paper: the paper figures go in at the close, the counts before decrypting.
    post(c, "/admin/m/chi-bo-z/close", {"paper_voters": "1", "paper_ballots_issued": "1",
                                        "paper_ballots_valid": "1", "paper_ballots_invalid": "0"})
    form = {}
    for i in range(4):
        form.update({f"u{i}_HTXSNV": "0", f"u{i}_HTTNV": "1", f"u{i}_HTNV": "0",
                     f"u{i}_KHTNV": "0", f"u{i}_abstain": "0", f"u{i}_blank": "0"})
    assert post(c, "/admin/m/chi-bo-z/paper", form).status_code == 302
    device.decrypt(keys)
    assert "finalize-done" in post(c, "/admin/m/chi-bo-z/finalize").get_data(as_text=True)
    data = json.loads(c.get("/admin/m/chi-bo-z/record").data)
    assert data["paper_instead"] == ["DV001"]
    assert data["figures"]["present"] == 3 and data["figures"]["ballots_issued"] == 3
    minutes = c.get("/admin/m/chi-bo-z/minutes").get_data(as_text=True)
    assert "Số đảng viên đã nhận thẻ điện tử nhưng bỏ phiếu giấy" in minutes
    assert "không thừa phiếu" in minutes and "2 phiếu, 2 thẻ còn hiệu lực" in minutes
    assert "valid tokens" not in minutes  # Vietnamese only; English is a separate version
    english = c.get("/admin/m/chi-bo-z/minutes?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "2 ballots, 2 valid tokens" in english
    assert "Token issued, voted on paper" in english
    page = c.get("/admin/m/chi-bo-z").get_data(as_text=True)
    assert 'href="/admin/m/chi-bo-z/minutes?lang=en"' in page
    download = c.get("/admin/m/chi-bo-z/minutes.html?lang=en")
    assert "chi-bo-z-minutes-en.html" in download.headers["Content-Disposition"]
    assert c.get("/admin/m/chi-bo-z/minutes.pdf").data.startswith(b"%PDF")
