"""The secretary's sign-in (issue 12): password guessing is throttled per account and per
address, before any password hash is computed, atomically across parallel guesses; logging
out ends the session on the server, so a copied cookie stops working. On SQLite and
PostgreSQL. Listed in docs/threat-model.md, "Abuse that costs the attacker nothing"."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

import ballot.web.auth as auth_module
from ballot.store.db import transaction
from ballot.store.models import AdminSession, RateEvent
from ballot.web import create_app
from ballot.web.auth import create_admin
from tests.reliability.helpers import run_parallel

ADMIN = ("thuky", "mat-khau-rat-dai-2025")


@pytest.fixture
def app(db_url, tmp_path):
    app = create_app({
        "DATABASE_URL": db_url, "KEYS_DIR": str(tmp_path / "keys"),
        "RECORDS_DIR": str(tmp_path / "records"), "SEALED_DIR": str(tmp_path / "sealed"),
        "SECRET_KEY": "test secret key, not for production use", "TESTING": True,
    })
    create_admin(app.extensions["ballot.meeting"].factory, *ADMIN)
    return app


def csrf(client) -> str:
    html = client.get("/admin/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, password, username=ADMIN[0], addr="198.51.100.7"):
    return client.post("/admin/login", data={"username": username, "password": password,
                                             "csrf_token": csrf(client)},
                       environ_base={"REMOTE_ADDR": addr})


class HashCounter:
    """Counts the argon2 password checks (the costly step a guesser makes the server do)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        self.hasher = auth_module._hasher
        monkeypatch.setattr(auth_module, "_hasher", self)

    def verify(self, *args, **kwargs):
        self.calls += 1
        return self.hasher.verify(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.hasher, name)


def test_wrong_passwords_lock_the_account_then_the_right_one_waits_too(app, monkeypatch):
    """40 wrong passwords used to be followed by a working right one. Now after 10 the
    account is locked (429) before the hash is computed, even for the right password, from
    any address; `ballot admin password` opens it again."""
    from ballot.web import signin

    client = app.test_client()
    hashes = HashCounter(monkeypatch)
    for i in range(signin.ACCOUNT_LIMIT):
        assert sign_in(client, f"guess-{i:04d}-xxxxx", addr=f"203.0.113.{i}").status_code == 401
    assert hashes.calls == signin.ACCOUNT_LIMIT
    for i in range(30):
        resp = sign_in(client, f"guess-b{i:04d}", addr=f"192.0.2.{i}")
        assert resp.status_code == 429
        assert "Tài khoản này đã nhập sai mật khẩu quá nhiều lần" in resp.get_data(as_text=True)
    resp = sign_in(client, ADMIN[1])
    assert resp.status_code == 429
    assert hashes.calls == signin.ACCOUNT_LIMIT
    # The server's owner sets a new password: the lockout ends with it.
    monkeypatch.setenv("BALLOT_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("BALLOT_KEYS_DIR", str(app.extensions["ballot.meeting"].keys.path))
    monkeypatch.setenv("BALLOT_INSTANCE", app.instance_path)
    from ballot.web.admin_cli import admin_group

    result = CliRunner().invoke(admin_group, ["password", ADMIN[0], "--password",
                                              "mot-mat-khau-moi-2026"])
    assert result.exit_code == 0, result.output
    assert sign_in(client, "mot-mat-khau-moi-2026").status_code == 302


def test_one_address_guessing_many_accounts_is_throttled(app, monkeypatch):
    from ballot.web import signin

    client = app.test_client()
    hashes = HashCounter(monkeypatch)
    for i in range(signin.ADDRESS_LIMIT):
        assert sign_in(client, "wrong-password", username=f"user{i}").status_code == 401
    resp = sign_in(client, "wrong-password", username="another")
    assert resp.status_code == 429 and "Thiết bị này" in resp.get_data(as_text=True)
    assert hashes.calls == signin.ADDRESS_LIMIT
    # Another address signs in with the right password.
    assert sign_in(client, ADMIN[1], addr="198.51.100.99").status_code == 302


@pytest.mark.concurrency
def test_parallel_guesses_get_no_more_than_the_limit(app, monkeypatch):
    """60 guesses released together: at most ACCOUNT_LIMIT password checks, the rest 429."""
    from ballot.web import signin

    hashes = HashCounter(monkeypatch)
    tokens = []
    clients = [app.test_client() for _ in range(60)]
    for c in clients:
        tokens.append(csrf(c))

    def guess(i):
        return clients[i].post("/admin/login", data={
            "username": ADMIN[0], "password": f"parallel-guess-{i}", "csrf_token": tokens[i]},
            environ_base={"REMOTE_ADDR": f"10.9.{i}.1"}).status_code

    codes = [r for kind, r in run_parallel(60, guess)]
    assert codes.count(401) == signin.ACCOUNT_LIMIT and codes.count(429) == 60 - signin.ACCOUNT_LIMIT
    assert hashes.calls == signin.ACCOUNT_LIMIT
    with transaction(app.extensions["ballot.meeting"].factory, read_only=True) as s:
        assert s.query(RateEvent).filter(RateEvent.scope == "signin-account").count() == \
            signin.ACCOUNT_LIMIT


def test_a_right_password_does_not_count(app):
    from ballot.web import signin

    client = app.test_client()
    for _ in range(signin.ACCOUNT_LIMIT + 5):
        assert sign_in(client, ADMIN[1]).status_code == 302
        client.post("/admin/logout", data={"csrf_token": csrf_after_login(client)})


def csrf_after_login(client) -> str:
    html = client.get("/admin/").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:300]
    return match.group(1)


def test_a_copied_session_cookie_stops_working_at_logout(app):
    """Someone copies the secretary's cookie (a shared computer, a proxy log). After the
    secretary logs out, replaying the copy gets the sign-in page, not the meetings."""
    client = app.test_client()
    assert sign_in(client, ADMIN[1]).status_code == 302
    cookie = client.get_cookie("ballot_session")
    assert cookie is not None
    stolen = app.test_client()
    stolen.set_cookie("ballot_session", cookie.value)
    assert stolen.get("/admin/").status_code == 200  # the copy works while the session is open
    token = csrf_after_login(client)
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("ballot_session", cookie.value)
    resp = replay.get("/admin/")
    assert resp.status_code == 302 and "/admin/login" in resp.headers["Location"]
    # A POST with the copied cookie and its CSRF token is refused too.
    assert replay.post("/admin/logout", data={"csrf_token": token}).status_code == 403
    with transaction(app.extensions["ballot.meeting"].factory, read_only=True) as s:
        assert s.query(AdminSession).count() == 0


def test_a_new_password_ends_every_session(app, monkeypatch):
    client = app.test_client()
    assert sign_in(client, ADMIN[1]).status_code == 302
    assert client.get("/admin/").status_code == 200
    monkeypatch.setenv("BALLOT_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("BALLOT_KEYS_DIR", str(app.extensions["ballot.meeting"].keys.path))
    monkeypatch.setenv("BALLOT_INSTANCE", app.instance_path)
    from ballot.web.admin_cli import admin_group

    result = CliRunner().invoke(admin_group, ["password", ADMIN[0], "--password",
                                              "mot-mat-khau-moi-2026"])
    assert result.exit_code == 0, result.output
    assert client.get("/admin/").status_code == 302
