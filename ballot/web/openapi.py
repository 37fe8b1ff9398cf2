"""The OpenAPI 3.1 description of the JSON API, served at ``/api/v1/openapi.json``.

A test checks that every route of the ``api`` blueprint is described here and that every
described operation exists, so the description cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

B64 = {"type": "string", "pattern": "^[A-Za-z0-9_-]*$",
       "description": "base64url without padding (docs/protocol.md §1.3)"}
HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}


def _op(summary: str, *, body: dict | None = None, ok: int = 200, trustee: bool = False,
        errors: tuple[int, ...] = (400, 404, 409)) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {str(ok): {"description": "OK", "content": {"application/json": {}}}},
    }
    for code in errors + ((401, 403) if trustee else ()):
        op["responses"][str(code)] = {
            "description": "refused, with the reason",
            "content": {"application/json": {"schema": ERROR}}}
    if body is not None:
        op["requestBody"] = {"required": True,
                             "content": {"application/json": {"schema": body}}}
    if trustee:
        op["security"] = [{"trusteeCode": []}]
    return op


def _obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "required": sorted(props), "properties": props}


BALLOT = _obj(
    version={"const": "ballot/v1/ballot"}, election=HEX64,
    token=_obj(message=B64, signature=B64), units={"type": "array", "items": B64},
    signature=B64)
# Ballot B of a second round also carries one "at most K agree" proof per group (required
# exactly when the election's manifest has ballot_b; docs/protocol.md §8.5).
BALLOT["properties"]["limits"] = {"type": "array", "items": B64}

# The phone sends "credential", the per-round credential of the slip's code (docs/protocol.md
# §7.1: 64 hex digits), never the code; "invitation" (the code itself) is read from scripts.
TOKEN_REQUEST = _obj(credential=HEX64, blinded_msg=B64)
TOKEN_REQUEST["properties"]["invitation"] = {"type": "string"}
TOKEN_REQUEST["required"] = ["blinded_msg"]

SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
INDEX = {"name": "index", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
POSITION = {"name": "position", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1}}

PATHS: dict[str, dict[str, Any]] = {
    "/elections/{slug}": {"get": _op("Election info for phones: manifest, context, fingerprint, receipt key")},
    "/elections/{slug}/counters": {"get": _op(
        "Counts only (projector): eligible, tokens, ballots (received), checked, valid, "
        "invalid, unchecked")},
    "/elections/{slug}/tokens": {"post": _op(
        "Redeem an invitation once and blind-sign the voter's blinded token message",
        body=TOKEN_REQUEST, errors=(400, 403, 404, 409, 413, 429))},
    "/elections/{slug}/ballots": {"post": _op(
        "Cast an encrypted ballot: received after the cheap checks (token, signature, "
        "encodings); returns the signed receipt after the commit. The proofs are checked "
        "in the background (see .../ballots/{position}/status)",
        body=_obj(ballot=BALLOT), ok=201, errors=(400, 404, 409, 413, 422, 429))},
    "/elections/{slug}/ballots/{position}/status": {"get": _op(
        "A board entry's status: received (not checked yet), valid, or invalid with the "
        "reason; with its tracking code and entry hash", errors=(400, 404))},
    "/elections/{slug}/close": {"get": _op(
        "What was fixed at the close, before any decryption: attendance, paper figures, the "
        "board's final head (ballots, last entry hash), the audit entry's seq and hash")},
    "/elections/{slug}/board": {"get": _op(
        "The bulletin board: positions, tracking codes, hashes, and each entry's status "
        "(received, valid, invalid with the reason)")},
    "/elections/{slug}/board/ballots": {"get": _op(
        "The whole board with its ballots, once voting has closed (trustees check it and "
        "recompute the aggregate themselves)", errors=(404, 409))},
    "/elections/{slug}/record": {"get": _op("The election record (once tallied)")},
    "/elections/{slug}/ceremony": {"get": _op("Key ceremony state")},
    "/elections/{slug}/trustees/{index}/enrol": {"post": _op(
        "First sign-in: with the secretary's one-time enrolment code as the bearer, set the "
        "trustee's own access code (at least 10 characters); the enrolment code then stops working",
        body=_obj(code={"type": "string"}), ok=201, trustee=True)},
    "/elections/{slug}/trustees/{index}/public": {"post": _op(
        "A trustee publishes its commitments, proofs and Box key",
        body=_obj(public={"type": "object"}), ok=201, trustee=True)},
    "/elections/{slug}/trustees/{index}/shares": {
        "post": _op("A trustee sends its shares, each Box-encrypted to its recipient",
                    body=_obj(shares={"type": "array", "items": _obj(recipient={"type": "integer"},
                                                                     ciphertext=B64)}),
                    ok=201, trustee=True),
        "get": _op("The shares addressed to this trustee", trustee=True)},
    "/elections/{slug}/trustees/{index}/accept": {"post": _op(
        "A trustee accepts its shares, or complains about a sender",
        body=_obj(complaints={"type": "array", "items": _obj(sender={"type": "integer"},
                                                             reason={"type": "string"})}),
        ok=201, trustee=True)},
    "/elections/{slug}/trustees/{index}/approval": {"post": _op(
        "A trustee approves the election fingerprint: a Schnorr signature with its ceremony key "
        "over the base hash (docs/protocol.md, \"Trustee approvals\")",
        body=_obj(approval=_obj(trustee={"type": "integer"}, base_hash=HEX64, signature=B64)),
        ok=201, trustee=True, errors=(400, 404, 409, 422))},
    "/elections/{slug}/aggregate": {"get": _op(
        "The per-unit aggregate ciphertexts (after closing), recomputed from the board; "
        "trustees' devices do not use it")},
    "/elections/{slug}/trustees/{index}/decryption": {"post": _op(
        "A trustee's partial decryptions of the aggregate, with proofs",
        body=_obj(decryption=_obj(trustee={"type": "integer"},
                                  units={"type": "array", "items": B64})),
        ok=201, trustee=True, errors=(400, 404, 409, 422))},
    "/elections/{slug}/rounds": {"get": _op(
        "The link between a first round and its second round (ballot B): round, first_round, "
        "second_round, second_round_status, candidates")},
    "/elections/{slug}/results.json": {"get": _op("Counts and results (once tallied)")},
    "/elections/{slug}/results.csv": {"get": _op("Counts and results as CSV (UTF-8 BOM, ';')")},
}

for path, ops in PATHS.items():
    for op in ops.values():
        op["parameters"] = [SLUG] + ([INDEX] if "{index}" in path else []) + \
            ([POSITION] if "{position}" in path else [])


def openapi() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "ballot JSON API", "version": "1",
                 "description": "Byte formats: docs/protocol.md. Every refusal is a 4xx with "
                                "a JSON body {\"error\": reason}."},
        "servers": [{"url": "/api/v1"}],
        "components": {"securitySchemes": {"trusteeCode": {
            "type": "http", "scheme": "bearer",
            "description": "the trustee's access code from the secretary"}}},
        "paths": PATHS,
    }
