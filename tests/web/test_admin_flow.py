"""A whole meeting through the secretary's pages (Flask test client; trustees and voters use
the Python clients of the JSON API over the same app)."""

from __future__ import annotations

import json

import pytest
from conftest import (ClientHttp, approve_all, create_meeting, finish, post, run_ceremony,
                      slip_codes_from_page, trustee_codes_from_page)


def test_a_meeting_from_creation_to_publication(app, admin_client):
    c = admin_client
    resp = create_meeting(c, slug="chi-bo-a")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/m/chi-bo-a")
    page = c.get("/admin/m/chi-bo-a").get_data(as_text=True)
    assert "Nguyễn Văn An" in page and "Bắt đầu tạo khóa" in page
    assert "chi-bo-a" in c.get("/admin/").get_data(as_text=True)

    # Begin: the trustees' codes are shown once.
    resp = post(c, "/admin/m/chi-bo-a/begin")
    assert resp.headers["Location"].endswith("/admin/m/chi-bo-a/trustee-codes")
    html = c.get("/admin/m/chi-bo-a/trustee-codes").get_data(as_text=True)
    codes = trustee_codes_from_page(html)
    assert sorted(codes) == [1, 2, 3] and all(len(v) >= 16 for v in codes.values())
    again = c.get("/admin/m/chi-bo-a/trustee-codes").get_data(as_text=True)
    assert trustee_codes_from_page(again) == {}
    assert not any(code in again for code in codes.values())

    # Finishing before the trustees are done is refused with the reason.
    post(c, "/admin/m/chi-bo-a/finish")
    assert "waiting for trustees" in c.get("/admin/m/chi-bo-a").get_data(as_text=True)
    trustees = run_ceremony(c, "chi-bo-a", codes)
    post(c, "/admin/m/chi-bo-a/finish")
    assert "Đã hoàn tất tạo khóa" in c.get("/admin/m/chi-bo-a").get_data(as_text=True)
    # Voting does not open before every trustee has approved the fingerprint (issue 11).
    trustees[0][0].approve(trustees[0][1])
    post(c, "/admin/m/chi-bo-a/open")
    page = c.get("/admin/m/chi-bo-a").get_data(as_text=True)
    assert "voting cannot open yet: trustees [2, 3] have not approved" in page
    assert 'data-index="1">1. ' in page and "Mỗi thành viên ban kiểm phiếu so mã nhận diện" in page
    approve_all(trustees[1:])

    # The phone page speaks Vietnamese, or English on request (its strings are data, not code).
    def strings(html: str) -> dict:
        import re

        return json.loads(re.search(r'<script type="application/json" id="strings">(.*?)</script>',
                                    html, re.S).group(1))

    phone = c.get("/v/chi-bo-a").get_data(as_text=True)
    assert strings(phone)["abstain"] == "Không chọn" and '<html lang="vi">' in phone
    phone = c.get("/v/chi-bo-a?lang=en").get_data(as_text=True)
    assert strings(phone)["abstain"] == "Abstain" and "Type the code on your slip" in phone
    c.get("/admin/?lang=vi")

    # Open: straight to the slips, which stay printable until destroyed.
    resp = post(c, "/admin/m/chi-bo-a/open")
    assert resp.headers["Location"].endswith("/admin/m/chi-bo-a/slips")
    slips = c.get("/admin/m/chi-bo-a/slips").get_data(as_text=True)
    invitations = slip_codes_from_page(slips)
    assert sorted(invitations) == [f"DV00{i}" for i in range(1, 6)]
    assert slips.count('class="slip"') == 5 and "data:image/svg+xml;base64," in slips
    for code in invitations.values():
        assert code.replace("-", " ") in slips
    pdf = c.get("/admin/m/chi-bo-a/slips.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    # The codes are on disk only encrypted, and the key only in the session.
    sealed = list((app.extensions["ballot.stash"].folder).glob("*.sealed"))
    assert [p.name for p in sealed] == ["chi-bo-a.invitations.sealed"]
    assert not any(code.encode() in sealed[0].read_bytes() for code in invitations.values())
    assert c.application.test_client().get("/admin/m/chi-bo-a/slips").status_code == 302

    # Three members vote with the Python voter client; the counters and the board follow.
    from ballot.clients.voter import vote

    http = ClientHttp(c)
    receipts = [vote(http, "chi-bo-a", invitations[f"DV00{i}"], [0, 1, None, 2, 1]) for i in (1, 2, 3)]
    counters = c.get("/api/v1/elections/chi-bo-a/counters").get_json()
    assert (counters["tokens"], counters["ballots"], counters["eligible"]) == (3, 3, 5)
    board = c.get("/b/chi-bo-a").get_data(as_text=True)
    for r in receipts:
        assert r["tracking_code"] in board
    found = c.get(f"/b/chi-bo-a?code={receipts[0]['tracking_code'].lower()}").get_data(as_text=True)
    assert 'id="board-found"' in found
    assert 'id="board-missing"' in c.get("/b/chi-bo-a?code=AAAA-BBBB").get_data(as_text=True)
    projector = c.get("/p/chi-bo-a").get_data(as_text=True)
    assert "/v/chi-bo-a" in projector and "Nguyễn" not in projector  # counts only, no names

    # Close: the sealed codes are destroyed with it.
    post(c, "/admin/m/chi-bo-a/close", {"present": "4"})
    assert not any(app.extensions["ballot.stash"].folder.glob("*.sealed"))
    assert "Các mã mời không còn ở đây" in c.get("/admin/m/chi-bo-a/slips").get_data(as_text=True)
    page = c.get("/admin/m/chi-bo-a").get_data(as_text=True)
    assert "Đã nhận 0 trên 2 phần giải mã" in page
    # The attendance and the board's final head, fixed at the close, on both pages.
    close = c.get("/api/v1/elections/chi-bo-a/close").get_json()
    assert close["present"] == 4 and close["board"]["ballots"] == 3
    assert close["board"]["head"] in page and close["entry_hash"] in page
    projector = c.get("/p/chi-bo-a").get_data(as_text=True)
    assert close["board"]["head"] in projector and close["entry_hash"] in projector

    for device, keys in trustees[:2]:
        device.decrypt(keys)
    done = post(c, "/admin/m/chi-bo-a/finalize").get_data(as_text=True)
    assert 'id="finalize-done"' in done and "Đã kiểm phiếu xong và lập hồ sơ" in done
    assert "đã kiểm 3 trên 3 phiếu" in done
    record = c.get("/admin/m/chi-bo-a/record")
    assert record.status_code == 200
    data = json.loads(record.data)
    assert data["issuance_log"] == ["DV001", "DV002", "DV003"] and len(data["board"]) == 3
    minutes = c.get("/admin/m/chi-bo-a/minutes")
    assert minutes.status_code == 200 and minutes.mimetype == "text/html"
    text = minutes.get_data(as_text=True)
    assert "<style" not in text and "/admin/m/chi-bo-a/minutes.css" in text
    from ballot.web.verifier import page_fingerprint  # the observers' page (issue 15)
    assert page_fingerprint()[:8] in text
    assert c.get("/admin/m/chi-bo-a/minutes.css").mimetype == "text/css"
    assert c.get("/admin/m/chi-bo-a/minutes.pdf").data.startswith(b"%PDF")
    download = c.get("/admin/m/chi-bo-a/minutes.html")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    post(c, "/admin/m/chi-bo-a/publish")
    assert 'status-published' in c.get("/admin/m/chi-bo-a").get_data(as_text=True)


def test_paper_counts_are_checked_then_entered(app, admin_client):
    c = admin_client
    create_meeting(c, slug="chi-bo-p", n=3, trustees="Một", threshold=1)
    post(c, "/admin/m/chi-bo-p/begin")
    codes = trustee_codes_from_page(c.get("/admin/m/chi-bo-p/trustee-codes").get_data(as_text=True))
    finish(c, "chi-bo-p", run_ceremony(c, "chi-bo-p", codes))
    post(c, "/admin/m/chi-bo-p/open")
    post(c, "/admin/m/chi-bo-p/close", {"paper_voters": "2", "paper_ballots_issued": "2",
                                        "paper_ballots_valid": "2", "paper_ballots_invalid": "0"})
    form = {}
    for i in range(3):
        form.update({f"u{i}_HTXSNV": "0", f"u{i}_HTTNV": "1", f"u{i}_HTNV": "0", f"u{i}_KHTNV": "0",
                     f"u{i}_abstain": "0", f"u{i}_blank": "0"})
    resp = post(c, "/admin/m/chi-bo-p/paper", form)
    assert resp.status_code == 422
    assert "có 1 dấu chọn nhưng 2 phiếu giấy hợp lệ" in resp.get_data(as_text=True)
    form.update({f"u{i}_HTNV": "1" for i in range(3)})
    resp = post(c, "/admin/m/chi-bo-p/paper", form)
    assert resp.status_code == 302
    assert "Đã nhập kết quả phiếu giấy" in c.get("/admin/m/chi-bo-p").get_data(as_text=True)
    # With no electronic ballot there is nothing to decrypt: the all-paper meeting finishes.
    done = post(c, "/admin/m/chi-bo-p/finalize").get_data(as_text=True)
    assert 'id="finalize-done"' in done, done


def test_a_bad_csv_is_refused_as_a_whole_with_its_line(app, admin_client):
    bad = "Mã,Họ và tên,Tình trạng\nDV001,Nguyễn Văn An,chính thức\nDV002,Trần Thị Bình,đang nghỉ\n"
    resp = create_meeting(admin_client, slug="chi-bo-bad", roll=bad.encode())
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Tệp danh sách đảng viên, dòng 3: unknown status &#39;đang nghỉ&#39;" in text
    assert "Chưa tạo gì cả" in text
    assert "chi-bo-bad" not in admin_client.get("/admin/").get_data(as_text=True)
    from sqlalchemy import func, select

    from ballot.store.db import transaction
    from ballot.store.models import Election

    with transaction(app.extensions["ballot.meeting"].factory, read_only=True) as s:
        assert s.scalar(select(func.count()).select_from(Election)) == 0


def test_form_errors_are_listed_and_nothing_is_created(app, admin_client):
    resp = create_meeting(admin_client, slug="Bad Slug!", trustees="A\nA", threshold=5,
                          units=b"unit_id,name,kind,self_level\nDV001,An,member,XYZ\n")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Có hai thành viên trùng tên" in text
    assert "Tên ngắn chỉ gồm a-z" in text
    assert "Tệp danh sách xếp loại, dòng 2: unknown self level" in text


def test_a_taken_slug_is_refused_without_touching_the_first_meeting(app, admin_client, tmp_path):
    assert create_meeting(admin_client, slug="chi-bo-x").status_code == 302
    key = (tmp_path / "keys" / "issuer-chi-bo-x.pem").read_bytes()
    resp = create_meeting(admin_client, slug="chi-bo-x")
    assert resp.status_code == 422 and "đã được dùng cho cuộc họp khác" in resp.get_data(as_text=True)
    assert (tmp_path / "keys" / "issuer-chi-bo-x.pem").read_bytes() == key


def test_an_empty_slug_is_made_from_the_organisation_and_year(app, admin_client):
    resp = create_meeting(admin_client, slug="")
    assert resp.headers["Location"].endswith("/admin/m/chi-bo-thu-nghiem-2025")
    resp = create_meeting(admin_client, slug="")
    assert resp.headers["Location"].endswith("/admin/m/chi-bo-thu-nghiem-2025-2")


def test_login_logout(app, client):
    from conftest import ADMIN, csrf

    token = csrf(client, "/admin/login")
    resp = client.post("/admin/login", data={"username": ADMIN[0], "password": "wrong password",
                                             "csrf_token": token})
    assert resp.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in resp.get_data(as_text=True)
    resp = client.post("/admin/login?next=/admin/new", data={
        "username": ADMIN[0], "password": ADMIN[1], "csrf_token": token})
    assert resp.headers["Location"] == "/admin/new"
    resp = client.post("/admin/login?next=//evil.example/", data={
        "username": ADMIN[0], "password": ADMIN[1], "csrf_token": csrf(client, "/admin/login")})
    assert resp.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    post(client, "/admin/logout")
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("base", ["convened_minus_excluded", "present", "valid_ballots"])
def test_every_base_the_form_offers_makes_a_meeting(app, admin_client, base):
    from ballot.web.admin import BASES

    assert base in BASES
    page = admin_client.get("/admin/new").get_data(as_text=True)
    assert f'value="{base}"' in page
    r = create_meeting(admin_client, slug=f"cb-{base[:7].replace('_', '-')}", base=base)
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    page = admin_client.get(r.headers["Location"]).get_data(as_text=True)
    assert r.headers["Location"].endswith(f"/admin/m/cb-{base[:7].replace('_', '-')}")
    from ballot.store.db import transaction
    from ballot.store import repo

    m = app.extensions["ballot.meeting"]
    with transaction(m.factory, read_only=True) as s:
        election = repo.get_election(s, f"cb-{base[:7].replace('_', '-')}")
        assert m.manifest(s, election).rules.base == base
