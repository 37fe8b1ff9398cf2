"""Constraints between units (domain.md), raised as flags for the deciding body.

Flags never change a count or a result. Codes:

- ``head_above_collective``: the head of a collective (``Unit.head``: bí thư, trưởng, người đứng
  đầu) rated higher than the collective they head. Only the head is bound; the other members
  attached to a collective are not (a unit of a manifest written before heads were marked,
  ``head`` None, is checked as it was then: any member or leader with a collective);
- ``disciplined_above_lowest``: a unit disciplined during the year rated above the lowest level
  ("not completed", with discretion since 2025);
- ``collective_top_with_disciplined``: a collective rated at the top level while a unit that
  belongs to it (a subordinate unit or a member of its leadership) was disciplined.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from .levels import LevelSet
from .results import Flag
from .rules import Constraints
from .text import Text
from .units import Unit

__all__ = ["constraint_flags", "FLAG_CODES"]

FLAG_CODES = ("head_above_collective", "disciplined_above_lowest", "collective_top_with_disciplined")


def constraint_flags(
    levels: LevelSet,
    constraints: Constraints,
    units: Sequence[Unit],
    final: Mapping[str, str | None],
) -> dict[str, tuple[Flag, ...]]:
    """The flags of each unit, given each unit's final level (``None``: undecided, no flag)."""
    flags: dict[str, list[Flag]] = {u.unit_id: [] for u in units}
    members: dict[str, list[Unit]] = {}
    for u in units:
        if u.collective is not None:
            members.setdefault(u.collective, []).append(u)

    for u in units:
        mine = final.get(u.unit_id)
        if mine is None:
            continue
        if constraints.head_not_above_collective and u.bound_by_collective:
            theirs = final.get(u.collective)
            if theirs is not None and levels.rank(mine) < levels.rank(theirs):
                flags[u.unit_id].append(Flag("head_above_collective", u.unit_id, (u.collective,), Text(
                    f"Xếp {mine}, cao hơn tập thể {u.collective} ({theirs})",
                    f"rated {mine}, above the collective {u.collective} ({theirs})",
                )))
        if constraints.disciplined_not_completed and u.disciplined and mine != levels.lowest.code:
            flags[u.unit_id].append(Flag("disciplined_above_lowest", u.unit_id, (), Text(
                f"Bị kỷ luật trong năm nhưng xếp {mine} (quy định: {levels.lowest.code})",
                f"disciplined during the year but rated {mine} (rule: {levels.lowest.code})",
            )))
        if constraints.collective_top_needs_clean_record and mine == levels.top.code:
            bad = tuple(m.unit_id for m in members.get(u.unit_id, []) if m.disciplined)
            if bad:
                flags[u.unit_id].append(Flag("collective_top_with_disciplined", u.unit_id, bad, Text(
                    f"Tập thể xếp {mine} nhưng có {', '.join(bad)} bị kỷ luật trong năm",
                    f"collective rated {mine} though {', '.join(bad)} was disciplined during the year",
                )))
    return {uid: tuple(fs) for uid, fs in flags.items()}
