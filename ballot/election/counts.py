"""The counting input: votes per unit, and the figures of the meeting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from . import _fields as F
from .errors import CountError, ManifestError

__all__ = ["UnitCounts", "MeetingFigures"]


@dataclass(frozen=True)
class UnitCounts:
    """The marks in one unit's row over all valid ballots.

    ``votes``: level code → number of ballots marking that level (a mapping is accepted and
    stored as sorted pairs); ``abstain``: explicit abstentions; ``blank``: rows left empty or
    marked twice (they count for no level; the rest of the ballot stays valid).
    """

    votes: tuple[tuple[str, int], ...]
    abstain: int = 0
    blank: int = 0

    def __post_init__(self) -> None:
        votes = self.votes
        if isinstance(votes, Mapping):
            votes = tuple(votes.items())
        pairs = tuple(sorted((tuple(p) for p in votes), key=lambda p: p[0]))
        seen = set()
        for code, n in pairs:
            if not isinstance(code, str):
                raise CountError(f"votes: level code {code!r} is not a string")
            if code in seen:
                raise CountError(f"votes.{code}: appears twice")
            seen.add(code)
            _count(n, f"votes.{code}")
        object.__setattr__(self, "votes", pairs)
        _count(self.abstain, "abstain")
        _count(self.blank, "blank")

    def vote(self, code: str) -> int:
        return dict(self.votes).get(code, 0)

    @property
    def marked(self) -> int:
        """Rows marked for a level."""
        return sum(n for _, n in self.votes)

    @property
    def rows(self) -> int:
        """Every valid ballot has exactly one entry in this row: a level, abstain or blank."""
        return self.marked + self.abstain + self.blank

    def to_json(self) -> dict[str, Any]:
        return {"votes": dict(self.votes), "abstain": self.abstain, "blank": self.blank}


@dataclass(frozen=True)
class MeetingFigures:
    """The figures of the minutes.

    ``convened``: official members convened (on the roll, not probationary); ``excluded``: those
    taken out of the base (transferred out temporarily, exempted and absent, suspended, absent
    with an approved reason); ``present``: members present and entitled to vote;
    ``ballots_issued`` (optional), ``ballots_valid``, ``ballots_invalid``.
    """

    convened: int
    excluded: int
    present: int
    ballots_valid: int
    ballots_invalid: int = 0
    ballots_issued: int | None = None

    def __post_init__(self) -> None:
        try:
            F.integer(self.convened, "convened", lo=1)
            F.integer(self.excluded, "excluded", lo=0, hi=self.convened - 1)
            F.integer(self.present, "present", lo=0)
            F.integer(self.ballots_valid, "ballots_valid", lo=0)
            F.integer(self.ballots_invalid, "ballots_invalid", lo=0)
            F.integer(self.ballots_issued, "ballots_issued", lo=0, none=True)
        except ManifestError as exc:
            raise CountError(str(exc)) from None
        if self.present > self.roll_base:
            raise CountError(
                f"present: {self.present} exceeds convened − excluded = {self.roll_base} "
                "(count only members entitled to vote)"
            )
        issued = self.ballots_issued if self.ballots_issued is not None else self.present
        what = "ballots_issued" if self.ballots_issued is not None else "present"
        if self.ballots_issued is not None and self.ballots_issued > self.present:
            raise CountError(
                f"ballots_issued: {self.ballots_issued} exceeds present = {self.present}"
            )
        if self.returned > issued:
            raise CountError(
                f"ballots_valid: valid + invalid = {self.returned} exceeds {what} = {issued}"
            )

    @property
    def roll_base(self) -> int:
        """convened − excluded: the default base N and the quorum's reference."""
        return self.convened - self.excluded

    @property
    def returned(self) -> int:
        return self.ballots_valid + self.ballots_invalid

    @property
    def absent(self) -> int:
        """convened − present (including the excluded members)."""
        return self.convened - self.present

    def base(self, kind: str) -> int:
        if kind == "convened_minus_excluded":
            return self.roll_base
        if kind == "present":
            return self.present
        if kind == "valid_ballots":
            return self.ballots_valid
        raise CountError(f"base: unknown base {kind!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "convened": self.convened,
            "excluded": self.excluded,
            "present": self.present,
            "ballots_issued": self.ballots_issued,
            "ballots_valid": self.ballots_valid,
            "ballots_invalid": self.ballots_invalid,
        }


def _count(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CountError(f"{name}: expected a count (an integer ≥ 0), got {value!r}")
