"""Who may see a meeting's public pages and API (ballot/service/publishing.py; docs/web.md,
"Publishing"): a draft is the secretary's only; the results and the record once published.

One hook for the phone, projector, board and results pages (``public``), the trustees' pages
(``trustee``) and the JSON API (``api``), so that no public route is forgotten.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, jsonify, request

from ballot.service.meeting import ServiceError
from ballot.service.publishing import require_public

from .security import admin_user

__all__ = ["install"]

PUBLIC_BLUEPRINTS = frozenset({"api", "public", "trustee"})
#: The endpoints that show results: public only once published.
RESULT_ENDPOINTS = frozenset({"api.record", "api.results_json", "api.results_csv",
                              "public.results"})


def _gate():
    slug = (request.view_args or {}).get("slug")
    if request.blueprint not in PUBLIC_BLUEPRINTS or slug is None:
        return None
    try:
        require_public(current_app.extensions["ballot.meeting"], slug,
                       results=request.endpoint in RESULT_ENDPOINTS,
                       secretary=bool(admin_user()))
    except ServiceError as exc:
        if request.blueprint == "api":
            return jsonify(error=str(exc)), exc.status
        abort(exc.status, str(exc))
    return None


def install(app: Flask) -> None:
    app.before_request(_gate)
