"""Helpers for the storage tests (imported as tests.store.helpers)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import text

from ballot.crypto.encoding import canonical_json, sha256, uint32
from ballot.store import lifecycle, repo
from ballot.store.csv_import import RollRow, save_roll
from ballot.store.db import transaction


def entry_hash(prev_hash: str, position: int, ballot_json: str) -> str:
    """A stand-in for the protocol's board entry hash (module level: picklable)."""
    return sha256(
        "test/board-entry", bytes.fromhex(prev_hash), uint32(position), ballot_json.encode()
    ).hex()


def token_id(n: int) -> str:
    return sha256("test/token", str(n).encode()).hex()


def hex_of(label: str) -> str:
    return sha256("test/hex", label.encode()).hex()


@dataclass
class OpenElection:
    id: int
    codes: dict[int, str]  # roll entry id -> invitation code
    roll_entry_ids: list[int]


def make_draft(sf, slug: str = "cb-2025", members: int = 3, statuses: dict[int, str] | None = None) -> int:
    statuses = statuses or {}
    with transaction(sf) as s:
        election = repo.create_election(s, slug=slug, title=f"Chi bộ {slug}")
        rows = [
            RollRow(i, f"M{i:03d}", f"Nguyễn Văn {i}", statuses.get(i, "official"), None)
            for i in range(1, members + 1)
        ]
        save_roll(s, election.id, rows)
        return election.id


def advance(sf, election_id: int, target: str) -> None:
    """Walk a draft election through the lifecycle up to ``target``."""
    with transaction(sf) as s:
        status = repo.get_election(s, election_id).status
    order = lifecycle.STATUSES
    while order.index(status) < order.index(target):
        nxt = lifecycle.TRANSITIONS[status]
        with transaction(sf) as s:
            if nxt == "key_ceremony":
                manifest = canonical_json({"election": election_id}).decode()
                repo.set_manifest(
                    s, election_id, manifest_json=manifest, manifest_hash=hex_of(manifest)
                )
            if nxt == "open":
                repo.set_context(
                    s, election_id, context_json='{"joint_key":"x"}', base_hash=hex_of("base")
                )
            lifecycle.transition(s, election_id, nxt)
            status = nxt


def open_election(sf, slug: str = "cb-2025", members: int = 3, statuses=None) -> OpenElection:
    election_id = make_draft(sf, slug, members, statuses)
    advance(sf, election_id, "key_ceremony")
    with transaction(sf) as s:
        codes = repo.create_invitations(s, election_id)
        ids = [e.id for e in repo.roll(s, election_id)]
    advance(sf, election_id, "open")
    return OpenElection(election_id, codes, ids)


def run_threads(n: int, work: Callable[[int], object]) -> list[tuple[str, object]]:
    """Run ``work(i)`` in n threads released together; [("ok", result) | ("err", exception)]."""
    barrier = threading.Barrier(n)
    results: list[tuple[str, object] | None] = [None] * n

    def target(i: int) -> None:
        barrier.wait()
        try:
            results[i] = ("ok", work(i))
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = ("err", exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r is not None for r in results), "a thread did not finish"
    return results  # type: ignore[return-value]


@contextlib.contextmanager
def triggers_disabled(engine, table: str) -> Iterator[None]:
    """Let a test tamper with an append-only table, as an attacker with raw access could."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        try:
            yield
        finally:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        return
    with engine.begin() as conn:
        saved = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
            {"t": table},
        ).all()
        for name, _ in saved:
            conn.execute(text(f"DROP TRIGGER {name}"))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for _, sql in saved:
                conn.execute(text(sql))
