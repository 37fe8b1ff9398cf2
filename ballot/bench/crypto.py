"""Benchmark of the ballot cryptography, and of the encoding we did not choose.

Chosen encoding (ballot/crypto/ballots.py): one exponential-ElGamal ciphertext per unit holding
g^(R^i) for level i (g^0 for an abstention), one (levels+1)-way disjunctive proof per unit; the
tally of a unit is one ciphertext whose base-R digits are the counts, found by baby-step
giant-step (ballot/crypto/dlog.py).

Alternative ("per-level"): one ciphertext per level holding 0 or 1, a 0/1 disjunctive proof on
each, and a {0,1} proof on their sum (at most one level chosen; 0 = abstain). Its tally is one
ciphertext per level and unit, each count (at most N) found in a table of N+1 entries. It is
built here from the same primitives (encrypt, prove_disjunctive, verify_disjunctive,
partial_decrypt, ...), so both columns pay the same per-operation costs.

Every step runs once as a warm-up while the libsodium calls made through ``nacl.bindings``
are counted (variable-base and base scalar multiplications, additions, point validations),
then ``repeat`` timed runs without counting; the report shows medians, the counts, and the
floor those counts imply at the measured per-call cost of each primitive.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import nacl
from nacl import bindings as sodium
from nacl.signing import SigningKey

from ballot.crypto import blind_rsa
from ballot.crypto import threshold as th
from ballot.crypto.ballots import (
    BallotShape,
    ballot_from_json,
    encrypt_ballot,
    unit_context,
    verify_ballot,
)
from ballot.crypto.dlog import DlogTable, discrete_log
from ballot.crypto.elgamal import Ciphertext, add_all, encrypt
from ballot.crypto.encoding import canonical_json, parse_json, sha256, uint32
from ballot.crypto.group import IDENTITY, L, Point, base_mul, encode_scalar, random_scalar
from ballot.crypto.proofs import DisjunctiveProof, prove_disjunctive, verify_disjunctive
from ballot.crypto.token import Token, token_message

__all__ = ["run", "format_report", "run_ceremony", "alt_encrypt_unit", "alt_verify_unit"]

LEVELS = 4
TRUSTEES, THRESHOLD = 3, 2
INNER = 10  # single-unit steps are timed over this many units and divided
PRIMITIVE_CALLS = 300

#: nacl.bindings functions that ballot.crypto.group calls, and their short names.
OPS = {
    "crypto_scalarmult_ed25519_noclamp": "var",
    "crypto_scalarmult_ed25519_base_noclamp": "base",
    "crypto_core_ed25519_add": "add",
    "crypto_core_ed25519_is_valid_point": "valid",
}
OP_NAMES = {
    "var": "variable-base scalar mult (scalarmult_ed25519_noclamp)",
    "base": "base-point scalar mult (scalarmult_ed25519_base_noclamp)",
    "add": "point addition (core_ed25519_add)",
    "valid": "point validation (core_ed25519_is_valid_point)",
}


# --- counting and timing ----------------------------------------------------------------------


class OpCounter:
    """Counts libsodium group calls while active, by wrapping them in ``nacl.bindings``."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(OPS.values(), 0)
        self._saved: dict[str, Callable] = {}

    def __enter__(self) -> "OpCounter":
        for attr, short in OPS.items():
            original = getattr(sodium, attr)
            self._saved[attr] = original
            setattr(sodium, attr, self._wrap(original, short))
        return self

    def _wrap(self, fn: Callable, short: str) -> Callable:
        counts = self.counts

        def counted(*args):
            counts[short] += 1
            return fn(*args)

        return counted

    def __exit__(self, *exc: object) -> None:
        for attr, fn in self._saved.items():
            setattr(sodium, attr, fn)
        self._saved.clear()

    def snapshot(self) -> dict[str, int]:
        return dict(self.counts)


