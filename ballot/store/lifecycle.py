"""The election lifecycle: draft → key_ceremony → open → closed → tallied → published.

Each status has exactly one successor; there is no way back (an opened election may hold
ballots; a published record is final). :func:`transition` checks the step and its
preconditions, then changes the status with a conditional ``UPDATE ... WHERE status = <old>``,
so that of two concurrent transitions from the same status only one succeeds. A database
trigger (migration 0001) refuses any other status change, whoever issues it.

| from         | to           | precondition                                           | also sets  |
|--------------|--------------|--------------------------------------------------------|------------|
| draft        | key_ceremony | the manifest is frozen (manifest_json, manifest_hash)  |            |
| key_ceremony | open         | the key ceremony produced context_json and base_hash   | opened_at  |
| open         | closed       |                                                        | closed_at  |
| closed       | tallied      |                                                        |            |
| tallied      | published    |                                                        |            |
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ballot.store.errors import ElectionNotFound, ElectionNotOpen, LifecycleError
from ballot.store.models import ELECTION_STATUSES, Election, utcnow

__all__ = [
    "STATUSES",
    "TRANSITIONS",
    "LifecycleError",
    "next_status",
    "check_transition",
    "transition",
    "require_status",
]

STATUSES = ELECTION_STATUSES

#: status → the only status it may move to (migration 0001 enforces the same pairs).
TRANSITIONS: dict[str, str] = {
    "draft": "key_ceremony",
    "key_ceremony": "open",
    "open": "closed",
    "closed": "tallied",
    "tallied": "published",
}

_CHAIN = " → ".join(STATUSES)


def next_status(status: str) -> str | None:
    """The status that follows ``status`` (None after published)."""
    return TRANSITIONS.get(status)


def check_transition(old: str, new: str) -> None:
    """Raise :class:`LifecycleError` unless ``old → new`` is a step of the lifecycle."""
    if new not in STATUSES:
        raise LifecycleError(
            f"cannot go from {old} to {new}: unknown status {new!r} (statuses: {_CHAIN})"
        )
    if old not in STATUSES:
        raise LifecycleError(f"cannot go from {old} to {new}: unknown status {old!r}")
    if TRANSITIONS.get(old) == new:
        return
    if old == new:
        why = f"the election is already {old}"
    elif old == "published":
        why = "a published election is final"
    elif STATUSES.index(new) < STATUSES.index(old):
        why = (
            f"the lifecycle only moves forward ({_CHAIN}); "
            f"from {old} the next step is {TRANSITIONS[old]}"
        )
    else:
        why = f"steps cannot be skipped; from {old} the next step is {TRANSITIONS[old]}"
    raise LifecycleError(f"cannot go from {old} to {new}: {why}")


def _check_preconditions(election: Election, new: str) -> None:
    old = election.status
    missing: list[str] = []
    if new == "key_ceremony":
        if not election.manifest_json:
            missing.append("manifest_json")
        if not election.manifest_hash:
            missing.append("manifest_hash")
        if missing:
            raise LifecycleError(
                f"cannot go from {old} to {new}: the manifest is not frozen yet "
                f"({', '.join(missing)} empty; call set_manifest first)"
            )
    elif new == "open":
        if not election.context_json:
            missing.append("context_json")
        if not election.base_hash:
            missing.append("base_hash")
        if missing:
            raise LifecycleError(
                f"cannot go from {old} to {new}: the key ceremony has not produced the joint "
                f"key yet ({', '.join(missing)} empty; call set_context first)"
            )


def _election_id(election: Election | int) -> int:
    return election if isinstance(election, int) else election.id


def transition(
    session: Session,
    election: Election | int,
    new_status: str,
    *,
    now: datetime | None = None,
) -> Election:
    """Move the election to ``new_status`` inside the caller's transaction.

    Raises :class:`LifecycleError` for a forbidden step, an unmet precondition, or when another
    transaction changed the status first. Returns the (refreshed) election.
    """
    election_id = _election_id(election)
    current = session.execute(
        select(Election)
        .where(Election.id == election_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if current is None:
        raise ElectionNotFound(f"no election with id {election_id}")
    old = current.status
    check_transition(old, new_status)
    _check_preconditions(current, new_status)
    values: dict[str, object] = {"status": new_status}
    if new_status == "open":
        values["opened_at"] = now or utcnow()
    elif new_status == "closed":
        values["closed_at"] = now or utcnow()
    result = session.execute(
        update(Election)
        .where(Election.id == election_id, Election.status == old)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.expire(current)
        raise LifecycleError(
            f"cannot go from {old} to {new_status}: the election changed meanwhile "
            f"(it is now {current.status})"
        )
    session.refresh(current)
    return current


def require_status(election: Election, *statuses: str, action: str) -> None:
    """Raise :class:`LifecycleError` (:class:`ElectionNotOpen` when only "open" is allowed)
    unless the election is in one of ``statuses``; ``action`` names what was refused."""
    if election.status in statuses:
        return
    allowed = " or ".join(statuses)
    cls = ElectionNotOpen if statuses == ("open",) else LifecycleError
    raise cls(f"cannot {action} while the election is {election.status} (only when {allowed})")
