"""kill -9 the server while phones are voting, restart it: every ballot that got a receipt is
on the board, the hash chain is intact, voting goes on, and the final record verifies.

Why a receipt implies a stored ballot: ``Meeting.cast`` builds and signs the receipt only
after ``with transaction(...)`` has returned, i.e. after COMMIT succeeded; an error in the
commit propagates instead. So a receipt is never sent for a ballot the database has not
committed. (Durability of that commit is the database's: PostgreSQL with
``synchronous_commit = on`` flushes the WAL before COMMIT returns; SQLite in WAL mode with
``synchronous = NORMAL`` survives a killed process, which is what this test does, but not a
power cut — see docs/deployment.md.)
"""

from __future__ import annotations

import http.client
import queue
import random
import threading
import time
import urllib.error
from dataclasses import dataclass, field

import pytest
from click.testing import CliRunner

from ballot.clients.http import ApiError
from ballot.clients.voter import seal
from ballot.crypto import blind_rsa
from ballot.crypto.encoding import b64decode, b64encode
from ballot.crypto.token import Token, new_voter_key, token_message
from ballot.service.audit_cli import audit_group
from ballot.tally.board import Receipt, verify_receipt
from ballot.tally.record import load_record
from ballot.tally.verify import verify_record
from tests.reliability.helpers import (
    SLUG,
    board_rows,
    check_board_chain,
    open_meeting,
    start_deployment,
    stop_deployment,
)

pytestmark = pytest.mark.concurrency

