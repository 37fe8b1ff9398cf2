"""The manifest: everything fixed before the meeting votes, hashed into every ballot and record."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from ballot.crypto.encoding import EncodingError, b64decode, canonical_json, sha256

from . import _fields as F
from .ballot_b import BallotB
from .errors import ManifestError
from .levels import LevelSet
from .roll import RollEntry
from .rules import RuleProfile
from .trustees import Trustees
from .units import Unit

__all__ = ["Manifest", "MANIFEST_VERSION", "MEETING_KINDS", "MANIFEST_HASH_TAG"]

MANIFEST_VERSION = "ballot/manifest/v1"
MANIFEST_HASH_TAG = "ballot/v1/manifest"
#: ``branch_members``: a branch classifies its members; ``committee_units``: a standing
#: committee classifies subordinate organisations or the cadres it manages.
MEETING_KINDS = ("branch_members", "committee_units", "custom")

_KEYS = ("version", "title", "organisation", "date", "meeting_kind", "roll", "units", "levels",
         "rules", "trustees", "issuer_public_key")
#: Present only in a second-round election (ballot B), so a first-round manifest's bytes and
#: hash are exactly those of a manifest written before second rounds existed.
_OPTIONAL_KEYS = ("ballot_b", "receipt_key")


def _check_date(value: Any) -> str:
    if isinstance(value, str):
        try:
            if datetime.date.fromisoformat(value).isoformat() == value:
                return value
        except ValueError:
            pass
    raise ManifestError(f"date: expected an ISO date YYYY-MM-DD, got {value!r}")


@dataclass(frozen=True)
class Manifest:
    title: str
    organisation: str
    date: str
    meeting_kind: str
    roll: tuple[RollEntry, ...]
    units: tuple[Unit, ...]
    levels: LevelSet
    rules: RuleProfile
    trustees: Trustees
    issuer_public_key: str = ""
    version: str = MANIFEST_VERSION
    #: a second round (ballot B): the first round, its base N and "at most K" per group
    ballot_b: BallotB | None = None
    #: b64 of the server's Ed25519 receipt key (32 bytes): bound to the election through the
    #: manifest hash, hence the fingerprint (docs/protocol.md §9). Absent in manifests written
    #: before it was bound (records of version 1), so their hashes stay the same.
    receipt_key: str | None = None

    def __post_init__(self) -> None:
        if self.version != MANIFEST_VERSION:
            raise ManifestError(f"version: expected {MANIFEST_VERSION!r}, got {self.version!r}")
        F.string(self.title, "title")
        F.string(self.organisation, "organisation")
        _check_date(self.date)
        F.choice(self.meeting_kind, "meeting_kind", MEETING_KINDS)
        for name in ("roll", "units"):
            if not isinstance(getattr(self, name), tuple):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        if not isinstance(self.levels, LevelSet):
            raise ManifestError("levels: expected a LevelSet")
        if not isinstance(self.rules, RuleProfile):
            raise ManifestError("rules: expected a RuleProfile")
        if not isinstance(self.trustees, Trustees):
            raise ManifestError("trustees: expected Trustees")
        if not isinstance(self.issuer_public_key, str):
            raise ManifestError("issuer_public_key: expected a string")
        if self.issuer_public_key:
            try:
                b64decode(self.issuer_public_key, what="issuer_public_key")
            except EncodingError as exc:
                raise ManifestError(str(exc)) from None
        if self.receipt_key is not None:
            try:
                b64decode(self.receipt_key, 32, "receipt_key")
            except (EncodingError, TypeError) as exc:
                raise ManifestError(str(exc) if isinstance(exc, EncodingError)
                                    else "receipt_key: expected a string") from None
        self._check_roll()
        check_units(self.units, self.levels)
        self.rules.check_levels(self.levels)
        if self.ballot_b is not None:
            self._check_ballot_b()

    def _check_ballot_b(self) -> None:
        b = self.ballot_b
        if not isinstance(b, BallotB):
            raise ManifestError("ballot_b: expected a BallotB")
        if len(self.levels) != 2:
            raise ManifestError(f"ballot_b: a second round has exactly two levels (agree, "
                                f"disagree), not {len(self.levels)}")
        if self.rules.quota is not None or self.rules.second_round.enabled:
            raise ManifestError("ballot_b: a second round has no quota and no further round "
                                "(rules.quota must be null, rules.second_round disabled)")
        ids = tuple(u.unit_id for u in self.units)
        if b.candidates != ids:
            raise ManifestError("ballot_b.ballots: the candidates, group after group, must be "
                                f"exactly the units in order ({', '.join(ids)})")
        for u in self.units:
            if u.collective is not None:
                raise ManifestError(f"ballot_b: candidate {u.unit_id!r} names a collective; "
                                    "a second round has no constraints between units")

    def radix(self) -> int:
        """R of the ballot encoding (docs/protocol.md §5.1): eligible voters + 1, and for a
        second round at least the largest group's size + 1, so that a group's sum a + d·R
        has one reading whatever the roll size."""
        largest = max((len(b.candidates) for b in self.ballot_b.ballots), default=0) \
            if self.ballot_b is not None else 0
        return max(len(self.eligible_voters()), largest) + 1

    def ballot_limits(self) -> tuple[tuple[tuple[int, ...], int], ...]:
        """The ballot shape's "at most K agree" groups (empty for a first-round election)."""
        return self.ballot_b.limits() if self.ballot_b is not None else ()

    def _check_roll(self) -> None:
        seen: set[str] = set()
        for i, entry in enumerate(self.roll):
            if not isinstance(entry, RollEntry):
                raise ManifestError(f"roll[{i}]: expected a RollEntry")
            if entry.roll_id in seen:
                raise ManifestError(f"roll[{i}].roll_id: {entry.roll_id!r} appears twice")
            seen.add(entry.roll_id)

    # -- figures from the roll -----------------------------------------------------------------
    def eligible_voters(self) -> tuple[RollEntry, ...]:
        """The official, not excluded members: the only ones who vote."""
        return tuple(e for e in self.roll if e.votes)

    def convened(self) -> int:
        """Official members convened (official + excluded entries of the roll)."""
        return sum(1 for e in self.roll if e.convened)

    def excluded(self) -> int:
        return sum(1 for e in self.roll if e.status == "excluded")

    def roll_base(self) -> int:
        """N = convened − excluded, the default base and the quorum's reference."""
        return self.convened() - self.excluded()

    def unit(self, unit_id: str) -> Unit:
        for u in self.units:
            if u.unit_id == unit_id:
                return u
        raise KeyError(unit_id)

    # -- JSON and hashing ----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        out = {
            "version": self.version,
            "title": self.title,
            "organisation": self.organisation,
            "date": self.date,
            "meeting_kind": self.meeting_kind,
            "roll": [e.to_json() for e in self.roll],
            "units": [u.to_json() for u in self.units],
            "levels": self.levels.to_json(),
            "rules": self.rules.to_json(),
            "trustees": self.trustees.to_json(),
            "issuer_public_key": self.issuer_public_key,
        }
        if self.ballot_b is not None:
            out["ballot_b"] = self.ballot_b.to_json()
        if self.receipt_key is not None:
            out["receipt_key"] = self.receipt_key
        return out

    @classmethod
    def from_json(cls, value: Any) -> "Manifest":
        """Strict: every key required, unknown keys rejected, every value checked."""
        d = F.obj(value, "manifest")
        F.keys(d, "", required=_KEYS, optional=_OPTIONAL_KEYS)
        roll = tuple(RollEntry.from_json(x, f"roll[{i}]")
                     for i, x in enumerate(F.items(d["roll"], "roll")))
        units = tuple(Unit.from_json(x, f"units[{i}]", manifest=True)
                      for i, x in enumerate(F.items(d["units"], "units")))
        return cls(
            title=d["title"],
            organisation=d["organisation"],
            date=d["date"],
            meeting_kind=d["meeting_kind"],
            roll=roll,
            units=units,
            levels=LevelSet.from_json(d["levels"], "levels"),
            rules=RuleProfile.from_json(d["rules"], "rules"),
            trustees=Trustees.from_json(d["trustees"], "trustees"),
            issuer_public_key=d["issuer_public_key"],
            version=d["version"],
            ballot_b=BallotB.from_json(d["ballot_b"]) if "ballot_b" in d else None,
            receipt_key=d.get("receipt_key"),
        )

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def manifest_hash(self) -> bytes:
        return sha256(MANIFEST_HASH_TAG, self.canonical_bytes())


