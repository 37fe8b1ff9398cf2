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
4. a throttled phone: DevTools' CPU throttling (``Emulation.setCPUThrottlingRate``, rate 4).
   Chromium throttles the page's main thread only, not Web Workers, so this run verifies in
   the page's thread (``#workers=0``), on a smaller record (``--throttle-size``, default 20 × 20),
   next to the same unthrottled; both are scaled to the main record by ballots × units;
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

import _ours
from _browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    _descendant_renderers,
    _QuietHandler,
    lan_address,
)
from _common import RESULTS, ROOT, say

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


_TICK = os.sysconf("SC_CLK_TCK")


def _process_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of these processes, all their threads (the renderer's Web
    Workers are threads of it)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total / _TICK


def _descendants(root: int) -> list[int]:
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    out, frontier = [root], [root]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        frontier += kids
    return out


def python_verify(record: Path, runs: int) -> list[tuple[float, float]]:
    """Wall time of ``ballot verify RECORD --workers 2`` and the CPU time of it and its worker
    processes (sampled from /proc every 20 ms while they run: the workers are children of
    multiprocessing's forkserver, which the rusage of children does not always include)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", "from ballot.cli import main; main()", "verify",
                                 str(record), "--workers", "2"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
        seen: dict[int, float] = {}
        while proc.poll() is None:
            for pid in _descendants(proc.pid):
                cpu = _process_cpu([pid])
                seen[pid] = max(seen.get(pid, 0.0), cpu)
            time.sleep(0.02)
        out, err = proc.communicate()
        times.append((time.perf_counter() - t0, sum(seen.values())))
        if proc.returncode != 0:
            raise RuntimeError(f"ballot verify failed: {out[-500:]} {err[-500:]}")
    return times


def _throttle(context, page, rate: float) -> None:
    """DevTools' CPU throttling of the page. Chromium throttles only the page's main thread (not
    its Web Workers), so the throttled runs verify in the page's thread ("#workers=0")."""
    context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": rate})


def browser_verify(record: Path, runs: int, throttle: float | None,
                   throttle_record: Path | None = None) -> dict:
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
                def one(rate: float | None, rec: Path = record, workers: int | None = None) -> dict:
                    context = browser.new_context()
                    page = context.new_page()
                    if rate:
                        _throttle(context, page, rate)
                    page.goto(url + (f"#workers={workers}" if workers is not None else ""))
                    pids = _descendant_renderers()
                    c0 = _process_cpu(pids)
                    t0 = time.perf_counter()
                    page.set_input_files("#record-file", str(rec))
                    page.wait_for_selector("body[data-verdict]", state="attached", timeout=1_800_000)
                    wall = time.perf_counter() - t0
                    cpu = _process_cpu(pids) - c0
                    verdict = page.get_attribute("body", "data-verdict")
                    seconds = float(page.get_attribute("body", "data-seconds") or "nan")
                    cores = workers if workers is not None else page.evaluate("navigator.hardwareConcurrency")
                    context.close()
                    if verdict != "ok":
                        raise RuntimeError(f"the page's verdict: {verdict}")
                    return {"page_s": seconds, "wall_s": wall, "cpu_s": cpu, "workers": cores}

                out["runs"] = [one(None) for _ in range(runs)]
                page = browser.new_page()
                page.goto(url)
                out["floor_ops_per_s"] = page.evaluate(FLOOR_JS)
                page.close()
                if throttle:
                    small = throttle_record or record
                    out["one_thread_unthrottled"] = one(None, small, 0)
                    out["throttled"] = one(throttle, small, 0)
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
    ap.add_argument("--throttle-size", type=int, default=20,
                    help="ballots = units of the record verified throttled (default 20: the "
                         "figure is scaled to the main record by ballots × units)")
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
    py_wall = min(w for w, _ in py)
    py_cpu = min(c for _, c in py)
    say(f"  {py_wall:.1f} s; the page in Chromium …")
    small = None
    if args.throttle:
        small = _ours.demo_record(args.cache_dir, voters=args.throttle_size, units=args.throttle_size,
                                  trustees=TRUSTEES, threshold=THRESHOLD, seed=SEED)
    br = browser_verify(demo.record, args.runs, args.throttle or None, small.record if small else None)
    if small is not None:
        scale = (args.voters * args.units) / (args.throttle_size * args.throttle_size)
        br["throttled"]["record"] = str(small.record)
        br["throttled"]["scaled_to_main_record_s"] = br["throttled"]["wall_s"] * scale
        br["one_thread_unthrottled"]["scaled_to_main_record_s"] = br["one_thread_unthrottled"]["wall_s"] * scale
    best = min(r["wall_s"] for r in br["runs"])
    best_cpu = min(r["cpu_s"] for r in br["runs"])
    floor = js_floor(demo.record, br["floor_ops_per_s"], br["runs"][0]["workers"])
    result = {
        "record": {"path": str(demo.record), "ballots": args.voters, "units": args.units,
                   "trustees": TRUSTEES, "threshold": THRESHOLD},
        "python_verify_workers_2": [{"wall_s": w, "cpu_s": c} for w, c in py],
        "browser": br, "js_floor": floor,
        "ratio_browser_to_python_wall": best / py_wall,
        "ratio_browser_to_python_cpu": best_cpu / py_cpu,
        "load_average": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpus": os.cpu_count(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    ops = br["floor_ops_per_s"]
    print(f"Record: {args.voters} ballots × {args.units} units, {TRUSTEES} trustees, k = {THRESHOLD}")
    print(f"  ballot verify --workers 2            wall {py_wall:7.1f} s   CPU {py_cpu:7.1f} s")
    print(f"  verifier page, Chromium, {br['runs'][0]['workers']} workers  wall {best:7.1f} s   "
          f"CPU {best_cpu:7.1f} s")
    print(f"  page / ballot verify: wall {best / py_wall:.2f} ×, CPU {best_cpu / py_cpu:.2f} × "
          f"(target ≤ 2; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    if "throttled" in br:
        t = br["throttled"]
        u = br["one_thread_unthrottled"]
        print(f"  one thread (#workers=0), {args.throttle_size} × {args.throttle_size} record: "
              f"{u['wall_s']:.1f} s; throttled phone (CPU ÷ {br['throttle_rate']:g}): "
              f"{t['wall_s']:.1f} s")
        print(f"    scaled to this record: {u['scaled_to_main_record_s']:.0f} s on one thread, "
              f"{t['scaled_to_main_record_s']:.0f} s throttled on one core "
              f"({t['scaled_to_main_record_s'] / 4:.0f} s on a 4-core phone)")
    print(f"  JS floor: {ops['mul']:.0f} var-base mults/s, {ops['base']:.0f} base mults/s, "
          f"{ops['add']:.0f} adds/s, {ops['valid']:.0f} point checks/s")
    print(f"  ballot checks at that speed: {floor['one_thread_s']:.1f} s on one thread, "
          f"{floor['floor_s']:.1f} s on {floor['workers']} workers "
          f"(page = {best / floor['floor_s']:.2f} × floor)")
    print(f"  written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
