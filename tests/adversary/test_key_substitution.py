"""Issue 11, point 2: key substitution in the ceremony, played by the server operator.

Between the trustees' last "accept" and "Finish" the operator swaps ``trustees.public_key_json``
for keys of its own, with valid proofs, so that phones would encrypt to the operator. Each test
plays one step of it (the browser side: ``tests/web/test_trustee_browser.py``, the swapped
context served to the page):

- the database refuses to change published keys (trigger); the operator switches it off;
- after "Finish", every trustee's ``ballot trustee approve`` (and the Python device) refuses:
  the election key is not made of the keys its shares were checked against;
- voting cannot open without every trustee's approval, nor with a forged one;
- a record with a missing, forged or misdirected approval fails ``ballot verify``; a record
  stripped of its approvals fails ``ballot verify --require-approvals``; a record made before
  approvals existed (no field) still verifies;
- a stored approval cannot be changed (trigger).
"""

from __future__ import annotations

import copy
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ballot.cli import main
from ballot.clients.http import Http
from ballot.clients.trustee import TrusteeCheckError, TrusteeDevice
from ballot.crypto.encoding import b64decode, b64encode, canonical_json
from ballot.crypto.threshold import new_trustee
from ballot.service.meeting import ServiceError
from ballot.tally.context import trustee_public_to_json
from ballot.tally.record import load_record, save_record
from ballot.tally.trustee_keyfile import open_keys, read_keyfile
from ballot.tally.verify import verify_record
from tests.adversary.test_decryption_oracle import closed_meeting, election_id, operator
from tests.service.test_meeting_flow import SLUG, create_meeting, server  # noqa: F401


def cli(base_url, index, code, keyfile, *args):
    env = {"BALLOT_TRUSTEE_PASSPHRASE": f"passphrase-{index}", "BALLOT_TRUSTEE_CODE": code}
    return CliRunner().invoke(main, ["trustee", *args, "--server", base_url, "--election", SLUG,
                                     "--index", str(index), "--keyfile", str(keyfile)], env=env)


def ceremony_with_key_files(meeting, base_url, tmp_path):
    """Three trustees (k = 2) with the CLI, every share accepted; not finished yet."""
    codes = create_meeting(meeting)
    meeting.begin_ceremony(SLUG)
    files = {i: tmp_path / f"trustee-{i}.json" for i in (1, 2, 3)}
    for step in ("keygen", "send-shares", "receive-shares"):
        for i in (1, 2, 3):
            r = cli(base_url, i, codes[f"T{i}"], files[i], step)
            assert r.exit_code == 0, (step, i, r.output)
    return codes, files


def swap_keys(meeting, indices):
    """The operator's own keys (valid proofs) in place of trustees ``indices``' published ones."""
    mh = bytes.fromhex(meeting.ceremony_state(SLUG)["manifest_hash"])
    with operator(meeting).begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER IF EXISTS trustees_keys_frozen"))
        else:
            conn.execute(text("ALTER TABLE trustees DISABLE TRIGGER trustees_guard"))
        for i in indices:
            _, pub = new_trustee(mh, i, 2)
            conn.execute(text('UPDATE trustees SET public_key_json = :p WHERE election_id = :e '
                              'AND "index" = :i'),
                         {"p": canonical_json(trustee_public_to_json(pub)).decode(),
                          "e": election_id(conn), "i": i})


def test_published_keys_are_frozen_by_the_database(server, tmp_path):
    meeting, base_url = server
    ceremony_with_key_files(meeting, base_url, tmp_path)
    mh = bytes.fromhex(meeting.ceremony_state(SLUG)["manifest_hash"])
    _, pub = new_trustee(mh, 3, 2)
    for sql in ('UPDATE trustees SET public_key_json = :p WHERE "index" = 3',
                'DELETE FROM trustees WHERE "index" = 3'):
        with pytest.raises(DBAPIError, match="frozen|cannot be deleted"):
            with operator(meeting).begin() as conn:
                conn.execute(text(sql), {"p": canonical_json(trustee_public_to_json(pub)).decode()}
                             if ":p" in sql else {})


@pytest.mark.parametrize("swapped", [[3], [1, 2, 3]], ids=["one-key", "every-key"])
def test_swapped_keys_are_refused_by_every_trustee(server, tmp_path, swapped):
    meeting, base_url = server
    codes, files = ceremony_with_key_files(meeting, base_url, tmp_path)
    swap_keys(meeting, swapped)
    base_hash = meeting.finish_ceremony(SLUG)  # the context now holds the operator's key(s)
    for i in (1, 2, 3):
        r = cli(base_url, i, codes[f"T{i}"], files[i], "approve", "--yes")
        assert r.exit_code != 0, r.output
        assert "refused, not approved" in r.output
        assert ("NOT made of the trustees' keys" in r.output), r.output
        assert "Approval sent" not in r.output
        keys = open_keys(read_keyfile(files[i]), f"passphrase-{i}")
        with pytest.raises(TrusteeCheckError, match="NOT made of"):
            TrusteeDevice(Http(base_url, bearer=codes[f"T{i}"]), SLUG, i).approve(keys)
    with pytest.raises(ServiceError) as e:
        meeting.open_voting(SLUG)
    assert e.value.status == 409 and "[1, 2, 3] have not approved" in str(e.value)
    assert meeting.ceremony_state(SLUG)["base_hash"] == base_hash
    # The operator, holding the swapped keys' secrets, could sign approvals for those trustees,
    # but not for a trustee whose key it did not replace: voting stays closed.
    if swapped == [3]:
        row = {"trustee": 1, "base_hash": base_hash, "signature": b64encode(bytes(64))}
        with operator(meeting).begin() as conn:
            conn.execute(text('UPDATE trustees SET approval_json = :a WHERE election_id = :e'),
                         {"a": canonical_json(row).decode(), "e": election_id(conn)})
        with pytest.raises(ServiceError, match="have not approved"):
            meeting.open_voting(SLUG)


