"""Classification levels and an ordered level set (highest first)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from . import _fields as F
from .errors import ManifestError

__all__ = ["Level", "LevelSet", "RESERVED_CODES"]

_CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")

#: Words that name other columns of a counts table, so they cannot be level codes.
RESERVED_CODES = frozenset({"unit_id", "name", "abstain", "blank", "group", "score", "votes"})


@dataclass(frozen=True)
class Level:
    """One level: ``code`` (``"HTXSNV"``), Vietnamese and English names, a short column label."""

    code: str
    name_vi: str
    name_en: str
    short: str

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not _CODE_RE.match(self.code):
            raise ManifestError(
                f"code: expected a letter then letters, digits or '_' (at most 16), got {self.code!r}"
            )
        if self.code.lower() in RESERVED_CODES:
            raise ManifestError(f"code: {self.code!r} is reserved for a counts column")
        F.nfc_string(self.name_vi, "name_vi")
        F.nfc_string(self.name_en, "name_en")
        F.nfc_string(self.short, "short")

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name_vi": self.name_vi, "name_en": self.name_en,
                "short": self.short}

    @classmethod
    def from_json(cls, value: Any, where: str = "level") -> "Level":
        d = F.obj(value, where)
        F.keys(d, where, required=("code", "name_vi", "name_en"), optional=("short",))
        with F.context(where):
            return cls(d["code"], d["name_vi"], d["name_en"], d.get("short", d["code"]))


@dataclass(frozen=True)
class LevelSet:
    """Levels ordered from the highest (index 0) to the lowest; codes unique; at least two."""

    levels: tuple[Level, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.levels, tuple):
            object.__setattr__(self, "levels", tuple(self.levels))
        if len(self.levels) < 2:
            raise ManifestError(f"levels: at least 2 levels are needed, got {len(self.levels)}")
        seen: set[str] = set()
        for i, level in enumerate(self.levels):
            if not isinstance(level, Level):
                raise ManifestError(f"levels[{i}]: expected a Level, got {type(level).__name__}")
            if level.code.lower() in seen:
                raise ManifestError(f"levels[{i}].code: {level.code!r} appears twice")
            seen.add(level.code.lower())

    # -- queries -------------------------------------------------------------------------------
    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(level.code for level in self.levels)

    @property
    def top(self) -> Level:
        return self.levels[0]

    @property
    def lowest(self) -> Level:
        return self.levels[-1]

    def __len__(self) -> int:
        return len(self.levels)

    def __iter__(self) -> Iterator[Level]:
        return iter(self.levels)

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __getitem__(self, code: str) -> Level:
        for level in self.levels:
            if level.code == code:
                return level
        raise KeyError(code)

    def rank(self, code: str) -> int:
        """0 for the highest level; a larger rank is a lower level."""
        try:
            return self.codes.index(code)
        except ValueError:
            raise KeyError(code) from None

    def check_code(self, code: Any, name: str, *, none: bool = False) -> str | None:
        """Raise a :class:`ManifestError` naming ``name`` unless ``code`` is one of the levels."""
        if code is None and none:
            return None
        if code not in self.codes:
            raise ManifestError(f"{name}: {code!r} is not a level (levels: {', '.join(self.codes)})")
        return code

    # -- JSON ----------------------------------------------------------------------------------
    def to_json(self) -> list[dict[str, Any]]:
        return [level.to_json() for level in self.levels]

    @classmethod
    def from_json(cls, value: Any, where: str = "levels") -> "LevelSet":
        raw = F.items(value, where)
        return cls(tuple(Level.from_json(item, f"{where}[{i}]") for i, item in enumerate(raw)))
