"""Issue 11, point 10: the secretary never holds a trustee's working access code.

The secretary's code is a one-time enrolment code: at first sign-in (``ballot trustee enrol``,
the trustee page's sign-in) the trustee chooses their own access code, stored as argon2id only.
The browser side (the sign-in page refuses the used-up code) is in
``tests/web/test_trustee_browser.py``.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ballot.cli import main
from ballot.clients.http import ApiError, Http
from ballot.clients.trustee import TrusteeDevice
from ballot.election.presets import branch_qd366
from ballot.election.roll import RollEntry
from ballot.election.units import Unit
from ballot.service.meeting import ServiceError
from ballot.service.trustee_access import enrolment_hash
from tests.adversary.test_decryption_oracle import election_id, operator
from tests.service.test_meeting_flow import MEMBERS, SLUG, server  # noqa: F401


def create(meeting):
    levels, rules = branch_qd366()
    return meeting.create(
        slug=SLUG, title="Xếp loại 2025", organisation="Chi bộ thử", date="2025-12-20",
        meeting_kind="branch_members", levels=levels, rules=rules,
        roll=[RollEntry(rid, name, "official", None) for rid, name in MEMBERS],
        units=[Unit(unit_id=rid, name=name, kind="member") for rid, name in MEMBERS],
        trustee_names=["T1", "T2"], threshold=2)


def enrol_cli(base_url, index, code, new):
    return CliRunner().invoke(main, ["trustee", "enrol", "--server", base_url, "--election", SLUG,
                                     "--index", str(index)],
                              env={"BALLOT_TRUSTEE_CODE": code, "BALLOT_TRUSTEE_NEW_CODE": new})


def test_the_enrolment_code_works_once_and_the_secretary_cannot_replace_the_own_code(server):
    meeting, base_url = server
    codes = create(meeting)
    meeting.begin_ceremony(SLUG)
    # the enrolment code alone does nothing but enrol
    secretary_device = TrusteeDevice(Http(base_url, bearer=codes["T1"]), SLUG, 1)
    with pytest.raises(ApiError) as e:
        secretary_device.keygen()
    assert e.value.status == 403 and "one-time enrolment code" in e.value.message
    # bad choices are refused with their reason
    for bad, status, reason in (("short", 400, "at least 10"), ("mã-riêng-dài-đủ", 400, "without accents"),
                                (codes["T1"], 400, "other than the secretary")):
        r = enrol_cli(base_url, 1, codes["T1"], bad)
        assert r.exit_code != 0 and reason in r.output and f"HTTP {status}" in r.output, r.output
    r = enrol_cli(base_url, 1, "not-the-code", "my-own-code-1")
    assert r.exit_code != 0 and "HTTP 403" in r.output
    # the first sign-in
    r = enrol_cli(base_url, 1, codes["T1"], "my-own-code-1")
    assert r.exit_code == 0, r.output
    # the enrolment code no longer works, for anything
    r = enrol_cli(base_url, 1, codes["T1"], "another-code-1")
    assert r.exit_code != 0 and "HTTP 409" in r.output and "already chosen" in r.output
    with pytest.raises(ApiError) as e:
        secretary_device.keygen()
    assert e.value.status == 403 and "wrong access code" in e.value.message
    # the trustee's own code works
    TrusteeDevice(Http(base_url, bearer="my-own-code-1"), SLUG, 1).keygen()
    # the secretary cannot give trustee 1 a new code any more (trustee 2 still can get one)
    with pytest.raises(ServiceError) as e:
        meeting.new_trustee_code(SLUG, 1)
    assert e.value.status == 409
    _, fresh = meeting.new_trustee_code(SLUG, 2)
    assert enrol_cli(base_url, 2, codes["T2"], "my-own-code-2").exit_code != 0  # replaced
    assert enrol_cli(base_url, 2, fresh, "my-own-code-2").exit_code == 0
    with pytest.raises(ServiceError):
        meeting.new_trustee_code(SLUG, 2)
    # the database holds no working credential the secretary could read, and refuses changes
    with operator(meeting).connect() as conn:
        rows = conn.execute(text('SELECT "index", access_hash, credential_hash FROM trustees '
                                 'WHERE election_id = :e ORDER BY "index"'),
                            {"e": election_id(conn)}).all()
    for index, access_hash, credential in rows:
        assert access_hash is None and credential.startswith("$argon2id$")
        assert f"my-own-code-{index}" not in credential
    for sql, args in (('UPDATE trustees SET credential_hash = :v WHERE "index" = 1', {"v": "x"}),
                      ('UPDATE trustees SET access_hash = :v WHERE "index" = 1',
                       {"v": enrolment_hash("secretary-knows-this")})):
        with pytest.raises(DBAPIError, match="own access code is frozen"):
            with operator(meeting).begin() as conn:
                conn.execute(text(sql), args)
