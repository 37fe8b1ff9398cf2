"""A unit to classify: a member, an organisation or a leader (one row of the ballot)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from . import _fields as F
from .errors import ManifestError

__all__ = ["Unit", "UNIT_KINDS", "HEAD_ROLES", "OTHER_ROLES", "read_head"]

UNIT_KINDS = ("member", "organisation", "leader")

#: Words of a units file's role column (``vai_tro``) meaning "heads the collective" ...
HEAD_ROLES = ("head", "yes", "true", "1", "x", "có", "bí thư", "bí thư chi bộ",
              "bí thư đảng ủy", "bí thư đảng uỷ", "bí thư cấp ủy", "trưởng", "người đứng đầu",
              "đứng đầu", "thủ trưởng", "giám đốc", "chủ tịch", "chánh", "trưởng ban",
              "trưởng phòng", "hiệu trưởng", "viện trưởng", "cục trưởng", "vụ trưởng")
#: ... and words meaning "does not head it" (a deputy is not the head).
OTHER_ROLES = ("", "-", "member", "no", "false", "0", "không", "đảng viên", "thành viên",
               "phó bí thư", "phó", "cấp ủy viên", "cấp uỷ viên", "ủy viên", "uỷ viên",
               "phó trưởng", "phó giám đốc", "phó chủ tịch")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\s_\-./:()]+", " ", text).split())


_ROLE = {**{_fold(w): False for w in OTHER_ROLES}, **{_fold(w): True for w in HEAD_ROLES}}


def read_head(text: str) -> bool | None:
    """A role cell read as "heads the collective" (True), "does not" (False) or unknown
    (None); compared without case or diacritics (``Bí thư`` = ``bi thu``)."""
    return _ROLE.get(_fold(text))


_FIELDS = ("unit_id", "name", "kind", "group", "self_level", "proposed_level", "score",
           "collective", "disciplined", "outstanding")
#: Written only for a unit with a collective, so a manifest without collectives keeps the
#: bytes (and hash) it had before heads were marked (docs/protocol.md §5.1.1).
_OPTIONAL_FIELDS = ("head",)


@dataclass(frozen=True)
class Unit:
    """One row of the ballot.

    ``group``: the group of similar roles within which the excellent quota is applied (``None``:
    the meeting's single default group). ``self_level``/``proposed_level``: level codes shown on
    the ballot (checked against the level set by the manifest). ``score``: the self-assessed
    100-point score, the quota's second ranking key. ``collective``: the ``unit_id`` of the
    collective (organisation) this head, leader, member or subordinate unit belongs to, for the
    constraint flags. ``disciplined``: disciplined during the year. ``outstanding``: recognised as
    outstanding (informational; the 25% ratio is set per group in the rules' quota).
    ``head``: this unit heads its ``collective`` (bí thư, trưởng, người đứng đầu): only a head
    is bound by "a head's level may not be higher than the collective's"; the other members
    attached to a collective count only for the collective's own discipline flag. ``None``
    means "not said": a unit of a manifest written before heads were marked, which names a
    collective without a ``head`` key; it is checked as it was then (every member or leader
    attached to a collective), so a record already published recounts to the same flags.
    """

    unit_id: str
    name: str
    kind: str = "member"
    group: str | None = None
    self_level: str | None = None
    proposed_level: str | None = None
    score: int | None = None
    collective: str | None = None
    disciplined: bool = False
    outstanding: bool = False
    head: bool | None = False

    def __post_init__(self) -> None:
        F.ident(self.unit_id, "unit_id")
        F.nfc_string(self.name, "name")
        F.choice(self.kind, "kind", UNIT_KINDS)
        F.nfc_string(self.group, "group", none=True)
        F.string(self.self_level, "self_level", none=True)
        F.string(self.proposed_level, "proposed_level", none=True)
        F.integer(self.score, "score", lo=0, hi=100, none=True)
        F.ident(self.collective, "collective", none=True)
        if self.collective == self.unit_id:
            raise ManifestError(f"collective: unit {self.unit_id!r} cannot be its own collective")
        F.boolean(self.disciplined, "disciplined")
        F.boolean(self.outstanding, "outstanding")
        if self.head is not None:
            F.boolean(self.head, "head")
        elif self.collective is None:
            object.__setattr__(self, "head", False)  # nothing to head: not a head
        if self.head and self.collective is None:
            raise ManifestError(f"head: unit {self.unit_id!r} is marked as a head but names no "
                                "collective (give the collective it heads)")
        if self.head and self.kind == "organisation":
            raise ManifestError(f"head: unit {self.unit_id!r} is an organisation; only a person "
                                "(a member or a leader) heads a collective")

    @property
    def bound_by_collective(self) -> bool:
        """Whether "not above the collective" applies: a head; for a unit of a manifest written
        before heads were marked (``head`` None), any member or leader with a collective."""
        if self.collective is None:
            return False
        return self.head if self.head is not None else self.kind != "organisation"

    def to_json(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in _FIELDS}
        # Written for every unit that names a collective (true or false), never otherwise: a
        # manifest without collectives keeps its bytes, and an older one (no key) its reading.
        if self.collective is not None and self.head is not None:
            out["head"] = self.head
        return out

    @classmethod
    def from_json(cls, value: Any, where: str = "unit", *, manifest: bool = False) -> "Unit":
        """``manifest``: read as a manifest's unit, where a collective without a ``head`` key
        means a manifest written before heads were marked (``head`` None); elsewhere (a counts
        file) a missing ``head`` is false."""
        d = F.obj(value, where)
        F.keys(d, where, required=("unit_id", "name"), optional=_FIELDS[2:] + _OPTIONAL_FIELDS)
        with F.context(where):
            if manifest and "head" not in d and d.get("collective") is not None:
                d = {**d, "head": None}  # written before heads were marked
            elif d.get("head", False) is None:
                raise ManifestError("head: expected true or false, got null")
            return cls(**d)
