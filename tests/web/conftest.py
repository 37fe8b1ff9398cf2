"""Fixtures of the web tests: an app on a fresh database, a secretary account, CSV files."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

#: Browser tests: Debian's chromium through Playwright, never a downloaded browser. The app
#: answers at 127.0.0.1, which the browser reaches as meeting.test (not a secure context).
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--host-resolver-rules=MAP meeting.test 127.0.0.1"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}


def require_browser() -> None:
    """Skip the test where chromium or the playwright package is missing."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")


def run_until_closed(srv) -> None:
    """waitress's loop, ending quietly when the test closes the server under it."""
    try:
        srv.run()
    except OSError:
        pass


@contextmanager
def serving(app) -> Iterator[int]:
    """The app on waitress at 127.0.0.1, in a thread, for the test's duration: its port."""
    from waitress.server import create_server

    srv = create_server(app, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=run_until_closed, args=(srv,), daemon=True).start()
    try:
        yield srv.effective_port
    finally:
        srv.close()


def browser_app(db_url: str, tmp_path: Path):
    """An app as a real deployment has it (not TESTING), for the browser tests."""
    from ballot.web import create_app

    return create_app({"DATABASE_URL": db_url, "KEYS_DIR": str(tmp_path / "keys"),
                       "RECORDS_DIR": str(tmp_path / "records"),
                       "SEALED_DIR": str(tmp_path / "sealed"),
                       "SECRET_KEY": "browser test secret key, not for production"})


NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Châu", "Phạm Đức Dũng", "Hoàng Thu Giang"]
ADMIN = ("thuky", "mat-khau-rat-dai-2025")


def roll_csv(n: int = 5, extra: str = "") -> bytes:
    rows = ["Mã,Họ và tên,Tình trạng"]
    rows += [f"DV{i:03d},{NAMES[(i - 1) % len(NAMES)]},chính thức" for i in range(1, n + 1)]
    return ("\n".join(rows) + "\n" + extra).encode("utf-8")


def units_csv(n: int = 5) -> bytes:
    rows = ["unit_id,name,kind,self_level,proposed_level,score"]
    rows += [f"DV{i:03d},{NAMES[(i - 1) % len(NAMES)]},đảng viên,HTTNV,HTTNV,{80 + i}"
             for i in range(1, n + 1)]
    return ("\n".join(rows) + "\n").encode("utf-8")


@pytest.fixture
def app(db_url, tmp_path):
    from ballot.web import create_app
    from ballot.web.auth import create_admin

    app = create_app({
        "DATABASE_URL": db_url, "KEYS_DIR": str(tmp_path / "keys"),
        "RECORDS_DIR": str(tmp_path / "records"), "SEALED_DIR": str(tmp_path / "sealed"),
        "SECRET_KEY": "test secret key, not for production use", "TESTING": True,
    })
    create_admin(app.extensions["ballot.meeting"].factory, *ADMIN)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def csrf(client, url: str) -> str:
    page = client.get(url)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client) -> None:
    token = csrf(client, "/admin/login")
    resp = client.post("/admin/login", data={"username": ADMIN[0], "password": ADMIN[1],
                                             "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)


@pytest.fixture
def admin_client(client):
    login(client)
    return client


def create_meeting(client, *, slug: str = "chi-bo-test", n: int = 5, trustees: str = "Ủy viên A\nỦy viên B\nỦy viên C",
                   threshold: int = 2, roll: bytes | None = None, units: bytes | None = None,
                   base: str = "convened_minus_excluded"):
    from io import BytesIO

    token = csrf(client, "/admin/new")
    return client.post("/admin/new", data={
        "csrf_token": token, "title": "Đánh giá, xếp loại đảng viên năm 2025",
        "organisation": "Chi bộ Thử nghiệm", "date": "2025-12-15", "slug": slug,
        "preset": "branch_qd366", "meeting_kind": "branch_members",
        "base": base, "trustees": trustees, "threshold": str(threshold),
        "roll": (BytesIO(roll if roll is not None else roll_csv(n)), "roll.csv"),
        "units": (BytesIO(units if units is not None else units_csv(n)), "units.csv"),
    }, content_type="multipart/form-data")


def token(client) -> str:
    """The session's CSRF token (a page with a form was fetched, or log in first)."""
    with client.session_transaction() as s:
        if "csrf" not in s:
            s["csrf"] = "t" * 43
        return s["csrf"]


def post(client, url: str, data: dict | None = None):
    return client.post(url, data={"csrf_token": token(client), **(data or {})})


class ClientHttp:
    """``ballot.clients.http.Http`` over the Flask test client (for TrusteeDevice/voter code)."""

    def __init__(self, client, bearer: str | None = None):
        self.client, self.bearer = client, bearer

    def _headers(self):
        return {"Authorization": f"Bearer {self.bearer}"} if self.bearer else {}

    def _answer(self, resp):
        from ballot.clients.http import ApiError

        if resp.status_code >= 400:
            raise ApiError(resp.status_code, (resp.get_json(silent=True) or {}).get("error", ""))
        return resp.get_json()

    def get(self, path: str):
        return self._answer(self.client.get(path, headers=self._headers()))

    def post(self, path: str, payload):
        return self._answer(self.client.post(path, json=payload, headers=self._headers()))


def trustee_codes_from_page(html: str) -> dict[int, str]:
    return {int(i): code for i, code in re.findall(
        r'<tr data-index="(\d+)">.*?<code class="code">([^<]+)</code>', html, re.S)}


def run_ceremony(client, slug: str, codes: dict[int, str]) -> list:
    """Every trustee's device does the key ceremony; returns their keys."""
    from ballot.clients.http import ApiError
    from ballot.clients.trustee import TrusteeDevice

    devices = [TrusteeDevice(ClientHttp(client, codes[i]), slug, i) for i in sorted(codes)]
    for d in devices:  # first sign-in: each trustee chooses their own access code
        own = f"own code of trustee {d.index}"
        try:
            d.enrol(own)
        except ApiError as exc:  # a second round: the trustee keeps the code of the first
            assert exc.status == 409, exc
            d.http.bearer = own
    keys = [d.keygen() for d in devices]
    for d, k in zip(devices, keys):
        d.send_shares(k)
    return [(d, d.receive_shares(k)) for d, k in zip(devices, keys)]


def approve_all(trustees: list) -> None:
    """After "Finish": every trustee's device checks the election key and approves the
    fingerprint (voting opens only then)."""
    for device, keys in trustees:
        device.approve(keys)


def finish(client, slug: str, trustees: list) -> None:
    """The secretary finishes the key ceremony, then every trustee approves the fingerprint."""
    post(client, f"/admin/m/{slug}/finish")
    approve_all(trustees)


def slip_codes_from_page(html: str) -> dict[str, str]:
    """roll_id → invitation code, from the printable slips page."""
    return {rid: url.rsplit("#", 1)[1] for rid, url in re.findall(
        r'data-roll-id="([^"]+)" data-url="([^"]+)"', html)}
