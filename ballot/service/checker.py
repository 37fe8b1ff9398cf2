"""The background check of received ballots (docs/protocol.md, "Received, then checked").

On receipt the server does only the cheap checks (:func:`ballot.crypto.ballots.check_envelope`)
and appends the ballot to the board; this module checks the costly part, the proofs, and
writes each entry's status once into ``board_checks`` (append-only): ``valid``, or ``invalid``
with the reason. The tally takes only valid entries.

Who checks:

- a checker process beside the web workers (:func:`run_checker`, started by ``ballot serve``
  and supervised by :class:`ballot.service.serve_workers.WorkerPool`), at a lower CPU
  priority than the web workers so that receipts and tokens stay fast during a burst;
- :meth:`ballot.service.meeting.Meeting.close_voting`, which checks whatever is still
  unchecked (newest first, the checker goes oldest first) before it computes the aggregate.

Safe against ``kill -9`` of any of them at any moment, and against several of them at once:
a status is written in one transaction with a UNIQUE (election_id, position), so an entry gets
exactly one status; an entry whose checker died is simply still unchecked and is taken again.
On PostgreSQL the entry is also claimed (``FOR NO KEY UPDATE SKIP LOCKED``) for the time of its
check, so two checkers never spend the CPU on the same entry; on SQLite (one writer) the check
runs outside any transaction and a lost race costs one duplicate check, never a second status.

Every query here names one election: no transaction reads another meeting's rows, except the
list of elections that still have ballots to check (:func:`elections_to_check`).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ballot.crypto.ballots import BallotError, ballot_from_json, verify_ballot
from ballot.crypto.elgamal import Ciphertext
from ballot.crypto.encoding import EncodingError, b64encode, canonical_json, parse_json
from ballot.election.manifest import Manifest
from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.models import utcnow
from ballot.store.models import BoardCheck, BoardEntry, Election, Tally
from ballot.tally.context import ElectionContext
from ballot.tally.decryption import aggregate_accepted

__all__ = ["Progress", "progress", "statuses", "check_one", "check_election", "elections_to_check",
           "store_aggregate_if_ready", "Checker", "run_checker", "REASON_MAX"]

#: The longest reason stored (the verifier recomputes the status, not the text).
REASON_MAX = 500


@dataclass(frozen=True)
class Progress:
    """How far the background check of one election's board is."""

    received: int
    valid: int
    invalid: int

    @property
    def checked(self) -> int:
        return self.valid + self.invalid

    @property
    def unchecked(self) -> int:
        return self.received - self.checked

    def to_json(self) -> dict[str, int]:
        return {"received": self.received, "checked": self.checked, "valid": self.valid,
                "invalid": self.invalid, "unchecked": self.unchecked}


def progress(s: Session, election_id: int) -> Progress:
    received = s.scalar(select(func.count()).select_from(BoardEntry).where(
        BoardEntry.election_id == election_id))
    counts = dict(s.execute(select(BoardCheck.status, func.count()).where(
        BoardCheck.election_id == election_id).group_by(BoardCheck.status)).all())
    return Progress(received or 0, counts.get("valid", 0), counts.get("invalid", 0))


def statuses(s: Session, election_id: int) -> dict[int, tuple[str, str | None]]:
    """Board position → (status, reason) of every entry checked so far."""
    return {c.position: (c.status, c.reason) for c in s.execute(
        select(BoardCheck).where(BoardCheck.election_id == election_id)).scalars()}


def check_one(ctx: ElectionContext, ballot_json: str) -> tuple[str, str | None]:
    """("valid", None) or ("invalid", reason) for one received ballot: every check again
    (parsing, token, signature, proofs), as the verifier does."""
    try:
        ballot = ballot_from_json(parse_json(ballot_json), ctx.shape)
        verify_ballot(ballot, ctx.shape, ctx.base_hash, ctx.public_key, ctx.issuer)
    except (BallotError, EncodingError) as exc:
        return "invalid", (str(exc) or "invalid")[:REASON_MAX]
    return "valid", None


_CONTEXTS: dict[str, ElectionContext] = {}


