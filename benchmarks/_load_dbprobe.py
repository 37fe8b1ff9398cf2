"""The database alone, without proofs: how many board appends and audit appends per second
the PostgreSQL of ``load.py`` sustains, and what each costs PostgreSQL in CPU and WAL.

It calls the same repository functions as the web workers (``repo.append_board_entry`` in its
own transaction, as ``Meeting.cast`` does after verification; ``repo.append_audit`` as
``Meeting.issue_token`` does), from ``threads`` threads, for ``seconds`` seconds:

- board appends spread over ``elections`` open elections (many meetings at once; appends to
  one election are serialised by its row lock, different elections run in parallel), with a
  ballot text of the real size (random base64: ciphertexts do not compress);
- audit appends: one hash chain for the whole database, so every token issued anywhere takes
  its turn on the same ``seq``.
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
import time
from typing import Any, Callable

from ballot.crypto.encoding import canonical_json, sha256
from ballot.store import lifecycle, repo
from ballot.store.db import transaction
from ballot.tally.board import entry_hash


def _hex(label: str) -> str:
    return sha256("bench/hex", label.encode()).hex()


def open_elections(factory, n: int, prefix: str) -> list[int]:
    ids = []
    for i in range(n):
        with transaction(factory) as s:
            e = repo.create_election(s, slug=f"{prefix}-{i}", title=f"probe {i}")
            manifest = canonical_json({"probe": i}).decode()
            repo.set_manifest(s, e.id, manifest_json=manifest, manifest_hash=_hex(manifest))
            lifecycle.transition(s, e.id, "key_ceremony")
            repo.set_context(s, e.id, context_json=canonical_json({"probe": i}).decode(),
                             base_hash=_hex(f"base {prefix} {i}"))
            lifecycle.transition(s, e.id, "open")
            ids.append(e.id)
    return ids


def fake_ballot_text(size: int) -> str:
    raw = base64.urlsafe_b64encode(os.urandom(size * 3 // 4)).decode().rstrip("=")
    return canonical_json({"units": [raw[i:i + 512] for i in range(0, len(raw), 512)]}).decode()


def _run(threads: int, seconds: float, op: Callable[[int, int], None]) -> tuple[int, list[float]]:
    stop = time.monotonic() + seconds
    counts = [0] * threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def loop(t: int) -> None:
        n = 0
        try:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                op(t, n)
                latencies[t].append(time.perf_counter() - t0)
                n += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        counts[t] = n

    ts = [threading.Thread(target=loop, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    return sum(counts), [x for lst in latencies for x in lst]


def probe(factory, *, pg_cpu: Callable[[], float | None], wal: Callable[[], int | None],
          threads: int = 8, elections: int = 8, seconds: float = 5.0,
          ballot_bytes: int = 52_000) -> dict[str, Any]:
    prefix = f"probe-{secrets.token_hex(3)}"
    ids = open_elections(factory, elections, prefix)
    text = fake_ballot_text(ballot_bytes)

    def board_op(t: int, n: int) -> None:
        election_id = ids[(t + n) % len(ids)]
        token = secrets.token_hex(32)
        bhash = sha256("bench/ballot", token.encode())
        with transaction(factory) as s:
            repo.append_board_entry(
                s, election_id, token, text, f"P{token[:15]}",
                lambda prev, pos, _j: entry_hash(bytes.fromhex(prev), pos, bhash).hex())

    def audit_op(t: int, n: int) -> None:
        with transaction(factory) as s:
            repo.append_audit(s, election_id=ids[t % len(ids)], actor="voter", action="token",
                              detail={})

    out: dict[str, Any] = {"threads": threads, "elections": elections, "seconds": seconds,
                           "ballot_bytes": len(text)}
    for name, op in (("board_append", board_op), ("audit_append", audit_op)):
        cpu0, wal0, t0 = pg_cpu(), wal(), time.perf_counter()
        count, lat = _run(threads, seconds, op)
        elapsed = time.perf_counter() - t0
        cpu1, wal1 = pg_cpu(), wal()
        lat.sort()
        out[name] = {
            "count": count,
            "per_second": count / elapsed,
            "p50_ms": 1000 * lat[len(lat) // 2] if lat else None,
            "p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None,
            "pg_cpu_ms_each": (1000 * (cpu1 - cpu0) / count) if count and cpu0 is not None
            and cpu1 is not None else None,
            "wal_bytes_each": ((wal1 - wal0) / count) if count and wal0 is not None
            and wal1 is not None else None,
        }
    return out
