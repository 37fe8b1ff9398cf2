"""Voting on paper instead: a member whose phone session is lost (docs/threat-model.md,
"A lost phone session: voting on paper instead").

A member opened the slip in one browser (say Zalo's), which holds the blind-signed token; the
slip now says "already used" everywhere else. The server cannot revoke that token: it never
knew which token the member holds. So the secretary **sets the token aside**: the member votes
on paper, and the figures carry the member as "token issued, voted on paper". Then

- the tokens that may still cast a ballot are ``valid = issued − set aside``;
- members who could vote = ``valid + paper voters`` (the figures' ``present``), and ballots
  issued = ``valid + paper ballots issued``;
- a set-aside is refused once ``ballots on the board ≥ valid`` (every valid token has voted:
  this member's token may be among them, and a paper ballot would be a second one);
- a ballot cast later with an abandoned token makes ``ballots > valid`` once the others have
  voted: an **excess**, shown on the secretary's page, refused by the count (``finalize``) and
  by the verifier (check ``excess``), as a paper count refuses a box holding more ballots than
  were handed out.

Only "member X voted on paper instead" is stored (table ``token_set_asides``), never a token:
the server still cannot link a member to a ballot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.lifecycle import require_status
from ballot.store.models import BoardEntry, RollEntry, TokenIssuance, TokenSetAside

if TYPE_CHECKING:  # pragma: no cover
    from .meeting import Meeting

__all__ = ["token_figures", "set_aside_roll_ids", "set_aside_token",
           "paper_instead_view"]


def token_figures(s: Session, election_id: int) -> dict[str, int]:
    """``issued``, ``set_aside``, ``valid`` (= issued − set aside), ``ballots`` (on the board)
    and ``excess`` (= max(0, ballots − valid))."""
    issued = repo.tokens_issued(s, election_id)
    set_aside = s.scalar(select(func.count()).select_from(TokenSetAside).where(
        TokenSetAside.election_id == election_id))
    ballots = s.scalar(select(func.count()).select_from(BoardEntry).where(
        BoardEntry.election_id == election_id))
    valid = issued - set_aside
    return dict(issued=issued, set_aside=set_aside, valid=valid, ballots=ballots,
                        excess=max(0, ballots - valid))


def set_aside_roll_ids(s: Session, election_id: int) -> list[str]:
    """The roll ids of the members who voted on paper instead, sorted (for the record)."""
    return sorted(s.execute(select(RollEntry.roll_id).join(
        TokenSetAside, (TokenSetAside.election_id == RollEntry.election_id)
        & (TokenSetAside.roll_entry_id == RollEntry.id)).where(
        TokenSetAside.election_id == election_id)).scalars())


def set_aside_token(meeting: Meeting, slug: str, roll_id: str) -> dict[str, Any]:
    """The secretary records that member ``roll_id``, who received a token, votes on paper
    instead. Returns the new :func:`token_figures`."""
    from .meeting import ServiceError

    if not isinstance(roll_id, str) or not roll_id.strip():
        raise ServiceError("choose the member who votes on paper")
    with transaction(meeting.factory) as s:
        election = meeting._election(s, slug)
        election = repo.lock_election(s, election.id)  # ballots wait: the count below holds
        require_status(election, "open", action="record a vote on paper instead")
        entry = s.execute(select(RollEntry).where(RollEntry.election_id == election.id,
                                                  RollEntry.roll_id == roll_id.strip())
                          ).scalar_one_or_none()
        if entry is None:
            raise ServiceError(f"no member {roll_id!r} on the roll", 404)
        issued = s.scalar(select(TokenIssuance.id).where(
            TokenIssuance.election_id == election.id, TokenIssuance.roll_entry_id == entry.id))
        if issued is None:
            raise ServiceError(f"{entry.name} has not received a voting token: there is nothing "
                               "to set aside (hand them the slip, or a paper ballot)", 409)
        done = s.scalar(select(TokenSetAside.id).where(
            TokenSetAside.election_id == election.id, TokenSetAside.roll_entry_id == entry.id))
        if done is not None:
            raise ServiceError(f"{entry.name} already votes on paper", 409)
        figures = token_figures(s, election.id)
        if figures["ballots"] >= figures["valid"]:
            raise ServiceError(
                f"every valid token has already cast a ballot ({figures['ballots']} ballots, "
                f"{figures['valid']} valid tokens): {entry.name}'s token may be one of them, "
                "so a paper ballot could be a second ballot", 409)
        s.add(TokenSetAside(election_id=election.id, roll_entry_id=entry.id))
        s.flush()
        repo.append_audit(s, election_id=election.id, actor="secretary", action="paper_instead",
                          detail={"roll_id": entry.roll_id})
        return token_figures(s, election.id)


def paper_instead_view(meeting: Meeting, slug: str) -> dict[str, Any]:
    """For the secretary's page: the token figures, the members who voted on paper instead
    and those who hold a token that could still be set aside."""
    with transaction(meeting.factory, read_only=True) as s:
        election = meeting._election(s, slug)
        issued = set(s.execute(select(TokenIssuance.roll_entry_id).where(
            TokenIssuance.election_id == election.id)).scalars())
        aside = set(s.execute(select(TokenSetAside.roll_entry_id).where(
            TokenSetAside.election_id == election.id)).scalars())
        roll = repo.roll(s, election.id)
        return {
            "figures": token_figures(s, election.id),
            "set_aside": [{"roll_id": e.roll_id, "name": e.name} for e in roll if e.id in aside],
            "holders": [{"roll_id": e.roll_id, "name": e.name} for e in roll
                        if e.id in issued and e.id not in aside],
        }
