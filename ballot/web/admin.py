"""The secretary's pages (``/admin``): log in, create a meeting, run it step by step.

Every route but the login page needs a logged-in secretary (``login_required``); every form
carries the session's CSRF token (``security.py``). The one-time codes are kept as described in
``slips.py``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import unicodedata
from datetime import date as _date
from typing import Any

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   stream_with_context,
                   request, send_file, session, url_for)
from markupsafe import escape
from sqlalchemy import select

from ballot.election.errors import ManifestError
from ballot.election.manifest import MEETING_KINDS, Manifest
from ballot.election.presets import PRESETS, preset_with_options
from ballot.election.roll import RollEntry as ManifestRollEntry
from ballot.election.trustees import Trustees
from ballot.election.units import Unit as ManifestUnit
from ballot.service.meeting import Meeting, ServiceError
from ballot.store.csv_import import CsvImportError, parse_roll_csv, parse_units_csv
from ballot.store.db import transaction
from ballot.store.errors import StoreError
from ballot.store.models import Election, Tally

from .i18n import today as i18n_today
from .i18n import gettext as _
from .security import admin_user, csrf_token, is_loopback_url, login_required, public_base_url
from .slips import Stash, make_slips, qr_svg_data_uri, slips_pdf

admin = Blueprint("admin", __name__, url_prefix="/admin")

#: preset → the meeting kind it is made for
PRESET_KINDS = {"branch_qd366": "branch_members", "committee_qd366": "committee_units",
                "criteria_grades": "custom"}
BASES = ("convened_minus_excluded", "present", "valid_ballots")
RULE_OPTIONS = ("top_two_thirds", "cumulative", "outstanding", "second_round")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def meeting() -> Meeting:
    return current_app.extensions["ballot.meeting"]


def stash() -> Stash:
    return current_app.extensions["ballot.stash"]


def _stash_key(name: str) -> str | None:
    return (session.get("stash") or {}).get(name)


def _remember_stash(name: str, key: str) -> None:
    keys = dict(session.get("stash") or {})
    keys[name] = key
    session["stash"] = keys


def _forget_stash(name: str) -> None:
    keys = dict(session.get("stash") or {})
    keys.pop(name, None)
    session["stash"] = keys
    stash().drop(name)


def _fail(exc: Exception) -> None:
    flash(_("Refused: %(reason)s", reason=str(exc)), "error")


# -- log in / out ------------------------------------------------------------------------------


@admin.route("/login", methods=["GET", "POST"])
def login():
    from .signin import SignInRefused, sign_in, start_session

    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        factory = meeting().factory
        try:
            ok = sign_in(factory, meeting().throttles.limiter, username,
                         request.form.get("password", ""), request.remote_addr)
        except SignInRefused as exc:
            error = (_("Too many wrong passwords for this account: wait %(minutes)s minutes, "
                       "or set a new password on the server (ballot admin password).",
                       minutes=exc.minutes) if exc.reason == "account" else
                     _("Too many wrong passwords from this device: wait %(minutes)s minutes.",
                       minutes=exc.minutes))
            return render_template("admin/login.html", error=error), 429
        if ok:
            session.clear()
            session.permanent = True
            session["admin"] = username
            session["sid"] = start_session(factory, username)
            csrf_token()
            target = request.args.get("next", "")
            if not target.startswith("/admin") or target.startswith("//"):
                target = url_for("admin.meetings")
            return redirect(target)
        error = _("Wrong username or password.")
    return render_template("admin/login.html", error=error), 401 if error else 200


@admin.post("/logout")
@login_required
def logout():
    from .signin import end_session

    end_session(meeting().factory, session.get("sid"))  # a copy of the cookie ends too
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("admin.login"))


# -- the list ----------------------------------------------------------------------------------


@admin.get("/")
@login_required
def meetings():
    with transaction(meeting().factory, read_only=True) as s:
        rows = [{"slug": e.slug, "title": e.title, "status": e.status, "created_at": e.created_at,
                 "organisation": json.loads(e.manifest_json).get("organisation", "")
                 if e.manifest_json else ""}
                for e in s.execute(select(Election).order_by(Election.created_at.desc())).scalars()]
    return render_template("admin/meetings.html", meetings=rows)


# -- create ------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c))


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", _fold(text).lower()).strip("-")
    return slug[:48].strip("-") or "hop"


def _slug_taken(slug: str) -> bool:
    with transaction(meeting().factory, read_only=True) as s:
        return s.execute(select(Election.id).where(Election.slug == slug)).first() is not None


def _preset(name: str, form: Any) -> Any:
    """The preset with the form's options, through the same path as a counts file's header
    (``preset_with_options``: only the options named change the preset's rules)."""
    options: dict[str, Any] = {"base": form.get("base") if form.get("base") in BASES else BASES[0]}
    for option in RULE_OPTIONS:
        if form.get(option) == "on":
            options[option] = True
    if form.get("quota_base") == "on":
        options["quota_base"] = "against_and_above"
    return preset_with_options(name, options)


def _nfc(value: str) -> str:
    """Form text in Unicode NFC, like every other entrance (CSV files, counts files)."""
    return unicodedata.normalize("NFC", value)


def _csv_problems(exc: CsvImportError, what: str) -> list[str]:
    out = []
    for p in exc.problems:
        if p.line is None:
            out.append(_("%(file)s: %(reason)s", file=what, reason=p.reason))
        else:
            out.append(_("%(file)s, line %(line)s: %(reason)s", file=what, line=p.line,
                         reason=p.reason))
    return out


@admin.route("/new", methods=["GET", "POST"])
@login_required
def new_meeting():
    form = request.form if request.method == "POST" else {
        "date": i18n_today(), "preset": "branch_qd366", "threshold": "2",
        "meeting_kind": "branch_members", "base": BASES[0]}
    if request.method == "GET":
        return render_template("admin/new.html", form=form, errors=[], presets=PRESETS,
                               kinds=MEETING_KINDS, bases=BASES)
    errors: list[str] = []
    title = _nfc(form.get("title", "").strip())
    organisation = _nfc(form.get("organisation", "").strip())
    day = form.get("date", "").strip()
    preset_name = form.get("preset", "")
    kind = form.get("meeting_kind", "")
    slug = form.get("slug", "").strip().lower()
    names = [_nfc(n.strip()) for n in form.get("trustees", "").splitlines() if n.strip()]
    if not title:
        errors.append(_("Give the meeting a title."))
    if not organisation:
        errors.append(_("Name the organisation."))
    try:
        _date.fromisoformat(day)
    except ValueError:
        errors.append(_("The date must be a day (YYYY-MM-DD)."))
    if preset_name not in PRESETS:
        errors.append(_("Choose a level set and rules."))
        preset_name = "branch_qd366"
    if kind not in MEETING_KINDS:
        kind = PRESET_KINDS.get(preset_name, "custom")
    try:
        threshold = int(form.get("threshold", ""))
    except ValueError:
        threshold = 0
    if not names:
        errors.append(_("Name the trustees (the vote-counting committee), one per line."))
    elif len(set(names)) != len(names):
        errors.append(_("Two trustees have the same name."))
    if names and not 1 <= threshold <= len(names):
        errors.append(_("k (trustees needed to decrypt) must be between 1 and %(n)s.",
                        n=len(names)))
    if slug and not _SLUG.match(slug):
        errors.append(_("The short name may only use a-z, 0-9 and '-'."))
    try:
        levels, rules = _preset(preset_name, form)
    except ManifestError as exc:
        errors.append(_("The counting rules are not valid: %(reason)s", reason=str(exc)))
        levels, rules = PRESETS[preset_name]()

    roll_rows = units_rows = None
    roll_file, units_file = request.files.get("roll"), request.files.get("units")
    if not roll_file or not roll_file.filename:
        errors.append(_("Upload the roll (CSV)."))
    else:
        try:
            roll_rows = parse_roll_csv(roll_file.read())
        except CsvImportError as exc:
            errors += _csv_problems(exc, _("Roll file"))
    if not units_file or not units_file.filename:
        errors.append(_("Upload the units to classify (CSV)."))
    else:
        try:
            units_rows = parse_units_csv(units_file.read(), levels=list(levels.codes))
        except CsvImportError as exc:
            errors += _csv_problems(exc, _("Units file"))

    manifest_args = None
    if not errors and roll_rows is not None and units_rows is not None:
        roll = [ManifestRollEntry(r.roll_id, r.name, r.status, r.reason) for r in roll_rows]
        units = [ManifestUnit(unit_id=u.unit_id, name=u.name, kind=u.kind, group=u.group,
                              self_level=u.self_level, proposed_level=u.proposed_level,
                              score=u.score, collective=u.collective, disciplined=u.disciplined,
                              outstanding=u.outstanding, head=u.head) for u in units_rows]
        manifest_args = dict(title=title, organisation=organisation, date=day,
                             meeting_kind=kind, levels=levels, rules=rules, roll=roll,
                             units=units)
        try:  # every check of the manifest before anything is written
            Manifest(**manifest_args, trustees=Trustees(tuple(names), threshold))
            if not any(e.status == "official" for e in roll):
                raise ManifestError("roll: no official member, so nobody can vote")
        except (ManifestError, ValueError) as exc:
            errors.append(_("The meeting is not valid: %(reason)s", reason=str(exc)))
    if not errors:
        if not slug:
            base = _slugify(f"{organisation} {day[:4]}")
            slug, n = base, 2
            while _slug_taken(slug):
                slug, n = f"{base}-{n}", n + 1
        elif _slug_taken(slug):
            errors.append(_("The short name %(slug)s is already used by another meeting.",
                            slug=slug))
    if errors:
        return render_template("admin/new.html", form=form, errors=errors, presets=PRESETS,
                               kinds=MEETING_KINDS, bases=BASES), 422
    try:
        codes = meeting().create(slug=slug, trustee_names=names, threshold=threshold,
                                 **manifest_args)
    except (ServiceError, StoreError, ManifestError, ValueError) as exc:
        errors.append(_("The meeting is not valid: %(reason)s", reason=str(exc)))
        return render_template("admin/new.html", form=form, errors=errors, presets=PRESETS,
                               kinds=MEETING_KINDS, bases=BASES), 422
    name = f"{slug}.trustees"
    _remember_stash(name, stash().seal(name, [[i, n, codes[n]] for i, n in enumerate(names, 1)]))
    flash(_("Meeting created. Check it, then begin the key ceremony."), "info")
    return redirect(url_for("admin.meeting_page", slug=slug))


# -- one meeting -------------------------------------------------------------------------------


def _view(slug: str) -> dict[str, Any]:
    m = meeting()
    try:
        state = m.ceremony_state(slug)
    except ServiceError as exc:
        abort(exc.status, str(exc))
    manifest = state["manifest"]
    if state["status"] == "closed":  # help the checker finish; idempotent
        m.finish_close(slug, budget=2.0)
    counters = m.counters(slug)
    with transaction(m.factory, read_only=True) as s:
        election = s.execute(select(Election).where(Election.slug == slug)).scalar_one()
        kinds = [t.kind for t in s.execute(select(Tally).where(
            Tally.election_id == election.id)).scalars()]
        times = {"created_at": election.created_at, "opened_at": election.opened_at,
                 "closed_at": election.closed_at}
        base_hash = election.base_hash
    roll = manifest["roll"]
    return {
        "slug": slug,
        "status": state["status"],
        "manifest": manifest,
        "manifest_hash": state["manifest_hash"],
        "base_hash": base_hash,
        "trustees": state["trustees"],
        "threshold": state["threshold"],
        "counters": counters,
        "roll_counts": {s: sum(1 for e in roll if e["status"] == s)
                        for s in ("official", "probationary", "excluded")},
        "decryptions": kinds.count("partial_decryption"),
        "checks_done": "aggregate" in kinds,
        "paper_entered": "paper_counts" in kinds,
        "record_ready": m.record_path(slug).exists(),
        "trustee_codes_waiting": stash().exists(f"{slug}.trustees"),
        "slips_available": stash().exists(f"{slug}.invitations")
        and _stash_key(f"{slug}.invitations") is not None,
        "slips_elsewhere": stash().exists(f"{slug}.invitations")
        and _stash_key(f"{slug}.invitations") is None,
        "rounds": m.rounds(slug),
        "paper_instead": m.paper_instead(slug) if state["status"] in ("open", "closed") else None,
        "close": m.close_state(slug),
        **times,
    }


@admin.get("/m/<slug>")
@login_required
def meeting_page(slug: str):
    view = _view(slug)
    return render_template("admin/meeting.html", m=view,
                           ceremony_ready=all(t["public"] and t["accepted"] for t in view["trustees"]),
                           public_url=public_base_url())


def _step(slug: str, action, done: str):
    try:
        result = action()
    except (ServiceError, StoreError, ValueError) as exc:
        _fail(exc)
        return None
    flash(done, "info")
    return result if result is not None else True


@admin.post("/m/<slug>/begin")
@login_required
def begin(slug: str):
    if _step(slug, lambda: meeting().begin_ceremony(slug),
             _("The key ceremony has begun.")):
        if meeting().rounds(slug)["round"] == 2:  # the trustees keep their access codes
            return redirect(url_for("admin.meeting_page", slug=slug))
        return redirect(url_for("admin.trustee_codes", slug=slug))
    return redirect(url_for("admin.meeting_page", slug=slug))


@admin.get("/m/<slug>/trustee-codes")
@login_required
def trustee_codes(slug: str):
    view = _view(slug)
    name = f"{slug}.trustees"
    codes = stash().open(name, _stash_key(name)) if view["status"] == "key_ceremony" else None
    if codes is not None:
        _forget_stash(name)  # shown once
    return render_template("admin/trustee_codes.html", m=view, codes=codes,
                           trustee_url=f"{public_base_url()}/t/{slug}")


@admin.post("/m/<slug>/trustee/<int:index>/new-code")
@login_required
def new_trustee_code(slug: str, index: int):
    """A new access code for a trustee who lost theirs (before they publish keys), shown
    once, in this answer only."""
    made = _step(slug, lambda: meeting().new_trustee_code(slug, index),
                 _("A new access code was made; the old one no longer works."))
    if not isinstance(made, tuple):
        return redirect(url_for("admin.meeting_page", slug=slug))
    name, code = made
    return render_template("admin/trustee_codes.html", m=_view(slug), codes=[[index, name, code]],
                           trustee_url=f"{public_base_url()}/t/{slug}")


@admin.post("/m/<slug>/finish")
@login_required
def finish(slug: str):
    _step(slug, lambda: meeting().finish_ceremony(slug), _("The key ceremony is finished."))
    return redirect(url_for("admin.meeting_page", slug=slug))


@admin.post("/m/<slug>/open")
@login_required
def open_voting(slug: str):
    if meeting().rounds(slug)["round"] == 2:
        # A second round: every member already holds the slip of the first round.
        codes = _step(slug, lambda: meeting().open_voting(slug),
                      _("Voting is open. Members vote with the slips of the first round."))
        if not codes:
            return redirect(url_for("admin.meeting_page", slug=slug))
    else:
        codes = _step(slug, lambda: meeting().open_voting(slug),
                      _("Voting is open. Print the invitation slips now."))
    if isinstance(codes, dict):
        stash().drop(f"{slug}.trustees")
        name = f"{slug}.invitations"
        _remember_stash(name, stash().seal(name, codes))
        return redirect(url_for("admin.slips", slug=slug))
    return redirect(url_for("admin.meeting_page", slug=slug))


def _slips(slug: str):
    view = _view(slug)
    name = f"{slug}.invitations"
    codes = stash().open(name, _stash_key(name))
    if codes is None:
        return view, None
    official = [e for e in view["manifest"]["roll"] if e["status"] == "official"]
    return view, make_slips(public_base_url(), slug, official, codes)


@admin.get("/m/<slug>/slips")
@login_required
def slips(slug: str):
    view, items = _slips(slug)
    base = public_base_url()
    qr = {s.roll_id: qr_svg_data_uri(s.url) for s in items or ()}
    return render_template("admin/slips.html", m=view, slips=items, qr=qr, base_url=base,
                           loopback=is_loopback_url(base))


@admin.get("/m/<slug>/slips.pdf")
@login_required
def slips_pdf_download(slug: str):
    view, items = _slips(slug)
    if items is None:
        abort(404, _("The invitation codes are no longer here."))
    manifest = view["manifest"]
    pdf = slips_pdf(items, title=manifest["title"], organisation=manifest["organisation"],
                    labels={"scan": _("Scan the QR code with the phone's camera,"),
                            "or_open": _("or open the address"),
                            "and_type": _("and type the code:"),
                            "secret": _("Keep this code secret. It works only once.")})
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{slug}-slips.pdf"'})


@admin.post("/m/<slug>/slips/destroy")
@login_required
def destroy_slips(slug: str):
    _forget_stash(f"{slug}.invitations")
    flash(_("The invitation codes are destroyed."), "info")
    return redirect(url_for("admin.meeting_page", slug=slug))


#: Seconds the close request (and each view of a meeting still being checked) spends
#: checking ballots itself, besides the background checker.
CLOSE_BUDGET = 5.0


def _count(form: Any, name: str, errors: list[str], label: str) -> int:
    raw = (form.get(name) or "0").strip()
    if not raw.isdigit():
        errors.append(_("%(field)s: a whole number of 0 or more.", field=label))
        return 0
    return int(raw)


@admin.post("/m/<slug>/close")
@login_required
def close(slug: str):
    """Close voting with the attendance and the paper figures, fixed now, before any trustee
    decrypts (docs/protocol.md): they go into the audit log and onto the projector."""
    form, errors = request.form, []
    raw = (form.get("present") or "").strip()
    present = _count(form, "present", errors, _("Members present")) if raw else None
    paper = {k: _count(form, f"paper_{k}", errors, label) for k, label in (
        ("voters", _("Members who voted on paper")),
        ("ballots_issued", _("Paper ballots issued")),
        ("ballots_valid", _("Valid paper ballots")),
        ("ballots_invalid", _("Invalid paper ballots")))}
    if errors:
        for e in errors:
            flash(e, "error")
        return redirect(url_for("admin.meeting_page", slug=slug))
    # Closed at once; the ballots still unchecked are checked here for a few seconds, the
    # background checker does the rest and the page shows the progress until it is done.
    if _step(slug, lambda: meeting().close_voting(slug, present=present, paper=paper,
                                                  wait=False),
             _("Voting is closed. The attendance and the board's final state are on the "
               "projector.")):
        _forget_stash(f"{slug}.invitations")
        meeting().finish_close(slug, budget=CLOSE_BUDGET)
    return redirect(url_for("admin.meeting_page", slug=slug))


@admin.route("/m/<slug>/paper", methods=["GET", "POST"])
@login_required
def paper(slug: str):
    view = _view(slug)
    manifest = view["manifest"]
    codes = [lv["code"] for lv in manifest["levels"]]
    errors: list[str] = []
    form = request.form if request.method == "POST" else {}
    close = view["close"]
    if close is None:
        abort(409, _("Close voting first: the paper figures are entered at the close."))
    figures = close["paper"]
    if request.method == "POST":
        counts = []
        for i, unit in enumerate(manifest["units"]):
            row = {"unit_id": unit["unit_id"],
                   "votes": {c: _count(form, f"u{i}_{c}", errors, f"{unit['name']} ({c})")
                             for c in codes},
                   "abstain": _count(form, f"u{i}_abstain", errors, unit["name"]),
                   "blank": _count(form, f"u{i}_blank", errors, unit["name"])}
            total = sum(row["votes"].values()) + row["abstain"] + row["blank"]
            if total != figures["ballots_valid"]:
                errors.append(_("%(unit)s: %(total)s marks, but %(valid)s valid paper ballots "
                                "(every valid ballot counts once per row).",
                                unit=unit["name"], total=total, valid=figures["ballots_valid"]))
            counts.append(row)
        if not errors:
            try:
                meeting().enter_paper_counts(slug, {"counts": counts})
            except (ServiceError, StoreError) as exc:
                errors.append(str(exc))
            else:
                flash(_("The paper counts are entered."), "info")
                return redirect(url_for("admin.meeting_page", slug=slug))
    return render_template("admin/paper.html", m=view, codes=codes, form=form,
                           figures=figures, errors=errors), 422 if errors else 200


@admin.post("/m/<slug>/finalize")
@login_required
def finalize(slug: str):
    """Finish the tally: write the record and verify it, showing the verification's progress
    as it goes (a streamed page: tens of seconds for 100 × 100); the results and minutes are
    then shown from that verified record at once."""
    import queue
    import threading

    view = _view(slug)
    page = render_template("admin/finalize.html", m=view)
    head, _sep, tail = page.partition("<!--progress-->")
    events: queue.Queue = queue.Queue()
    m = meeting()

    def work() -> None:
        try:
            m.finalize(slug, progress=lambda done, total: events.put(("progress", done, total)))
        except (ServiceError, StoreError, ValueError) as exc:
            events.put(("error", str(exc), 0))
            return
        events.put(("done", "", 0))
        try:  # make the PDF minutes now, so that the secretary's first download is immediate
            v = m.verified_record(slug)
            _minutes_pdf_bytes(v, {**(m.second_round_minutes(slug) or {}), "verification": v.line})
        except (ServiceError, ValueError):
            pass

    threading.Thread(target=work, daemon=True).start()
    texts = {"progress": _("Verifying the record: %(done)s of %(total)s ballots checked"),
             "done": _("The tally is finished; the record is written and verified."),
             "error": _("The tally could not be finished: %(reason)s")}

    def stream():
        yield head
        last = -1
        while True:
            kind, a, b = events.get()
            if kind == "progress":
                step = max(b // 20, 1)
                if a == b or a // step != last:
                    last = a // step
                    yield (f'<li class="progress">'
                           f'{escape(texts["progress"] % {"done": a, "total": b})}</li>\n')
                continue
            if kind == "done":
                yield f'<li class="done" id="finalize-done">{escape(texts["done"])}</li>\n'
            else:
                yield (f'<li class="error" id="finalize-error">'
                       f'{escape(texts["error"] % {"reason": a})}</li>\n')
            break
        yield tail

    return Response(stream_with_context(stream()), mimetype="text/html",
                    headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"})


@admin.post("/m/<slug>/second-round")
@login_required
def second_round(slug: str):
    """Hold the second round (ballot B) of a finalized first round: a new meeting, linked."""
    new = _step(slug, lambda: meeting().create_second_round(slug, today=i18n_today()),
                _("The second round is created. The trustees hold a new key ceremony with "
                  "their first-round access codes; members vote with their first-round slips."))
    if isinstance(new, str):
        return redirect(url_for("admin.meeting_page", slug=new))
    return redirect(url_for("admin.meeting_page", slug=slug))


@admin.post("/m/<slug>/publish")
@login_required
def publish(slug: str):
    _step(slug, lambda: meeting().publish(slug), _("The record is published."))
    return redirect(url_for("admin.meeting_page", slug=slug))


@admin.get("/m/<slug>/record")
@login_required
def record(slug: str):
    path = meeting().record_path(slug)
    if not path.exists():
        abort(404, _("The record is written when the tally is finished."))
    return send_file(path, mimetype="application/json", as_attachment=True,
                     download_name=f"{slug}.record.json")


def _minutes_lang() -> str:
    """The minutes are Vietnamese; ``?lang=en`` asks for the separate English version."""
    return "en" if request.args.get("lang") == "en" else "vi"


def _minutes_source(slug: str) -> tuple[Any, dict[str, Any]]:
    """The verified record (cached by its SHA-256: verified once, at finalize) and what the
    minutes add to it: the verification line of each round's own record. Never the database's
    tallies (docs/web.md, "Results and minutes")."""
    try:
        v = meeting().verified_record(slug)
        extra = meeting().second_round_minutes(slug) or {}
    except ServiceError as exc:
        abort(exc.status, str(exc))
    from .verifier import page_fingerprint, release_fingerprint

    # The observers' verifier page and the served files' fingerprints (docs/web.md,
    # "Observers"): printed in the minutes so a saved copy can be checked against them.
    return v, {**extra, "verification": v.line, "verifier_fingerprint": page_fingerprint(),
               "release_fingerprint": release_fingerprint()}


_PDF_CACHE: dict[str, bytes] = {}


def _minutes_pdf_bytes(v: Any, extra: dict[str, Any]) -> bytes:
    """The PDF minutes of a verified record, kept in this process's memory by the record's
    SHA-256 and what the minutes add (never on disk, where the operator could edit them)."""
    from ballot.tally.minutes import render_minutes_pdf

    key = hashlib.sha256(json.dumps([v.sha256, extra], sort_keys=True).encode()).hexdigest()
    pdf = _PDF_CACHE.get(key)
    if pdf is None:
        pdf = render_minutes_pdf(v.record, v.report, meeting=extra)
        if len(_PDF_CACHE) > 16:
            _PDF_CACHE.clear()
        _PDF_CACHE[key] = pdf
    return pdf


def _minutes_html(slug: str, css_href: str | None = None, lang: str = "vi") -> str:
    from ballot.tally.minutes import render_minutes_html

    v, extra = _minutes_source(slug)
    try:
        return render_minutes_html(v.record, v.report, css_href=css_href, meeting=extra,
                                   lang=lang)
    except ValueError as exc:
        abort(409, _("The minutes cannot be written: %(reason)s", reason=str(exc)))


@admin.get("/m/<slug>/minutes")
@login_required
def minutes(slug: str):
    """The minutes as a page (print it from the browser)."""
    return Response(_minutes_html(slug, url_for("admin.minutes_css", slug=slug), _minutes_lang()),
                    mimetype="text/html")


@admin.get("/m/<slug>/minutes.css")
@login_required
def minutes_css(slug: str):
    from ballot.tally.minutes import MINUTES_CSS

    return Response(MINUTES_CSS, mimetype="text/css")


@admin.get("/m/<slug>/minutes.html")
@login_required
def minutes_html(slug: str):
    lang = _minutes_lang()
    name = f"{slug}-minutes{'-en' if lang == 'en' else ''}.html"
    return Response(_minutes_html(slug, lang=lang), mimetype="text/html", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


@admin.get("/m/<slug>/minutes.pdf")
@login_required
def minutes_pdf(slug: str):
    v, extra = _minutes_source(slug)
    try:
        pdf = _minutes_pdf_bytes(v, extra)
    except ValueError as exc:
        abort(409, _("The minutes cannot be written: %(reason)s", reason=str(exc)))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{slug}-minutes.pdf"'})


@admin.app_context_processor
def _inject() -> dict[str, Any]:
    return {"admin_user": admin_user()}


from . import admin_paper  # noqa: E402,F401  (its routes join this blueprint)
