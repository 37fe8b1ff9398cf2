"""The published meetings, for the site's home page: drafts and meetings still running are
not listed (their pages exist, but nobody is pointed to them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ballot.crypto.encoding import parse_json
from ballot.store.db import transaction
from ballot.store.models import Election

if TYPE_CHECKING:  # pragma: no cover
    from .meeting import Meeting

__all__ = ["published_meetings"]


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
