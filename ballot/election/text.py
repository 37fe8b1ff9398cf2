"""Bilingual explanations (Vietnamese first) and exact percentage formatting."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Text", "percent"]


@dataclass(frozen=True)
class Text:
    """One explanation in Vietnamese and in English."""

    vi: str
    en: str

    def __str__(self) -> str:
        return f"{self.vi} / {self.en}"

    def to_json(self) -> dict[str, str]:
        return {"vi": self.vi, "en": self.en}


def percent(value: Fraction | None, places: int = 1) -> str:
    """``Fraction(2, 3)`` → ``"66.7%"``, rounded half up with integers only; ``None`` → ``"—"``."""
    if value is None:
        return "—"
    scale = 10**places
    scaled = value * 100 * scale
    q, r = divmod(scaled.numerator, scaled.denominator)
    if 2 * r >= scaled.denominator:
        q += 1
    whole, frac = divmod(q, scale)
    return f"{whole}.{frac:0{places}d}%" if places else f"{whole}%"
