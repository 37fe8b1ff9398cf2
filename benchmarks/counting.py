"""Counting at scale: ``check_counts`` and a whole ``count`` for 1,000 … 20,000 units.

    python benchmarks/counting.py            # 1,000, 5,000 and 20,000 units
    python benchmarks/counting.py 20000      # one size

Prints, per size, the wall and CPU time of ``check_counts`` (the validation that was
quadratic: 20,000 units took 7.8 s, issue 14) and of the whole count (levels, quota, flags),
and the time per unit, which stays flat when the work is linear. No test asserts on these
times (DEVELOPERS.md); tests/election/test_counting_rules_entrances.py counts comparisons
instead.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ballot.election.counting import check_counts, count  # noqa: E402
from ballot.election.counts import MeetingFigures, UnitCounts  # noqa: E402
from ballot.election.presets import branch_qd366  # noqa: E402
from ballot.election.units import Unit  # noqa: E402


def meeting(n: int):
    levels, rules = branch_qd366()
    units = [Unit(f"u{i}", f"Đảng viên {i}", group=f"g{i % 20}", score=50 + i % 50)
             for i in range(n)]
    counts = {u.unit_id: UnitCounts({"HTXSNV": 9 if i % 7 == 0 else 1, "HTTNV": 0 if i % 7 == 0 else 8},
                                    1, 0) for i, u in enumerate(units)}
    return levels, rules, units, counts, MeetingFigures(12, 0, 10, 10)


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(sizes: list[int]) -> None:
    print(f"{'units':>7} │ {'check_counts wall':>17} {'cpu':>8} {'µs/unit':>8} │ "
          f"{'count wall':>10} {'cpu':>8} {'µs/unit':>8}")
    for n in sizes:
        levels, rules, units, counts, fig = meeting(n)
        cw, cc = timed(lambda: check_counts(levels, rules, units, counts, fig))
        tw, tc = timed(lambda: count(levels, rules, units, counts, fig))
        print(f"{n:>7} │ {cw:>15.3f} s {cc:>6.3f} s {1e6 * cw / n:>8.1f} │ "
              f"{tw:>8.3f} s {tc:>6.3f} s {1e6 * tw / n:>8.1f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 5000, 20000])
