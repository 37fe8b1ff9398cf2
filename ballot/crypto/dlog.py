"""Discrete logarithms of small exponents: g^m -> m for 0 <= m <= bound.

A table built once answers any m up to its size by a dictionary look-up; beyond it,
baby-step giant-step over the same table covers up to size² (docs/protocol.md, "Counts").
"""

from __future__ import annotations

from functools import lru_cache

from .group import GENERATOR, IDENTITY, Point

__all__ = ["DlogTable", "discrete_log", "DlogError"]


class DlogError(ValueError):
    """The point is not g^m for any m in the searched range."""


class DlogTable:
    """Baby steps g^0 .. g^(size-1), built once; giant steps of g^size."""

    def __init__(self, size: int):
        if size < 1:
            raise ValueError("table size must be positive")
        self.size = size
        table: dict[bytes, int] = {}
        p = IDENTITY
        for i in range(size):
            table[p.data] = i
            p = p + GENERATOR
        self._table = table
        self._giant = -p  # g^(-size)

    def log(self, point: Point, bound: int) -> int:
        """The m in [0, bound] with g^m = point."""
        if bound >= self.size * self.size:
            raise ValueError(f"bound {bound} exceeds what a table of {self.size} covers")
        q = point
        for j in range(bound // self.size + 1):
            i = self._table.get(q.data)
            if i is not None:
                m = j * self.size + i
                if m <= bound:
                    return m
                break
            q = q + self._giant
        raise DlogError(f"no exponent in [0, {bound}] gives this point")


@lru_cache(maxsize=4)
def _table(size: int) -> DlogTable:
    return DlogTable(size)


def discrete_log(point: Point, bound: int) -> int:
    """m in [0, bound] with g^m = point, using a cached table of about sqrt(bound) entries
    (at least 1024, so counts of a meeting are single look-ups)."""
    size = 1024
    while size * size <= bound:
        size *= 2
    return _table(size).log(point, bound)