class Recorder:
    """Times named steps (per item when ``per`` > 1); counts their group calls if counting."""

    def __init__(self, counter: OpCounter | None = None):
        self.counter = counter
        self.times: dict[str, float] = {}
        self.counts: dict[str, dict[str, float]] = {}

    @contextmanager
    def step(self, key: str, per: int = 1) -> Iterator[None]:
        before = self.counter.snapshot() if self.counter else None
        t0 = time.perf_counter()
        yield
        self.times[key] = (time.perf_counter() - t0) / per
        if self.counter and before is not None:
            after = self.counter.snapshot()
            self.counts[key] = {k: (after[k] - before[k]) / per for k in after}


def measure_primitives(repeat: int) -> dict[str, dict[str, float]]:
    """Seconds per call: the raw binding, and through ballot.crypto.group's Point.

    Batches of PRIMITIVE_CALLS calls, round-robin over the operations so that background load
    hits them alike; the median batch of max(repeat, 5) is kept."""
    from ballot.crypto.group import decode_point

    k = random_scalar()
    kb = encode_scalar(k)
    P = base_mul(random_scalar())
    Q = base_mul(random_scalar())
    pb, qb = P.data, Q.data
    fns = {
        ("var", "raw_s"): lambda: sodium.crypto_scalarmult_ed25519_noclamp(kb, pb),
        ("base", "raw_s"): lambda: sodium.crypto_scalarmult_ed25519_base_noclamp(kb),
        ("add", "raw_s"): lambda: sodium.crypto_core_ed25519_add(pb, qb),
        ("valid", "raw_s"): lambda: sodium.crypto_core_ed25519_is_valid_point(pb),
        ("var", "api_s"): lambda: P * k,
        ("base", "api_s"): lambda: base_mul(k),
        ("add", "api_s"): lambda: P + Q,
        ("valid", "api_s"): lambda: decode_point(pb),
    }
    runs: dict[tuple[str, str], list[float]] = {key: [] for key in fns}
    for _ in range(max(repeat, 5)):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(PRIMITIVE_CALLS):
                fn()
            runs[key].append((time.perf_counter() - t0) / PRIMITIVE_CALLS)
    out: dict[str, dict[str, float]] = {op: {} for op in OPS.values()}
    for (op, kind), values in runs.items():
        out[op][kind] = statistics.median(values)
    return out


# --- the key ceremony -------------------------------------------------------------------------


@dataclass
class Ceremony:
    secrets: dict[int, th.TrusteeSecret]
    publics: dict[int, th.TrusteePublic]
    s: dict[int, int]  # secret shares
    S: dict[int, Point]  # public shares
    public_key: Point
    k: int


def run_ceremony(manifest_hash: bytes, n: int, k: int) -> Ceremony:
    """The whole k-of-n ceremony as the trustees run it: every trustee checks every other
    trustee's record, decrypts and checks its shares; the joint key and public shares."""
    secrets, publics = {}, {}
    for i in range(1, n + 1):
        secrets[i], publics[i] = th.new_trustee(manifest_hash, i, k)
    for l in secrets:
        for i, pub in publics.items():
            if i != l:
                th.verify_trustee_public(manifest_hash, pub, k)
    inbox: dict[int, dict[int, th.EncryptedShare]] = {l: {} for l in secrets}
    for i, sec in secrets.items():
        for share in th.make_shares(manifest_hash, sec, list(publics.values())):
            inbox[share.recipient][i] = share
    s = {}
    for l, sec in secrets.items():
        received = {i: th.receive_share(manifest_hash, sec, publics[i], sh)
                    for i, sh in inbox[l].items()}
        s[l] = th.secret_share(sec, received)
    joint = th.joint_commitments(list(publics.values()))
    S = {l: th.public_share(joint, l) for l in secrets}
    return Ceremony(secrets, publics, s, S, joint[0], k)


# --- the alternative encoding -----------------------------------------------------------------

AltUnit = tuple[tuple[Ciphertext, ...], tuple[DisjunctiveProof, ...], DisjunctiveProof]
BITS = (0, 1)


