"""``ballot serve``: the addresses a person uses, and a request log without client addresses
or query strings."""

from __future__ import annotations

import io

from ballot.web.serve_info import RequestLog, addresses


def test_addresses_a_person_uses(monkeypatch):
    monkeypatch.delenv("BALLOT_PUBLIC_URL", raising=False)
    lines = dict(addresses("0.0.0.0", 8000, "http://192.168.1.10:8000/"))
    assert lines["Phones / Điện thoại"] == "http://192.168.1.10:8000/"
    assert lines["Secretary / Thư ký"] == "http://192.168.1.10:8000/admin"
    assert lines["Projector / Máy chiếu"] == "http://192.168.1.10:8000/p/<short name>"
    local = addresses("127.0.0.1", 8000)
    assert any("phones cannot reach" in url for _, url in local)
    monkeypatch.setenv("BALLOT_PUBLIC_URL", "http://10.0.0.5:9000")
    assert dict(addresses("0.0.0.0", 9000))["Secretary / Thư ký"] == "http://10.0.0.5:9000/admin"


def test_request_log_has_no_client_address_nor_query(app):
    out = io.StringIO()
    app.wsgi_app = RequestLog(app.wsgi_app, out)
    client = app.test_client()
    client.get("/v/chi-bo?code=ABCDE-FGHJK", environ_base={"REMOTE_ADDR": "192.168.7.42"})
    client.get("/", environ_base={"REMOTE_ADDR": "192.168.7.42"})
    log = out.getvalue()
    assert "GET /v/chi-bo 404" in log and "GET / 200" in log
    assert "192.168.7.42" not in log and "ABCDE" not in log and "code=" not in log


def test_serve_with_workers_prints_addresses_and_relays_the_request_log(tmp_path):
    import json
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    env = {**os.environ, "BALLOT_PUBLIC_URL": "http://192.168.1.10:8000"}
    env.pop("BALLOT_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ballot.service.serve_workers", "--workers", "1", "--port", "0",
         "--instance", str(tmp_path / "instance")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        workers = json.loads(proc.stdout.readline())["workers"]
        lines = [proc.stdout.readline() for _ in range(3)]
        assert "Secretary / Thư ký: http://192.168.1.10:8000/admin" in "".join(lines), lines
        with urllib.request.urlopen(f"{workers[0]['url']}/?code=SECRET-CODE") as resp:
            assert resp.status == 200
        deadline = time.time() + 20
        log = ""
        while "GET / 200" not in log and time.time() < deadline:
            log += proc.stdout.readline()
        assert "GET / 200" in log and "127.0.0.1" not in log and "SECRET" not in log, log
    finally:
        proc.terminate()
        proc.wait(20)
