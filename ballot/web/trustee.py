"""The trustee's page (``/t/<slug>``), on the trustee's own device.

The trustee signs in with their number and one-time access code; the page then shows the key
ceremony and the decryption as the server sees them, and how to do each step with the
``ballot trustee`` command on the trustee's own computer. The secret key never touches the
server or this page: the ceremony and the partial decryption are computed by that command
(``ballot/clients/trustee.py``), which keeps the secrets in a passphrase-protected key file.
Doing them in the browser would need the threshold-key code in JavaScript, which is not
written yet.

The session remembers only "trustee i of election s"; the access code is not kept.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from flask import (Blueprint, abort, current_app, redirect, render_template, request, session,
                   url_for)
from sqlalchemy import select

from ballot.service.meeting import Meeting, ServiceError
from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.errors import StoreError
from ballot.store.models import Tally

from .i18n import gettext as _
from .security import public_base_url

trustee = Blueprint("trustee", __name__, url_prefix="/t")


def meeting() -> Meeting:
    return current_app.extensions["ballot.meeting"]


def _signed_in(slug: str) -> int | None:
    who = session.get("trustee") or {}
    return who.get("index") if who.get("slug") == slug else None


def trustee_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(slug: str, *args: Any, **kwargs: Any) -> Any:
        if _signed_in(slug) is None:
            if request.method == "GET":
                return redirect(url_for("trustee.login", slug=slug))
            abort(403)
        return view(slug, *args, **kwargs)

    wrapped.login_required = True  # type: ignore[attr-defined]
    return wrapped


def _state(slug: str) -> dict[str, Any]:
    try:
        return meeting().ceremony_state(slug)
    except ServiceError as exc:
        abort(exc.status, str(exc))


@trustee.route("/<slug>", methods=["GET", "POST"])
def login(slug: str):
    state = _state(slug)
    error = None
    if request.method == "POST":
        try:
            index = int(request.form.get("index", ""))
        except ValueError:
            index = 0
        code = "".join(request.form.get("code", "").split())
        m = meeting()
        try:
            with transaction(m.factory, read_only=True) as s:
                election = repo.get_election(s, slug)
                m.trustee_login(s, election, index, code)
        except (ServiceError, StoreError):
            error = _("Unknown trustee or wrong access code.")
        else:
            session["trustee"] = {"slug": slug, "index": index}
            return redirect(url_for("trustee.status", slug=slug))
    return render_template("trustee/login.html", slug=slug, state=state, error=error), \
        401 if error else 200


@trustee.get("/<slug>/status")
@trustee_required
def status(slug: str):
    state = _state(slug)
    index = _signed_in(slug)
    me = next((t for t in state["trustees"] if t["index"] == index), None)
    if me is None:
        abort(404)
    m = meeting()
    with transaction(m.factory, read_only=True) as s:
        election = repo.get_election(s, slug)
        decrypted = sorted(t.trustee_index for t in s.execute(select(Tally).where(
            Tally.election_id == election.id, Tally.kind == "partial_decryption")).scalars())
    return render_template("trustee/status.html", slug=slug, state=state, me=me,
                           decrypted=decrypted, server=public_base_url())


@trustee.post("/<slug>/logout")
@trustee_required
def logout(slug: str):
    session.pop("trustee", None)
    return redirect(url_for("trustee.login", slug=slug))