def _alt_level_ctx(base: bytes, vk: bytes, unit: int, level: int) -> bytes:
    return sha256("ballot/bench/alt/level", base, vk, uint32(unit), uint32(level))


def _alt_sum_ctx(base: bytes, vk: bytes, unit: int) -> bytes:
    return sha256("ballot/bench/alt/sum", base, vk, uint32(unit))


def alt_encrypt_unit(h: Point, base: bytes, vk: bytes, unit: int, choice: int | None,
                     levels: int = LEVELS) -> AltUnit:
    """One 0/1 ciphertext per level with a 0/1 proof each, and a {0,1} proof on their sum."""
    cts, proofs, r_sum = [], [], 0
    for i in range(levels):
        m = 1 if choice == i else 0
        ct, r = encrypt(h, m)
        proofs.append(prove_disjunctive(_alt_level_ctx(base, vk, unit, i), h, ct, r, m, BITS))
        cts.append(ct)
        r_sum += r
    total = add_all(cts)
    sum_proof = prove_disjunctive(_alt_sum_ctx(base, vk, unit), h, total, r_sum % L,
                                  0 if choice is None else 1, BITS)
    return tuple(cts), tuple(proofs), sum_proof


def alt_verify_unit(h: Point, base: bytes, vk: bytes, unit: int, data: AltUnit) -> None:
    cts, proofs, sum_proof = data
    for i, (ct, proof) in enumerate(zip(cts, proofs, strict=True)):
        verify_disjunctive(_alt_level_ctx(base, vk, unit, i), h, ct, BITS, proof)
    verify_disjunctive(_alt_sum_ctx(base, vk, unit), h, add_all(cts), BITS, sum_proof)


def alt_unit_bytes(data: AltUnit) -> tuple[int, int]:
    cts, proofs, sum_proof = data
    return (sum(len(ct.to_bytes()) for ct in cts),
            sum(len(p.to_bytes()) for p in proofs) + len(sum_proof.to_bytes()))


# --- the scenario -----------------------------------------------------------------------------


@dataclass
class Env:
    units: int
    voters: int
    shape: BallotShape
    one: BallotShape
    base: bytes
    ceremony: Ceremony
    voter: SigningKey
    vk: bytes
    token: Token
    issuer_public: blind_rsa.IssuerPublicKey
    choices: list[int | None]
    chosen_aggregates: list[Ciphertext]
    chosen_expected: list[int]
    alt_aggregates: list[Ciphertext]
    alt_expected: list[int]
    pool: list[Ciphertext]
    alt_table: DlogTable
    bound: int
    bytes: dict[str, Any]


