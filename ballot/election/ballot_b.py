"""Ballot B: the manifest field of a second-round election (docs/counting.md, "Second round").

A second round is a new election linked to a finalized first round: its units are the
first round's excellent candidates, its two levels are "agree" (level 0) and "disagree"
(level 1), and each group of candidates carries "vote for at most K". The field names the
first round (slug, manifest hash, SHA-256 of its record file), the first round's base N (a
candidate is selected with more than 1/2 of N agree) and the groups in ballot order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import _fields as F
from .errors import ManifestError
from .results import SecondRoundBallot

__all__ = ["BallotB", "FirstRound"]

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _hex64(value: Any, name: str) -> str:
    if not isinstance(value, str) or not _HEX64.match(value):
        raise ManifestError(f"{name}: expected 64 lowercase hex digits, got {value!r}")
    return value


@dataclass(frozen=True)
class FirstRound:
    """The finalized election this round follows: its slug, manifest hash and record hash."""

    slug: str
    manifest_hash: str
    record_sha256: str

    def __post_init__(self) -> None:
        if not isinstance(self.slug, str) or not _SLUG.match(self.slug):
            raise ManifestError(f"slug: expected a meeting short name (a-z, 0-9, '-'), got {self.slug!r}")
        _hex64(self.manifest_hash, "manifest_hash")
        _hex64(self.record_sha256, "record_sha256")

    def to_json(self) -> dict[str, Any]:
        return {"slug": self.slug, "manifest_hash": self.manifest_hash,
                "record_sha256": self.record_sha256}

    @classmethod
    def from_json(cls, value: Any, where: str) -> "FirstRound":
        d = F.obj(value, where)
        F.keys(d, where, required=("slug", "manifest_hash", "record_sha256"))
        with F.context(where):
            return cls(d["slug"], d["manifest_hash"], d["record_sha256"])


@dataclass(frozen=True)
class BallotB:
    """``ballots``: one :class:`SecondRoundBallot` per group, in ballot order; their candidates,
    concatenated, are exactly the manifest's units in order. ``base``: the first round's N."""

    first_round: FirstRound
    base: int
    ballots: tuple[SecondRoundBallot, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.first_round, FirstRound):
            raise ManifestError("first_round: expected a FirstRound")
        F.integer(self.base, "base", lo=0)
        if not isinstance(self.ballots, tuple):
            object.__setattr__(self, "ballots", tuple(self.ballots))
        if not self.ballots:
            raise ManifestError("ballots: at least one group of candidates")
        seen_groups: set[str | None] = set()
        seen: set[str] = set()
        for j, b in enumerate(self.ballots):
            where = f"ballots[{j}]"
            if not isinstance(b, SecondRoundBallot):
                raise ManifestError(f"{where}: expected a SecondRoundBallot")
            with F.context(where):
                F.string(b.group, "group", none=True)
                if not isinstance(b.candidates, tuple) or not b.candidates:
                    raise ManifestError("candidates: at least one candidate")
                for i, c in enumerate(b.candidates):
                    F.ident(c, f"candidates[{i}]")
                    if c in seen:
                        raise ManifestError(f"candidates[{i}]: {c!r} appears twice")
                    seen.add(c)
                F.integer(b.k, "k", lo=1)
            if b.group in seen_groups:
                raise ManifestError(f"{where}.group: {b.group!r} appears twice")
            seen_groups.add(b.group)

    @property
    def candidates(self) -> tuple[str, ...]:
        return tuple(c for b in self.ballots for c in b.candidates)

    def limits(self) -> tuple[tuple[tuple[int, ...], int], ...]:
        """Per group, the 0-based unit indices (units are the candidates in order) and K."""
        out, start = [], 0
        for b in self.ballots:
            out.append((tuple(range(start, start + len(b.candidates))), b.k))
            start += len(b.candidates)
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        return {"first_round": self.first_round.to_json(), "base": self.base,
                "ballots": [b.to_json() for b in self.ballots]}

    @classmethod
    def from_json(cls, value: Any, where: str = "ballot_b") -> "BallotB":
        d = F.obj(value, where)
        F.keys(d, where, required=("first_round", "base", "ballots"))
        first = FirstRound.from_json(d["first_round"], F.join(where, "first_round"))
        ballots = []
        for j, item in enumerate(F.items(d["ballots"], F.join(where, "ballots"))):
            bw = f"{where}.ballots[{j}]"
            b = F.obj(item, bw)
            F.keys(b, bw, required=("group", "candidates", "k"))
            cands = F.items(b["candidates"], f"{bw}.candidates")
            ballots.append(SecondRoundBallot(b["group"], tuple(cands), b["k"]))
        with F.context(where):
            return cls(first, d["base"], tuple(ballots))
