"""The trustee's page (``/t/<slug>``), on the trustee's own device: the key ceremony and the
partial decryption run **in the browser** (docs/web.md, "The trustee page").

The trustee signs in with their number and their own access code; at the first sign-in they
type the secretary's one-time enrolment code and choose their own access code, which replaces
it (service/trustee_access.py: the secretary never holds a working code). The session then
remembers only "trustee i of election s"; the code is not kept. The sign-in's answer is the status page
itself, which hands the code just typed to its script (``static/js/trustee.js`` with
``BallotCrypto.trustee``, docs/js-client.md); after a reload the page asks for it again. The
script keeps it in the page's memory only, to call the same JSON API as the ``ballot trustee`` command
(``ballot/clients/trustee.py``): ``Authorization: Bearer <code>``, no cookie, no CSRF token
needed (``api.py``). Then, step by step:

1. choose a passphrase; the browser draws the polynomial and the Box key, **downloads the key
   file** (exactly ``ballot/tally/trustee_keyfile.py``'s format: argon2id + SecretBox, so the
   CLI opens it and the reverse) and publishes the public part;
2. when every trustee has published: send the shares, each Box-encrypted to its trustee;
3. when every trustee has sent: check the shares addressed to me (or file complaints), download
   the key file again, now with the secret share (and the digest of the trustees' keys the
   shares were checked against), and tell the server;
3b. after the secretary's "Finish": fetch the election context, check that its trustees' keys
   are exactly those (so the joint key is the product of their constant terms), show the
   fingerprint for the committee to compare with the projector, and on confirmation send the
   signed approval (voting opens only once every trustee has approved);
4. after voting closes: open the key file, download the whole board, check it (chain, every
   ballot's token, signature and proofs, no token twice, ballots ≤ tokens issued) and add up
   the aggregate in the browser (never the server's), show the board's head (ballot count,
   last entry hash) for the committee to compare with the projector, and only once the
   trustee confirms, compute every unit's partial decryption with its Chaum–Pedersen proof
   and submit it; the server checks each proof and its
   refusal, if any, is shown as it is. A key file without share (the first one), once this
   trustee accepted its shares, gets its share rebuilt from the shares the server still holds
   (checked as in 3, and against the public share) and is downloaded again with it.

The secrets exist only in the key file and in the tab's memory (never in localStorage,
sessionStorage or IndexedDB, never in a request). The page may compile WebAssembly
(libsodium.js): ``use_wasm()``. ``/t/<slug>/progress`` gives the other trustees' progress for the
page to poll. The ``ballot trustee`` command remains an equivalent alternative.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from flask import (Blueprint, abort, current_app, jsonify, redirect, render_template, request,
                   session, url_for)
from sqlalchemy import select

from ballot.service.meeting import Meeting, ServiceError
from ballot.service.trustee_access import ENROLMENT_ONLY, MIN_CODE, enrol
from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.errors import StoreError
from ballot.store.models import Tally

from .i18n import STATUS_NAMES
from .i18n import gettext as _
from .security import public_base_url, use_wasm

trustee = Blueprint("trustee", __name__, url_prefix="/t")


def meeting() -> Meeting:
    return current_app.extensions["ballot.meeting"]


class _PageError(ValueError):
    """A sign-in refused with a text for the page."""


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
        new, again = request.form.get("new_code", ""), request.form.get("new_code2", "")
        m = meeting()
        try:
            if new or again:  # first sign-in: the enrolment code sets the trustee's own code
                if new != again:
                    raise _PageError(_("The two access codes differ."))
                enrol(m, slug, index, code, new)
                code = "".join(new.split())
            with transaction(m.factory, read_only=True) as s:
                election = repo.get_election(s, slug)
                m.trustee_login(s, election, index, code)
        except _PageError as exc:
            error = str(exc)
        except ServiceError as exc:
            error = (_("First sign-in: this is the secretary's one-time code. Choose your own "
                       "access code below (twice); the secretary's code then stops working.")
                     if str(exc) == ENROLMENT_ONLY else
                     _("Choose an access code of at least %(n)s characters (letters without "
                       "accents, digits, punctuation), other than the secretary's code.",
                       n=MIN_CODE) if exc.status == 400 else
                     _("You have already chosen your own access code: sign in with it.")
                     if exc.status == 409 else _("Unknown trustee or wrong access code."))
        except StoreError:
            error = _("Unknown trustee or wrong access code.")
        else:
            session["trustee"] = {"slug": slug, "index": index}
            # The status page itself, as this POST's answer, with the code just typed handed to
            # its script (memory only; responses are never cached): no second typing.
            return _status_page(slug, handed_code=code)
    return render_template("trustee/login.html", slug=slug, state=state, error=error,
                           min_code=MIN_CODE), \
        401 if error else 200


def _decrypted(slug: str) -> list[int]:
    m = meeting()
    with transaction(m.factory, read_only=True) as s:
        election = repo.get_election(s, slug)
        return sorted(t.trustee_index for t in s.execute(select(Tally).where(
            Tally.election_id == election.id, Tally.kind == "partial_decryption")).scalars())


def _strings() -> dict[str, str]:
    """Texts the page's script shows (static/js/trustee.js has no catalog of its own)."""
    return {
        "loading": _("Loading the cryptography…"),
        "no_wasm": _("This browser cannot run the cryptography (WebAssembly is disabled). Use "
                     "another browser, or the ballot trustee command."),
        "network": _("The server cannot be reached. Check the network and try again."),
        "refused": _("The server refused: %(reason)s"),
        "error": _("Something went wrong: %(reason)s"),
        "code_checking": _("Checking the access code…"),
        "code_ok": _("Access code accepted. It is kept in this page's memory only: after a reload, "
                     "type it again."),
        "code_bad": _("Unknown trustee or wrong access code."),
        "code_first": _("Type your access code first (step 1)."),
        "pass_short": _("The passphrase must have at least 8 characters."),
        "pass_differ": _("The two passphrases differ."),
        "generating": _("Making your keys and locking the key file with your passphrase "
                        "(argon2id, a few seconds)…"),
        "publishing": _("Publishing the public part of your keys…"),
        "keygen_done": _("Your keys are published. Your key file was downloaded as %(file)s: keep "
                         "it and its passphrase safe (a USB stick, not this server)."),
        "opening": _("Opening the key file (argon2id, a few seconds)…"),
        "opened": _("Key file open: trustee %(i)s, secret share: %(share)s. The keys stay in this "
                    "page's memory until you leave it."),
        "yes": _("yes"),
        "not_yet": _("not yet"),
        "wrong_trustee": _("This key file is for trustee %(i)s, not for you."),
        "wrong_election": _("This key file is for another election."),
        "choose_file": _("Choose your key file."),
        "wrong_pass": _("Wrong passphrase, or the key file was altered."),
        "keys_first": _("Open your key file first (with its passphrase)."),
        "sending": _("Encrypting a share for each other trustee and sending them…"),
        "sent": _("Shares sent, each encrypted to its trustee."),
        "checking": _("Checking the shares sent to you against their senders' commitments…"),
        "checked": _("Every share checked. Your key file, now with your secret share, was "
                     "downloaded as %(file)s: keep this one (it replaces the first) for the count."),
        "complaints": _("Shares rejected: %(list)s. The ceremony cannot finish: tell the secretary."),
        "approve_checking": _("Checking the election key against the keys your shares were "
                              "checked against…"),
        "approve_refused": _("Do not approve: %(reason)s. Tell the committee and the secretary."),
        "fingerprint_rejected": _("Not approved. Tell the committee and the secretary."),
        "approved": _("Approval sent: you approved this election fingerprint."),
        "wait_finish": _("Waiting for the secretary to finish the key ceremony."),
        "fetching": _("Downloading the whole board…"),
        "checking_board": _("Checking every ballot on the board (token, signature, proofs, hash "
                            "chain) and adding up the totals: %(done)s/%(total)s ballots…"),
        "board_checked": _("Board checked: %(n)s ballots (%(tokens)s tokens issued). Compare the "
                           "number of ballots and the head below with the projector and with "
                           "the number of members who voted before you decrypt."),
        "board_refused": _("The board does not check, nothing was decrypted: %(reason)s. Tell "
                           "the committee and the secretary."),
        "head_rejected": _("Not confirmed: nothing was decrypted. Tell the committee and the "
                           "secretary."),
        "decrypting": _("Decrypting the totals with proofs: %(done)s/%(total)s units…"),
        "submitting": _("Sending your partial decryption…"),
        "decrypted": _("Partial decryption accepted; %(n)s trustee(s) have decrypted so far."),
        "no_share": _("This key file has no secret share: check the shares you received first."),
        "rebuilding": _("This key file has no secret share yet: rebuilding it from the shares sent "
                        "to you, each checked against its sender's commitments…"),
        "rebuilt": _("Your secret share was rebuilt from the shares sent to you and matches your "
                     "public share. Your key file with the share was downloaded again as "
                     "%(file)s: keep this one for the count."),
        "rebuild_keys": _("This key file does not hold the keys published for you in this "
                          "election: open the key file you made for it."),
        "rebuild_shares": _("The shares sent to you do not check (%(list)s): your secret share "
                            "cannot be rebuilt. Tell the secretary."),
        "rebuild_mismatch": _("The shares sent to you do not give your public share: a wrong key "
                              "file, or the shares were altered. Nothing was sent."),
        "waiting_for": _("Waiting for trustees %(list)s."),
        "done": _("Done."),
        "not_now": _("Not at this stage."),
        "updated": _("Updated %(time)s."),
        **{f"status:{k}": _(v) for k, v in STATUS_NAMES.items()},
    }


