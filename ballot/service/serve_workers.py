"""Serve the app with several worker processes: ``python -m ballot.service.serve_workers``.

``ballot serve`` runs one waitress process. Checking a ballot's proofs is CPU-bound Python
(about 0.35-0.5 s of one core for a 100-unit ballot), so a server with C cores runs about C
processes. They share nothing but the database, the ``keys/`` folder and the instance folder
(secret key): every request is one transaction (``ballot.service.meeting``), so any worker can
answer any request and a worker can be killed and restarted at any moment.

Two layouts:

- ``--ports N`` (default): worker i listens on its own port (``--port`` + i, or a free port
  each with ``--port 0``); a load balancer (nginx, HAProxy) or the benchmark spreads requests.
- ``--reuse-port``: every worker listens on the same port with ``SO_REUSEPORT`` and the Linux
  kernel spreads the connections (no balancer needed on one machine).

The schema is migrated once, by this parent, before the workers start (workers started at the
same moment against an empty database would otherwise race to create it).

From Python (tests and ``benchmarks/load.py``)::

    pool = WorkerPool(database_url, keys_dir=..., records_dir=..., instance=..., workers=3)
    pool.start()            # returns once every worker answers on its port
    pool.urls               # ['http://127.0.0.1:41234', ...]
    pool.kill_all()         # SIGKILL, as a crash would
    pool.restart_all()      # the same ports again
    pool.stop()

``--stats`` (benchmarks only) adds ``GET /_bench/stats`` to each worker: where its time went
(proof verification vs database work, per request kind) and its CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
# starts this module's own workers, fixed argv, no shell (bandit B404)
import subprocess  # nosec B404
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

__all__ = ["WorkerProcess", "WorkerPool", "serve_one", "main"]

READY = "BALLOT-WORKER-READY"


# --- one worker (runs in the child process) ---------------------------------------------------


def _listen(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        if not hasattr(socket, "SO_REUSEPORT"):
            raise SystemExit("--reuse-port needs SO_REUSEPORT (Linux, BSD)")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


class _Stats:
    """Cumulative timings of one worker process (``--stats``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.local = threading.local()
        self.data: dict[str, dict[str, float]] = {}
        self.cpu0 = time.process_time()
        self.wall0 = time.monotonic()

    def add(self, kind: str, name: str, seconds: float) -> None:
        with self.lock:
            d = self.data.setdefault(kind, {})
            d[name] = d.get(name, 0.0) + seconds

    @contextmanager
    def request(self, kind: str) -> Iterator[None]:
        self.local.kind = kind
        t0 = time.perf_counter()
        ok = False
        try:
            yield
            ok = True
        finally:
            self.add(kind, "wall", time.perf_counter() - t0)
            self.add(kind, "count" if ok else "refused", 1)
            self.local.kind = None

    def kind(self) -> str:
        return getattr(self.local, "kind", None) or "other"

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"pid": os.getpid(), "cpu": time.process_time() - self.cpu0,
                    "uptime": time.monotonic() - self.wall0,
                    "kinds": {k: dict(v) for k, v in self.data.items()}}


def _install_stats(app: Any) -> _Stats:
    """Wrap the meeting's steps with timers. Only for benchmarks: it patches module globals
    of this worker process (never done by ``ballot serve``)."""
    from flask import jsonify

    from ballot.crypto import blind_rsa
    from ballot.service import meeting as meeting_module
    from ballot.store import repo

    stats = _Stats()
    Meeting = meeting_module.Meeting

    def timed_method(name: str, kind: str) -> None:
        original = getattr(Meeting, name)

        def wrapper(self, *args, **kwargs):
            with stats.request(kind):
                return original(self, *args, **kwargs)

        setattr(Meeting, name, wrapper)

    timed_method("cast", "cast")
    timed_method("issue_token", "token")

    def timed_function(module: Any, name: str, label: str) -> None:
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                kind = stats.kind()
                stats.add(kind, label, time.perf_counter() - t0)
                stats.add(kind, label + "_cpu", time.thread_time() - c0)

        setattr(module, name, wrapper)

    from ballot.service import voting as voting_module

    # Receiving a ballot: parsing (with every point's check) and the cheap checks; the
    # proofs are checked by the checker processes (ballot.service.checker), not here.
    timed_function(voting_module, "check_envelope", "verify")
    timed_function(voting_module, "ballot_from_json", "parse")
    timed_function(blind_rsa, "blind_sign", "blind_sign")
    timed_function(repo, "append_board_entry", "db_append")
    timed_function(repo, "append_audit", "db_audit")
    timed_function(repo, "redeem_invitation", "db_redeem")
    original_transaction = meeting_module.transaction

    @contextmanager
    def transaction(factory, *, read_only: bool = False):
        t0 = time.perf_counter()
        label = "db_read_txn" if read_only else "db_write_txn"
        manager = original_transaction(factory, read_only=read_only)
        session = manager.__enter__()
        try:
            yield session
        except BaseException:
            if not manager.__exit__(*sys.exc_info()):
                raise
        else:
            t1 = time.perf_counter()
            manager.__exit__(None, None, None)
            stats.add(stats.kind(), "db_commit" if not read_only else "db_read_end",
                      time.perf_counter() - t1)
        finally:
            stats.add(stats.kind(), label, time.perf_counter() - t0)

    meeting_module.transaction = transaction
    voting_module.transaction = transaction
    app.add_url_rule("/_bench/stats", "bench_stats", lambda: jsonify(stats.snapshot()))
    return stats


