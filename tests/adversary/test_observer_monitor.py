"""`ballot monitor URL --state DIR` against a live server, then a lying one (issue 15).

The honest server passes two looks. Then the server lies between looks, as an operator who
controls it could: a changed phone script, a foreign or inline script on the phone's page, a
board entry changed or removed, a manifest or context changed after the opening. Each lie is
reported by the next look (exit 1), and a removed entry stays reported at later looks.
"""

from __future__ import annotations

import json
import threading

import pytest
from click.testing import CliRunner
from tally.test_verify import demo  # noqa: F401 — a published meeting (the demo's record)
from waitress.server import create_server

from ballot.cli import main
from ballot.clients.monitor import release_hashes, split_url


class Liar:
    """WSGI middleware: the server's answers, rewritten as the test says."""

    def __init__(self, app):
        self.app = app
        self.rewrite: dict[str, object] = {}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        fn = self.rewrite.get(path)
        if fn is None:
            return self.app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        body = fn(body)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers)
        return [body]


@pytest.fixture()
def server(demo):  # noqa: F811
    from ballot.web import create_app

    out = demo.parent
    app = create_app({"DATABASE_URL": f"sqlite:///{out / 'ballot.sqlite'}",
                      "KEYS_DIR": str(out / "keys"), "RECORDS_DIR": str(out),
                      "SECRET_KEY": "monitor test secret key, not for production"})
    liar = Liar(app.wsgi_app)
    app.wsgi_app = liar
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)

    def run():
        try:
            srv.run()
        except OSError:
            pass

    threading.Thread(target=run, daemon=True).start()
    slug = demo.name.removesuffix(".record.json")
    try:
        yield f"http://127.0.0.1:{srv.effective_port}", slug, liar
    finally:
        srv.close()


def look(url: str, state) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["monitor", url, "--state", str(state)])
    return result.exit_code, result.output


def edit_json(fn):
    def rewrite(body: bytes) -> bytes:
        doc = json.loads(body)
        fn(doc)
        return json.dumps(doc).encode()
    return rewrite


def test_an_honest_server_passes_and_every_lie_is_reported(server, tmp_path):
    base, slug, liar = server
    state = tmp_path / "state"
    code, out = look(f"{base}/v/{slug}", state)
    assert code == 0, out
    assert "nothing wrong" in out and "opened" in out and "new entries" in out
    code, out = look(f"{base}/v/{slug}", state)
    assert code == 0 and "new entries" not in out, out
    assert (state / f"{slug}.monitor.json").exists()

    # A meeting this server does not have: said so, not "nothing wrong".
    code, out = look(f"{base}/v/khong-co", tmp_path / "other")
    assert code == 2 and "no meeting 'khong-co' on this server" in out

    # A phone script that is not the release's.
    liar.rewrite["/static/js/voter.js"] = lambda body: body.replace(b"use strict", b"use sloppy", 1) + b"\n//"
    code, out = look(f"{base}/v/{slug}", state)
    assert code == 1 and "/static/js/voter.js: served bytes differ from the installed release" in out
    liar.rewrite.clear()

    # The phone's page loading a script from elsewhere, and running an inline one.
    liar.rewrite[f"/v/{slug}"] = lambda body: body.replace(
        b"</body>", b'<script src="https://cdn.example/x.js"></script><script>steal()</script></body>')
    code, out = look(f"{base}/v/{slug}", state)
    assert code == 1 and "loads https://cdn.example/x.js" in out and "inline script" in out
    liar.rewrite.clear()

    # A board entry changed.
    board = f"/api/v1/elections/{slug}/board"
    liar.rewrite[board] = edit_json(lambda d: d["board"][2].__setitem__("entry_hash", "00" * 32))
    code, out = look(f"{base}/v/{slug}", state)
    assert code == 1 and "board: entry 3 changed since the last look" in out
    # A board entry removed (the last one: the rest still in order): reported at every look.
    liar.rewrite[board] = edit_json(lambda d: d["board"].pop())
    code, out = look(f"{base}/v/{slug}", state)
    assert code == 1 and "board: entry 6 was removed" in out
    code, out = look(f"{base}/v/{slug}", state)
    assert code == 1 and "board: entry 6 was removed" in out
    liar.rewrite.clear()
    code, out = look(f"{base}/v/{slug}", state)
    assert code == 0, out

    # The manifest, then the context, changed after the opening.
    info = f"/api/v1/elections/{slug}"
    liar.rewrite[info] = edit_json(lambda d: d["manifest"].__setitem__("title", "Hội nghị khác"))
    code, out = look(f"{base}/v/{slug}", state)
    assert code == 1 and "manifest: changed after the opening" in out
    liar.rewrite[info] = edit_json(lambda d: d["context"].__setitem__("radix", 99))
    code, out = look(f"{base}/v/{slug}", state)
    assert code == 1 and "context: changed after the opening" in out
    liar.rewrite.clear()

    # The verifier page that is not the release's.
    liar.rewrite["/verify"] = lambda body: body.replace(b"<main", b"<main data-x", 1)
    code, out = look(f"{base}/v/{slug}", state)
    assert code == 1 and "/verify: served bytes differ" in out


def test_bad_input_is_a_clear_error(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(main, ["monitor", "ftp://x/v/a", "--state", str(tmp_path)])
    assert bad.exit_code == 2 and "http://" in bad.output
    missing = runner.invoke(main, ["monitor", "http://127.0.0.1:9/v/abc"])
    assert missing.exit_code == 2 and "--state" in missing.output
    down = runner.invoke(main, ["monitor", "http://127.0.0.1:9/v/abc", "--state", str(tmp_path)])
    assert down.exit_code == 2 and "Cannot read the server" in down.output
    assert split_url("http://h:1/verify/abc", None) == ("http://h:1", "abc")
    hashes = runner.invoke(main, ["monitor", "--print-hashes"])
    assert hashes.exit_code == 0 and "/static/js/ballot-crypto.js" in hashes.output
    assert release_hashes()["/static/js/voter.js"] in hashes.output