def check_units(units: tuple[Unit, ...], levels: LevelSet) -> None:
    """Unit ids unique, level codes known, collectives existing organisations, no cycles."""
    if not units:
        raise ManifestError("units: at least one unit to classify is needed")
    by_id: dict[str, Unit] = {}
    for i, unit in enumerate(units):
        if not isinstance(unit, Unit):
            raise ManifestError(f"units[{i}]: expected a Unit")
        if unit.unit_id in by_id:
            raise ManifestError(f"units[{i}].unit_id: {unit.unit_id!r} appears twice")
        by_id[unit.unit_id] = unit
        levels.check_code(unit.self_level, f"units[{i}].self_level", none=True)
        levels.check_code(unit.proposed_level, f"units[{i}].proposed_level", none=True)
    for i, unit in enumerate(units):
        if unit.collective is None:
            continue
        parent = by_id.get(unit.collective)
        if parent is None:
            raise ManifestError(f"units[{i}].collective: no unit {unit.collective!r}")
        if parent.kind != "organisation":
            raise ManifestError(
                f"units[{i}].collective: {unit.collective!r} is a {parent.kind}, not an organisation"
            )
        seen = {unit.unit_id}
        while parent is not None:
            if parent.unit_id in seen:
                raise ManifestError(f"units[{i}].collective: a cycle through {parent.unit_id!r}")
            seen.add(parent.unit_id)
            parent = by_id.get(parent.collective) if parent.collective else None