def _setup(units: int, voters: int, progress: Callable[[str], None]) -> Env:
    radix = voters + 1
    shape = BallotShape(units, LEVELS, True, radix)
    one = BallotShape(1, LEVELS, True, radix)
    base = sha256("ballot/bench/base", b"benchmark election")
    progress("setup: key ceremony, RSA-3072 issuer key, token, synthetic tallies")
    ceremony = run_ceremony(base, TRUSTEES, THRESHOLD)
    h = ceremony.public_key
    issuer = blind_rsa.generate_issuer_key(3072)
    pk = issuer.public_key()
    voter = SigningKey.generate()
    vk = bytes(voter.verify_key)
    prepared = blind_rsa.prepare(token_message(base, vk))
    blinded, state = blind_rsa.blind(pk, prepared)
    token = Token(prepared, blind_rsa.finalize(pk, prepared, blind_rsa.blind_sign(issuer, blinded),
                                               state))
    # simulated votes, not key material (bandit B311)
    rng = random.Random(20241125)  # nosec B311
    options: list[int | None] = [None, *range(LEVELS)]
    choices = [rng.choice(options) for _ in range(units)]
    # Synthetic aggregates: per unit, every one of the N voters picks uniformly among the
    # levels and abstaining. The sum of N ballots is just a ciphertext of Σ count_i·R^i (or of
    # count_i per level), so it is encrypted directly; summing is timed separately.
    chosen_aggs, chosen_exp, alt_aggs, alt_exp = [], [], [], []
    for _ in range(units):
        votes = [rng.choice(options) for _ in range(voters)]
        counts = [votes.count(i) for i in range(LEVELS)]
        value = sum(c * radix**i for i, c in enumerate(counts))
        chosen_aggs.append(encrypt(h, value)[0])
        chosen_exp.append(value)
        for c in counts:
            alt_aggs.append(encrypt(h, c)[0])
            alt_exp.append(c)
    pool = [encrypt(h, shape.values[j % len(shape.values)])[0] for j in range(7)]
    # Sizes of one unit, from real encodings.
    ct, r = encrypt(h, radix)
    proof = prove_disjunctive(unit_context(base, vk, 0), h, ct, r, radix, one.values)
    alt = alt_encrypt_unit(h, base, vk, 0, 1)
    alt_ct, alt_proof = alt_unit_bytes(alt)
    sizes = {"chosen_ct": len(ct.to_bytes()), "chosen_proof": len(proof.to_bytes()),
             "alt_ct": alt_ct, "alt_proof": alt_proof}
    bound = voters * radix ** (LEVELS - 1)  # as ballot/tally/decryption.py bounds a unit
    progress(f"setup: discrete-log table for bound {bound} (cached, as in a real tally)")
    discrete_log(IDENTITY, bound)
    return Env(units, voters, shape, one, base, ceremony, voter, vk, token, pk, choices,
               chosen_aggs, chosen_exp, alt_aggs, alt_exp, pool, DlogTable(voters + 1),
               bound, sizes)


def _decrypt_ctx(base: bytes, index: int) -> bytes:
    return sha256("ballot/bench/decrypt", base, uint32(index))


def _tally(rec: Recorder, prefix: str, env: Env, aggs: Sequence[Ciphertext],
           dlog: Callable[[Point], int], expected: Sequence[int]) -> None:
    c = env.ceremony
    present = sorted(c.s)[: c.k]
    with rec.step(f"{prefix}.total"):
        with rec.step(f"{prefix}.partial"):
            partials = {
                l: [th.partial_decrypt(_decrypt_ctx(env.base, j), l, c.s[l], c.S[l], ct.alpha)
                    for j, ct in enumerate(aggs)]
                for l in present
            }
        with rec.step(f"{prefix}.verify"):
            for l in present:
                for j, (ct, p) in enumerate(zip(aggs, partials[l])):
                    th.verify_partial(_decrypt_ctx(env.base, j), c.S[l], ct.alpha, p)
        with rec.step(f"{prefix}.combine"):
            points = [ct.beta - th.combine_partials({l: partials[l][j].share for l in present}, c.k)
                      for j, ct in enumerate(aggs)]
        with rec.step(f"{prefix}.dlog"):
            values = [dlog(p) for p in points]
    if values != list(expected):
        raise AssertionError(f"{prefix}: the tally decrypted to the wrong counts")


