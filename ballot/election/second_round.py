"""The optional second round (ballot B): "agree / disagree" per excellent candidate, "vote for
at most K". Candidates are ranked by agree votes; with a base N, a candidate must also pass the
threshold (default more than 1/2 of N). A tie straddling the K-th place is reported, not broken."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .errors import CountError
from .quota import split_at_cut
from .rules import Threshold
from .text import Text

__all__ = ["SecondRoundResult", "BallotBResult", "second_round", "check_at_most_k"]


def check_at_most_k(group: str | None, total: int, k: int, ballots: int) -> None:
    """Refuse ``total`` agree marks in a group of a "vote for at most ``k``" round when
    ``ballots`` valid ballots cannot hold them: each ballot marks agree at most k times, so the
    group's marks are at most k × ballots (all a paper count can show of the per-ballot rule)."""
    if isinstance(ballots, bool) or not isinstance(ballots, int) or ballots < 0:
        raise CountError(f"ballots: expected a count (an integer ≥ 0), got {ballots!r}")
    if total > k * ballots:
        name = "" if group is None else f"group {group}: "
        raise CountError(
            f"agree: {name}{total} agree marks in all, but each of the {ballots} valid "
            f"ballots may mark agree for at most K = {k} candidate(s), so at most "
            f"K × valid ballots = {k * ballots} (a ballot with more agree marks is "
            "invalid: count it as invalid, not in the agree totals)")


@dataclass(frozen=True)
class SecondRoundResult:
    k: int
    ranked: tuple[tuple[str, int], ...]
    selected: tuple[str, ...]
    tied: tuple[str, ...]
    not_selected: tuple[str, ...]
    text: Text

    def to_json(self) -> dict[str, Any]:
        return {"k": self.k, "ranked": [list(p) for p in self.ranked],
                "selected": list(self.selected), "tied": list(self.tied),
                "not_selected": list(self.not_selected), "text": self.text.to_json()}


def second_round(
    candidates: Sequence[str],
    agree: Mapping[str, int],
    max_k: int,
    *,
    base: int | None = None,
    threshold: Threshold | None = None,
    ballots: int | None = None,
    group: str | None = None,
) -> SecondRoundResult:
    """Rank ``candidates`` by ``agree`` votes and select at most ``max_k``. With ``ballots``
    (the valid ballots of the round), counts that no set of ballots can give are refused: a
    ballot marks "agree" for at most K candidates, so the group's agree marks are at most
    K × ballots (the check a paper count allows; per-ballot limits are proved electronically)."""
    if isinstance(max_k, bool) or not isinstance(max_k, int) or max_k < 0:
        raise CountError(f"max_k: expected an integer ≥ 0, got {max_k!r}")
    if len(set(candidates)) != len(candidates):
        raise CountError("candidates: a candidate appears twice")
    for uid in agree:
        if uid not in candidates:
            raise CountError(f"agree.{uid}: not a candidate of this round")
    for uid in candidates:
        if uid not in agree:
            raise CountError(f"agree.{uid}: missing")
        v = agree[uid]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise CountError(f"agree.{uid}: expected a count (an integer ≥ 0), got {v!r}")
        if base is not None and v > base:
            raise CountError(f"agree.{uid}: {v} exceeds the base N = {base}")
    if ballots is not None:
        check_at_most_k(group, sum(agree[uid] for uid in candidates), max_k, ballots)
    if base is not None and threshold is None:
        threshold = Threshold()
    eligible = [uid for uid in candidates
                if base is None or threshold.passes(agree[uid], base)]  # type: ignore[union-attr]
    ranked = sorted(eligible, key=lambda uid: -agree[uid])
    kept, tied, _ = split_at_cut([(uid, (agree[uid],)) for uid in ranked], max_k)
    not_selected = tuple(uid for uid in candidates if uid not in kept and uid not in tied)
    need = f", {threshold.describe()}, N = {base}" if base is not None else ""
    text = Text(
        f"Vòng hai: chọn tối đa {max_k}{need}; được chọn {len(kept)}, bằng phiếu {len(tied)}",
        f"Second round: at most {max_k}{need}; selected {len(kept)}, tied {len(tied)}",
    )
    return SecondRoundResult(
        max_k, tuple((uid, agree[uid]) for uid in sorted(candidates, key=lambda u: -agree[u])),
        kept, tied, not_selected, text,
    )


@dataclass(frozen=True)
class BallotBResult:
    """The outcome of one group of a second-round election: its candidates in ballot order,
    "at most K", and :func:`second_round`'s selection (agree counts, selected, tied, not
    selected). The candidates' agree / disagree / blank counts are in the units' results."""

    group: str | None
    candidates: tuple[str, ...]
    result: SecondRoundResult

    def to_json(self) -> dict[str, Any]:
        return {"group": self.group, "candidates": list(self.candidates), **self.result.to_json()}
