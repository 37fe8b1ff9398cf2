"""Our side of the suite: the client, the server, the committee and the observer, in Python.

* A **fixture election** (:class:`Fixture`) is set up in-process on SQLite through the service
  layer the web API calls (``ballot.service.meeting.Meeting``): manifest, a key ceremony by
  three trustees (k = 2), voting opened, blind-signed tokens obtained for a few roll members.
  Its ballots are encrypted by the client step and accepted by the server step.
* The **record** of a whole election is produced by ``ballot.demo.run_demo`` (the real HTTP
  API, voters in separate processes) and cached under ``benchmarks/results/cache/`` by its
  parameters, with the trustees' key files, so the committee step decrypts real ballots with
  real key shares and the observer verifies a real record.

Group operations are counted by wrapping ``nacl.bindings`` (``ballot.bench.crypto.OpCounter``)
during an untimed run of each step; the floor of a step is that count times the measured CPU
cost of one libsodium call on this machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from nacl import bindings as sodium
from nacl.signing import SigningKey

from ballot.bench.crypto import OPS, OpCounter
from ballot.crypto import blind_rsa
from ballot.crypto import threshold as th
from ballot.crypto.ballots import ballot_from_json, encrypt_ballot, unit_context, verify_ballot
from ballot.crypto.dlog import DlogTable
from ballot.crypto.encoding import b64decode, b64encode, canonical_json, parse_json
from ballot.crypto.group import base_mul, encode_scalar, random_scalar
from ballot.crypto.proofs import verify_disjunctive
from ballot.crypto.token import Token, token_message, verify_voter_signature

from _common import Runs, Sample, clock, say

OP_KEYS = tuple(OPS.values())  # var, base, add, valid

#: The issue's reference costs (PyNaCl 1.6.2 on its reference machine), per call.
REFERENCE = {"var": 64e-6, "base": 13e-6, "add": 11e-6}

SLUG = "bench"


# --- primitives and floors ----------------------------------------------------------------------


def measure_primitives(batches: int = 7, calls: int = 200) -> dict[str, list[Sample]]:
    """Per-call cost of each libsodium group call (raw binding), as ``batches`` samples of
    ``calls`` calls each, round robin over the operations so that load hits them alike."""
    k = encode_scalar(random_scalar())
    P, Q = base_mul(random_scalar()).data, base_mul(random_scalar()).data
    fns = {
        "var": lambda: sodium.crypto_scalarmult_ed25519_noclamp(k, P),
        "base": lambda: sodium.crypto_scalarmult_ed25519_base_noclamp(k),
        "add": lambda: sodium.crypto_core_ed25519_add(P, Q),
        "valid": lambda: sodium.crypto_core_ed25519_is_valid_point(P),
    }
    out: dict[str, list[Sample]] = {op: [] for op in fns}
    for _ in range(batches):
        for op, fn in fns.items():
            with clock() as s:
                for _ in range(calls):
                    fn()
            out[op].append(Sample(s.wall / calls, s.cpu / calls))
    return out


def summarize_primitives(samples: dict[str, list[Sample]]) -> dict[str, dict[str, float]]:
    return {op: {"wall_s": statistics.median(s.wall for s in ss),
                 "cpu_s": statistics.median(s.cpu for s in ss),
                 "min_wall_s": min(s.wall for s in ss),
                 "batches": len(ss)}
            for op, ss in samples.items()}


def floor_of(counts: dict[str, float], prims: dict[str, dict[str, float]],
             clock_name: str = "cpu_s") -> float:
    return sum(n * prims[op][clock_name] for op, n in counts.items() if op in prims)


def counted(fn: Callable[[], Any]) -> tuple[Any, dict[str, int], Sample]:
    """Run ``fn`` once while counting libsodium group calls (also timed, for information)."""
    with OpCounter() as counter:
        with clock() as s:
            out = fn()
    return out, dict(counter.counts), s


# --- the fixture election ----------------------------------------------------------------------


@dataclass
class Fixture:
    """An open election on SQLite, driven through ``Meeting`` as the web API drives it."""

    root: Path
    voters: int
    units: int
    trustees: int
    threshold: int
    seed: int
    meeting: Any = None
    ctx: Any = None
    invitations: list[str] = field(default_factory=list)
    choices: list[list[int | None]] = field(default_factory=list)
    setup_s: float = 0.0
    _next: int = 0

    def build(self) -> "Fixture":
        from ballot.demo import members, preferences
        from ballot.election.presets import branch_qd366
        from ballot.election.roll import RollEntry
        from ballot.election.units import Unit
        from ballot.service.keys import KeyStore
        from ballot.service.meeting import Meeting
        from ballot.store.db import make_engine, session_factory
        from ballot.store.migrate import upgrade
        from ballot.tally.context import trustee_public_to_json

        t0 = time.perf_counter()
        url = f"sqlite:///{self.root / 'bench.sqlite'}"
        upgrade(url)
        engine = make_engine(url)
        self.meeting = m = Meeting(session_factory(engine), KeyStore(self.root / "keys"),
                                   self.root / "records")
        rng = random.Random(self.seed)
        levels, rules = branch_qd366()
        people = members(self.voters, rng)
        names = [f"Trustee {i}" for i in range(1, self.trustees + 1)]
        codes = m.create(
            slug=SLUG, title="Benchmark", organisation="Chi bộ benchmark", date="2025-12-15",
            meeting_kind="branch_members", levels=levels, rules=rules,
            roll=[RollEntry(rid, name, "official", None) for rid, name in people],
            units=[Unit(unit_id=rid, name=name, kind="member", group="đảng viên",
                        self_level=levels.codes[1], proposed_level=levels.codes[1])
                   for rid, name in people[: self.units]],
            trustee_names=names, threshold=self.threshold)
        from ballot.service.trustee_access import enrol_all

        codes = enrol_all(m, SLUG, codes)
        m.begin_ceremony(SLUG)
        mh = bytes.fromhex(m.ceremony_state(SLUG)["manifest_hash"])
        keys = {i: th.new_trustee(mh, i, self.threshold) for i in range(1, self.trustees + 1)}
        for i, (_, pub) in keys.items():
            m.submit_trustee_public(SLUG, i, codes[names[i - 1]], trustee_public_to_json(pub))
        publics = [pub for _, pub in keys.values()]
        for i, (sec, _) in keys.items():
            m.submit_shares(SLUG, i, codes[names[i - 1]], [
                {"recipient": sh.recipient, "ciphertext": b64encode(sh.ciphertext)}
                for sh in th.make_shares(mh, sec, publics)])
        for i in keys:
            m.accept_shares(SLUG, i, codes[names[i - 1]], [])
        m.finish_ceremony(SLUG)
        from ballot.service.ceremony import submit_approval
        from ballot.tally.approval import sign_approval

        info = m.public_info(SLUG)
        from ballot.election.manifest import Manifest as _Manifest
        from ballot.tally.context import ElectionContext as _Context

        ctx = _Context.from_json(_Manifest.from_json(info["manifest"]), info["context"])
        for i, (sec, _) in keys.items():  # every trustee approves the fingerprint
            submit_approval(m, SLUG, i, codes[names[i - 1]],
                            sign_approval(ctx, i, sec.coefficients[0]))
        invitations = m.open_voting(SLUG)
        self.invitations = [invitations[rid] for rid, _ in people]
        self.info = m.public_info(SLUG)
        from ballot.election.manifest import Manifest
        from ballot.tally.context import ElectionContext

        self.ctx = ElectionContext.from_json(Manifest.from_json(self.info["manifest"]),
                                             self.info["context"])
        self.choices = preferences(self.units, self.voters, len(levels), rng)
        self.setup_s = time.perf_counter() - t0
        return self

    def token(self) -> tuple[Token, SigningKey, list[int | None]]:
        """The next roll member's token (blind-signed by the meeting), key and choices."""
        if self._next >= len(self.invitations):
            raise RuntimeError("the fixture ran out of voters: raise --voters or lower --repeat")
        i = self._next
        self._next += 1
        key = SigningKey.generate()
        issuer = self.ctx.issuer
        prepared = blind_rsa.prepare(token_message(self.ctx.base_hash, bytes(key.verify_key)))
        blinded, state = blind_rsa.blind(issuer, prepared)
        blind_sig = self.meeting.issue_token(SLUG, self.invitations[i], b64encode(blinded))
        sig = blind_rsa.finalize(issuer, prepared, b64decode(blind_sig), state)
        return Token(prepared, sig), key, self.choices[i]