def _scenario(rec: Recorder, env: Env) -> None:
    h = env.ceremony.public_key
    base, vk = env.base, env.vk
    options: list[int | None] = [None, *range(LEVELS)]

    # One unit (4 levels + abstain), timed over INNER units.
    one_choices = [options[i % len(options)] for i in range(INNER)]
    with rec.step("unit.chosen.encrypt", per=INNER):
        units = []
        for u, choice in enumerate(one_choices):
            m = env.one.value_of(choice)
            ct, r = encrypt(h, m)
            units.append((ct, prove_disjunctive(unit_context(base, vk, u), h, ct, r, m,
                                                env.one.values)))
    with rec.step("unit.chosen.verify", per=INNER):
        for u, (ct, proof) in enumerate(units):
            verify_disjunctive(unit_context(base, vk, u), h, ct, env.one.values, proof)
    with rec.step("unit.alt.encrypt", per=INNER):
        alt_units = [alt_encrypt_unit(h, base, vk, u, ch) for u, ch in enumerate(one_choices)]
    with rec.step("unit.alt.verify", per=INNER):
        for u, data in enumerate(alt_units):
            alt_verify_unit(h, base, vk, u, data)

    # A whole ballot of env.units units, from the primitives (no token, no signature).
    with rec.step("ballot.chosen.encrypt"):
        units = []
        for u, choice in enumerate(env.choices):
            m = env.shape.value_of(choice)
            ct, r = encrypt(h, m)
            units.append((ct, prove_disjunctive(unit_context(base, vk, u), h, ct, r, m,
                                                env.shape.values)))
    with rec.step("ballot.chosen.verify"):
        for u, (ct, proof) in enumerate(units):
            verify_disjunctive(unit_context(base, vk, u), h, ct, env.shape.values, proof)
    with rec.step("ballot.alt.encrypt"):
        alt_units = [alt_encrypt_unit(h, base, vk, u, ch) for u, ch in enumerate(env.choices)]
    with rec.step("ballot.alt.verify"):
        for u, data in enumerate(alt_units):
            alt_verify_unit(h, base, vk, u, data)

    # The same ballot through the real API: signed, JSON, token check, strict decoding.
    with rec.step("api.encrypt"):
        ballot, _ = encrypt_ballot(env.shape, base, h, env.token, env.voter, env.choices)
        text = canonical_json(ballot.to_json())
    env.bytes["api_json"] = len(text)
    with rec.step("api.verify"):
        decoded = ballot_from_json(parse_json(text), env.shape)
        verify_ballot(decoded, env.shape, base, h, env.issuer_public)

    # Tally.
    with rec.step("ceremony"):
        run_ceremony(sha256("ballot/bench/manifest", os.urandom(16)), TRUSTEES, THRESHOLD)
    pool = env.pool
    with rec.step("tally.chosen.aggregate"):
        for u in range(env.units):
            add_all(pool[(b + u) % len(pool)] for b in range(env.voters))
    with rec.step("tally.alt.aggregate"):
        for u in range(env.units * LEVELS):
            add_all(pool[(b + u) % len(pool)] for b in range(env.voters))
    _tally(rec, "tally.chosen", env, env.chosen_aggregates,
           lambda p: discrete_log(p, env.bound), env.chosen_expected)
    _tally(rec, "tally.alt", env, env.alt_aggregates,
           lambda p: env.alt_table.log(p, env.voters), env.alt_expected)
    with rec.step("dlog.table"):
        DlogTable(_dlog_table_size(env.bound))


def _dlog_table_size(bound: int) -> int:
    """The table size ballot.crypto.dlog.discrete_log picks for this bound."""
    size = 1024
    while size * size <= bound:
        size *= 2
    return size


def _worst_dlog(env: Env, repeat: int) -> tuple[float, int]:
    """One discrete log at the largest value a unit can reach (all N voters at the last
    level), the most giant steps; returns (seconds, additions)."""
    value = env.bound
    point = base_mul(value)
    with OpCounter() as counter:
        if discrete_log(point, env.bound) != value:
            raise RuntimeError("the discrete log benchmark found a wrong value")
    adds = counter.counts["add"]
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        discrete_log(point, env.bound)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), adds


