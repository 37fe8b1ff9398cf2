"""The printed table and the verdicts against the targets of issue 6."""

from __future__ import annotations

from typing import Any

from _common import fmt_bytes, fmt_time

#: Issue 6's targets (absolute ones were set on its reference machine).
TARGET_FLOOR = 1.2
TARGET_JS_S = 0.400
TARGET_TALLY_S = 3.0
TARGET_VERIFY_S = 8.0
TARGET_EG = 40.0


def _ops(ops: dict[str, float] | None) -> str:
    if not ops:
        return ""
    return "/".join(f"{ops.get(k, 0):.0f}" for k in ("var", "base", "add", "valid"))


def _x(v: float | None, digits: int = 2) -> str:
    return "—" if v is None else f"{v:.{digits}f}×"


def _over(measured: float, target: float) -> str:
    return f"{(measured / target - 1) * 100:.0f}% over"


def _faster(x: float) -> str:
    return f"{x:.0f}×" if x >= 100 else f"{x:.1f}×"


def _verify_floor_note(floor_1: float, ops: dict[str, int], r: dict[str, Any]) -> str:
    """Why ``ballot verify`` misses 8 s, when it does: what its libsodium calls alone cost."""
    half = floor_1 / 2
    # the reference costs of the issue; a point validation has none there: this machine's,
    # scaled like a variable-base multiplication
    valid_ref = r["primitives"]["valid"]["cpu_s"] / r["machine_factor"]["var"]
    ref = (ops.get("var", 0) * 64e-6 + ops.get("base", 0) * 13e-6 + ops.get("add", 0) * 11e-6
           + ops.get("valid", 0) * valid_ref) / 2
    if half < TARGET_VERIFY_S:
        return ""
    return (f"its libsodium calls alone take {fmt_time(half)} on two cores here "
            f"({ops.get('var', 0):,} variable-base multiplications, 15 per unit: 3 for each of a "
            f"unit proof's 5 branches), so no Python code over PyNaCl's one-scalar API can meet "
            f"8 s on this machine; at the issue's reference costs the same calls take "
            f"{fmt_time(ref)}. What would close it: a multi-scalar multiplication (batch "
            f"verification with Straus/Pippenger) in native code, outside PyNaCl's bindings")