# --- 1 + 2: client and server ------------------------------------------------------------------


def client_and_server(fx: Fixture, repeat: int) -> dict[str, Any]:
    """Encrypt ``repeat`` ballots (client), verify each by the pure path and accept each through
    ``Meeting.cast`` (server). One more ballot first, untimed, counts the group operations."""
    ctx, m = fx.ctx, fx.meeting
    shape, base, h, issuer = ctx.shape, ctx.base_hash, ctx.public_key, ctx.issuer

    def encrypt(token: Token, key: SigningKey, choices: list[int | None]) -> bytes:
        ballot, _ = encrypt_ballot(shape, base, h, token, key, choices)
        return canonical_json(ballot.to_json())

    def pure_verify(text: bytes) -> Any:
        ballot = ballot_from_json(parse_json(text), shape)
        verify_ballot(ballot, shape, base, h, issuer)
        return ballot

    def cast(text: bytes) -> dict[str, Any]:
        # The server's whole work for one ballot: receiving it (the cheap checks, the board
        # append, the receipt) and the background check of its proofs (docs/protocol.md §9.1),
        # done here at once, as the checker process would.
        receipt = m.cast(SLUG, parse_json(text))
        m.finish_close(SLUG)
        return receipt

    say("client/server: warm-up ballot, counting group operations")
    tok, key, choices = fx.token()
    text, enc_ops, _ = counted(lambda: encrypt(tok, key, choices))
    _, ver_ops, _ = counted(lambda: pure_verify(text))
    receipt, cast_ops, _ = counted(lambda: cast(text))
    if receipt.get("position") != 1:
        raise AssertionError(f"unexpected receipt {receipt}")

    enc, ver, acc = Runs(), Runs(), Runs()
    parts = {"decode": Runs(), "token_and_signature": Runs(), "proofs": Runs()}
    texts = []
    for i in range(repeat):
        say(f"client: encrypt ballot {i + 1}/{repeat}")
        tok, key, choices = fx.token()
        with clock() as s:
            texts.append(encrypt(tok, key, choices))
        enc.add(s)
    for i, text in enumerate(texts):
        with clock() as s:
            pure_verify(text)
        ver.add(s)
        # the same checks, piece by piece (to say where the time goes)
        with clock() as s:
            b = ballot_from_json(parse_json(text), shape)
        parts["decode"].add(s)
        with clock() as s:
            vk = b.token.check(issuer, base)
            verify_voter_signature(vk, b.ballot_hash, b.signature)
        parts["token_and_signature"].add(s)
        with clock() as s:
            for u, (ct, proof) in enumerate(b.units):
                verify_disjunctive(unit_context(base, bytes(vk), u), h, ct, shape.values, proof)
        parts["proofs"].add(s)
    for i, text in enumerate(texts):
        say(f"server: Meeting.cast ballot {i + 1}/{repeat}")
        with clock() as s:
            receipt = cast(text)
        acc.add(s)
        if receipt.get("position") != i + 2:
            raise AssertionError(f"unexpected receipt {receipt}")
    return {
        "encrypt": {**enc.to_json(), "ops": enc_ops},
        "verify": {**ver.to_json(), "ops": ver_ops,
                   "parts": {k: v.to_json() for k, v in parts.items()}},
        "cast": {**acc.to_json(), "ops": cast_ops},
        "ballot_json_bytes": len(texts[0]),
        "unit_bytes": shape.unit_bytes,
    }