def election_context(election: Election) -> ElectionContext:
    """The election's context, parsed once per process (frozen once voting opens)."""
    key = f"{election.id}:{election.base_hash}"
    ctx = _CONTEXTS.get(key)
    if ctx is None:
        manifest = Manifest.from_json(parse_json(election.manifest_json))
        ctx = ElectionContext.from_json(manifest, parse_json(election.context_json))
        _CONTEXTS[key] = ctx
    return ctx


def _unchecked(election_id: int):
    return (select(BoardEntry.position, BoardEntry.ballot_json)
            .outerjoin(BoardCheck, and_(BoardCheck.election_id == BoardEntry.election_id,
                                        BoardCheck.position == BoardEntry.position))
            .where(BoardEntry.election_id == election_id, BoardCheck.id.is_(None)))


def _write_status(s: Session, election_id: int, position: int, status: str,
                  reason: str | None) -> bool:
    """The entry's one status; False if another checker wrote it first (kept as it is)."""
    try:
        with s.begin_nested():
            # To the minute, as every time written while voting is open (docs/storage.md,
            # "Times"): the check follows the receipt closely, so a finer time would date it.
            s.add(BoardCheck(election_id=election_id, position=position, status=status,
                             reason=reason, checked_at=repo.minute(utcnow())))
    except IntegrityError:
        return False
    return True


def check_election(factory: sessionmaker[Session], election_id: int, *,
                   newest_first: bool = False, partition: tuple[int, int] = (0, 1),
                   limit: int | None = None, stop: threading.Event | None = None,
                   deadline: float | None = None) -> int:
    """Check unchecked entries of one election, one transaction each, until none is left
    (or ``limit`` were checked, or ``stop`` is set). ``partition`` (i, n): only positions
    ≡ i (mod n), so that n checkers share the work without meeting. ``deadline``: a
    ``time.monotonic()`` after which no new entry is started. Returns how many statuses this
    call wrote."""
    with transaction(factory, read_only=True) as s:
        election = s.get(Election, election_id)
        if election is None or not election.context_json:
            return 0
        ctx = election_context(election)
    i, n = partition
    order = BoardEntry.position.desc() if newest_first else BoardEntry.position
    query = _unchecked(election_id)
    if n > 1:
        query = query.where(BoardEntry.position % n == i)
    postgres = factory.kw["bind"].dialect.name == "postgresql"
    written = 0
    while (limit is None or written < limit) and not (stop is not None and stop.is_set()) \
            and (deadline is None or time.monotonic() < deadline):
        if postgres:
            # Claim one entry for the time of its check; a killed checker's claim ends with
            # its connection.
            with transaction(factory) as s:
                row = s.execute(query.order_by(order).limit(1).with_for_update(
                    of=BoardEntry, key_share=True, skip_locked=True)).first()
                if row is None:
                    return written
                status, reason = check_one(ctx, row.ballot_json)
                written += _write_status(s, election_id, row.position, status, reason)
        else:
            with transaction(factory, read_only=True) as s:
                row = s.execute(query.order_by(order).limit(1)).first()
            if row is None:
                return written
            status, reason = check_one(ctx, row.ballot_json)
            with transaction(factory) as s:
                written += _write_status(s, election_id, row.position, status, reason)
    return written


def elections_to_check(factory: sessionmaker[Session]) -> list[tuple[int, str]]:
    """(id, status) of the open or closed elections (the only ones that can have unchecked
    entries), oldest first."""
    with transaction(factory, read_only=True) as s:
        return [(r.id, r.status) for r in s.execute(select(Election.id, Election.status).where(
            Election.status.in_(("open", "closed"))).order_by(Election.id))]