def verdicts(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target: what was measured, met or missed, by how much."""
    f = r["machine_factor"]["var"]
    out: list[dict[str, Any]] = []

    def add(key: str, target: str, measured: str, met: bool | None, *details: str) -> None:
        out.append({"id": key, "target": target, "measured": measured, "met": met,
                    "verdict": {True: "met", False: "MISSED", None: "n/a"}[met],
                    "detail": "; ".join(d for d in details if d)})

    def absolute(t: float, target: float, basis: str = "") -> tuple[bool, str, str]:
        """(met, how much over, the verdict at this machine's speed)."""
        scaled = target * f
        return (t < target, "" if t < target else _over(t, target),
                "" if t < target else f"against the target scaled to this machine "
                f"({fmt_time(scaled)}): {'met' if t < scaled else _over(t, scaled)}{basis}")

    py = r["client"]["python"]
    m = py["floor_multiple"]
    add("encrypt_python_floor", f"encrypt+prove, Python: ≤ {TARGET_FLOOR}× floor",
        f"{m:.2f}× floor ({fmt_time(py['median_cpu_s'])} cpu vs {fmt_time(py['floor_s'])})",
        m <= TARGET_FLOOR, "" if m <= TARGET_FLOOR else f"{(m / TARGET_FLOOR - 1) * 100:.0f}% over")

    js = r["client"].get("browser", {})
    if "median_encrypt_s" in js:
        cpu = js.get("median_encrypt_cpu_s")
        t = cpu or js["median_encrypt_s"]
        ok, over, scaled = absolute(t, TARGET_JS_S)
        add("encrypt_js", f"encrypt+prove in Chromium: < {fmt_time(TARGET_JS_S)}",
            f"{fmt_time(t)} {'renderer cpu' if cpu else 'wall'} (median of "
            f"{len(js['encrypt_wall_s'])}; wall {fmt_time(js['median_encrypt_s'])})",
            ok, over, scaled,
            f"≈ {js['floor_multiple']:.2f}× its floor" if js.get("floor_multiple") else "",
            f"the first call on a fresh page (loadElection's checks, cold JIT) "
            f"{fmt_time(js['first_encrypt_cpu_s'] or js['first_encrypt_s'])}",
            "isSecureContext false" if js.get("isSecureContext") is False
            else "the page WAS a secure context (no LAN address)")
    else:
        add("encrypt_js", f"encrypt+prove in Chromium: < {fmt_time(TARGET_JS_S)}",
            "not run", None, js.get("skipped", ""))

    ver, cast = r["server"]["verify"], r["server"]["cast"]
    m = ver["floor_multiple"]
    add("verify_server_floor", f"verify one ballot on the server: ≤ {TARGET_FLOOR}× floor",
        f"{m:.2f}× floor ({fmt_time(ver['median_cpu_s'])} cpu vs {fmt_time(ver['floor_s'])})",
        m <= TARGET_FLOOR,
        "" if m <= TARGET_FLOOR else f"{(m / TARGET_FLOOR - 1) * 100:.0f}% over",
        f"Meeting.cast {cast['floor_multiple']:.2f}× its floor, "
        f"{r['server']['ballots_per_second_one_core']:.2f} ballots/s on one core")

    obs = r["observer"]
    w1, w2 = obs.get("workers_1"), obs.get("workers_2")
    if w1 and w2:
        others = w2.get("median_others_cores")
        busy = others >= 0.25 if others is not None else r["machine"].get("busy")
        speed = w1["median_wall_s"] / w2["median_wall_s"]
        cores = (w2["median_cpu_s"] / w2["median_wall_s"]) if w2.get("median_cpu_s") else None
        what = (f"2 workers {speed:.2f}× faster than 1 worker (wall)"
                + (f"; {cores:.2f} cores busy on average, {w2['median_cpu_s'] / w1['median_cpu_s']:.2f}"
                   "× 1 worker's CPU time" if cores else ""))
        ok = True if speed >= 1.5 else (None if busy else False)
        add("verifier_both_cores", "the verifier uses both cores", what, ok,
            "" if ok else ("inconclusive: other programs kept "
                           + (f"{others:.2f} cores" if others is not None else "the cores")
                           + " busy during those runs" if busy
                           else "the worker processes' start-up outweighs the ballots' work"
                           if cores and w2["median_cpu_s"] > 1.3 * w1["median_cpu_s"]
                           else "the pool does not keep both cores busy"))
    com = r["committee"]
    one, many = com["total_one_process"]["median_wall_s"], com["total"]["median_wall_s"]
    c1, cn = com["cold_one_process"]["median_wall_s"], com["cold"]["median_wall_s"]
    par = [com["parts"][k] for k in ("aggregate", "combine_dlog")]
    busy = sum(p["median_cpu_s"] for p in par) / max(sum(p["median_wall_s"] for p in par), 1e-9)
    ok = busy >= 1.5 and one / many > 1.2
    add("tally_both_cores", "the tally uses both cores",
        f"{com['workers']} worker processes for the aggregate and the discrete logs: "
        f"{busy:.2f} cores busy during those steps; the tally {fmt_time(many)} wall vs "
        f"{fmt_time(one)} in one process ({one / many:.2f}× faster) in a running server; in a "
        f"fresh process {fmt_time(cn)} vs {fmt_time(c1)} ({c1 / cn:.2f}×: the forkserver starts)",
        ok, "" if ok else "the workers' start-up outweighs the work")

    t = com["cold_cpu_s"]
    ok, over, scaled = absolute(t, TARGET_TALLY_S)
    add("tally_3s", f"{r['config']['voters']}×{r['config']['units']} tally, 2-of-3 decryption "
        f"with proofs: < {fmt_time(TARGET_TALLY_S)}",
        f"{fmt_time(t)} cpu (all processes), {fmt_time(com['cold_wall_s'])} wall, in a fresh "
        f"process (the discrete-log table built too); warm {fmt_time(com['total']['median_cpu_s'])}"
        f" cpu, {com['floor_multiple']:.2f}× floor",
        ok, over, scaled)

    best = min((w for w in (w1, w2) if w), key=lambda w: w["median_wall_s"])
    wall = best["median_wall_s"]
    cpu2 = (w2 or {}).get("median_cpu_s") or w1["median_cpu_s"]
    ideal = cpu2 / 2  # both cores busy the whole time: the CPU time of all processes / 2
    t = min(wall, ideal)
    ok, over, scaled = absolute(t, TARGET_VERIFY_S,
                                " (on the two-core figure)" if t == ideal else "")
    add("verify_record_8s", f"ballot verify on that record: < {fmt_time(TARGET_VERIFY_S)}",
        f"{fmt_time(wall)} wall ({'2 workers' if best is w2 else '1 worker'}"
        + (f", other programs using {best['median_others_cores']:.1f} cores"
           if best.get("median_others_cores") else "") + "); "
        f"2 workers' CPU {fmt_time(cpu2)} → {fmt_time(ideal)} with both cores free; 1 worker "
        f"{fmt_time(w1['median_cpu_s'])} cpu = {obs['floor_multiple']:.2f}× floor",
        ok, over and f"{over} (judged on {'the two-core figure' if t == ideal else 'wall'})",
        scaled, "" if ok else _verify_floor_note(obs["floor_s"], obs["ops"], r))

    eg = r.get("electionguard", {})
    cmp_ = eg.get("comparison")
    keys = (("encrypt", "encrypt"), ("verify", "verify"), ("tally_decrypt", "tally+decrypt"))
    if cmp_:
        have = [(label, cmp_[k]["faster"]) for k, label in keys if k in cmp_]
        missing = [label for k, label in keys if k not in cmp_]
        ok = all(x >= TARGET_EG for _, x in have)
        add("vs_electionguard", f"≥ {TARGET_EG:.0f}× faster than ElectionGuard 1.4.0",
            ", ".join(f"{label} {_faster(x)}" for label, x in have) + " faster",
            False if not ok else (None if missing else True),
            ", ".join(f"{label} short by a factor {TARGET_EG / x:.2f}"
                      for label, x in have if x < TARGET_EG),
            ("at the issue's reference costs (its ElectionGuard figures; ours ÷ "
             f"{f:.1f}): " + ", ".join(
                 f"{label} ≈ {cmp_[k]['faster_at_reference_costs']:.0f}×"
                 for k, label in keys if "faster_at_reference_costs" in cmp_.get(k, {})))
            if any("faster_at_reference_costs" in cmp_.get(k, {}) for k, _ in keys) else "",
            ("not measured: " + ", ".join(missing)) if missing else "")
    else:
        add("vs_electionguard", f"≥ {TARGET_EG:.0f}× faster than ElectionGuard 1.4.0",
            "not run", None, eg.get("error") or eg.get("skipped", ""))
    return out


def table(r: dict[str, Any]) -> str:
    cfg, mach, prim = r["config"], r["machine"], r["primitives"]
    f = r["machine_factor"]
    V, U = cfg["voters"], cfg["units"]
    L: list[str] = []
    L.append(f"ballot benchmark suite — {mach['date']}"
             + ("   [--quick: a smoke configuration, not the targets' shape]" if cfg["quick"] else ""))
    L.append(f"machine: {mach['cpu']}, {mach['cores']} cores; Python {mach['python']}, PyNaCl "
             f"{mach['pynacl']}; load average (1/5/15 min) "
             f"{'/'.join(map(str, mach['load_start']))} at start, "
             f"{'/'.join(map(str, mach['load_end']))} at end")
    L.append(f"election: {V} voters × {U} units × {cfg['levels']} levels + abstain "
             f"(radix {V + 1}), {cfg['trustees']} trustees, k = {cfg['threshold']}; record by "
             f"ballot.demo.run_demo ({'cached' if r['record']['cached'] else 'generated now'}, "
             f"{fmt_bytes(r['sizes']['record_bytes'])})")
    L.append("libsodium per call, CPU: " + " · ".join(
        f"{k} {fmt_time(prim[k]['cpu_s'])}" for k in ("var", "base", "add", "valid"))
        + f"  = {f['var']:.1f}× / {f['base']:.1f}× / {f['add']:.1f}× the issue's reference "
          "(64 / 13 / 11 µs)")
    L.append("medians of several runs; wall = elapsed; cpu = CPU time of the process (what one "
             "core pays; other programs' load hardly changes it); floor = libsodium calls × "
             "CPU cost per call;")
    L.append("others = cores that other programs kept busy during the step (/proc/stat), the "
             "load this machine was under")
    L.append("")
    head = (f"{'step':<56}{'runs':>5}{'wall':>10}{'cpu':>10}{'floor':>10}{'×floor':>8}{'others':>8}"
            "   calls var/base/add/valid")
    L += [head, "-" * len(head)]

    def row(label: str, runs: Any, wall: float | None, cpu: float | None,
            floor: float | None = None, mult: float | None = None, ops: Any = "",
            others: float | None = None) -> None:
        L.append(f"{label:<56}{str(runs):>5}{fmt_time(wall):>10}{fmt_time(cpu):>10}"
                 f"{fmt_time(floor) if floor else '':>10}{_x(mult) if mult else '':>8}"
                 f"{'' if others is None else f'{others:.1f}':>8}   "
                 f"{ops if isinstance(ops, str) else _ops(ops)}".rstrip())

    def step(label: str, d: dict[str, Any], floor: float | None = None,
             mult: float | None = None, ops: Any = "") -> None:
        row(label, d["runs"], d["median_wall_s"], d["median_cpu_s"], floor, mult, ops,
            d.get("median_others_cores"))

    py = r["client"]["python"]
    step(f"1 client: encrypt+prove+sign {U} units, Python", py, py["floor_s"],
         py["floor_multiple"], py["ops"])
    js = r["client"].get("browser", {})
    if "median_encrypt_s" in js:
        ver = js.get("browser_version", "?")
        row(f"  same, JS in Chromium {ver.split('.')[0]} (after {len(js['warmup_wall_s']) + 1} "
            "calls)", len(js["encrypt_wall_s"]),
            js["median_encrypt_s"], js.get("median_encrypt_cpu_s"), js.get("floor_s"),
            js.get("floor_multiple"), "isSecureContext " + str(js["isSecureContext"]).lower()
            + ("; Meeting.cast accepted it" if js.get("accepted_by_server") else ""))
        row("  JS: BallotCrypto.ready() (libsodium.js wasm)", 1, js["readyMs"] / 1000, None)
        row("  JS: first call on the page (+ loadElection, cold JIT)", 1,
            js["first_encrypt_s"], js["first_encrypt_cpu_s"])
        row("  JS: verifyBallot", len(js["verify_wall_s"]), js["median_verify_s"],
            js.get("median_verify_cpu_s"))
    else:
        L.append(f"  JS in Chromium: not run ({js.get('skipped', '?')})")
    s = r["server"]
    v, c = s["verify"], s["cast"]
    step("2 server: verify one ballot (parse, token, sig, proofs)", v, v["floor_s"],
         v["floor_multiple"], v["ops"])
    for name, label in (("decode", "parse + decode (point checks)"),
                        ("token_and_signature", "token (RSA-PSS) + Ed25519 signature"),
                        ("proofs", f"{U} disjunctive proofs")):
        step(f"  of which {label}", v["parts"][name])
    step("  Meeting.cast on SQLite (the above + context + DB)", c, c["floor_s"],
         c["floor_multiple"], c["ops"])
    L.append(f"  → {s['ballots_per_second_one_core']:.2f} ballots/s on one core accepted "
             f"(Meeting.cast, CPU); {1 / v['median_cpu_s']:.2f}/s by the pure verify path")
    com = r["committee"]
    B = com["ballots"]
    W = com["workers"]
    for key, label in (("aggregate", f"3 committee: aggregate {B} × {U} accepted ciphertexts ({W} proc.)"),
                       ("partial", f"  {len(com['trustees_present'])} trustees' partial "
                                   "decryptions + proofs"),
                       ("verify", "  verify the partial decryptions"),
                       ("combine_dlog", f"  combine (Lagrange) + discrete logs ({W} proc.)"),
                       ("rules", "  rules (count_manifest)")):
        step(label, com["parts"][key])
    t = com["total"]
    step("  total, warm (dlog table already built)", t, com["floor_s"], com["floor_multiple"],
         t["ops"])
    row("  same, in one process", com["total_one_process"]["runs"],
        com["total_one_process"]["median_wall_s"], com["total_one_process"]["median_cpu_s"])
    c = com["cold"]
    row("  total, cold (a fresh process: + the dlog table)", c["runs"], c["median_wall_s"],
        c["median_cpu_s"])
    c = com["cold_one_process"]
    row("  same, in one process", c["runs"], c["median_wall_s"], c["median_cpu_s"])
    d = com["dlog_table"]
    row(f"  (the dlog table alone, one process: {d['entries']} entries)", 1, d["wall_s"],
        d["cpu_s"])
    p = com["parse_checked"]
    row(f"  (not in the tally: parse {B} ballots, every point checked, as the verifier does)", 1,
        p["wall_s"], p["cpu_s"])
    obs = r["observer"]
    w1, w2 = obs["workers_1"], obs.get("workers_2")
    step("4 observer: load + verify_record, 1 worker", w1, obs["floor_s"],
         obs["floor_multiple"], obs["ops"])
    if w2:
        step("  same, 2 worker processes", w2, obs["floor_s"] / 2,
             w2["median_wall_s"] / (obs["floor_s"] / 2),
             "floor = ½ of 1 worker's; cpu = all processes")
    sz = r["sizes"]
    L.append(f"5 sizes: one ballot {sz['ballot_json_bytes']:,} B of JSON ({sz['unit_bytes']} B per "
             f"unit in binary); the record {sz['record_bytes']:,} B ({fmt_bytes(sz['record_bytes'])}"
             f"; board {fmt_bytes(sz['parts_bytes']['board'])})")
    L.append("-" * len(head))

    eg = r.get("electionguard", {})
    L.append("")
    if eg.get("comparison"):
        v = eg["venv"]
        L.append(f"6 ElectionGuard {v['electionguard']} from PyPI, run under Python {v['python']} "
                 f"(it does not import on 3.11) in benchmarks/.venv-eg, gmpy2 {v['gmpy2']}"
                 + (" (manylinux wheel)" if "manylinux" in v.get("gmpy2_wheel", "") else "")
                 + "; "
                 f"{eg['contests']} contests × {eg['selections']} selections (+1 placeholder), "
                 f"vote for one; {eg['guardians']} guardians, quorum {eg['quorum']}; "
                 f"its debug/info logging off")
        h2 = f"{'':<40}{'ours':>12}{'ElectionGuard':>15}{'ours/theirs':>13}{'faster':>9}   basis"
        L += [h2, "-" * len(h2)]
        for key, label in (("encrypt", "encrypt one ballot"), ("verify", "verify one ballot"),
                           ("tally_decrypt", "tally + decrypt (2 of 3)"),
                           ("ballot_bytes", "one ballot, bytes of JSON")):
            c = eg["comparison"].get(key)
            if not c:
                continue
            fmt = (lambda x: f"{int(x):,}") if key == "ballot_bytes" else fmt_time
            L.append(f"{label:<40}{fmt(c['ours']):>12}{fmt(c['theirs']):>15}"
                     f"{c['ratio']:>13.4f}{_faster(c['faster']):>9}   {c['basis']}")
        for note in eg.get("notes", []):
            L.append(f"  {note}")
        L.append("-" * len(h2))
    else:
        L.append(f"6 ElectionGuard: not run — {eg.get('error') or eg.get('skipped', '?')}")

    L.append("")
    L.append(f"7 targets (issue 6; this machine is {f['var']:.1f}× slower than its reference per "
             "variable-base multiplication)")
    for t in r["targets"]:
        L.append(f"  [{t['verdict']:^6}] {t['target']}: {t['measured']}"
                 + (f" — {t['detail']}" if t["detail"] else ""))
    L.append("")
    L.append(f"wall time of the suite {r['suite']['wall_s']:.0f} s; JSON: {r['suite']['json']}")
    return "\n".join(L)
