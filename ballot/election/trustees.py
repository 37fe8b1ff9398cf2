"""The trustees (the vote-counting committee): k of n must take part to decrypt the tally."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import _fields as F
from .errors import ManifestError

__all__ = ["Trustees"]


@dataclass(frozen=True)
class Trustees:
    members: tuple[str, ...]
    threshold: int

    def __post_init__(self) -> None:
        if not isinstance(self.members, tuple):
            object.__setattr__(self, "members", tuple(self.members))
        if not self.members:
            raise ManifestError("members: at least one trustee is needed")
        seen = set()
        for i, m in enumerate(self.members):
            F.string(m, f"members[{i}]")
            if m in seen:
                raise ManifestError(f"members[{i}]: {m!r} appears twice")
            seen.add(m)
        F.integer(self.threshold, "threshold", lo=1, hi=len(self.members))

    @property
    def n(self) -> int:
        return len(self.members)

    def to_json(self) -> dict[str, Any]:
        return {"members": list(self.members), "threshold": self.threshold}

    @classmethod
    def from_json(cls, value: Any, where: str = "trustees") -> "Trustees":
        d = F.obj(value, where)
        F.keys(d, where, required=("members", "threshold"))
        with F.context(where):
            return cls(tuple(F.items(d["members"], "members")), d["threshold"])
