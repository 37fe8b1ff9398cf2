"""Small builders shared by the election tests."""

from __future__ import annotations

from ballot.election.counting import count
from ballot.election.counts import MeetingFigures, UnitCounts
from ballot.election.levels import LevelSet
from ballot.election.presets import QD366_LEVELS
from ballot.election.results import CountResult
from ballot.election.rules import RuleProfile
from ballot.election.units import Unit

CODES = QD366_LEVELS.codes  # HTXSNV, HTTNV, HTNV, KHTNV


def row(valid: int, *votes: int, abstain: int = 0) -> UnitCounts:
    """Counts for the QĐ 366 levels in order; the rest of the ``valid`` ballots are blank."""
    pairs = dict(zip(CODES, votes))
    blank = valid - sum(votes) - abstain
    assert blank >= 0, "test counts exceed the valid ballots"
    return UnitCounts(pairs, abstain, blank)


def figures(n: int, present: int | None = None, valid: int | None = None,
            excluded: int = 0) -> MeetingFigures:
    """Convened ``n + excluded``; everybody present and every ballot valid unless told."""
    present = n if present is None else present
    valid = present if valid is None else valid
    return MeetingFigures(n + excluded, excluded, present, valid, present - valid)


def count_one(rules: RuleProfile, c: UnitCounts, fig: MeetingFigures,
              levels: LevelSet = QD366_LEVELS) -> CountResult:
    return count(levels, rules, [Unit("u1", "Unit 1")], {"u1": c}, fig)