# --- the cached record --------------------------------------------------------------------------


@dataclass
class DemoRecord:
    dir: Path
    record: Path
    voters: int
    units: int
    trustees: int
    threshold: int
    seed: int
    present: list[int]
    generated_s: float
    cached: bool

    def passphrase(self, i: int) -> str:
        return f"demo passphrase {i}"  # what ballot.demo seals the trustees' key files with

    def keyfile(self, i: int) -> Path:
        return self.dir / "keys" / f"trustee-{i}.json"


def demo_record(cache_root: Path, *, voters: int, units: int, trustees: int, threshold: int,
                seed: int, fresh: bool = False) -> DemoRecord:
    """The record of a whole election made by ``run_demo``, generated once per parameters."""
    from ballot.tally.record import RECORD_VERSION, load_record

    tag = RECORD_VERSION.replace("/", "-")
    name = f"demo-{tag}-v{voters}-u{units}-n{trustees}-k{threshold}-s{seed}"
    out = cache_root / name
    marker = out / "bench-cache.json"
    if not fresh and marker.is_file():
        info = json.loads(marker.read_text())
        record = out / info["record"]
        if record.is_file() and hashlib.sha256(record.read_bytes()).hexdigest() == info["sha256"]:
            return DemoRecord(out, record, voters, units, trustees, threshold, seed,
                              info["present"], info["generated_s"], True)
        say(f"cached record {out} is incomplete or changed: generating it again")
    from ballot.demo import run_demo

    say(f"generating the {voters} x {units} record with ballot.demo.run_demo (HTTP API, "
        f"voters in 2 processes) into {out}; cached for the next runs")
    t0 = time.perf_counter()
    def demo_say(msg: str) -> None:
        lines = str(msg).splitlines() or [""]
        more = f" [… {len(lines) - 1} more lines]" if len(lines) > 1 else ""
        say(f"demo: {lines[0]}{more}")

    result = run_demo(out=out, voters=voters, units=units, trustees=trustees,
                      threshold=threshold, seed=seed, say=demo_say)
    generated = time.perf_counter() - t0
    if not result.ok:
        raise RuntimeError(f"the demo's record does not verify: {result.record}")
    rec = load_record(result.record)
    present = sorted(d["trustee"] for d in rec["decryptions"])
    marker.write_text(json.dumps({
        "record": result.record.relative_to(out).as_posix(),
        "sha256": hashlib.sha256(result.record.read_bytes()).hexdigest(),
        "present": present, "generated_s": generated,
        "params": {"voters": voters, "units": units, "trustees": trustees,
                   "threshold": threshold, "seed": seed},
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }, indent=1))
    return DemoRecord(out, result.record, voters, units, trustees, threshold, seed, present,
                      generated, False)


