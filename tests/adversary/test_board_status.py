"""The operator lies about a ballot's status (docs/threat-model.md, "Received, then checked").

Ballots are received after the cheap checks and their proofs checked in the background; the
status (valid / invalid) is what the tally obeys. An operator with write access to the
database writes the wrong status before the checker does (``board_checks`` accepts one insert
per entry, so the first writer wins): a valid ballot marked invalid is left out of the count,
an invalid one marked valid is counted. The record carries every status and ``ballot verify``
re-checks each one, naming the check that fails.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
from click.testing import CliRunner

from ballot.cli import main
from ballot.clients.http import Http
from ballot.clients.trustee import TrusteeCheckError
from ballot.clients.voter import cast, fetch_election, obtain_token, seal
from ballot.crypto.group import L
from ballot.crypto.proofs import DisjunctiveProof
from ballot.store import repo
from ballot.store.db import transaction
from ballot.store.models import BoardCheck
from ballot.tally.record import load_record, save_record
from ballot.tally.verify import verify_record
from tests.service.test_meeting_flow import MEMBERS, SLUG, open_with_one_trustee
from tests.service.test_meeting_flow import server  # noqa: F401 - the fixture

CHOICES = [[0] * len(MEMBERS), [1] * len(MEMBERS), [2] * len(MEMBERS)]


def forged(election, token, key, choices):
    """Valid token, the voter's own signature, the first unit's proof broken (its ciphertext
    still holds an allowed value, so the aggregate would still decrypt)."""
    ballot, _ = seal(election, token, key, choices)
    ct, proof = ballot.units[0]
    (c0, v0), *rest = proof.branches
    unsigned = replace(ballot, units=((ct, DisjunctiveProof((((c0 + 1) % L, v0), *rest))),
                                      *ballot.units[1:]), signature=b"")
    return replace(unsigned, signature=key.sign(unsigned.ballot_hash).signature)


def operator_writes(meeting, position: int, status: str, reason: str | None) -> None:
    """The operator, straight into the database, before any checker."""
    with transaction(meeting.factory) as s:
        election = repo.get_election(s, SLUG)
        s.add(BoardCheck(election_id=election.id, position=position, status=status,
                         reason=reason))


def run_meeting(meeting, base_url, *, forge_third: bool, lie: tuple[int, str, str | None]):
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    for i, (rid, _) in enumerate(MEMBERS[:3]):
        token, key = obtain_token(http, election, invitations[rid])
        ballot = forged(election, token, key, CHOICES[i]) if forge_third and i == 2 else \
            seal(election, token, key, CHOICES[i])[0]
        cast(http, election, ballot)
    operator_writes(meeting, *lie)
    meeting.close_voting(SLUG)  # checks the rest: the lie stays (one status per entry)
    device.decrypt(keys)
    return meeting.finalize(SLUG)


def verify_cli(path):
    return CliRunner().invoke(main, ["verify", str(path), "--workers", "1"])


def test_a_valid_ballot_marked_invalid_is_caught(server, tmp_path):
    meeting, base_url = server
    # The trustee's device re-checks every status before decrypting: it refuses.
    with pytest.raises(TrusteeCheckError, match="board position 2 is marked invalid, but its "
                                                "token, signature and proofs verify"):
        run_meeting(meeting, base_url, forge_third=False,
                    lie=(2, "invalid", "unit 1: the proof that it holds one allowed choice fails"))


def test_an_invalid_ballot_marked_valid_is_caught(server, tmp_path):
    meeting, base_url = server
    with pytest.raises(TrusteeCheckError, match="board position 3: unit 1: the proof that it "
                                                "holds one allowed choice fails \\(marked valid\\)"):
        run_meeting(meeting, base_url, forge_third=True, lie=(3, "valid", None))


def test_the_verifier_catches_a_record_with_a_wrong_status(server, tmp_path):
    """An operator that writes the record itself (no trustee would decrypt its board): every
    status is re-checked by ``ballot verify``."""
    meeting, base_url = server
    path = run_meeting(meeting, base_url, forge_third=True,
                       lie=(3, "invalid", "found invalid by the operator"))
    record = load_record(path)
    assert verify_record(record, workers=1).ok
    # A valid ballot marked invalid (left out of the count).
    lying = copy.deepcopy(record)
    lying["board"][1].update(status="invalid", reason="unit 1: the proof fails")
    report = verify_record(lying, workers=1)
    assert not report.ok and report.first_failure.key == "board_status"
    assert "board position 2 is marked invalid" in report.first_failure.detail
    result = verify_cli(save_record(lying, tmp_path / "lying.json"))
    assert result.exit_code == 1
    assert "Ballot statuses re-checked" in result.output and "board position 2" in result.output
    # An invalid ballot marked valid (counted).
    lying = copy.deepcopy(record)
    lying["board"][2]["status"] = "valid"
    lying["board"][2].pop("reason")
    report = verify_record(lying, workers=1)
    assert not report.ok and report.first_failure.key == "ballots"
    assert "board position 3: unit 1: the proof that it holds one allowed choice fails " \
        "(marked valid)" == report.first_failure.detail


def test_honest_statuses_verify_and_stripping_them_does_not_hide_an_invalid_ballot(server, tmp_path):
    meeting, base_url = server
    # The operator writes the true status itself: nothing to catch.
    path = run_meeting(meeting, base_url, forge_third=True,
                       lie=(3, "invalid", "found invalid by the operator"))
    record = load_record(path)
    report = verify_record(record, workers=1)
    assert report.ok, report.first_failure
    assert report.figures["invalid_ballots"] == 1 and report.figures["ballots"] == 2
    from ballot.tally.verify import find_receipt

    position, tracking = find_receipt(record, _code_of(record, 3))
    result = CliRunner().invoke(main, ["verify", str(path), "--workers", "1",
                                       "--receipt", tracking])
    assert result.exit_code == 0, result.output
    assert "marked invalid" in result.output and "NOT counted" in result.output
    # Statuses dropped (to look like a record of before, where every ballot was valid):
    # then every ballot must verify, and the forged one does not.
    stripped = copy.deepcopy(record)
    for e in stripped["board"]:
        e.pop("status"), e.pop("reason", None)
    report = verify_record(stripped, workers=1)
    assert not report.ok and report.first_failure.key == "ballots"
    assert report.first_failure.detail.startswith("board position 3: unit 1")
    # Statuses on some entries only, or an unknown status, or an invalid one without its
    # reason: malformed.
    for change in ({"status": "maybe"}, {"status": "invalid"}):
        bad = copy.deepcopy(record)
        bad["board"][0].update(change)
        report = verify_record(bad, workers=1)
        assert not report.ok and report.first_failure.key == "board", change
    bad = copy.deepcopy(record)
    bad["board"][0].pop("status")
    assert verify_record(bad, workers=1).first_failure.key == "board"
    path2 = save_record(stripped, tmp_path / "stripped.json")
    assert verify_cli(path2).exit_code == 1


def test_an_entry_without_a_valid_token_cannot_hide_behind_invalid(server, tmp_path):
    """Marked invalid, an entry still needs its token and signature (checked on receipt):
    an entry that never was receivable is named even so."""
    meeting, base_url = server
    path = run_meeting(meeting, base_url, forge_third=True,
                       lie=(3, "invalid", "found invalid by the operator"))
    record = load_record(path)
    bad = copy.deepcopy(record)
    bad["board"][2]["ballot"]["signature"] = record["board"][0]["ballot"]["signature"]
    report = verify_record(bad, workers=1)
    assert not report.ok and report.first_failure.key == "ballots"
    assert "board position 3: the ballot's signature does not verify" in \
        report.first_failure.detail


def test_a_status_is_written_once_and_never_changed(server):
    """board_checks is append-only and has one row per entry: the checker's status can be
    neither rewritten, deleted nor doubled afterwards."""
    from sqlalchemy import update
    from sqlalchemy.exc import DatabaseError, IntegrityError

    meeting, base_url = server
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    cast(http, election, seal(election, *obtain_token(http, election, invitations["A1"]),
                              CHOICES[0])[0])
    assert meeting.finish_close(SLUG) is False  # checked; still open, so no aggregate
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction(meeting.factory) as s:
            s.execute(update(BoardCheck).values(status="invalid", reason="x"))
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction(meeting.factory) as s:
            s.execute(BoardCheck.__table__.delete())
    with pytest.raises(IntegrityError):
        operator_writes(meeting, 1, "invalid", "a second status")
    assert http.get(f"/api/v1/elections/{SLUG}/ballots/1/status")["status"] == "valid"


def _code_of(record, position: int) -> str:
    from ballot.crypto.ballots import ballot_from_json
    from ballot.election.manifest import Manifest
    from ballot.tally.context import ElectionContext

    ctx = ElectionContext.from_json(Manifest.from_json(record["manifest"]), record["context"])
    return ballot_from_json(record["board"][position - 1]["ballot"], ctx.shape).tracking_code


def test_the_trustee_sees_how_many_ballots_are_valid(server, tmp_path):
    """A board padded with junk entries marked invalid (they cost the server no proof) around
    one voter's ballot would have the received count of the real board: the device shows the
    valid count apart, and a head is compared on 16 digits at least (hostile review)."""
    from ballot.tally.board_check import same_head

    meeting, base_url = server
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    for i, (rid, _) in enumerate(MEMBERS[:3]):
        token, key = obtain_token(http, election, invitations[rid])
        cast(http, election, forged(election, token, key, CHOICES[i]) if i == 2 else
             seal(election, token, key, CHOICES[i])[0])
    meeting.close_voting(SLUG)
    _, checked = device.check_board(keys, workers=1)
    assert (checked.ballots, checked.counted) == (3, 2)
    assert "3 ballots received, 2 valid and counted, 1 invalid" in checked.head_text()
    assert same_head(checked, checked.head[:16], 3, 2)
    assert not same_head(checked, checked.head[:16], 3, 3)  # the projector's valid count
    assert not same_head(checked, checked.head[:15])  # too short to compare safely
