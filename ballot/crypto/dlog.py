"""Discrete logarithms of small exponents: g^m -> m for 0 <= m <= bound.

A table built once answers any m up to its size by a dictionary look-up; beyond it,
baby-step giant-step over the same table covers up to size² (docs/protocol.md, "Counts").
A table can be built in slices (:func:`baby_steps`) and handed over as bytes, so that several
processes share the work of building it; every answer is checked against g^m anyway.
"""

from __future__ import annotations

from .group import GENERATOR, Point, base_mul

__all__ = ["DlogTable", "baby_steps", "cached_table", "remember_table", "discrete_log", "table_size",
           "DlogError"]


class DlogError(ValueError):
    """The point is not g^m for any m in the searched range."""


def baby_steps(start: int, stop: int) -> bytes:
    """The encodings of g^start, ..., g^(stop-1), concatenated (32 bytes each)."""
    if not 0 <= start <= stop:
        raise ValueError("baby steps: need 0 <= start <= stop")
    out = bytearray()
    p = base_mul(start)
    for _ in range(start, stop):
        out += p.data
        p = p + GENERATOR
    return bytes(out)


class DlogTable:
    """Baby steps g^0 .. g^(size-1), built once; giant steps of g^size."""

    def __init__(self, size: int, entries: bytes | None = None):
        if size < 1:
            raise ValueError("table size must be positive")
        if entries is None:
            entries = baby_steps(0, size)
        if len(entries) != 32 * size:
            raise ValueError(f"a table of {size} entries has {32 * size} bytes, not {len(entries)}")
        self.size = size
        self.entries = entries
        self._table = {entries[i : i + 32]: i // 32 for i in range(0, len(entries), 32)}
        self._giant = -base_mul(size)  # g^(-size)

    def log(self, point: Point, bound: int) -> int:
        """The m in [0, bound] with g^m = point."""
        if bound >= self.size * self.size:
            raise ValueError(f"bound {bound} exceeds what a table of {self.size} covers")
        q = point
        for j in range(bound // self.size + 1):
            i = self._table.get(q.data)
            if i is not None:
                m = j * self.size + i
                if m <= bound and base_mul(m) == point:
                    return m
                break
            q = q + self._giant
        raise DlogError(f"no exponent in [0, {bound}] gives this point")


def table_size(bound: int) -> int:
    """The table for exponents up to ``bound``: a power of two, at least 1024 (so that the
    counts of a meeting are single look-ups), whose square exceeds ``bound``."""
    size = 1024
    while size * size <= bound:
        size *= 2
    return size


_TABLES: dict[int, DlogTable] = {}


def cached_table(size: int, *, build: bool = True) -> DlogTable | None:
    """The table of ``size`` entries, built once per process (``None`` if not yet built and
    ``build`` is false)."""
    table = _TABLES.get(size)
    if table is None and build:
        table = remember_table(DlogTable(size))
    return table


def remember_table(table: DlogTable) -> DlogTable:
    """Keep a table (built elsewhere, in slices) for this process's later look-ups."""
    if len(_TABLES) >= 4:
        _TABLES.pop(next(iter(_TABLES)))
    _TABLES[table.size] = table
    return table


def discrete_log(point: Point, bound: int) -> int:
    """m in [0, bound] with g^m = point, using the cached table for ``bound``."""
    return cached_table(table_size(bound)).log(point, bound)  # type: ignore[union-attr]
