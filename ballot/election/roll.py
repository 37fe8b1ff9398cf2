"""The roll: the Party members of the meeting, and who may vote."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import _fields as F
from .errors import ManifestError

__all__ = ["RollEntry", "ROLL_STATUSES"]

#: ``official``: an official member who votes; ``probationary``: never votes (Party Charter);
#: ``excluded``: an official member taken out of the base N (transferred out temporarily,
#: exempted and absent, suspended, absent with an approved reason) — does not vote.
ROLL_STATUSES = ("official", "probationary", "excluded")


@dataclass(frozen=True)
class RollEntry:
    roll_id: str
    name: str
    status: str = "official"
    reason: str | None = None

    def __post_init__(self) -> None:
        F.ident(self.roll_id, "roll_id")
        F.nfc_string(self.name, "name")
        F.choice(self.status, "status", ROLL_STATUSES)
        F.string(self.reason, "reason", none=True)
        if self.status == "excluded" and self.reason is None:
            raise ManifestError("reason: an excluded member needs the reason for the exclusion")

    @property
    def votes(self) -> bool:
        """Only official, not excluded members vote; probationary members never do."""
        return self.status == "official"

    @property
    def convened(self) -> bool:
        """Counted among the official members convened (the first term of N)."""
        return self.status in ("official", "excluded")

    def to_json(self) -> dict[str, Any]:
        return {"roll_id": self.roll_id, "name": self.name, "status": self.status,
                "reason": self.reason}

    @classmethod
    def from_json(cls, value: Any, where: str = "roll_entry") -> "RollEntry":
        d = F.obj(value, where)
        F.keys(d, where, required=("roll_id", "name"), optional=("status", "reason"))
        with F.context(where):
            return cls(d["roll_id"], d["name"], d.get("status", "official"), d.get("reason"))