@trustee.get("/<slug>/status")
@trustee_required
def status(slug: str):
    return _status_page(slug)


def _status_page(slug: str, handed_code: str | None = None) -> str:
    state = _state(slug)
    index = _signed_in(slug)
    me = next((t for t in state["trustees"] if t["index"] == index), None)
    if me is None:
        abort(404)
    use_wasm()
    return render_template("trustee/status.html", slug=slug, state=state, me=me,
                           decrypted=_decrypted(slug), server=public_base_url(),
                           strings=_strings(), handed_code=handed_code)


@trustee.get("/<slug>/progress")
@trustee_required
def progress(slug: str):
    """The ceremony's progress for the page to poll: no manifest, no keys, no code."""
    state = _state(slug)
    decrypted = _decrypted(slug)
    return jsonify(status=state["status"], threshold=state["threshold"],
                   finished=state["base_hash"] is not None, trustees=[{
        "index": t["index"], "name": t["name"], "published": t["public"] is not None,
        "shares_sent": t["shares_sent"], "accepted": t["accepted"], "approved": t["approved"],
        "decrypted": t["index"] in decrypted} for t in state["trustees"]])


@trustee.post("/<slug>/logout")
@trustee_required
def logout(slug: str):
    session.pop("trustee", None)
    return redirect(url_for("trustee.login", slug=slug))
