"""Shared set-up of the reliability tests (imported as tests.reliability.helpers).

A deployment here is what production runs: server worker *processes* (waitress, started by
``ballot.service.serve_workers``) against one database and one ``keys/`` folder — three of them
on PostgreSQL, one on SQLite (one file, one writer at a time) — plus the secretary's own
``Meeting`` in the test process for set-up. Ballots are small (3 units) to keep tests fast.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from ballot.clients.http import ApiError, Http
from ballot.clients.trustee import TrusteeDevice
from ballot.clients.voter import Election, fetch_election
from ballot.crypto.ballots import body_hash
from ballot.crypto.encoding import parse_json
from ballot.election.presets import branch_qd366
from ballot.election.roll import RollEntry
from ballot.election.units import Unit
from ballot.service.keys import KeyStore
from ballot.service.meeting import Meeting
from ballot.service.serve_workers import WorkerPool
from ballot.store import repo
from ballot.store.db import make_engine, session_factory, transaction
from ballot.store.models import GENESIS_HASH
from ballot.tally.board import entry_hash

SLUG = "cb-reliability"


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def worker_count(url: str) -> int:
    return 3 if is_postgres(url) else 1


@dataclass
class Deployment:
    url: str
    tmp: Path
    pool: WorkerPool
    meeting: Meeting
    engine: Any
    _next: itertools.cycle = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._next = itertools.cycle(range(len(self.pool.workers)))
        self._lock = threading.Lock()

    @property
    def urls(self) -> list[str]:
        return self.pool.urls

    def http(self, i: int | None = None, timeout: float = 30) -> Http:
        """A client of worker ``i`` (round robin when None), as a load balancer would pick."""
        if i is None:
            with self._lock:
                i = next(self._next)
        return Http(self.urls[i % len(self.urls)], timeout=timeout)


def start_deployment(db_url: str, tmp: Path, workers: int | None = None,
                     checkers: int = 1) -> Deployment:
    keys, records, instance = tmp / "keys", tmp / "records", tmp / "instance"
    pool = WorkerPool(db_url, keys_dir=keys, records_dir=records, instance=instance,
                      workers=workers or worker_count(db_url), threads=8, log_dir=tmp,
                      checkers=checkers)
    pool.start()
    engine = make_engine(db_url)
    meeting = Meeting(session_factory(engine), KeyStore(keys), records)
    return Deployment(db_url, tmp, pool, meeting, engine)


def stop_deployment(dep: Deployment) -> None:
    dep.pool.stop()
    dep.engine.dispose()


@dataclass
class OpenMeeting:
    election: Election
    invitations: dict[str, str]  # roll_id -> invitation code
    trustee: TrusteeDevice
    keys: Any  # the trustee's TrusteeKeys (k = n = 1)


def open_meeting(dep: Deployment, members: int = 8, units: int = 3) -> OpenMeeting:
    """A branch of ``members`` official members classifying ``units`` of them; one trustee
    (k = 1); the key ceremony over HTTP; voting open."""
    levels, rules = branch_qd366()
    roll = [RollEntry(f"M{i:03d}", f"Đảng viên {i}", "official", None)
            for i in range(1, members + 1)]
    unit_rows = [Unit(unit_id=r.roll_id, name=r.name, kind="member", group="đv")
                 for r in roll[:units]]
    codes = dep.meeting.create(slug=SLUG, title="Xếp loại 2025", organisation="Chi bộ thử",
                               date="2025-12-20", meeting_kind="branch_members", levels=levels,
                               rules=rules, roll=roll, units=unit_rows, trustee_names=["T1"],
                               threshold=1)
    dep.meeting.begin_ceremony(SLUG)
    device = TrusteeDevice(Http(dep.urls[0], bearer=codes["T1"]), SLUG, 1)
    device.enrol("own-access-code-T1")  # the trustee's first sign-in
    keys = device.keygen()
    device.send_shares(keys)
    keys = device.receive_shares(keys)
    dep.meeting.finish_ceremony(SLUG)
    device.approve(keys)
    invitations = dep.meeting.open_voting(SLUG)
    return OpenMeeting(fetch_election(dep.http(0), SLUG), invitations, device, keys)


def board_rows(dep: Deployment) -> list[Any]:
    with transaction(dep.meeting.factory, read_only=True) as s:
        election = repo.get_election(s, SLUG)
        return repo.board(s, election.id)


def check_board_chain(rows: list[Any]) -> None:
    """Recompute the board's hash chain from the stored ballots (docs/protocol.md, "Board")."""
    prev = GENESIS_HASH
    for n, row in enumerate(rows, 1):
        assert row.position == n, f"position {row.position} where {n} was expected"
        assert row.prev_hash == prev, f"entry {n}: prev_hash does not link"
        ballot = parse_json(row.ballot_json)
        bhash = body_hash({k: v for k, v in ballot.items() if k != "signature"})
        assert entry_hash(bytes.fromhex(prev), n, bhash).hex() == row.entry_hash, \
            f"entry {n}: entry_hash does not match its ballot"
        prev = row.entry_hash


def run_parallel(n: int, work: Callable[[int], Any], timeout: float = 120) -> list[tuple[str, Any]]:
    """``work(i)`` in n threads released together; [("ok", result) | ("err", exception)]."""
    barrier = threading.Barrier(n)
    results: list[tuple[str, Any] | None] = [None] * n

    def target(i: int) -> None:
        barrier.wait()
        try:
            results[i] = ("ok", work(i))
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = ("err", exc)

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert all(r is not None for r in results), "a request did not finish"
    return results  # type: ignore[return-value]


def statuses(results: list[tuple[str, Any]]) -> tuple[list[Any], list[ApiError]]:
    """Split results into successes and API refusals; anything else fails the test."""
    ok = [r for kind, r in results if kind == "ok"]
    refused = [r for kind, r in results if kind == "err" and isinstance(r, ApiError)]
    other = [r for kind, r in results if kind == "err" and not isinstance(r, ApiError)]
    assert not other, f"unexpected errors: {other[:3]}"
    return ok, refused