# --- 3: the committee --------------------------------------------------------------------------


def committee(demo: DemoRecord, repeat: int) -> dict[str, Any]:
    """What the committee waits for, on the record's ballots, by the server's own code paths:
    the aggregate of the accepted ballots (``close_voting``), the partial decryptions with
    proofs by k trustees (their real key shares, on their own devices), the server's check of
    each, the combination with the discrete logarithms (``finalize``), the rules. The
    aggregate and the discrete logarithms are shared out among worker processes (one per
    core); each run is also made with one process, for comparison."""
    from ballot.crypto import dlog
    from ballot.election.counting import count_manifest
    from ballot.election.counts import MeetingFigures
    from ballot.election.manifest import Manifest
    from ballot.tally.context import ElectionContext
    from ballot.tally.decryption import (
        aggregate_accepted,
        combine_decryptions,
        combined_points,
        decrypt_aggregate,
        verify_decryption,
    )
    from ballot.tally.record import counts_to_json, load_record
    from ballot.tally.trustee_keyfile import open_keys, read_keyfile

    rec = load_record(demo.record)
    manifest = Manifest.from_json(rec["manifest"])
    ctx = ElectionContext.from_json(manifest, rec["context"])
    unit_ids = [u.unit_id for u in manifest.units]
    f = rec["figures"]
    figures = MeetingFigures(f["convened"], f["excluded"], f["present"], f["ballots_valid"],
                             f["ballots_invalid"], f["ballots_issued"])
    present = demo.present[: ctx.threshold]
    shares = {i: open_keys(read_keyfile(demo.keyfile(i)), demo.passphrase(i)).share
              for i in present}
    board = [e["ballot"] for e in rec["board"]]
    B, U = len(board), len(unit_ids)
    if rec["paper"] is not None:
        raise RuntimeError("the benchmark record should have no paper ballots")

    def run(times: dict[str, Sample] | None, workers: int | None = None) -> dict[str, Any]:
        def step(name: str, fn: Callable[[], Any]) -> Any:
            with clock() as s:  # counts the forkserver's workers too
                out = fn()
            if times is not None:
                times[name] = s
            return out

        totals = step("aggregate", lambda: aggregate_accepted((b["units"] for b in board), U,
                                                              workers=workers))
        decs = step("partial", lambda: {i: decrypt_aggregate(ctx, i, shares[i], totals)
                                        for i in present})
        step("verify", lambda: [verify_decryption(ctx, totals, d) for d in decs.values()])
        electronic = step("combine_dlog", lambda: combine_decryptions(ctx, totals, decs, B,
                                                                      workers=workers))
        results = step("rules", lambda: count_manifest(manifest, dict(zip(unit_ids, electronic)),
                                                       figures))
        if counts_to_json(unit_ids, electronic) != rec["electronic_counts"]:
            raise AssertionError("the committee's counts differ from the record's")
        if results.to_json() != rec["results"]:
            raise AssertionError("the committee's results differ from the record's")
        return {"totals": totals, "decs": decs}

    bound = B * ctx.shape.radix ** (ctx.shape.num_levels - 1)
    size = dlog.table_size(bound)
    say("committee: cold runs (a fresh process: the discrete-log table not yet built)")
    _stop_forkserver()  # an earlier step's, so that its CPU time is not charged here
    cold: dict[str, Runs] = {1: Runs(), None: Runs()}  # type: ignore[dict-item]
    for w in (None, 1, None, 1):
        dlog._TABLES.clear()
        _stop_forkserver()  # a fresh process has none: it starts inside the run
        with clock() as s:
            run(None, w)
        cold[w].add(s)
    say("committee: counting group operations")
    with OpCounter() as counter:
        state = run(None, 1)
    ops = dict(counter.counts)
    with clock() as table:
        DlogTable(size)
    with clock() as parse:
        [ballot_from_json(b, ctx.shape) for b in board]
    with clock() as comb:
        combined_points(ctx, state["totals"], state["decs"])
    runs: dict[str, Runs] = {}
    total, total_1 = Runs(), Runs()
    for i in range(repeat):
        say(f"committee: run {i + 1}/{repeat} (warm), with the default workers and with one")
        times: dict[str, Sample] = {}
        with clock() as s:
            run(times)
        total.add(s)
        for k, v in times.items():
            runs.setdefault(k, Runs()).add(v)
        with clock() as s:
            run(None, 1)
        total_1.add(s)
    counts = rec["electronic_counts"]
    return {
        "total": {**total.to_json(), "ops": ops},
        "total_one_process": total_1.to_json(),
        "parts": {k: v.to_json() for k, v in runs.items()},
        "cold": cold[None].to_json(),  # type: ignore[index]
        "cold_one_process": cold[1].to_json(),
        "parse_checked": {"wall_s": parse.wall, "cpu_s": parse.cpu},
        "dlog_table": {"entries": size, "bound": bound, "wall_s": table.wall, "cpu_s": table.cpu,
                       "adds": size - 1},
        "combine_only": {"wall_s": comb.wall, "cpu_s": comb.cpu},
        "ballots": B, "units": U, "trustees_present": present, "workers": os.cpu_count(),
        "levels_histogram": _level_histogram(counts, manifest.levels.codes),
    }


