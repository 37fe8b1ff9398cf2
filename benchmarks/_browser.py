"""Step 1 in JavaScript: the real phone bundle in headless Debian Chromium.

The page (``benchmarks/browser_page/``) and an unchanged copy of
``ballot/web/static/js/ballot-crypto.js`` are served over plain HTTP from a non-loopback address
of this machine when it has one, as a phone on the meeting's LAN loads them — so the page is not
a secure context (``isSecureContext`` false, no ``crypto.subtle``). The election info is the
fixture's ``Meeting.public_info`` (what ``GET /api/v1/elections/<slug>`` returns) and the token
one the fixture's meeting blind-signed.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _common import ROOT, say

from ballot.web.serve_info import lan_address  # noqa: E402 - the one LAN probe

PAGE = ROOT / "benchmarks" / "browser_page"
BUNDLE = ROOT / "ballot" / "web" / "static" / "js" / "ballot-crypto.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def unavailable() -> str | None:
    """Why the browser step cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"Debian chromium is not installed at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python playwright is not installed"
    if not BUNDLE.is_file():
        return f"the bundle {BUNDLE} is missing"
    return None


def _descendant_renderers() -> list[int]:
    """PIDs of Chromium renderer processes started under this process (via Playwright)."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    mine, frontier = set(), [os.getpid()]
    while frontier:
        p = frontier.pop()
        for child, pp in parent.items():
            if pp == p and child not in mine:
                mine.add(child)
                frontier.append(child)
    out = []
    for pid in mine:
        try:
            if b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes():
                out.append(pid)
        except OSError:
            pass
    return out


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu(pids: list[int]) -> float:
    """User + system CPU seconds of these processes' main threads so far (the renderer's main
    thread runs the page's JavaScript; V8's background compiler and GC helper threads are left
    out, as they do not delay the page on a phone with more than one core)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            pass
    return total / _TICK


def run(info: dict[str, Any], token: dict[str, str], seed: str, choices: list[int | None],
        runs: int, warmup: int = 3, prim_batches: int = 5) -> dict[str, Any]:
    """Time the first encryption on the page, then ``warmup`` more (V8 tiering up), then
    ``runs`` encryptions and verifications, and the group primitives.

    Each call is a separate ``page.evaluate``: its wall time is the page's performance.now()
    difference, its CPU time the renderer's main thread's utime + stime (10 ms ticks) around
    it."""
    from playwright.sync_api import sync_playwright

    site = Path(tempfile.mkdtemp(prefix="ballot-bench-page-"))
    try:
        for name in ("index.html", "bench.js"):
            shutil.copyfile(PAGE / name, site / name)
        shutil.copyfile(BUNDLE, site / "ballot-crypto.js")
        (site / "job.json").write_text(json.dumps({
            "info": info, "token": token, "seed": seed, "choices": choices}), encoding="utf-8")
        handler = partial(_QuietHandler, directory=str(site))
        address = lan_address()
        server = None
        if address is not None:
            try:
                server = ThreadingHTTPServer((address, 0), handler)
            except OSError:
                server = None
        if server is None:
            address = "127.0.0.1"
            server = ThreadingHTTPServer((address, 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://{address}:{server.server_address[1]}/index.html"
        say(f"browser: {url} in headless {CHROMIUM}, {runs} runs")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page()
                    page.goto(url)
                    page.wait_for_function("typeof window.benchPrepare === 'function'")
                    result = page.evaluate("benchPrepare()")
                    result["browser_version"] = browser.version
                    renderers = _descendant_renderers()

                    def timed(fn: str, arg: Any = None) -> tuple[float, float]:
                        c0 = _cpu(renderers)
                        ms = page.evaluate(fn, arg)
                        return ms / 1000, _cpu(renderers) - c0

                    first = timed("benchFirst")
                    warm = [timed("benchEncrypt") for _ in range(warmup)]
                    enc = [timed("benchEncrypt") for _ in range(runs)]
                    ver = [timed("benchVerify") for _ in range(runs)]
                    calls = {"var": 200, "base": 1000, "add": 1000}
                    prim: dict[str, list[tuple[float, float]]] = {k: [] for k in calls}
                    for _ in range(prim_batches):
                        for name, n in calls.items():
                            wall, cpu = timed("benchPrimitive", [name, n])
                            prim[name].append((wall / n, cpu / n))
                    result.update(page.evaluate("benchBallot()"))
                finally:
                    browser.close()
        finally:
            server.shutdown()
            server.server_close()
        med = statistics.median
        result.update({
            "url": url,
            "served_from_loopback": address.startswith("127."),
            "renderer_pids": len(renderers),
            "first_encrypt_s": first[0], "first_encrypt_cpu_s": first[1],
            "warmup_wall_s": [w for w, _ in warm], "warmup_cpu_s": [c for _, c in warm],
            "encrypt_wall_s": [w for w, _ in enc], "encrypt_cpu_s": [c for _, c in enc],
            "verify_wall_s": [w for w, _ in ver], "verify_cpu_s": [c for _, c in ver],
            "median_encrypt_s": med(w for w, _ in enc),
            "median_encrypt_cpu_s": med(c for _, c in enc),
            "median_verify_s": med(w for w, _ in ver),
            "median_verify_cpu_s": med(c for _, c in ver),
            "primitives_s": {k: med(w for w, _ in v) for k, v in prim.items()},
            "primitives_cpu_s": {k: med(c for _, c in v) for k, v in prim.items()},
            "cpu_note": "utime + stime of the renderer's main thread around each call "
                        "(10 ms ticks)",
        })
        if not renderers or result["median_encrypt_cpu_s"] <= 0:
            result["median_encrypt_cpu_s"] = result["median_verify_cpu_s"] = None
            result["primitives_cpu_s"] = None
        return result
    finally:
        shutil.rmtree(site, ignore_errors=True)
