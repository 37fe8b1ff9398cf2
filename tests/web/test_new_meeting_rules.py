"""Issue 14 on the new-meeting form: the options go through the same path as counts files
(``preset_with_options``), the head role reaches the manifest, text is NFC and one line."""

from __future__ import annotations

import unicodedata
from io import BytesIO

from conftest import csrf, roll_csv

from ballot.election.presets import preset_with_options


def _create(client, *, slug: str, units: bytes | None = None, **fields):
    token = csrf(client, "/admin/new")
    data = {
        "csrf_token": token, "title": "Xếp loại đảng viên năm 2025",
        "organisation": "Chi bộ 3", "date": "2025-12-15", "slug": slug,
        "preset": "branch_qd366", "meeting_kind": "branch_members",
        "base": "convened_minus_excluded", "trustees": "Ủy viên A\nỦy viên B", "threshold": "2",
        "roll": (BytesIO(roll_csv(4)), "roll.csv"),
        "units": (BytesIO(units or UNITS), "units.csv"),
        **fields,
    }
    return client.post("/admin/new", data=data, content_type="multipart/form-data")


UNITS = ("Mã;Tên;Loại;Tập thể;Vai trò\n"
         "CB3;Chi bộ 3;chi bộ;;\n"
         "DV001;Nguyễn Văn An;đảng viên;CB3;Bí thư\n"
         "DV002;Trần Thị Bình;đảng viên;CB3;\n").encode("utf-8")


def _manifest(app, slug: str) -> dict:
    return app.extensions["ballot.meeting"].ceremony_state(slug)["manifest"]


def test_form_options_keep_the_presets_quota_and_set_its_base(app, admin_client):
    resp = _create(admin_client, slug="cb-rules", cumulative="on", quota_base="on")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    manifest = _manifest(app, "cb-rules")
    expected = preset_with_options("branch_qd366", {
        "base": "convened_minus_excluded", "cumulative": True,
        "quota_base": "against_and_above"}).rules
    assert manifest["rules"] == expected.to_json()
    assert manifest["rules"]["quota"]["ratio"] == "1/5"
    assert manifest["rules"]["quota"]["base"] == "against_and_above"
    heads = {u["unit_id"]: u.get("head", False) for u in manifest["units"]}
    assert heads == {"CB3": False, "DV001": True, "DV002": False}


def test_form_text_is_nfc_and_a_control_character_is_refused(app, admin_client):
    nfd = unicodedata.normalize("NFD", "Chi bộ Phường Hải Yên")
    resp = _create(admin_client, slug="cb-nfc", organisation=nfd)
    assert resp.status_code == 302
    assert _manifest(app, "cb-nfc")["organisation"] == unicodedata.normalize("NFC", nfd)
    bad = _create(admin_client, slug="cb-bad", title="Xếp loại\x0bnăm 2025")
    assert bad.status_code == 422
    assert "control character U+000B" in bad.get_data(as_text=True)


def test_a_rule_option_the_preset_cannot_take_is_a_form_error(app, admin_client):
    resp = _create(admin_client, slug="cb-crit", preset="criteria_grades", outstanding="on",
                   units=b"unit_id,name,kind\nA,Ann,member\n")
    assert resp.status_code == 422
    assert "this preset has no quota" in resp.get_data(as_text=True)
