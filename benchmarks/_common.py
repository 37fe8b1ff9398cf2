"""Timing helpers shared by the suite: wall clock and CPU time, medians, machine facts.

Every measurement keeps both clocks. Wall time is what a user waits for; CPU time (this
process, plus its finished child processes for the multi-process steps) is what the work
costs on one core, and it hardly moves when other programs load the machine, so floor
multiples and ratios are taken on it where both sides are single-process.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"


def say(msg: str) -> None:
    """Progress, on stderr (the table goes to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _forkserver_cpu() -> float:
    """CPU seconds of multiprocessing's forkserver, if this process runs one, and of the
    workers it has reaped (pool workers are its children, not ours): from /proc/<pid>/stat,
    utime + stime + cutime + cstime. 0 without a forkserver or without /proc."""
    import multiprocessing.forkserver as fs

    pid = getattr(getattr(fs, "_forkserver", None), "_forkserver_pid", None)
    if not pid:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / _TICK
    except (OSError, ValueError, IndexError):
        return 0.0


def _system_busy() -> float | None:
    """CPU seconds all processes of the machine have used (user, nice, system, irq, softirq,
    steal), from /proc/stat; None where there is no /proc."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
        return (user + nice + system + irq + softirq + steal) / _TICK
    except (OSError, ValueError):
        return None


@dataclass
class Sample:
    wall: float
    cpu: float  # this process + children that finished + the forkserver's workers
    others: float | None = None  # cores that other programs kept busy, on average


@contextmanager
def clock(into: list[Sample] | None = None) -> Iterator[Sample]:
    """``with clock(samples) as s: ...`` appends (and fills) one Sample."""
    s = Sample(0.0, 0.0)
    b0 = _system_busy()
    w0, c0, k0, f0 = time.perf_counter(), time.process_time(), _children_cpu(), _forkserver_cpu()
    try:
        yield s
    finally:
        s.wall = time.perf_counter() - w0
        # A forkserver stopped during the sample reaches _children_cpu() with its whole life's
        # CPU time, of which f0 was spent before: subtracting f0 is right in both cases.
        s.cpu = (time.process_time() - c0) + (_children_cpu() - k0) + (_forkserver_cpu() - f0)
        b1 = _system_busy()
        if b0 is not None and b1 is not None and s.wall > 0.05:
            s.others = max(0.0, (b1 - b0 - s.cpu) / s.wall)
        if into is not None:
            into.append(s)


@dataclass
class Runs:
    """Repeated samples of one step; medians are what the report shows."""

    samples: list[Sample] = field(default_factory=list)

    def add(self, s: Sample) -> None:
        self.samples.append(s)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def others(self) -> float | None:
        values = [s.others for s in self.samples if s.others is not None]
        return statistics.median(values) if values else None

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": len(self.samples),
            "wall_s": [s.wall for s in self.samples],
            "cpu_s": [s.cpu for s in self.samples],
            "others_cores": [s.others for s in self.samples],
            "median_others_cores": self.others,
            "median_wall_s": self.wall if self.samples else None,
            "median_cpu_s": self.cpu if self.samples else None,
            "min_wall_s": min(s.wall for s in self.samples) if self.samples else None,
        }


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on Linux
        return []


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    import nacl

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pynacl": nacl.__version__,
    }


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.0f} ms" if seconds >= 0.1 else f"{seconds * 1e3:.1f} ms"
    if seconds < 100:
        return f"{seconds:.2f} s"
    return f"{seconds:.0f} s"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "—"
    if n >= 1 << 20:
        return f"{n / (1 << 20):.2f} MiB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.1f} KiB"
    return f"{n} B"
