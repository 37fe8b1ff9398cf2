"""What a secretary runs, as the README says it, on a NON-editable install.

``pip install .`` into a fresh virtual environment (the way users install), then the README's
"Running a real meeting" commands in a fresh folder: ``ballot admin create thuky``, then
``BALLOT_PUBLIC_URL=… ballot serve --host 0.0.0.0 --workers 2``; the secretary signs in at
``/admin`` and creates a meeting; ``ballot serve`` with one worker and ``ballot audit verify``
find the same data. Editable installs and repo-relative paths hid that ``ballot admin create``
wrote to Flask's default instance folder inside the venv while ``ballot serve --workers 2``
read ``./instance``: the secretary could not sign in.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "mat-khau-cua-thu-ky-2025"


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv with ``pip install .`` of a copy of the working tree (non-editable)."""
    root = tmp_path_factory.mktemp("install")
    source = root / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", "node_modules", "instance", "ballot-demo*", "__pycache__", "*.egg-info",
        "build", "benchmarks", "tests"))
    env_dir = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    subprocess.run([str(env_dir / "bin" / "pip"), "install", "-q", str(source)], check=True,
                   stdout=subprocess.DEVNULL)
    shutil.rmtree(source)  # nothing may depend on the source tree
    return env_dir


def _env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BALLOT_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A secretary's browser: cookies, and the CSRF token of the last form."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def post(self, path: str, fields: dict[str, str],
             files: dict[str, tuple[str, bytes]] | None = None) -> tuple[int, str]:
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get(path)[1]).group(1)
        fields = {"csrf_token": token, **fields}
        if files:
            boundary = uuid.uuid4().hex
            parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                     .encode() for k, v in fields.items()]
            parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; '
                      f'filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'.encode() + data
                      + b"\r\n" for k, (name, data) in files.items()]
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            ctype = f"multipart/form-data; boundary={boundary}"
        else:
            body, ctype = urllib.parse.urlencode(fields).encode(), \
                "application/x-www-form-urlencoded"
        req = urllib.request.Request(self.base + path, data=body,
                                     headers={"Content-Type": ctype})
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


class Serve:
    """``ballot serve …`` in the meeting folder, until the block ends."""

    def __init__(self, venv: Path, folder: Path, *args: str, port: int):
        env = _env(venv)
        env["BALLOT_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            ["ballot", "serve", *args, "--port", str(port)], cwd=folder, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.base = f"http://127.0.0.1:{port}"

    def __enter__(self) -> "Serve":
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"ballot serve exited: {self.proc.stdout.read()}")
            try:
                urllib.request.urlopen(self.base + "/admin/login", timeout=2).close()
                return self
            except OSError:
                time.sleep(0.3)
        raise AssertionError("ballot serve did not answer within 60 s")

    def __exit__(self, *exc) -> None:
        os.killpg(self.proc.pid, 15)
        try:
            self.output = self.proc.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.output = self.proc.communicate()[0]


def _sign_in(base: str) -> Browser:
    browser = Browser(base)
    status, page = browser.post("/admin/login", {"username": "thuky", "password": PASSWORD})
    assert "Sai tên đăng nhập" not in page and status == 200, page[:500]
    return browser


ROLL = "Mã,Họ và tên,Tình trạng\n" + "".join(
    f"DV{i:03d},Đảng viên số {i},chính thức\n" for i in range(1, 6))
UNITS = "unit_id,name,kind,self_level,proposed_level,score\n" + "".join(
    f"DV{i:03d},Đảng viên số {i},đảng viên,HTTNV,HTTNV,8{i}\n" for i in range(1, 6))


@pytest.mark.install
def test_the_secretary_signs_in_after_following_the_readme(venv, tmp_path):
    folder = tmp_path / "hop-chi-bo"  # where the secretary runs every command
    folder.mkdir()
    env = _env(venv)
    made = subprocess.run(["ballot", "admin", "create", "thuky"], cwd=folder, env=env,
                          input=f"{PASSWORD}\n{PASSWORD}\n", capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    instance = folder / "instance"
    # One instance folder, printed at start, in the folder the secretary works in.
    assert f"Instance folder: {instance}" in made.stderr
    assert (instance / "ballot.sqlite").is_file()
    assert not list((venv / "var").glob("*")) if (venv / "var").exists() else True

    port = _free_port()
    with Serve(venv, folder, "--host", "0.0.0.0", "--workers", "2", port=port) as server:
        browser = _sign_in(server.base)
        status, page = browser.post("/admin/new", {
            "title": "Đánh giá, xếp loại đảng viên năm 2025", "organisation": "Chi bộ 1",
            "date": "2025-12-15", "slug": "chi-bo-1", "preset": "branch_qd366",
            "meeting_kind": "branch_members", "base": "convened_minus_excluded",
            "trustees": "Ủy viên A\nỦy viên B\nỦy viên C", "threshold": "2",
        }, files={"roll": ("roll.csv", ROLL.encode()), "units": ("units.csv", UNITS.encode())})
        assert status == 200 and "chi-bo-1" in page, page[:800]
    assert f"Instance folder: {instance}" in server.output

    # Changing --workers does not switch databases: the meeting is still there.
    port = _free_port()
    with Serve(venv, folder, port=port) as server:
        status, page = _sign_in(server.base).get("/admin/")
        assert status == 200 and "chi-bo-1" in page
    assert f"Instance folder: {instance}" in server.output

    audit = subprocess.run(["ballot", "audit", "verify"], cwd=folder, env=env,
                           capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert f"Instance folder: {instance}" in audit.stderr
    assert "Audit log OK" in audit.stdout and "empty" not in audit.stdout
