"""The secretary's remedy for a lost phone session: the member votes on paper instead
(``ballot/service/paper.py``; docs/threat-model.md). Routes of the ``admin`` blueprint."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from ballot.service.meeting import ServiceError
from ballot.store.errors import StoreError

from .admin import admin, meeting
from .i18n import gettext as _
from .security import login_required


def _reason(exc: Exception, name: str) -> str:
    text = str(exc)
    if "every valid token has already cast a ballot" in text:
        return _("Every valid token has already cast a ballot: %(name)s's token may be one of "
                 "them, so a paper ballot could be a second ballot.", name=name)
    if "has not received a voting token" in text:
        return _("%(name)s has not received a voting token: hand them their slip, or a paper "
                 "ballot as any member without a token.", name=name)
    if "already votes on paper" in text:
        return _("%(name)s already votes on paper.", name=name)
    if isinstance(exc, StoreError):
        return _("Voting is not open.")
    return _("Choose the member who votes on paper.")


@admin.post("/m/<slug>/paper-instead")
@login_required
def paper_instead(slug: str):
    roll_id = (request.form.get("roll_id") or "").strip()
    names = {m["roll_id"]: m["name"] for m in meeting().paper_instead(slug)["holders"]}
    name = names.get(roll_id, roll_id)
    try:
        meeting().set_aside_token(slug, roll_id)
    except (ServiceError, StoreError) as exc:
        if isinstance(exc, ServiceError) and exc.status == 404 and not roll_id:
            exc = ServiceError("choose")
        flash(_("Refused: %(reason)s", reason=_reason(exc, name)), "error")
    else:
        flash(_("%(name)s votes on paper: their token is set aside. Hand them a paper ballot.",
                name=name), "info")
    return redirect(url_for("admin.meeting_page", slug=slug) + "#paper-instead")