def run(repeat: int = 3, units: int = 100, voters: int = 100,
        progress: Callable[[str], None] = lambda msg: None) -> dict[str, Any]:
    started = time.perf_counter()
    progress("measuring libsodium primitives")
    primitives = measure_primitives(repeat)
    env = _setup(units, voters, progress)
    progress("warm-up run, counting group operations")
    with OpCounter() as counter:
        counting = Recorder(counter)
        _scenario(counting, env)
    times: dict[str, list[float]] = {}
    for i in range(repeat):
        progress(f"timed run {i + 1}/{repeat}")
        rec = Recorder()
        _scenario(rec, env)
        for key, t in rec.times.items():
            times.setdefault(key, []).append(t)
    worst_s, worst_adds = _worst_dlog(env, repeat)
    steps = {}
    for key, runs in times.items():
        ops = counting.counts.get(key, {})
        floor = sum(n * primitives[op]["raw_s"] for op, n in ops.items())
        steps[key] = {"times_s": runs, "median_s": statistics.median(runs), "ops": ops,
                      "floor_s": floor}
    return {
        "meta": {
            "python": platform.python_version(),
            "pynacl": nacl.__version__,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "repeat": repeat,
            "units": units,
            "voters": voters,
            "radix": voters + 1,
            "levels": LEVELS,
            "trustees": TRUSTEES,
            "threshold": THRESHOLD,
            "dlog_bound": env.bound,
            "dlog_table_size": _dlog_table_size(env.bound),
            "inner": INNER,
            "wall_s": time.perf_counter() - started,
        },
        "primitives": primitives,
        "sizes": env.bytes,
        "steps": steps,
        "worst_dlog": {"median_s": worst_s, "adds": worst_adds,
                       "floor_s": worst_adds * primitives["add"]["raw_s"]},
    }


# --- the report -------------------------------------------------------------------------------


