"""The JSON API (docs/api.md): what phones, trustees' devices and observers call.

Every refusal is a 4xx JSON body ``{"error": reason}``; nothing accepted is changed by one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request, send_file
from werkzeug.exceptions import HTTPException

from ballot.service.meeting import Meeting, ServiceError
from ballot.store.errors import StoreError

api = Blueprint("api", __name__, url_prefix="/api/v1")


def meeting() -> Meeting:
    return current_app.extensions["ballot.meeting"]


def body() -> dict[str, Any]:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # json's parser recurses per level: 200,000 "[" would be a 500
        raise ServiceError("the JSON is nested too deeply", 400) from None
    if not isinstance(data, dict):
        raise ServiceError("send a JSON object (Content-Type: application/json)", 400)
    return data


def field(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise ServiceError(f"missing field {name!r}", 400)
    return data[name]


def trustee_code() -> str:
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        raise ServiceError("trustee requests need 'Authorization: Bearer <access code>'", 401)
    return auth[len("Bearer "):]


@api.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    return jsonify(error=str(exc)), exc.status


@api.errorhandler(StoreError)
def _store_error(exc: StoreError):
    return jsonify(error=str(exc)), 409


@api.errorhandler(RecursionError)
def _too_deep(exc: RecursionError):
    return jsonify(error="the request is nested too deeply"), 400


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return jsonify(error=exc.description), exc.code


@api.get("/openapi.json")
def openapi_json():
    from .openapi import openapi

    return jsonify(openapi())


@api.get("/elections/<slug>")
def election_info(slug: str):
    return jsonify(meeting().public_info(slug))


@api.get("/elections/<slug>/counters")
def counters(slug: str):
    return jsonify(meeting().counters(slug))


@api.post("/elections/<slug>/tokens")
def tokens(slug: str):
    data = body()
    # "credential": the per-round credential the phone derives from the slip's code, which
    # never travels (docs/protocol.md §7.1); "invitation" (the code) is still read from scripts.
    sig = meeting().issue_token(slug, data.get("invitation"), field(data, "blinded_msg"),
                                client=request.remote_addr, credential=data.get("credential"))
    return jsonify(blind_sig=sig)


@api.post("/elections/<slug>/ballots")
def ballots(slug: str):
    data = body()
    receipt = meeting().cast(slug, field(data, "ballot"), client=request.remote_addr)
    return jsonify(receipt=receipt), 201


@api.get("/elections/<slug>/close")
def close_state(slug: str):
    """What was fixed at the close: attendance, paper figures, the board's final head, and the
    audit entry holding them (404 before the close)."""
    state = meeting().close_state(slug)
    if state is None:
        raise ServiceError("voting is not closed yet", 404)
    return jsonify(state)


@api.get("/elections/<slug>/ballots/<int:position>/status")
def ballot_status(slug: str, position: int):
    """One board entry's status (received, valid, invalid): what a phone asks after its
    receipt. Public, like the board."""
    return jsonify(meeting().ballot_status(slug, position))


@api.get("/elections/<slug>/board")
def board(slug: str):
    return jsonify(board=meeting().board(slug))


@api.get("/elections/<slug>/board/ballots")
def board_ballots(slug: str):
    """The whole board with its ballots once voting has closed: what a trustee's device checks
    and sums by itself before decrypting (service/decryption.py)."""
    from ballot.service.decryption import full_board

    return jsonify(full_board(meeting(), slug))


@api.get("/elections/<slug>/record")
def record(slug: str):
    path = meeting().record_path(slug)
    if not path.exists():
        raise ServiceError("the record is written when the tally is finished", 404)
    return send_file(path, mimetype="application/json", as_attachment=True,
                     download_name=f"{slug}.record.json")


# -- trustees ---------------------------------------------------------------------------------


@api.get("/elections/<slug>/ceremony")
def ceremony(slug: str):
    return jsonify(meeting().ceremony_state(slug))


@api.post("/elections/<slug>/trustees/<int:index>/enrol")
def trustee_enrol(slug: str, index: int):
    """First sign-in: the secretary's one-time enrolment code (Bearer) sets the trustee's own
    access code (service/trustee_access.py)."""
    from ballot.service.trustee_access import enrol

    enrol(meeting(), slug, index, trustee_code(), field(body(), "code"))
    return jsonify(ok=True), 201


@api.post("/elections/<slug>/trustees/<int:index>/public")
def trustee_public(slug: str, index: int):
    meeting().submit_trustee_public(slug, index, trustee_code(), field(body(), "public"))
    return jsonify(ok=True), 201


@api.post("/elections/<slug>/trustees/<int:index>/shares")
def trustee_shares(slug: str, index: int):
    meeting().submit_shares(slug, index, trustee_code(), field(body(), "shares"))
    return jsonify(ok=True), 201


@api.get("/elections/<slug>/trustees/<int:index>/shares")
def trustee_inbox(slug: str, index: int):
    return jsonify(shares=meeting().shares_for(slug, index, trustee_code()))


@api.post("/elections/<slug>/trustees/<int:index>/accept")
def trustee_accept(slug: str, index: int):
    complaints = field(body(), "complaints")
    if not isinstance(complaints, list) or not all(
            isinstance(c, dict) and {"sender", "reason"} <= set(c) for c in complaints):
        raise ServiceError("complaints: a list of {sender, reason}")
    meeting().accept_shares(slug, index, trustee_code(), complaints)
    return jsonify(ok=True), 201


@api.post("/elections/<slug>/trustees/<int:index>/approval")
def trustee_approval(slug: str, index: int):
    """The trustee's signed approval of the election fingerprint (service/ceremony.py)."""
    from ballot.service.ceremony import submit_approval

    n = submit_approval(meeting(), slug, index, trustee_code(), field(body(), "approval"))
    return jsonify(ok=True, approvals=n), 201


@api.get("/elections/<slug>/aggregate")
def aggregate(slug: str):
    return jsonify(meeting().aggregate_for_trustees(slug))


@api.post("/elections/<slug>/trustees/<int:index>/decryption")
def trustee_decryption(slug: str, index: int):
    n = meeting().submit_decryption(slug, index, trustee_code(), field(body(), "decryption"))
    return jsonify(ok=True, decryptions=n), 201


# -- the second round (ballot B) ----------------------------------------------------------------


@api.get("/elections/<slug>/rounds")
def rounds(slug: str):
    """How this election is linked to a first or second round (the phone page links them)."""
    return jsonify(meeting().rounds(slug))


@api.get("/elections/<slug>/results.json")
def results_json(slug: str):
    return jsonify(meeting().results(slug))


@api.get("/elections/<slug>/results.csv")
def results_csv(slug: str):
    from flask import Response

    from ballot.tally.report import results_csv as to_csv

    body = to_csv(meeting().results(slug))
    return Response(body, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{slug}-results.csv"'})