def serve_one(*, host: str, port: int, threads: int, database_url: str, keys_dir: str,
              records_dir: str, instance: str, reuse_port: bool = False,
              stats: bool = False) -> None:
    """Run one worker until killed; prints ``BALLOT-WORKER-READY <port>`` once listening."""
    os.environ["BALLOT_INSTANCE"] = str(Path(instance).resolve())
    from waitress.server import create_server

    from ballot.web import create_app

    from ballot.web.serve_info import RequestLog

    app = create_app({"DATABASE_URL": database_url, "KEYS_DIR": keys_dir,
                      "RECORDS_DIR": records_dir, "MIGRATE": False})
    if stats:
        _install_stats(app)
    sock = _listen(host, port, reuse_port)
    # One line per request on stdout (no client address, no query string); the parent relays
    # them when it is `ballot serve`, and discards them otherwise.
    server = create_server(RequestLog(app), sockets=[sock], threads=threads, connection_limit=1000,
                           channel_timeout=300)
    signal.signal(signal.SIGTERM, lambda *_: (server.close(), os._exit(0)))
    print(f"{READY} {sock.getsockname()[1]}", flush=True)
    server.run()


# --- the parent: start, watch, kill and restart workers -------------------------------------


class _Supervised:
    """A child process of the pool (``self.proc``): started, watched, killed, restarted. The
    subclass gives ``launch()`` and ``wait_ready()``."""

    proc: subprocess.Popen | None

    def start(self, timeout: float = 60):
        return self.launch().wait_ready(timeout)  # type: ignore[attr-defined]

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` (default SIGKILL: no cleanup, as in a crash) and wait for the end."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not time out
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


@dataclass
class WorkerProcess(_Supervised):
    """One worker started as ``python -m ballot.service.serve_workers --child``."""

    database_url: str
    keys_dir: str
    records_dir: str
    instance: str
    host: str = "127.0.0.1"
    port: int = 0
    threads: int = 4
    reuse_port: bool = False
    stats: bool = False
    log: Path | None = None
    relay: bool = False  # copy the worker's request log to this process's stdout
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _argv(self) -> list[str]:
        # Never the database URL: a command line is readable by every user of the machine
        # (/proc/<pid>/cmdline), password included. It goes through the environment
        # (/proc/<pid>/environ is readable only by the worker's own user): see _env().
        argv = [sys.executable, "-m", "ballot.service.serve_workers", "--child",
                "--host", self.host, "--port", str(self.port), "--threads", str(self.threads),
                "--keys-dir", self.keys_dir, "--records-dir", self.records_dir,
                "--instance", self.instance]
        if self.reuse_port:
            argv.append("--reuse-port")
        if self.stats:
            argv.append("--stats")
        return argv

    def _env(self) -> dict[str, str]:
        from ballot.store.db import DATABASE_URL_ENV

        return {**os.environ, DATABASE_URL_ENV: self.database_url}

    def launch(self) -> "WorkerProcess":
        """Start the process; :meth:`wait_ready` waits until it listens."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"worker {self.proc.pid} is still running")
        stderr = open(self.log, "ab") if self.log else subprocess.DEVNULL
        try:
            # sys.executable and our own options (bandit B603)
            self.proc = subprocess.Popen(  # nosec B603
                self._argv(), stdout=subprocess.PIPE, stderr=stderr, text=True,
                start_new_session=True, env=self._env())
        finally:
            if self.log:
                stderr.close()
        return self

    def wait_ready(self, timeout: float = 60) -> "WorkerProcess":
        proc = self.proc
        if proc is None or proc.stdout is None:
            raise RuntimeError("launch() the worker before waiting for it")
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith(READY):
            self.kill()
            hint = f" (see {self.log})" if self.log else ""
            raise RuntimeError(f"worker did not start within {timeout} s{hint}: {line!r}")
        self.port = int(line[0].split()[1])
        # Keep draining stdout so the child never blocks on a full pipe (relayed, or dropped).
        threading.Thread(target=self._drain, args=(proc,), daemon=True).start()
        return self

    def _drain(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            if self.relay:
                sys.stdout.write(line)
                sys.stdout.flush()

    def restart(self, timeout: float = 60) -> "WorkerProcess":
        """Start again on the same port (phones keep their address)."""
        self.kill()
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.start(timeout)
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


@dataclass
class CheckerProcess(_Supervised):
    """The background checker (``python -m ballot.service.checker``): checks the proofs of
    received ballots and marks each board entry valid or invalid. It can be killed at any
    moment (nothing is lost, no entry gets two statuses) and is restarted like a worker."""

    database_url: str
    partition: tuple[int, int] = (0, 1)
    nice: int = 10
    log: Path | None = None
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def launch(self) -> "CheckerProcess":
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"checker {self.proc.pid} is still running")
        argv = [sys.executable, "-m", "ballot.service.checker",
                "--partition", f"{self.partition[0]}/{self.partition[1]}",
                "--nice", str(self.nice)]
        env = {**os.environ, "BALLOT_DATABASE_URL": self.database_url}
        stderr = open(self.log, "ab") if self.log else subprocess.DEVNULL
        try:
            # sys.executable and our own options (bandit B603)
            self.proc = subprocess.Popen(  # nosec B603
                argv, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
                start_new_session=True)
        finally:
            if self.log:
                stderr.close()
        return self

    def wait_ready(self, timeout: float = 60) -> "CheckerProcess":
        proc = self.proc
        if proc is None or proc.stdout is None:
            raise RuntimeError("launch() the checker before waiting for it")
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith("BALLOT-CHECKER-READY"):
            self.kill()
            raise RuntimeError(f"the checker did not start within {timeout} s: {line!r}")
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        return self


    def restart(self, timeout: float = 60) -> "CheckerProcess":
        self.kill()
        return self.start(timeout)


def supervise_checkers(checkers: Sequence[CheckerProcess], stop: threading.Event,
                       every: float = 1.0) -> threading.Thread:
    """A thread that restarts any checker that exits (a crash, ``kill -9``) until ``stop``."""

    def loop() -> None:
        while not stop.wait(every):
            for c in checkers:
                if not c.alive():
                    print(f"checker {c.pid} exited; restarting", file=sys.stderr, flush=True)
                    try:
                        c.restart()
                    except RuntimeError as exc:  # pragma: no cover - try again next round
                        print(f"checker restart failed: {exc}", file=sys.stderr, flush=True)

    thread = threading.Thread(target=loop, name="ballot-checker-supervisor", daemon=True)
    thread.start()
    return thread


class WorkerPool:
    """N workers against one database, one keys folder and one instance folder."""

    def __init__(self, database_url: str, *, keys_dir: str | os.PathLike,
                 records_dir: str | os.PathLike, instance: str | os.PathLike, workers: int = 2,
                 host: str = "127.0.0.1", port: int = 0, threads: int = 4,
                 reuse_port: bool = False, stats: bool = False,
                 log_dir: str | os.PathLike | None = None, migrate: bool = True,
                 checkers: int = 1, checker_nice: int = 10):
        if workers < 1:
            raise ValueError("at least one worker")
        if checkers < 0:
            raise ValueError("checkers: 0 or more")
        #: background checkers of the ballots' proofs (docs/protocol.md, "Received, then
        #: checked"); 0 = none (closing voting then checks everything itself)
        self.checkers = [
            CheckerProcess(database_url, (i, checkers), nice=checker_nice,
                           log=Path(log_dir) / f"checker-{i}.log" if log_dir else None)
            for i in range(checkers)]
        self.database_url = database_url
        self.migrate = migrate
        self.workers = [
            WorkerProcess(database_url, str(keys_dir), str(records_dir), str(instance),
                          host=host,
                          port=port if (reuse_port or port == 0) else port + i,
                          threads=threads, reuse_port=reuse_port, stats=stats,
                          log=Path(log_dir) / f"worker-{i}.log" if log_dir else None)
            for i in range(workers)]

    @property
    def urls(self) -> list[str]:
        return [w.url for w in self.workers]

    def start(self, timeout: float = 60) -> "WorkerPool":
        if self.migrate:
            from ballot.store.migrate import upgrade

            upgrade(self.database_url)
        first = self.workers[0]
        if first.reuse_port and first.port == 0:
            first.start(timeout)  # learn the shared port first
            for w in self.workers[1:]:
                w.port = first.port
            rest = self.workers[1:]
        else:
            rest = self.workers
        for w in rest:
            w.launch()
        for c in self.checkers:
            c.launch()
        for w in rest:
            w.wait_ready(timeout)
        for c in self.checkers:
            c.wait_ready(timeout)
        return self

    def kill_checkers(self, sig: int = signal.SIGKILL) -> None:
        for c in self.checkers:
            c.kill(sig)

    def restart_checkers(self, timeout: float = 60) -> None:
        for c in self.checkers:
            c.restart(timeout)

    def kill_all(self, sig: int = signal.SIGKILL) -> None:
        for w in self.workers:  # signal all first, then wait: they die together
            if w.alive():
                os.kill(w.proc.pid, sig)
        for w in self.workers:
            w.kill(sig)

    def restart_all(self, timeout: float = 60) -> None:
        """Kill every worker (SIGKILL) and start them again on their ports."""
        self.kill_all()
        for w in self.workers:
            w.launch()
        failed = []
        for w in self.workers:
            try:
                w.wait_ready(timeout)
            except RuntimeError:
                failed.append(w)
        for w in failed:  # e.g. the port was not free yet: try once more, alone
            w.restart(timeout)

    def stop(self) -> None:
        for w in [*self.workers, *self.checkers]:
            try:
                w.stop()
            except Exception:  # noqa: BLE001 - best effort on the way out
                w.kill()

    def __enter__(self) -> "WorkerPool":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- command line ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ballot.service.serve_workers",
        description="Serve ballot with several worker processes (one database).")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="worker processes (default: the number of cores)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000,
                        help="first port (worker i listens on port + i), or the shared port "
                             "with --reuse-port; 0 = any free port")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--reuse-port", action="store_true",
                        help="all workers on one port (SO_REUSEPORT)")
    parser.add_argument("--database-url", default=os.environ.get("BALLOT_DATABASE_URL"),
                        help="default: $BALLOT_DATABASE_URL (prefer it: a command line is "
                             "readable by every user of the machine, password included)")
    parser.add_argument("--instance", default=None,
                        help="instance folder (default: $BALLOT_INSTANCE, else ./instance)")
    parser.add_argument("--keys-dir", default=os.environ.get("BALLOT_KEYS_DIR"))
    parser.add_argument("--records-dir", default=None)
    parser.add_argument("--checkers", type=int, default=1,
                        help="background processes checking the ballots' proofs (default 1)")
    parser.add_argument("--stats", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    from ballot.store.db import resolve_database_url

    from ballot.instance import instance_folder

    instance = instance_folder(args.instance)
    url = resolve_database_url(args.database_url, instance)
    keys = args.keys_dir or str(instance / "keys")
    records = args.records_dir or str(instance / "records")
    if args.child:
        serve_one(host=args.host, port=args.port, threads=args.threads, database_url=url,
                  keys_dir=keys, records_dir=records, instance=str(instance),
                  reuse_port=args.reuse_port, stats=args.stats)
        return 0
    pool = WorkerPool(url, keys_dir=keys, records_dir=records, instance=instance,
                      workers=args.workers, host=args.host, port=args.port,
                      threads=args.threads, reuse_port=args.reuse_port, stats=args.stats,
                      checkers=args.checkers)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    from ballot.instance import describe

    print(describe(instance, url), file=sys.stderr, flush=True)
    for w in pool.workers:
        w.relay = True
    pool.start()
    print(json.dumps({"workers": [{"pid": w.pid, "url": w.url} for w in pool.workers],
                      "checkers": [{"pid": c.pid} for c in pool.checkers]}),
          flush=True)
    from ballot.web.serve_info import addresses

    for what, address in addresses(args.host, args.port):  # what people type, not the workers'
        print(f"  {what}: {address}", flush=True)
    try:
        while not stop.wait(1.0):
            for w in pool.workers:  # a crashed worker is restarted on its port
                if not w.alive():
                    print(f"worker {w.pid} exited ({w.proc.returncode}); restarting",
                          file=sys.stderr, flush=True)
                    w.restart()
            for c in pool.checkers:  # and a crashed checker, too
                if not c.alive():
                    print(f"checker {c.pid} exited; restarting", file=sys.stderr, flush=True)
                    c.restart()
    finally:
        pool.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