def _t(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def _n(x: float) -> str:
    if x == int(x):
        return str(int(x))
    return f"{x:.1f}"


def format_report(results: dict[str, Any]) -> str:
    meta, prim, steps, sizes = (results["meta"], results["primitives"], results["steps"],
                                results["sizes"])
    U, N, R = meta["units"], meta["voters"], meta["radix"]
    lines = [
        f"ballot crypto benchmark: median of {meta['repeat']} runs "
        f"(Python {meta['python']}, PyNaCl {meta['pynacl']}, {meta['machine']})",
        "",
        f"{'libsodium group primitives, per call':<60}{'raw call':>9}   {'via Point':>9}",
    ]
    for op in ("var", "base", "add", "valid"):
        lines.append(f"  {OP_NAMES[op]:<58}{_t(prim[op]['raw_s']):>9}   {_t(prim[op]['api_s']):>9}")
    lines += [
        "",
        f"chosen    = one ciphertext per unit, {LEVELS + 1}-way proof (levels + abstain), "
        f"base-R digits, BSGS dlog",
        f"per-level = {LEVELS} ciphertexts per unit, a 0/1 proof each + a {{0,1}} proof on their "
        f"sum, counts <= N by a table of N+1",
        f"R = {R} ({N} voters), {U}-unit ballot, {meta['trustees']} trustees (k = "
        f"{meta['threshold']}); var/base/add/valid = libsodium calls per step; floor = calls x "
        f"raw cost",
        "",
    ]
    header = (f"{'step':<48}{'encoding':<11}{'median':>10}{'var':>7}{'base':>7}{'add':>8}"
              f"{'valid':>7}{'floor':>10}{'floor/t':>8}  bytes (ciphertext + proof)")
    lines += [header, "-" * len(header)]

    def row(label: str, enc: str, key: str, extra: str = "") -> None:
        s = steps[key]
        ops = s["ops"]
        ratio = s["floor_s"] / s["median_s"] if s["median_s"] else 0.0
        lines.append(
            f"{label:<48}{enc:<11}{_t(s['median_s']):>10}{_n(ops.get('var', 0)):>7}"
            f"{_n(ops.get('base', 0)):>7}{_n(ops.get('add', 0)):>8}{_n(ops.get('valid', 0)):>7}"
            f"{_t(s['floor_s']):>10}{ratio:>7.0%}  {extra}".rstrip())

    cc, cp, ac, ap = sizes["chosen_ct"], sizes["chosen_proof"], sizes["alt_ct"], sizes["alt_proof"]
    one_c, one_a = f"{cc} + {cp} = {cc + cp}", f"{ac} + {ap} = {ac + ap}"
    all_c = f"{cc * U} + {cp * U} = {(cc + cp) * U}"
    all_a = f"{ac * U} + {ap * U} = {(ac + ap) * U}"
    row("1 unit: encrypt + prove", "chosen", "unit.chosen.encrypt", one_c)
    row("", "per-level", "unit.alt.encrypt", one_a)
    row("1 unit: verify", "chosen", "unit.chosen.verify")
    row("", "per-level", "unit.alt.verify")
    row(f"{U} units: encrypt + prove", "chosen", "ballot.chosen.encrypt", all_c)
    row("", "per-level", "ballot.alt.encrypt", all_a)
    row(f"{U} units: verify", "chosen", "ballot.chosen.verify")
    row("", "per-level", "ballot.alt.verify")
    row(f"{U} units: encrypt_ballot + sign + JSON", "chosen", "api.encrypt",
        f"JSON {sizes['api_json']}")
    row(f"{U} units: parse + verify_ballot (token, sig)", "chosen", "api.verify")
    lines.append("")
    row(f"key ceremony, {meta['trustees']} trustees, k = {meta['threshold']} (all checks)", "both",
        "ceremony")
    row(f"tally: add {N} ballots' ciphertexts", "chosen", "tally.chosen.aggregate")
    row("", "per-level", "tally.alt.aggregate")
    row(f"tally: partial decrypt x2 trustees + proofs", "chosen", "tally.chosen.partial",
        f"{U} ciphertexts")
    row("", "per-level", "tally.alt.partial", f"{U * LEVELS} ciphertexts")
    row("tally: verify the partials", "chosen", "tally.chosen.verify")
    row("", "per-level", "tally.alt.verify")
    row("tally: combine (Lagrange)", "chosen", "tally.chosen.combine")
    row("", "per-level", "tally.alt.combine")
    row("tally: discrete logs", "chosen", "tally.chosen.dlog",
        f"BSGS, bound {meta['dlog_bound']}")
    row("", "per-level", "tally.alt.dlog", f"table of {N + 1}")
    row("tally: decrypt total (partial..dlog)", "chosen", "tally.chosen.total")
    row("", "per-level", "tally.alt.total")
    row(f"dlog table build, once per process", "chosen", "dlog.table",
        f"{meta['dlog_table_size']} entries")
    w = results["worst_dlog"]
    lines.append(
        f"{'worst-case dlog, 1 unit (all N at last level)':<48}{'chosen':<11}{_t(w['median_s']):>10}"
        f"{0:>7}{0:>7}{w['adds']:>8}{0:>7}{_t(w['floor_s']):>10}"
        f"{w['floor_s'] / w['median_s']:>7.0%}")
    lines.append("-" * len(header))

    def ratio(a: str, b: str) -> str:
        return f"{steps[a]['median_s'] / steps[b]['median_s']:.2f}x"

    lines += [
        "per-level / chosen: "
        f"encrypt {ratio('ballot.alt.encrypt', 'ballot.chosen.encrypt')}, "
        f"verify {ratio('ballot.alt.verify', 'ballot.chosen.verify')}, "
        f"bytes {(ac + ap) / (cc + cp):.2f}x, "
        f"tally aggregate {ratio('tally.alt.aggregate', 'tally.chosen.aggregate')}, "
        f"tally decrypt {ratio('tally.alt.total', 'tally.chosen.total')}",
        f"whole board ({N} ballots x {U} units), computed from the medians: verify "
        f"{_t(N * steps['ballot.chosen.verify']['median_s'])} chosen vs "
        f"{_t(N * steps['ballot.alt.verify']['median_s'])} per-level; ballots "
        f"{_t_bytes(N * (cc + cp) * U)} vs {_t_bytes(N * (ac + ap) * U)} (binary)",
        f"dlog aggregates: each of {N} voters uniform over {LEVELS} levels + abstain per unit; "
        f"worst case x {U} units = {_t(U * w['median_s'])}; "
        f"single-unit rows are means over {meta['inner']} units; wall time {meta['wall_s']:.0f} s",
    ]
    return "\n".join(lines)


def _t_bytes(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MiB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.1f} KiB"
    return f"{n} B"

