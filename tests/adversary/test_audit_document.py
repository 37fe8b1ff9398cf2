"""The audit (Benaloh challenge) document, at the Python level: what the phone and
``ballot.clients.voter`` write holds an unsigned ballot body (docs/protocol.md §8.4), which the
server refuses to accept as a ballot, while ``ballot verify-audit`` checks it; the member's
real ballot, signed only at Cast, goes through."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from nacl.signing import SigningKey

from ballot.cli import main
from ballot.clients.http import ApiError, Http
from ballot.clients.voter import (
    audit_document,
    cast,
    fetch_election,
    obtain_token,
    seal,
    seal_unsigned,
)
from ballot.crypto.ballots import BallotError, ballot_from_json, sign_ballot
from ballot.crypto.encoding import b64encode
from tests.service.test_meeting_flow import SLUG, open_with_one_trustee, server  # noqa: F401

BODY_KEYS = {"version", "election", "token", "units"}


def test_the_audit_document_is_unsigned_verifiable_and_not_castable(server, tmp_path):  # noqa: F811
    meeting, base_url = server
    _, _, slips = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    token, key = obtain_token(http, election, slips["A1"])
    choices = [0, 1, 2, 3, None, 1, 1, 1]
    body, opened = seal_unsigned(election, token, choices)
    doc = audit_document(election, body, opened)

    assert doc["version"] == "ballot/v1/audit" and doc["tracking_code"] == body.tracking_code
    assert set(doc["ballot"]) == BODY_KEYS, "the audit document must not carry a signature"
    # strict decoding: a body is not a ballot, and a ballot is not a body
    with pytest.raises(BallotError, match="missing"):
        ballot_from_json(doc["ballot"], election.ctx.shape)
    with pytest.raises(BallotError, match="unexpected"):
        ballot_from_json({**doc["ballot"], "signature": "x"}, election.ctx.shape, signed=False)
    with pytest.raises(ValueError, match="unsigned"):
        audit_document(election, sign_ballot(body, key), opened)

    # ballot verify-audit checks it (against the server's election) ...
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(main, ["verify-audit", str(path), "--server", base_url, "--election", SLUG])
    assert ok.exit_code == 0 and "Audit OK" in ok.output and "SIGNED" not in ok.output, ok.output
    # ... and catches a choice that is not the encrypted one
    lie = dict(doc, audit={**doc["audit"], "choices": [1] + choices[1:]})
    path.write_text(json.dumps(lie), encoding="utf-8")
    bad = runner.invoke(main, ["verify-audit", str(path), "--server", base_url, "--election", SLUG])
    assert bad.exit_code != 0 and "unit 1" in bad.output
    # an older phone's file (signed) still checks, with a warning
    signed_doc = dict(doc, ballot=sign_ballot(body, key).to_json())
    path.write_text(json.dumps(signed_doc), encoding="utf-8")
    old = runner.invoke(main, ["verify-audit", str(path), "--server", base_url, "--election", SLUG])
    assert old.exit_code == 0 and "SIGNED" in old.output

    # The holder of the audit data tries to cast: as it is, and signed by a key of their own.
    with pytest.raises(ApiError) as e:
        http.post(f"/api/v1/elections/{SLUG}/ballots", {"ballot": doc["ballot"]})
    assert e.value.status == 422 and "signature" in e.value.message
    # (the member's key is not in the document: the attacker signs with one of their own)
    stranger = SigningKey.generate()
    forged = {**doc["ballot"], "signature": b64encode(stranger.sign(body.ballot_hash).signature)}
    with pytest.raises(ApiError) as e:
        http.post(f"/api/v1/elections/{SLUG}/ballots", {"ballot": forged})
    assert e.value.status == 422 and "signature" in e.value.message
    assert meeting.board(SLUG) == []

    # The member encrypts again and casts: signed only now.
    real, _ = seal(election, token, key, choices)
    assert real.tracking_code != body.tracking_code
    receipt = cast(http, election, real)
    assert receipt.position == 1
    assert [e["tracking_code"] for e in meeting.board(SLUG)] == [real.tracking_code]
