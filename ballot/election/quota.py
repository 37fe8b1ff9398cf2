"""The excellent quota per group of similar roles (QĐ 366 Điều 11), with exact arithmetic.

Within a group: the candidates are the units whose votes gave the top level; n is the number of
units at the ``against`` level or better; X_max = ⌊r·n/(1+r)⌋. Surplus candidates are ranked by
top-level votes, then by score (only when every unit in the tied block has a score); those below
the cut drop to the level below the top ("cut_by_quota"); units tied across the cut are left to
the deciding body ("quota_tie") — never broken by chance. With a second round configured, an
over-full group's candidates go to the second round instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from .levels import LevelSet
from .results import QuotaGroup, SecondRoundBallot
from .rules import QuotaRule, RuleProfile
from .text import Text
from .units import Unit

__all__ = ["Change", "apply_quota", "split_at_cut"]


@dataclass(frozen=True)
class Change:
    """A unit's result after the quota: its new level and outcome, and why."""

    level: str | None
    outcome: str
    rule: Text


def split_at_cut(
    ranked_keys: Sequence[tuple[str, tuple[int, ...]]], places: int
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Split ``(id, key)`` pairs, best first (keys non-increasing), into kept, tied and cut for
    ``places`` places: the block of equal keys straddling the cut is tied."""
    kept: list[str] = []
    tied: list[str] = []
    cut: list[str] = []
    i = 0
    while i < len(ranked_keys):
        j = i
        while j < len(ranked_keys) and ranked_keys[j][1] == ranked_keys[i][1]:
            j += 1
        block = [uid for uid, _ in ranked_keys[i:j]]
        if len(kept) + len(tied) + len(cut) >= places or tied:
            cut += block
        elif len(kept) + len(block) <= places:
            kept += block
        else:
            tied += block
        i = j
    return tuple(kept), tuple(tied), tuple(cut)


def _ranked(cands: list[Unit], votes: Callable[[str], int]) -> list[tuple[str, tuple[int, ...]]]:
    """Rank by top-level votes; inside a block of equal votes, by score if every unit in the
    block has one (otherwise the block stays equal)."""
    by_votes: dict[int, list[Unit]] = {}
    for u in cands:
        by_votes.setdefault(votes(u.unit_id), []).append(u)
    out: list[tuple[str, tuple[int, ...]]] = []
    for v in sorted(by_votes, reverse=True):
        block = by_votes[v]
        if all(u.score is not None for u in block):
            block = sorted(block, key=lambda u: -u.score)  # type: ignore[operator]
            out += [(u.unit_id, (v, u.score)) for u in block]  # type: ignore[misc]
        else:
            out += [(u.unit_id, (v,)) for u in block]
    return out


def apply_quota(
    levels: LevelSet,
    rules: RuleProfile,
    units: Sequence[Unit],
    voted: Mapping[str, str | None],
    top_votes: Callable[[str], int],
) -> tuple[tuple[QuotaGroup, ...], tuple[SecondRoundBallot, ...], dict[str, Change]]:
    """Apply the quota (and route to the second round) given each unit's voted level."""
    quota = rules.quota
    second = rules.second_round
    if quota is None and not (second.enabled and second.max_k is not None):
        return (), (), {}
    top = quota.top if quota else levels.top.code
    against = quota.against if quota else levels.levels[1].code
    below_top = levels.levels[levels.rank(top) + 1].code
    groups: dict[str | None, list[Unit]] = {}
    for u in units:
        groups.setdefault(u.group, []).append(u)

    records: list[QuotaGroup] = []
    ballots: list[SecondRoundBallot] = []
    changes: dict[str, Change] = {}
    for group, members in groups.items():
        cands = [u for u in members if voted[u.unit_id] == top]
        n = sum(1 for u in members if voted[u.unit_id] is not None
                and levels.rank(voted[u.unit_id]) <= levels.rank(against))
        ratio = quota.ratio_for(group) if quota else None
        x_max = QuotaRule.x_max(ratio, n, quota.base) if ratio is not None else None
        limits = [x for x in (x_max, second.max_k if second.enabled else None) if x is not None]
        limit = min(limits)
        name_vi = group if group is not None else "(chung)"
        name_en = group if group is not None else "(default)"
        formula = quota.formula(ratio, n) if ratio is not None else f"K = {limit}"
        ranked = _ranked(cands, top_votes)
        ids = tuple(uid for uid, _ in ranked)
        if len(cands) <= limit:
            records.append(QuotaGroup(group, ratio, n, x_max, limit, ids, ids, (), (), False, Text(
                f"Nhóm {name_vi}: {len(cands)} {top} ≤ tối đa {limit} ({formula}; n = {n} đạt {against} trở lên)",
                f"Group {name_en}: {len(cands)} {top} ≤ at most {limit} ({formula}; n = {n} at {against} or better)",
            )))
            continue
        if second.enabled and limit > 0:
            records.append(QuotaGroup(group, ratio, n, x_max, limit, ids, (), (), (), True, Text(
                f"Nhóm {name_vi}: {len(cands)} {top} > tối đa {limit} ({formula}); bỏ phiếu vòng hai, chọn tối đa {limit}",
                f"Group {name_en}: {len(cands)} {top} > at most {limit} ({formula}); second round, vote for at most {limit}",
            )))
            ballots.append(SecondRoundBallot(group, ids, limit))
            for uid in ids:
                changes[uid] = Change(None, "second_round", Text(
                    f"Ứng viên {top} vượt tỷ lệ nhóm {name_vi} (tối đa {limit}): chờ vòng hai",
                    f"{top} candidate over the group {name_en} limit (at most {limit}): second round",
                ))
            continue
        kept, tied, cut = split_at_cut(ranked, limit)
        places = limit - len(kept)
        records.append(QuotaGroup(group, ratio, n, x_max, limit, ids, kept, cut, tied, False, Text(
            f"Nhóm {name_vi}: {len(cands)} {top} > tối đa {limit} ({formula}; n = {n} đạt {against} "
            f"trở lên); giữ {len(kept)}, bằng phiếu {len(tied)}, chuyển {len(cut)} xuống {below_top}",
            f"Group {name_en}: {len(cands)} {top} > at most {limit} ({formula}; n = {n} at {against} "
            f"or better); kept {len(kept)}, tied {len(tied)}, {len(cut)} down to {below_top}",
        )))
        for uid in tied:
            changes[uid] = Change(None, "quota_tie", Text(
                f"Bằng phiếu tại ngưỡng tỷ lệ {top} nhóm {name_vi}: {len(tied)} đơn vị cho {places} chỗ "
                f"(tối đa {limit}); cấp có thẩm quyền quyết định",
                f"Tie at the {top} quota cut of group {name_en}: {len(tied)} units for {places} place(s) "
                f"(at most {limit}); for the deciding body",
            ))
        position = {uid: i + 1 for i, uid in enumerate(ids)}
        score = {u.unit_id: u.score for u in cands}
        for uid in cut:
            s = "—" if score[uid] is None else str(score[uid])
            changes[uid] = Change(below_top, "cut_by_quota", Text(
                f"Vượt tỷ lệ {top} nhóm {name_vi} (tối đa {limit}, {formula}): hạng {position[uid]}/"
                f"{len(ids)} theo phiếu {top} ({top_votes(uid)}) rồi điểm ({s}) → {below_top}",
                f"Over the {top} quota of group {name_en} (at most {limit}, {formula}): ranked "
                f"{position[uid]}/{len(ids)} by {top} votes ({top_votes(uid)}) then score ({s}) "
                f"→ {below_top}",
            ))
    return tuple(records), tuple(ballots), changes