def _level_histogram(counts: list[dict[str, Any]], codes: tuple[str, ...]) -> dict[str, int]:
    total = {code: 0 for code in codes}
    total["abstain"] = 0
    for c in counts:
        for code in codes:
            total[code] += c["votes"].get(code, 0)
        total["abstain"] += c["abstain"]
    return total


# --- 4: the observer ---------------------------------------------------------------------------


def _stop_forkserver() -> bool:
    """Stop multiprocessing's forkserver and reap it, so that the CPU time of the pool's
    workers (its children, reaped by it) reaches this process's RUSAGE_CHILDREN. A fresh
    ``ballot verify`` process starts its own forkserver anyway."""
    import multiprocessing.forkserver as fs

    stop = getattr(getattr(fs, "_forkserver", None), "_stop", None)
    if stop is None:  # pragma: no cover - private API of CPython's multiprocessing
        return False
    stop()
    return True


def observer(demo: DemoRecord, repeat: int, workers: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """``load_record`` + ``verify_record`` on the demo's record, as ``ballot verify`` runs them,
    with 1 worker (in this process) and with 2 worker processes, interleaved."""
    from ballot.tally.record import load_record
    from ballot.tally.verify import verify_record

    cpu_seen = {"ok": True}

    def run(w: int) -> Any:
        report = verify_record(load_record(demo.record), workers=w)
        if w > 1:
            cpu_seen["ok"] = _stop_forkserver() and cpu_seen["ok"]
        if not report.ok:
            raise AssertionError(f"the record does not verify: {report.first_failure}")
        return report

    say("observer: verify_record, 1 worker, counting group operations (run 1)")
    report, ops, first = counted(lambda: run(1))
    runs = {w: Runs() for w in workers}
    if 1 in runs:
        runs[1].add(first)  # the counter adds < 0.1 % to a run: it is one of the samples
    for i in range(repeat):
        for w in workers:
            if w == 1 and i == 0:
                continue
            say(f"observer: verify_record, {w} worker{'s' * (w > 1)}, run {len(runs[w].samples) + 1}/{repeat}")
            with clock() as s:
                run(w)
            runs[w].add(s)
    out: dict[str, Any] = {"ops": ops, "checks": [c.key for c in report.checks],
                           "ballots": report.figures.get("ballots")}
    for w, r in runs.items():
        data = r.to_json()
        if w > 1 and not cpu_seen["ok"]:
            # the workers are children of multiprocessing's forkserver: without stopping it,
            # their CPU time is not visible here
            data["cpu_s"] = [None] * len(r.samples)
            data["median_cpu_s"] = None
        out[f"workers_{w}"] = data
    return out


# --- 5: sizes ----------------------------------------------------------------------------------


def record_sizes(demo: DemoRecord) -> dict[str, Any]:
    from ballot.tally.record import load_record

    rec = load_record(demo.record)
    parts = {k: len(canonical_json(v)) for k, v in rec.items()}
    return {"record_bytes": demo.record.stat().st_size, "parts_bytes": parts,
            "board_ballots": len(rec["board"]),
            "one_board_ballot_bytes": len(canonical_json(rec["board"][0]["ballot"]))
            if rec["board"] else None}


def new_tempdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


__all__ = ["Fixture", "client_and_server", "demo_record", "committee", "observer",
           "record_sizes", "measure_primitives", "summarize_primitives", "floor_of", "counted",
           "REFERENCE", "OP_KEYS"]