def store_aggregate_if_ready(factory: sessionmaker[Session], election_id: int) -> bool:
    """Once a closed election's every entry has its status: the aggregate of the valid
    entries, stored once. True if the aggregate exists (now or before)."""
    with transaction(factory, read_only=True) as s:  # a cheap look first, without a lock
        status = s.scalar(select(Election.status).where(Election.id == election_id))
        if status != "closed":
            return status in ("tallied", "published")
        if s.scalar(select(Tally.id).where(Tally.election_id == election_id,
                                           Tally.kind == "aggregate").limit(1)) is not None:
            return True
        if progress(s, election_id).unchecked:
            return False
    with transaction(factory) as s:
        election = repo.lock_election(s, election_id)
        if election.status != "closed":
            return election.status in ("tallied", "published")
        if s.scalar(select(Tally.id).where(Tally.election_id == election_id,
                                           Tally.kind == "aggregate").limit(1)) is not None:
            return True
        if progress(s, election_id).unchecked:
            return False
        ctx = election_context(election)
        valid = list(s.scalars(
            select(BoardEntry.ballot_json)
            .join(BoardCheck, and_(BoardCheck.election_id == BoardEntry.election_id,
                                   BoardCheck.position == BoardEntry.position))
            .where(BoardEntry.election_id == election_id, BoardCheck.status == "valid")
            .order_by(BoardEntry.position)))
        if not valid:  # no valid electronic ballot: nothing to decrypt (an empty aggregate)
            return True
        totals: tuple[Ciphertext, ...] = aggregate_accepted(
            (parse_json(text)["units"] for text in valid), ctx.shape.num_units)
        repo.add_tally(s, election_id, "aggregate", canonical_json(
            {"units": [b64encode(c.to_bytes()) for c in totals]}).decode())
        return True


@dataclass
class Checker:
    """The background checker's loop: every open or closed election, oldest entries first;
    then the aggregate of every closed election whose entries are all checked."""

    factory: sessionmaker[Session]
    partition: tuple[int, int] = (0, 1)
    idle: float = 0.2
    stop: threading.Event = field(default_factory=threading.Event)
    on_error: Callable[[BaseException], None] | None = None

    def run_once(self) -> int:
        done = 0
        for election_id, status in elections_to_check(self.factory):
            if self.stop.is_set():
                break
            done += check_election(self.factory, election_id, partition=self.partition,
                                   stop=self.stop)
            if status == "closed":
                store_aggregate_if_ready(self.factory, election_id)
        return done

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                done = self.run_once()
            except Exception as exc:  # noqa: BLE001 - a database hiccup: log, wait, go on
                if self.on_error is not None:
                    self.on_error(exc)
                done = 0
                self.stop.wait(1.0)
            if not done:
                self.stop.wait(self.idle)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="ballot-checker", daemon=True)
        thread.start()
        return thread


def run_checker(database_url: str, *, nice: int = 10, partition: tuple[int, int] = (0, 1),
                ready: Callable[[], Any] | None = None) -> None:
    """The checker process: runs until SIGTERM (or is killed: nothing is lost)."""
    from ballot.store.db import make_engine, session_factory

    if nice and hasattr(os, "nice"):
        os.nice(nice)  # receipts and tokens first: the checks wait for idle CPU
    engine = make_engine(database_url)
    checker = Checker(session_factory(engine), partition=partition,
                      on_error=lambda exc: print(f"checker: {type(exc).__name__}: {exc}",
                                                 file=sys.stderr, flush=True))
    signal.signal(signal.SIGTERM, lambda *_: checker.stop.set())
    parent = os.getppid()

    def orphaned() -> None:  # the server that started us is gone (killed): stop too
        while not checker.stop.wait(1.0):
            if os.getppid() != parent:
                checker.stop.set()

    threading.Thread(target=orphaned, daemon=True).start()
    if ready is not None:
        ready()
    try:
        checker.run()
    finally:
        engine.dispose()


# --- the checker as its own process ---------------------------------------------------------

READY = "BALLOT-CHECKER-READY"


def main(argv: list[str] | None = None) -> int:
    """``python -m ballot.service.checker [--partition I/N] [--nice K]``: the database URL
    comes from ``$BALLOT_DATABASE_URL`` (never the command line, which other users can read
    in /proc)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ballot.service.checker",
                                     description="Check received ballots in the background.")
    parser.add_argument("--partition", default="0/1",
                        help="I/N: this checker takes positions ≡ I (mod N) (default 0/1)")
    parser.add_argument("--nice", type=int, default=10,
                        help="lower CPU priority than the web workers (default 10)")
    args = parser.parse_args(argv)
    url = os.environ.get("BALLOT_DATABASE_URL")
    if not url:
        parser.error("set BALLOT_DATABASE_URL")
    try:
        i, n = (int(x) for x in args.partition.split("/"))
        if not 0 <= i < n:
            raise ValueError
    except ValueError:
        parser.error("--partition I/N with 0 ≤ I < N")
    run_checker(url, nice=args.nice, partition=(i, n),
                ready=lambda: print(f"{READY} {os.getpid()}", flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