MEMBERS = 40
PHONES = 12


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    receipts: list[tuple[float, dict]] = field(default_factory=list)  # (time, receipt)
    recovered: list[str] = field(default_factory=list)  # 409 after a cut: found on the board
    network_errors: list[tuple[float, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class Phone:
    """A voter's phone that retries over network errors, as voter.js does: the token request
    with the same blinded message, the ballot with the same bytes."""

    def __init__(self, dep, election, tally: Tally, deadline: float):
        self.dep, self.e, self.tally, self.deadline = dep, election, tally, deadline

    def _send(self, path: str, payload: dict | None = None) -> dict:
        """POST ``payload`` (GET without one), again and again over network errors."""
        cut = False
        while True:
            try:
                if payload is None:
                    return self.dep.http(timeout=20).get(path)
                return self.dep.http(timeout=20).post(path, payload)
            except ApiError as exc:
                exc.after_cut = cut  # type: ignore[attr-defined]
                raise
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, cut short
                cut = True
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                with self.tally.lock:
                    self.tally.network_errors.append((time.monotonic(), type(reason).__name__))
                if time.monotonic() > self.deadline:
                    raise
                time.sleep(0.2)

    def vote(self, code: str, choices: list[int | None]) -> None:
        ctx = self.e.ctx
        key = new_voter_key()
        prepared = blind_rsa.prepare(token_message(ctx.base_hash, bytes(key.verify_key)))
        blinded, state = blind_rsa.blind(ctx.issuer, prepared)
        resp = self._send(f"/api/v1/elections/{SLUG}/tokens",
                          {"invitation": code, "blinded_msg": b64encode(blinded)})
        token = Token(prepared, blind_rsa.finalize(ctx.issuer, prepared,
                                                   b64decode(resp["blind_sig"]), state))
        ballot, _ = seal(self.e, token, key, choices)
        try:
            resp = self._send(f"/api/v1/elections/{SLUG}/ballots", {"ballot": ballot.to_json()})
        except ApiError as exc:
            if exc.status == 409 and "already been cast" in exc.message and exc.after_cut:
                # Committed, but the answer was cut by the kill: the phone finds its ballot
                # on the board (voter.js recoverFromBoard).
                # (the board is read with retries too: a worker may be down again)
                board = self._send(f"/api/v1/elections/{SLUG}/board")["board"]
                assert ballot.tracking_code in {b["tracking_code"] for b in board}
                with self.tally.lock:
                    self.tally.recovered.append(ballot.tracking_code)
                return
            raise
        receipt = Receipt.from_json(resp["receipt"])
        verify_receipt(self.e.receipt_key, receipt)
        assert receipt.tracking_code == ballot.tracking_code
        with self.tally.lock:
            self.tally.receipts.append((time.monotonic(), resp["receipt"]))


@pytest.fixture
def dep(db_url, tmp_path):
    d = start_deployment(db_url, tmp_path)
    yield d
    stop_deployment(d)


def test_kill_9_during_voting_loses_no_receipted_ballot(dep):
    om = open_meeting(dep, members=MEMBERS, units=3)
    rng = random.Random(5)
    jobs: queue.Queue = queue.Queue()
    for code in om.invitations.values():
        jobs.put((code, [rng.choice([0, 1, 1, 2, 3, None]) for _ in range(3)]))
    tally = Tally()
    deadline = time.monotonic() + 90
    phone = Phone(dep, om.election, tally, deadline)

    def worker() -> None:
        while True:
            try:
                code, choices = jobs.get_nowait()
            except queue.Empty:
                return
            try:
                phone.vote(code, choices)
            except Exception as exc:  # noqa: BLE001 - reported by the assertions
                with tally.lock:
                    tally.failures.append(repr(exc))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(PHONES)]
    for t in threads:
        t.start()

    def wait_for_receipts(n: int) -> None:
        while len(tally.receipts) < n:
            assert time.monotonic() < deadline, "voting did not progress"
            assert any(t.is_alive() for t in threads), tally.failures[:3]
            time.sleep(0.01)

    # Crash 1: every worker process at once, while phones are sending (kill -9: no cleanup).
    wait_for_receipts(8)
    dep.pool.kill_all()
    killed_at = time.monotonic()
    with tally.lock:
        receipted_before_crash = [r for _, r in tally.receipts]
    on_board = {r.tracking_code for r in board_rows(dep)}
    assert {r["tracking_code"] for r in receipted_before_crash} <= on_board
    time.sleep(0.5)
    dep.pool.restart_all()
    restarted_at = time.monotonic()

    # Crash 2: one worker (on PostgreSQL the others keep serving meanwhile).
    wait_for_receipts(len(receipted_before_crash) + 8)
    dep.pool.workers[0].kill()
    time.sleep(0.3)
    dep.pool.workers[0].restart()

    for t in threads:
        t.join(max(1.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "phones still voting at the deadline"
    assert not tally.failures, tally.failures[:5]

    rows = board_rows(dep)
    check_board_chain(rows)
    by_code = {r.tracking_code: r for r in rows}
    for _, receipt in tally.receipts:  # every receipt: on the board, where it says
        row = by_code.get(receipt["tracking_code"])
        assert row is not None, f"receipted ballot {receipt['tracking_code']} is not on the board"
        assert (row.position, row.entry_hash) == (receipt["position"], receipt["entry_hash"])
    assert len(tally.receipts) + len(tally.recovered) == MEMBERS == len(rows)
    # The kill cut requests in flight (not only refused new connections), and voting went on.
    cut = [name for at, name in tally.network_errors
           if at >= killed_at and name != "ConnectionRefusedError"]
    assert cut, tally.network_errors[:5]
    assert sum(at > restarted_at for at, _ in tally.receipts) >= 8

    print(f"\n{len(dep.pool.workers)} worker(s): {len(tally.receipts)} receipts, "
          f"{len(tally.recovered)} ballots committed whose answer the kill cut (found on the "
          f"board), {len(cut)} requests in flight cut by the kills "
          f"({', '.join(sorted(set(cut)))}), "
          f"{sum(at > restarted_at for at, _ in tally.receipts)} receipts after the restart")
    counters = dep.http().get(f"/api/v1/elections/{SLUG}/counters")
    assert counters["tokens"] == counters["ballots"] == MEMBERS
    audit = CliRunner().invoke(audit_group, ["verify", "--database-url", dep.url])
    assert audit.exit_code == 0, audit.output  # the audit chain survived the crashes too

    dep.meeting.close_voting(SLUG)
    om.trustee.decrypt(om.keys)
    record = load_record(dep.meeting.finalize(SLUG))
    report = verify_record(record, workers=1)
    assert report.ok, report.first_failure
    assert len(record["board"]) == MEMBERS and len(record["issuance_log"]) == MEMBERS
