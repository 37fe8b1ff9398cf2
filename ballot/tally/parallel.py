"""Spreading the tally's per-unit work over the machine's cores.

Each unit's aggregate, discrete logarithm and so on is independent of the others, so the units
are cut into one contiguous slice per worker process. Workers come from multiprocessing's
forkserver, never a plain ``fork`` of the caller (the web server has threads). The forkserver
is started once per process, with the main module and the tally's modules already imported,
so that each worker is a cheap fork of it; workers live for one call. Small tallies (tests, a
5-member branch) stay in the calling process, where the answer is the same.

Only public data crosses the process boundary: ciphertexts, decrypted points, table entries.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Sequence, TypeVar

__all__ = ["worker_count", "slices", "mp_context", "Workers"]

T = TypeVar("T")


def worker_count(requested: int | None, items: int, *, min_per_worker: int) -> int:
    """How many processes to use for ``items`` units of work: ``requested`` (default: the
    number of cores), but never so many that a worker gets less than ``min_per_worker``."""
    cores = requested if requested is not None else (os.cpu_count() or 1)
    if cores < 1:
        raise ValueError("workers must be at least 1")
    return max(1, min(cores, items // max(min_per_worker, 1)))


def slices(n: int, parts: int) -> list[range]:
    """``range(n)`` cut into ``parts`` contiguous, nearly equal, non-empty slices."""
    parts = max(1, min(parts, n))
    size, extra = divmod(n, parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + size + (1 if i < extra else 0)
        out.append(range(start, stop))
        start = stop
    return out


#: Imported once by the forkserver, so that its forked workers need not import them again.
PRELOAD = ["__main__", "ballot.tally.decryption", "ballot.tally.verify"]


def mp_context() -> multiprocessing.context.BaseContext:
    """The forkserver (spawn where there is none), with :data:`PRELOAD`."""
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


class Workers:
    """``with Workers(n) as w: w.map(fn, jobs)``: worker processes when n > 1, else this one."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "Workers":
        if self.workers > 1:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp_context())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def map(self, fn: Callable[[Any], T], jobs: Sequence[Any]) -> list[T]:
        if self._pool is None or len(jobs) <= 1:
            return [fn(job) for job in jobs]
        return list(self._pool.map(fn, jobs))
