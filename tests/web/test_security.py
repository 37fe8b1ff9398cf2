"""The security base: anonymous requests refused, CSRF, cookies, headers, no inline code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import create_meeting, post, token

WEB = Path(__file__).resolve().parents[2] / "ballot" / "web"


def _url(rule, slug: str) -> str:
    values = {}
    for arg in rule.arguments:
        values[arg] = {"slug": slug}.get(arg, "1")
    return rule.build(values)[1]


def test_every_admin_and_trustee_route_refuses_an_anonymous_request(app, admin_client):
    create_meeting(admin_client, slug="chi-bo-r")
    post(admin_client, "/admin/m/chi-bo-r/begin")  # a draft's trustee pages are 404 to anyone
    anonymous = app.test_client()
    anonymous.get("/admin/login")  # a session with a CSRF token, to show that it is not enough
    checked = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".")[0]
        if blueprint not in ("admin", "trustee") or rule.endpoint in ("admin.login", "trustee.login"):
            continue
        url = _url(rule, "chi-bo-r")
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "login_required", False), f"{rule.endpoint} has no login check"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                resp = anonymous.get(url)
                assert resp.status_code == 302, (rule.endpoint, resp.status_code)
                assert "/login" in resp.headers["Location"] or resp.headers["Location"].endswith("/t/chi-bo-r")
            else:
                resp = anonymous.open(url, method=method, data={"csrf_token": token(anonymous)})
                assert resp.status_code in (302, 401, 403), (rule.endpoint, resp.status_code)
            checked.append((rule.endpoint, method))
    endpoints = {e for e, _ in checked}
    assert {"admin.meetings", "admin.new_meeting", "admin.meeting_page", "admin.begin",
            "admin.open_voting", "admin.slips", "admin.slips_pdf_download", "admin.close",
            "admin.finalize", "admin.publish", "admin.record", "admin.minutes", "admin.paper",
            "admin.minutes_css", "admin.minutes_html", "admin.minutes_pdf",
            "admin.trustee_codes", "trustee.status", "trustee.logout"} <= endpoints
    # and nothing changed
    assert "Bản nháp" in admin_client.get("/admin/m/chi-bo-r").get_data(as_text=True)


def test_a_trustee_session_is_not_an_admin_session(app, admin_client):
    create_meeting(admin_client, slug="chi-bo-t")
    post(admin_client, "/admin/m/chi-bo-t/begin")  # a draft's trustee pages are 404 to anyone
    other = app.test_client()
    with other.session_transaction() as s:
        s["trustee"] = {"slug": "chi-bo-t", "index": 1}
    assert other.get("/admin/").status_code == 302
    assert other.get("/t/chi-bo-t/status").status_code == 200
    assert other.get("/t/other-slug/status").status_code == 404  # no such meeting


def test_post_without_a_valid_csrf_token_is_refused(app, admin_client):
    create_meeting(admin_client, slug="chi-bo-c")
    resp = admin_client.post("/admin/m/chi-bo-c/begin", data={})
    assert resp.status_code == 400
    resp = admin_client.post("/admin/m/chi-bo-c/begin", data={"csrf_token": "forged"})
    assert resp.status_code == 400
    resp = admin_client.post("/admin/m/chi-bo-c/begin", data={"csrf_token": token(admin_client)},
                             headers={"Origin": "http://evil.example"})
    assert resp.status_code == 403
    assert "Bản nháp" in admin_client.get("/admin/m/chi-bo-c").get_data(as_text=True)
    resp = post(admin_client, "/admin/m/chi-bo-c/begin")
    assert resp.status_code == 302


def test_the_login_form_needs_its_csrf_token(client):
    from conftest import ADMIN

    resp = client.post("/admin/login", data={"username": ADMIN[0], "password": ADMIN[1]})
    assert resp.status_code == 400


def test_the_json_api_needs_no_csrf_token_and_sets_no_cookie(app, client):
    resp = client.post("/api/v1/elections/none/tokens", json={"invitation": "x", "blinded_msg": "y"})
    assert resp.status_code == 404 and resp.get_json()["error"]
    assert "Set-Cookie" not in resp.headers


def test_headers_on_every_page(app, admin_client):
    create_meeting(admin_client, slug="chi-bo-h")
    for url in ("/", "/admin/", "/admin/login", "/admin/m/chi-bo-h", "/b/chi-bo-h", "/p/chi-bo-h",
                "/t/chi-bo-h", "/static/css/app.css", "/api/v1/elections/chi-bo-h/counters"):
        resp = admin_client.get(url)
        assert resp.status_code == 200, url
        csp = resp.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval'" not in csp.replace("wasm-unsafe-eval'", "")
        for directive in ("default-src 'self'", "style-src 'self'", "img-src 'self' data:",
                          "frame-ancestors 'none'", "form-action 'self'"):
            assert directive in csp, (url, directive)
        assert "wasm-unsafe-eval" not in csp, url
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        if not url.startswith("/static"):
            assert resp.headers["Cache-Control"] == "no-store"


def test_only_the_pages_that_run_the_crypto_may_compile_webassembly(app, admin_client):
    from conftest import finish, run_ceremony, trustee_codes_from_page

    create_meeting(admin_client, slug="chi-bo-w", trustees="Một", threshold=1)
    post(admin_client, "/admin/m/chi-bo-w/begin")
    html = admin_client.get("/admin/m/chi-bo-w/trustee-codes").get_data(as_text=True)
    finish(admin_client, "chi-bo-w", run_ceremony(admin_client, "chi-bo-w", trustee_codes_from_page(html)))
    for url in ("/v/chi-bo-w", "/v/chi-bo-w/audit", "/static/js/seal-worker.js"):
        csp = admin_client.get(url).headers["Content-Security-Policy"]
        assert "script-src 'self' 'wasm-unsafe-eval';" in csp, url


def test_session_cookie_flags(db_url, tmp_path):
    from ballot.web import create_app

    for https in (False, True):
        app = create_app({"DATABASE_URL": db_url, "KEYS_DIR": str(tmp_path / "k"),
                          "SECRET_KEY": "k" * 32, "HTTPS": https})
        c = app.test_client()
        resp = c.get("/admin/login")
        cookie = resp.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is https
        assert ("Strict-Transport-Security" in resp.headers) is https


def test_the_secret_key_is_made_once_and_shared_by_workers(db_url, tmp_path, monkeypatch):
    from ballot.web import create_app

    monkeypatch.delenv("BALLOT_SECRET_KEY", raising=False)
    monkeypatch.setenv("BALLOT_INSTANCE", str(tmp_path / "inst"))
    a = create_app({"DATABASE_URL": db_url})
    b = create_app({"DATABASE_URL": db_url, "MIGRATE": False})
    assert a.config["SECRET_KEY"] == b.config["SECRET_KEY"] and len(a.config["SECRET_KEY"]) == 32
    assert (tmp_path / "inst" / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("path", sorted(p.relative_to(WEB).as_posix()
                                        for p in (WEB / "templates").rglob("*.html")))
def test_templates_have_no_inline_script_or_style(path):
    text = (WEB / path).read_text(encoding="utf-8")
    for match in re.finditer(r"<script\b([^>]*)>", text):
        attrs = match.group(1)
        assert "src=" in attrs or 'type="application/json"' in attrs, (path, match.group(0))
    assert not re.search(r"\sstyle=", text), path
    assert not re.search(r"\son[a-z]+=", text), path
    assert "<style" not in text and "javascript:" not in text, path
    assert not re.search(r"(src|href)=\"(https?:)?//", text), f"{path}: an asset from elsewhere"


def test_static_files_load_nothing_from_elsewhere():
    for path in (WEB / "static").rglob("*"):
        if path.suffix in (".js", ".css") and path.name != "ballot-crypto.js":
            text = path.read_text(encoding="utf-8")
            code = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
            assert "http://" not in code.replace("http://www.w3.org/2000/svg", "") and "https://" not in code, path
            assert "eval(" not in code and "new Function" not in code, path


def test_no_page_fails_with_a_server_error_on_an_unknown_meeting_or_odd_input(app, admin_client):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in ("admin", "trustee", "public"):
            continue
        url = _url(rule, "khong-co")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                resp = admin_client.get(url + "?code=%00%ff&lang=%00")
            else:
                resp = admin_client.open(url, method=method, data={
                    "csrf_token": token(admin_client), "index": "x", "code": "\x00",
                    "present": "-1", "ballots_valid": "1e9"})
            assert resp.status_code < 500, (rule.endpoint, method, resp.status_code)
