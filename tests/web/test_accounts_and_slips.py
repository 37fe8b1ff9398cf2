"""``ballot admin create``, the sealed stash of one-time codes, the slips."""

from __future__ import annotations


import pytest
from click.testing import CliRunner


def test_admin_create_prompts_twice_and_the_account_logs_in(db_url, tmp_path, monkeypatch):
    from ballot.web import create_app
    from ballot.web.admin_cli import admin_group
    from ballot.web.auth import check_login

    monkeypatch.setenv("BALLOT_DATABASE_URL", db_url)
    monkeypatch.setenv("BALLOT_INSTANCE", str(tmp_path / "inst"))
    runner = CliRunner()
    result = runner.invoke(admin_group, ["create", "thuky"], input="mat khau dai\nmat khau dai\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1 and "Repeat" in result.output
    result = runner.invoke(admin_group, ["create", "thuky2"], input="mat khau dai\nkhac han roi\n"
                           "mat khau dai\nmat khau dai\n")
    assert result.exit_code == 0 and "match" in result.output.lower()
    result = runner.invoke(admin_group, ["create", "thuky"], input="mat khau dai\nmat khau dai\n")
    assert result.exit_code == 1 and "already exists" in result.output
    result = runner.invoke(admin_group, ["create", "ngan"], input="short\nshort\n")
    assert result.exit_code == 1 and "at least 10" in result.output
    listed = runner.invoke(admin_group, ["list"])
    assert listed.stdout.split() == ["thuky", "thuky2"]
    # Every command says where it keeps its data, on stderr (ballot/instance.py).
    assert f"Instance folder: {tmp_path / 'inst'}" in listed.stderr
    factory = create_app().extensions["ballot.meeting"].factory
    assert check_login(factory, "thuky", "mat khau dai")
    assert not check_login(factory, "thuky", "mat khau sai")
    assert not check_login(factory, "nobody", "mat khau dai")
    from sqlalchemy import select

    from ballot.store.db import transaction
    from ballot.store.models import Admin

    with transaction(factory, read_only=True) as s:
        stored = s.execute(select(Admin.password_hash).where(Admin.username == "thuky")).scalar_one()
    assert stored.startswith("$argon2id$") and "mat khau" not in stored
    result = runner.invoke(admin_group, ["password", "thuky"], input="mat khau moi!\nmat khau moi!\n")
    assert result.exit_code == 0
    assert check_login(factory, "thuky", "mat khau moi!")


def test_the_stash_needs_both_the_file_and_the_key(tmp_path):
    from ballot.web.slips import Stash

    stash = Stash(tmp_path / "sealed")
    key = stash.seal("chi-bo.invitations", {"DV001": "secret-code-1"})
    path = tmp_path / "sealed" / "chi-bo.invitations.sealed"
    assert b"secret-code-1" not in path.read_bytes()
    assert path.stat().st_mode & 0o077 == 0
    assert stash.open("chi-bo.invitations", key) == {"DV001": "secret-code-1"}
    other = stash.seal("other.invitations", {})
    assert stash.open("chi-bo.invitations", other) is None
    assert stash.open("chi-bo.invitations", None) is None
    assert stash.open("chi-bo.invitations", "not base64!!") is None
    stash.drop("chi-bo.invitations")
    assert stash.open("chi-bo.invitations", key) is None and not path.exists()
    with pytest.raises(ValueError):
        stash.seal("../etc.invitations", {})


def test_slips_pdf_has_eight_slips_per_a4_page():
    from ballot.web.slips import Slip, group_code, slips_pdf

    assert group_code("7KQ2M-9XH4T-AB3CD-EFG5H") == "7KQ2M 9XH4T AB3CD EFG5H"
    slips = [Slip(f"DV{i:03d}", f"Nguyễn Thị Hoài Thương {i}", "AbCdEfGhIjKlMnOpQrSt_-",
                  "http://192.168.1.10:8000/v/cb#AbCdEfGhIjKlMnOpQrSt_-", "http://192.168.1.10:8000/v/cb")
             for i in range(17)]
    pdf = slips_pdf(slips, title="Đánh giá", organisation="Chi bộ", labels={
        "scan": "Quét", "or_open": "hoặc mở", "and_type": "rồi nhập mã:", "secret": "Giữ kín"})
    import re

    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page[^s]", pdf)) == 3  # 17 slips, 8 per page
    assert re.search(rb"/MediaBox \[ 0 0 595\.27\d+ 841\.88\d+ \]", pdf)  # A4

def test_slips_warn_when_they_point_to_localhost(app, admin_client):
    from conftest import create_meeting, finish, post, run_ceremony, trustee_codes_from_page

    create_meeting(admin_client, slug="chi-bo-l", n=2, trustees="Một", threshold=1)
    post(admin_client, "/admin/m/chi-bo-l/begin")
    trustees = run_ceremony(admin_client, "chi-bo-l", trustee_codes_from_page(
        admin_client.get("/admin/m/chi-bo-l/trustee-codes").get_data(as_text=True)))
    finish(admin_client, "chi-bo-l", trustees)
    post(admin_client, "/admin/m/chi-bo-l/open")
    assert "điện thoại không truy cập được" in admin_client.get(  # http://localhost/
        "/admin/m/chi-bo-l/slips").get_data(as_text=True)
    app.config["PUBLIC_URL"] = "http://192.168.1.10:8000/"
    text = admin_client.get("/admin/m/chi-bo-l/slips").get_data(as_text=True)
    assert "điện thoại không truy cập được" not in text
    assert 'data-url="http://192.168.1.10:8000/v/chi-bo-l#' in text
