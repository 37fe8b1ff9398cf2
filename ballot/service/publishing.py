"""Publishing: who may see what, by the meeting's status (issue 11, point 9; docs/web.md,
"Publishing"), and the list of published meetings for the site's home page.

- A **draft** is the secretary's only: every public page and API answer about it is a 404, as
  if it did not exist (its roll names members and why some are excluded).
- From the key ceremony on, the public pages and API (phone, projector, board, trustees')
  answer as before.
- The **results** — the results page ``/r/<slug>``, ``results.json``/``results.csv`` and the
  record — are public once the secretary **publishes**; before, only the secretary (signed
  in) sees them, to check them and print the minutes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ballot.crypto.encoding import parse_json
from ballot.store.db import transaction
from ballot.store.models import Election

if TYPE_CHECKING:  # pragma: no cover
    from .meeting import Meeting

__all__ = ["require_public", "published_meetings"]


def require_public(m: Meeting, slug: str, *, results: bool = False, secretary: bool = False) -> str:
    """The election's status, or ServiceError 404 if this caller may not see it."""
    from .meeting import ServiceError

    with transaction(m.factory, read_only=True) as s:
        status = m._election(s, slug).status
    if secretary:
        return status
    if status == "draft":
        raise ServiceError(f"no election {slug!r}", 404)
    if results and status != "published":
        raise ServiceError("the results and the record are public once the secretary "
                           "publishes them", 404)
    return status


def published_meetings(meeting: Meeting) -> list[dict[str, Any]]:
    """``[{slug, title, organisation, date}]`` of the published meetings, newest first."""
    with transaction(meeting.factory, read_only=True) as s:
        rows = s.execute(select(Election).where(Election.status == "published")
                         .order_by(Election.closed_at.desc(), Election.id.desc())).scalars()
        out = []
        for e in rows:
            m = parse_json(e.manifest_json) if e.manifest_json else {}
            out.append({"slug": e.slug, "title": e.title,
                        "organisation": m.get("organisation", ""), "date": m.get("date", "")})
        return out
