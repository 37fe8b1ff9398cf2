"""The observer's verifier page against ``ballot verify`` on the same record, in the same run.

    python benchmarks/browser_verify.py                 # the 100 x 100 record (cached)
    python benchmarks/browser_verify.py --voters 10 --units 10 --runs 1

1. the record: ``ballot.demo.run_demo``'s 100 ballots × 100 units, 3 trustees, k = 2 (cached in
   ``benchmarks/results/cache`` as the suite caches it);
2. ``ballot verify RECORD --workers 2``: its wall time (a fresh process, as an observer runs it);
3. the verifier page (``ballot.web.verifier.render_page``, the exported file) served over plain
   HTTP from a non-loopback address, in headless Debian Chromium: the record opened through the
   file input, timed from there to the verdict (the page's own clock, and this process's);
   the ballots run in ``navigator.hardwareConcurrency`` Web Workers;
4. a throttled phone: the same with DevTools' CPU throttling (``Emulation.setCPUThrottlingRate``,
   rate 4) on the page and on its workers (attached through ``Target.setAutoAttach``);
5. the JS floor: the page's group operations per second (variable-base and base-point
   multiplications, additions, point validations), and the record's ballot checks counted in
   those operations: the time they take at that speed, shared by the workers.

Prints a table and writes ``benchmarks/results/browser_verify.json``. Run it alone (it uses
both cores); it takes about two minutes once the record is cached.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _ours  # noqa: E402
from _browser import CHROMIUM, CHROMIUM_ARGS, _QuietHandler, lan_address  # noqa: E402
from _common import RESULTS, ROOT, say  # noqa: E402

SEED, TRUSTEES, THRESHOLD = 20251215, 3, 2

FLOOR_JS = """async () => {
  const V = window.BallotVerifier; await V.ready();
  const g = V.group;
  const P = g.baseMul(g.randomScalar()), Q = g.baseMul(g.randomScalar()), k = g.randomScalar();
  const rate = (n, f) => { for (let i = 0; i < 20; i++) f(); const t = performance.now();
    for (let i = 0; i < n; i++) f(); return n / ((performance.now() - t) / 1000); };
  return { mul: rate(300, () => g.mul(P, k)), base: rate(600, () => g.baseMul(k)),
           add: rate(2000, () => g.add(P, Q)), valid: rate(1000, () => g.decodePoint(P)) };
}"""


def python_verify(record: Path, runs: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", "from ballot.cli import main; main()", "verify",
                              str(record), "--workers", "2"], capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t0)
        if out.returncode != 0:
            raise RuntimeError(f"ballot verify failed: {out.stdout[-500:]} {out.stderr[-500:]}")
    return times


def _throttle(context, page, rate: float) -> list:
    """CPU throttling on the page and on every worker it starts (flattened CDP sessions)."""
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    attached: list = []

    def on_attached(ev):
        sid = ev["sessionId"]
        attached.append(ev["targetInfo"]["type"])
        try:
            cdp.send("Target.sendMessageToTarget", {"sessionId": sid, "message": json.dumps(
                {"id": 1, "method": "Emulation.setCPUThrottlingRate", "params": {"rate": rate}})})
            cdp.send("Target.sendMessageToTarget", {"sessionId": sid, "message": json.dumps(
                {"id": 2, "method": "Runtime.runIfWaitingForDebugger"})})
        except Exception as exc:  # noqa: BLE001 — reported, the run goes on
            attached.append(f"error: {exc}")

    cdp.on("Target.attachedToTarget", on_attached)
    cdp.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True,
                                      "flatten": False})
    return attached


def browser_verify(record: Path, runs: int, throttle: float | None) -> dict:
    from playwright.sync_api import sync_playwright

    from ballot.web.verifier import page_fingerprint, render_page

    site = Path(tempfile.mkdtemp(prefix="ballot-verifier-bench-"))
    (site / "verify.html").write_bytes(render_page())
    address = lan_address() or "127.0.0.1"
    server = ThreadingHTTPServer((address, 0), partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://{address}:{server.server_address[1]}/verify.html"
    out: dict = {"url_host": address, "fingerprint": page_fingerprint()}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                def one(rate: float | None) -> dict:
                    context = browser.new_context()
                    page = context.new_page()
                    attached = _throttle(context, page, rate) if rate else []
                    page.goto(url)
                    t0 = time.perf_counter()
                    page.set_input_files("#record-file", str(record))
                    page.wait_for_selector("body[data-verdict]", state="attached", timeout=1_800_000)
                    wall = time.perf_counter() - t0
                    verdict = page.get_attribute("body", "data-verdict")
                    seconds = float(page.get_attribute("body", "data-seconds") or "nan")
                    cores = page.evaluate("navigator.hardwareConcurrency")
                    context.close()
                    if verdict != "ok":
                        raise RuntimeError(f"the page's verdict: {verdict}")
                    return {"page_s": seconds, "wall_s": wall, "workers": cores,
                            "throttled_targets": attached}

                out["runs"] = [one(None) for _ in range(runs)]
                page = browser.new_page()
                page.goto(url)
                out["floor_ops_per_s"] = page.evaluate(FLOOR_JS)
                page.close()
                if throttle:
                    out["throttled"] = one(throttle)
                    out["throttle_rate"] = throttle
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return out


def js_floor(record: Path, ops: dict, workers: int) -> dict:
    """The record's ballot checks in group operations (docs/protocol.md §8.3: per unit and
    branch of the range proof, 3 variable-base and 1 base-point multiplication, 3 additions;
    per unit 2 point validations) at the page's measured speed, shared by the workers."""
    rec = json.loads(record.read_bytes())
    units, ballots = len(rec["manifest"]["units"]), len(rec["board"])
    branches = len(rec["manifest"]["levels"]) + (1 if rec["manifest"]["rules"].get("abstain_allowed", True) else 0)
    per_unit = {"mul": 3 * branches, "base": branches, "add": 3 * branches, "valid": 2}
    seconds = ballots * units * sum(n / ops[k] for k, n in per_unit.items())
    return {"per_unit_ops": per_unit, "one_thread_s": seconds, "workers": workers,
            "floor_s": seconds / max(1, workers)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voters", type=int, default=100)
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--runs", type=int, default=1, help="runs of each side (default 1)")
    ap.add_argument("--throttle", type=float, default=4.0, help="CPU throttling rate (0: none)")
    ap.add_argument("--cache-dir", type=Path, default=RESULTS / "cache")
    ap.add_argument("--json", type=Path, default=RESULTS / "browser_verify.json")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        say(f"Debian chromium is not installed at {CHROMIUM}")
        return 2
    demo = _ours.demo_record(args.cache_dir, voters=args.voters, units=args.units,
                             trustees=TRUSTEES, threshold=THRESHOLD, seed=SEED)
    say(f"record {demo.record} ({args.voters} ballots x {args.units} units)")
    say("ballot verify --workers 2 …")
    py = python_verify(demo.record, args.runs)
    say(f"  {min(py):.1f} s; the page in Chromium …")
    br = browser_verify(demo.record, args.runs, args.throttle or None)
    best = min(r["wall_s"] for r in br["runs"])
    floor = js_floor(demo.record, br["floor_ops_per_s"], br["runs"][0]["workers"])
    result = {
        "record": {"path": str(demo.record), "ballots": args.voters, "units": args.units,
                   "trustees": TRUSTEES, "threshold": THRESHOLD},
        "python_verify_workers_2_s": py, "browser": br, "js_floor": floor,
        "ratio_browser_to_python": best / min(py),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpus": os.cpu_count(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    ops = br["floor_ops_per_s"]
    print(f"Record: {args.voters} ballots × {args.units} units, {TRUSTEES} trustees, k = {THRESHOLD}")
    print(f"  ballot verify --workers 2 (wall)        {min(py):8.1f} s")
    print(f"  verifier page, Chromium, {br['runs'][0]['workers']} workers (wall)  {best:8.1f} s"
          f"   = {best / min(py):.2f} × ballot verify (target ≤ 2)")
    if "throttled" in br:
        t = br["throttled"]
        print(f"  throttled phone (CPU ÷ {br['throttle_rate']:g}) (wall)      {t['wall_s']:8.1f} s"
              f"   (throttled targets: {', '.join(map(str, t['throttled_targets'])) or 'page only'})")
    print(f"  JS floor: {ops['mul']:.0f} var-base mults/s, {ops['base']:.0f} base mults/s, "
          f"{ops['add']:.0f} adds/s, {ops['valid']:.0f} point checks/s")
    print(f"  ballot checks at that speed: {floor['one_thread_s']:.1f} s on one thread, "
          f"{floor['floor_s']:.1f} s on {floor['workers']} workers "
          f"(page = {best / floor['floor_s']:.2f} × floor)")
    print(f"  written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
