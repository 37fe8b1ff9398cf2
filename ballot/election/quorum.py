"""The quorum: at least a fraction (default 2/3) of N = convened − excluded present."""

from __future__ import annotations

from fractions import Fraction

from ._fields import format_fraction
from .counts import MeetingFigures
from .results import QuorumResult
from .text import Text

__all__ = ["check_quorum"]


def check_quorum(required: Fraction, figures: MeetingFigures) -> QuorumResult:
    """``present ≥ required × (convened − excluded)``, exactly; the reference is the roll base
    whatever base the thresholds use (with base "present" the check would be empty)."""
    ref, present = figures.roll_base, figures.present
    met = present * required.denominator >= required.numerator * ref
    r = format_fraction(required)
    if met:
        text = Text(f"Đủ số lượng: có mặt {present} ≥ {r} × {ref}",
                    f"Quorum met: {present} present ≥ {r} × {ref}")
    else:
        text = Text(f"Không đủ số lượng: có mặt {present} < {r} × {ref}",
                    f"Quorum not met: {present} present < {r} × {ref}")
    return QuorumResult(required, present, ref, met, text)