def test_honest_keys_are_approved_and_the_approval_cannot_change(server, tmp_path):
    meeting, base_url = server
    codes, files = ceremony_with_key_files(meeting, base_url, tmp_path)
    base_hash = meeting.finish_ceremony(SLUG)
    r = cli(base_url, 1, codes["T1"], files[1], "approve", "--expect-fingerprint", "00" * 8)
    assert r.exit_code != 0 and "NOT the fingerprint you expected" in r.output
    for i in (1, 2):
        r = cli(base_url, i, codes[f"T{i}"], files[i], "approve", "--expect-fingerprint",
                base_hash[:16])
        assert r.exit_code == 0, r.output
    again = cli(base_url, 1, codes["T1"], files[1], "approve", "--yes")
    assert again.exit_code != 0 and "already approved" in again.output
    with pytest.raises(ServiceError, match=r"trustees \[3\] have not approved"):
        meeting.open_voting(SLUG)
    # a bad approval sent over the API is refused with its reason
    bad = {"trustee": 3, "base_hash": base_hash, "signature": b64encode(bytes(64))}
    with pytest.raises(Exception) as e:
        Http(base_url, bearer=codes["T3"]).post(f"/api/v1/elections/{SLUG}/trustees/3/approval",
                                                {"approval": bad})
    assert getattr(e.value, "status", None) == 422 and "signature does not verify" in e.value.message
    with pytest.raises(DBAPIError, match="approval is frozen"):
        with operator(meeting).begin() as conn:
            conn.execute(text('UPDATE trustees SET approval_json = NULL WHERE "index" = 1'))
    assert cli(base_url, 3, codes["T3"], files[3], "approve", "--yes").exit_code == 0
    assert meeting.open_voting(SLUG)


@pytest.fixture
def record_path(server, tmp_path):
    meeting, base_url = server
    devices, keys, _, _ = closed_meeting(meeting, base_url, tmp_path)
    for i in (1, 3):
        devices[i].decrypt(keys[i], workers=1)
    return meeting.finalize(SLUG)


def _verify(path, tmp_path, change=None, *args):
    rec = load_record(path)
    if change is not None:
        rec = copy.deepcopy(rec)
        change(rec)
    out = save_record(rec, tmp_path / "changed.record.json")
    return CliRunner().invoke(main, ["verify", str(out), "--workers", "1", *args])


def test_the_verifier_checks_the_approvals(record_path, tmp_path):
    rec = load_record(record_path)
    assert [a["trustee"] for a in rec["approvals"]] == [1, 2, 3]
    report = verify_record(rec, workers=1, require_approvals=True)
    assert report.ok, report.first_failure
    assert any(c.key == "approvals" and "trustees [1, 2, 3]" in c.detail for c in report.checks)

    def missing(r):
        del r["approvals"][1]

    def forged(r):
        sig = b64decode(r["approvals"][2]["signature"])
        r["approvals"][2]["signature"] = b64encode(sig[:40] + bytes([sig[40] ^ 1]) + sig[41:])

    def other_fingerprint(r):
        r["approvals"][0]["base_hash"] = "ab" * 32

    for change, reason in ((missing, "no approval by trustees [2]"),
                           (forged, "trustee 3's signature does not verify"),
                           (other_fingerprint, "trustee 1 approved another fingerprint")):
        r = _verify(record_path, tmp_path, change)
        assert r.exit_code != 0, r.output
        assert reason in r.output, r.output

    def stripped(r):
        del r["approvals"]

    def passed_off_as_v1(r):
        for key in ("approvals", "close", "audit", "paper_instead"):
            del r[key]
        r["version"] = "ballot/v1/record"

    # Stripped of every approval: a version-2 record must carry them (load refuses it) ...
    r = _verify(record_path, tmp_path, stripped)
    assert r.exit_code != 0 and "missing fields ['approvals']" in r.output, r.output
    # ... and passed off as a version-1 record (from before approvals) it is refused: version 1
    # never had the manifest's receipt key (tests/adversary/test_record_rollback.py).
    r = _verify(record_path, tmp_path, passed_off_as_v1)
    assert r.exit_code != 0 and "relabelled as version 1" in r.output, r.output
    assert _verify(record_path, tmp_path, None, "--require-approvals").exit_code == 0
    json.dumps(rec)  # the record stays plain JSON
