"""Error pages for the HTML side (the JSON API answers ``{"error": reason}`` itself)."""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from .i18n import gettext as _

_TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Not possible now",
    413: "The file is too large",
    422: "Not valid",
}


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.blueprint == "api" or request.path.startswith("/api/"):
            from flask import jsonify

            return jsonify(error=exc.description), exc.code
        title = _(_TITLES.get(exc.code or 500, "Error"))
        detail = exc.description if exc.description and not exc.description.startswith(
            ("The requested URL", "The server could not", "The method is not",
             "The browser (or proxy)")) else None
        return render_template("error.html", code=exc.code, title=title, detail=detail), exc.code
