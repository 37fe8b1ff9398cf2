"""Public pages: the voter's phone page, the audit verifier, the projector, the board.

None of them uses a cookie-based session: voters are anonymous. The phone page is a static
shell; ``static/js/voter.js`` does everything with ``BallotCrypto`` and the JSON API. The
invitation code travels in the URL fragment (``/v/<slug>#<code>``), which browsers never send
to the server, so it appears in no server log.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request

from ballot.service.meeting import Meeting, ServiceError

from .i18n import gettext as _
from .security import public_base_url, use_wasm

public = Blueprint("public", __name__)


def meeting() -> Meeting:
    return current_app.extensions["ballot.meeting"]


def _state(slug: str) -> dict[str, Any]:
    try:
        state = meeting().ceremony_state(slug)
    except ServiceError as exc:
        abort(exc.status, str(exc))
    h = state.get("base_hash") or ""
    # Read aloud and compared between the projector and each phone (docs/threat-model.md).
    state["fingerprint"] = " ".join(h[i:i + 4] for i in range(0, len(h), 4))
    return state


@public.get("/")
def home():
    return render_template("home.html", published=meeting().published_meetings())


@public.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on every site (and pages without a link to it): the icon,
    not a 404 in every log."""
    return current_app.send_static_file("favicon.svg"), 200, {
        "Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"}


#: Texts the phone's script shows, translated here (the script has no catalog of its own).
VOTER_STRINGS = {
    "loading": "Loading the election…",
    "checking": "Checking the election's keys…",
    "issuing": "Getting your anonymous voting token…",
    "used": "This invitation has already been used. Each slip works once. If you voted, your "
            "receipt is on the phone you voted with. If you opened the slip in another browser "
            "(for example Zalo's) and cannot vote there, ask the secretary: they record that "
            "you vote on paper instead.",
    "retry_in": "Trying again in %(s)s s…",
    "found_on_board": "(found on the board by this phone)",
    "unknown": "This code is not valid for this meeting. Check the code on your slip.",
    "resume_code": "Your voting token is kept on this phone, locked with the code of your "
                   "slip. Scan the slip again, or type its code, to continue.",
    "not_open": "Voting is not open.",
    "closed": "Voting is closed.",
    "network": "The server cannot be reached. Check the Wi-Fi and try again.",
    "error": "Something went wrong: %(reason)s",
    "progress": "%(done)s/%(total)s marked",
    "unmarked_left": "%(n)s rows are not marked yet.",
    "all_marked": "Every row is marked.",
    "set_all": "Set all unmarked rows to",
    "review_title": "Check your choices",
    "unmarked": "not marked (counts for no level)",
    "abstain": "Abstain",
    "encrypting": "Encrypting your ballot on this phone…",
    "sending": "Sending your encrypted ballot…",
    "cast_failed": "The ballot was not accepted: %(reason)s",
    "receipt_bad": "The server's receipt does not check: %(reason)s",
    # the receipt's two states (docs/protocol.md, "Received, then checked")
    "status_received": "Received: your ballot is on the board. The server is now checking "
                       "its proofs.",
    "status_valid": "Checked: your ballot is valid and will be counted.",
    "status_invalid": "Checked: the server marked your ballot INVALID (%(reason)s). It will "
                      "not be counted. Tell the secretary and the trustees now: the record "
                      "lets anyone check this.",
    "self": "self-assessed",
    "proposed": "proposed",
    "no_match": "No name matches.",
    "audit_done": "This ballot was audited and is discarded. Your choices are kept: seal a "
                  "new ballot to cast.",
    "copied": "Copied.",
    "audit_ok": "The encrypted ballot holds exactly these choices.",
    "audit_bad": "The audit FAILED: %(reason)s. Do not vote on this device; tell the "
                 "secretary and the trustees.",
    "audit_paste": "Paste an audit (JSON) first.",
    "confirm_next": "Clear everything of this voter from this device?",
    # long ballots (static/js/ballot-ui.js)
    "unmarked_short": "Not marked",
    "quota_note": "Group %(group)s: you marked %(x)s rows %(top)s, but the quota keeps at most "
                  "%(xmax)s when %(n)s rows are %(against)s or better (ratio %(ratio)s). Your "
                  "ballot stays valid; the quota is applied to the count.",
    "group_none": "Other",
    "kind_member": "Party member",
    "kind_organisation": "Organisation",
    "kind_leader": "Cadre",
    # second round (ballot B): "at most K agree" per group
    "limit": "Group %(group)s: choose at most %(k)s “%(agree)s”",
    "limit_count": "%(n)s/%(k)s",
    "limit_full": "At most %(k)s “%(agree)s” in this group: take one back first.",
    "limit_over": "Group %(group)s has more than %(k)s “%(agree)s”: take some back.",
}


def _strings() -> dict[str, str]:
    return {k: _(v) for k, v in VOTER_STRINGS.items()}


@public.get("/v/<slug>")
def vote(slug: str):
    state = _state(slug)
    use_wasm()
    return render_template("vote.html", slug=slug, manifest=state["manifest"],
                           strings=_strings(), fingerprint=state["fingerprint"])


@public.get("/v/<slug>/audit")
def audit(slug: str):
    state = _state(slug)
    use_wasm()
    return render_template("audit.html", slug=slug, manifest=state["manifest"],
                           strings=_strings())


@public.get("/p/<slug>")
def projector(slug: str):
    state = _state(slug)
    base = public_base_url()
    from .slips import qr_svg_data_uri

    return render_template("projector.html", slug=slug, manifest=state["manifest"],
                           status=state["status"], vote_url=f"{base}/v/{slug}",
                           fingerprint=state["fingerprint"],
                           close=meeting().close_state(slug),
                           qr=qr_svg_data_uri(f"{base}/v/{slug}"))


@public.get("/b/<slug>")
def board(slug: str):
    state = _state(slug)
    entries = meeting().board(slug)
    from ballot.tally.verify import normalise_code

    code = normalise_code(request.args.get("code", ""))
    found = None
    if code:
        found = next((e for e in entries
                      if normalise_code(e["tracking_code"]) == code), False)
    return render_template("board.html", slug=slug, manifest=state["manifest"],
                           status=state["status"], entries=entries, code=code, found=found)


@public.get("/r/<slug>")
def results(slug: str):
    """Counts per level with their share of N, the result and the rule, once counted."""
    from fractions import Fraction

    from .i18n import get_lang

    state = _state(slug)
    try:
        res = meeting().results(slug)
    except ServiceError as exc:
        abort(exc.status, str(exc))
    codes = [lv["code"] for lv in res["manifest"]["levels"]]
    names = {u["unit_id"]: u["name"] for u in res["manifest"]["units"]}
    lang = get_lang()
    rows = [{
        "name": names[r["unit_id"]],
        "cells": [{"votes": r["counts"]["votes"].get(c, 0),
                   "share": Fraction(r["shares"][c]) if r["shares"].get(c) is not None else None}
                  for c in codes],
        "abstain": r["counts"]["abstain"], "level": r["level"], "outcome": r["outcome"],
        "rule": r["rule"]["vi" if lang == "vi" else "en"],
    } for r in res["results"]["units"]]
    base_text = res["results"]["base_text"]["vi" if lang == "vi" else "en"]
    return render_template("results.html", slug=slug, manifest=state["manifest"],
                           status=state["status"], rows=rows, codes=codes,
                           base=res["results"]["base"], base_text=base_text,
                           fingerprint=state["fingerprint"])
