"""Issue 11, point 1: the decryption oracle, played by the server operator against the trustees.

The operator has full read/write access to the database and answers the API as it likes; it
cannot change the code a trustee runs (``ballot trustee decrypt``, ``ballot/clients/trustee.py``).
Each test plays one attack and shows it refused (the browser side is in
``tests/web/test_trustee_browser.py::test_the_trustee_page_refuses_a_lying_board``):

- a per-ballot "aggregate" (ballots × units) inserted into ``tallies`` and served by the API is
  never decrypted: the trustee decrypts only what it recomputed from the board it checked,
  exactly one ciphertext per unit; the server itself ignores the row (it recomputes too);
- a board cut down to one ballot is shown with its head and refused when the head differs
  from the projector's (``--expect-head``, or "no" at the prompt);
- a forged ballot, a broken chain, a token used twice, more ballots than tokens: refused;
- ``tallies`` is append-only with one aggregate per election (UPDATE, DELETE, a second
  aggregate or decryption refused by the database).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ballot.cli import main
from ballot.clients.http import Http
from ballot.clients.trustee import TrusteeCheckError, TrusteeDevice
from ballot.clients.voter import fetch_election, vote
from ballot.crypto.ballots import body_hash
from ballot.crypto.encoding import b64decode, b64encode, canonical_json
from ballot.tally.board import entry_hash
from ballot.tally.decryption import TrusteeDecryption, verify_decryption
from ballot.tally.record import load_record
from ballot.tally.trustee_keyfile import seal_keys, write_keyfile
from ballot.tally.verify import verify_record
from tests.service.test_meeting_flow import MEMBERS, SLUG, create_meeting, server  # noqa: F401

VOTES = ([0, 1, 1, 1, 1, 1, 1, 1], [1, 2, 1, 1, None, 1, 1, 1], [1, 1, 3, 1, 1, 1, 0, 1])


def closed_meeting(meeting, base_url, tmp_path):
    """3 trustees (k = 2) over HTTP, three ballots, voting closed. Returns (devices, keys,
    key files, codes)."""
    codes = create_meeting(meeting)
    meeting.begin_ceremony(SLUG)
    devices = {i: TrusteeDevice(Http(base_url, bearer=codes[f"T{i}"]), SLUG, i) for i in (1, 2, 3)}
    keys = {i: d.keygen() for i, d in devices.items()}
    for i, d in devices.items():
        d.send_shares(keys[i])
    keys = {i: d.receive_shares(keys[i]) for i, d in devices.items()}
    meeting.finish_ceremony(SLUG)
    for i, d in devices.items():
        d.approve(keys[i])
    invitations = meeting.open_voting(SLUG)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    for (rid, _), choices in zip(MEMBERS, VOTES):
        vote(http, SLUG, invitations[rid], choices, election)
    meeting.close_voting(SLUG)
    files = {}
    for i in (1, 2, 3):
        files[i] = write_keyfile(tmp_path / f"t{i}.json",
                                 seal_keys(keys[i], f"passphrase-{i}", opslimit=1, memlimit=8192))
    return devices, keys, files, codes


def cli_decrypt(base_url, index, code, keyfile, *args, input=None):
    env = {"BALLOT_TRUSTEE_PASSPHRASE": f"passphrase-{index}", "BALLOT_TRUSTEE_CODE": code}
    return CliRunner().invoke(main, ["trustee", "decrypt", "--server", base_url, "--election", SLUG,
                                     "--index", str(index), "--keyfile", str(keyfile), *args],
                              env=env, input=input)


def operator(meeting):
    """The operator's own connection to the database (no application code in between)."""
    return meeting.factory.kw["bind"]


def election_id(conn) -> int:
    return conn.execute(text("SELECT id FROM elections WHERE slug = :s"), {"s": SLUG}).scalar_one()


def stored_decryptions(meeting) -> dict[int, dict]:
    with operator(meeting).connect() as conn:
        rows = conn.execute(text(
            "SELECT trustee_index, payload_json FROM tallies WHERE kind = 'partial_decryption' "
            "AND election_id = :e"), {"e": election_id(conn)}).all()
    return {i: json.loads(p) for i, p in rows}


def without_trigger(conn, table: str, sqlite_triggers: list[str], pg_trigger: str):
    """The operator switches an append-only trigger off (it has the database's owner rights)."""
    if conn.dialect.name == "sqlite":
        for name in sqlite_triggers:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    else:
        conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {pg_trigger}"))


def per_ballot_aggregate(meeting) -> list[str]:
    """What the oracle attack serves as "the aggregate": every ballot's ciphertexts apart."""
    with operator(meeting).connect() as conn:
        rows = conn.execute(text("SELECT ballot_json FROM board_entries WHERE election_id = :e "
                                 "ORDER BY position"), {"e": election_id(conn)}).scalars().all()
    return [b64encode(b64decode(u)[:64]) for r in rows for u in json.loads(r)["units"]]


def test_a_per_ballot_aggregate_is_never_decrypted(server, tmp_path, monkeypatch):
    meeting, base_url = server
    devices, keys, files, codes = closed_meeting(meeting, base_url, tmp_path)
    rogue = per_ballot_aggregate(meeting)
    assert len(rogue) == 3 * len(MEMBERS)
    payload = canonical_json({"units": rogue}).decode()
    insert = text("INSERT INTO tallies (election_id, kind, trustee_index, payload_json, created_at) "
                  "VALUES (:e, 'aggregate', NULL, :p, CURRENT_TIMESTAMP)")
    # One aggregate per election: the database refuses a second one...
    with pytest.raises(DBAPIError):
        with operator(meeting).begin() as conn:
            conn.execute(insert, {"e": election_id(conn), "p": payload})
    # ...so the operator drops the index and inserts it anyway, and the API serves it.
    with operator(meeting).begin() as conn:
        conn.execute(text("DROP INDEX uq_tallies_one_aggregate"))
        conn.execute(insert, {"e": election_id(conn), "p": payload})
    served = meeting.aggregate_for_trustees(SLUG)
    monkeypatch.setattr(type(meeting), "aggregate_for_trustees",
                        lambda self, slug: {**served, "aggregate": rogue})
    assert Http(base_url).get(f"/api/v1/elections/{SLUG}/aggregate")["aggregate"] == rogue

    head = devices[1].check_board(keys[1], workers=1)[1].head
    r = cli_decrypt(base_url, 1, codes["T1"], files[1], "--expect-head", head)
    assert r.exit_code == 0, r.output
    assert "3 ballots" in r.output and head in r.output
    devices[3].decrypt(keys[3], workers=1)
    # Exactly one partial decryption per unit, of the aggregate of the board's ballots.
    _, checked = devices[1].check_board(keys[1], workers=1)
    ctx = devices[1].election(keys[1])
    for i, d in stored_decryptions(meeting).items():
        assert len(d["units"]) == len(MEMBERS)
        verify_decryption(ctx, checked.aggregate, TrusteeDecryption.from_json(d, len(MEMBERS)))
    # The server never read the rogue row back: the count is the board's, and it verifies.
    report = verify_record(load_record(meeting.finalize(SLUG)), workers=1)
    assert report.ok, report.first_failure
    assert report.figures["ballots"] == 3


def test_a_board_cut_down_is_refused(server, tmp_path):
    meeting, base_url = server
    devices, keys, files, codes = closed_meeting(meeting, base_url, tmp_path)
    head = devices[1].check_board(keys[1], workers=1)[1].head
    with operator(meeting).begin() as conn:
        without_trigger(conn, "board_checks", ["board_checks_no_delete"],
                        "board_checks_append_only")
        without_trigger(conn, "board_entries", ["board_entries_no_delete"],
                        "board_entries_append_only")
        for table in ("board_checks", "board_entries"):  # the statuses first (foreign key)
            conn.execute(text(f"DELETE FROM {table} WHERE election_id = :e AND position > 1"),
                         {"e": election_id(conn)})
    # The projector's head does not match: refused, nothing decrypted.
    r = cli_decrypt(base_url, 1, codes["T1"], files[1], "--expect-head", head[:16],
                    "--expect-ballots", "3")
    assert r.exit_code != 0 and "1 ballots" in r.output and "NOT the head" in r.output
    assert "refused, nothing decrypted" in r.output
    # Asked, the trustee compares and says no: refused too.
    r = cli_decrypt(base_url, 1, codes["T1"], files[1], input="n\n")
    assert r.exit_code != 0 and "Does this match the projector" in r.output
    assert "1 ballots" in r.output and "refused, nothing decrypted" in r.output
    assert stored_decryptions(meeting) == {}


def _rechain(conn, rows):
    prev = bytes(32)
    for pos, ballot in rows:
        eh = entry_hash(prev, pos, body_hash({k: v for k, v in ballot.items() if k != "signature"}))
        conn.execute(text("UPDATE board_entries SET ballot_json = :b, prev_hash = :p, "
                          "entry_hash = :h WHERE election_id = :e AND position = :n"),
                     {"b": canonical_json(ballot).decode(), "p": prev.hex(), "h": eh.hex(),
                      "e": election_id(conn), "n": pos})
        prev = eh


@pytest.mark.parametrize("forgery", ["swapped_units", "broken_chain", "token_twice",
                                     "more_ballots_than_tokens"])
def test_a_forged_board_is_refused(server, tmp_path, monkeypatch, forgery):
    meeting, base_url = server
    devices, keys, files, codes = closed_meeting(meeting, base_url, tmp_path)
    with operator(meeting).begin() as conn:
        without_trigger(conn, "board_entries", ["board_entries_no_update"],
                        "board_entries_append_only")
        e = election_id(conn)
        rows = [(p, json.loads(b)) for p, b in conn.execute(text(
            "SELECT position, ballot_json FROM board_entries WHERE election_id = :e "
            "ORDER BY position"), {"e": e}).all()]
        if forgery == "swapped_units":  # ballot 3 holds ballot 1's first unit, re-chained
            rows[2][1]["units"][0] = rows[0][1]["units"][0]
            _rechain(conn, rows)
        elif forgery == "broken_chain":
            conn.execute(text("UPDATE board_entries SET entry_hash = :h WHERE election_id = :e "
                              "AND position = 2"), {"h": "ab" * 32, "e": e})
        elif forgery == "token_twice":  # ballot 3 replaced by a copy of ballot 1, re-chained
            rows[2] = (3, rows[0][1])
            _rechain(conn, rows)
    if forgery == "more_ballots_than_tokens":
        real = type(meeting).counters
        monkeypatch.setattr(type(meeting), "counters",
                            lambda self, slug: {**real(self, slug), "tokens": 2})
    expected = {"swapped_units": "board position 3", "broken_chain": "hash chain is broken",
                "token_twice": "reuses the token of position 1",
                "more_ballots_than_tokens": "only 2 tokens"}[forgery]
    r = cli_decrypt(base_url, 1, codes["T1"], files[1], "--yes")
    assert r.exit_code != 0 and "refused, nothing decrypted" in r.output, r.output
    assert expected in r.output
    with pytest.raises(TrusteeCheckError, match=expected):
        devices[2].decrypt(keys[2], workers=1)
    assert stored_decryptions(meeting) == {}


def test_tallies_are_append_only(server, tmp_path):
    meeting, base_url = server
    devices, keys, files, codes = closed_meeting(meeting, base_url, tmp_path)
    devices[1].decrypt(keys[1], workers=1)
    for sql in ("UPDATE tallies SET payload_json = '{}' WHERE kind = 'aggregate'",
                "UPDATE tallies SET trustee_index = 2 WHERE kind = 'partial_decryption'",
                "DELETE FROM tallies WHERE kind = 'partial_decryption'",
                "INSERT INTO tallies (election_id, kind, trustee_index, payload_json, created_at) "
                "SELECT election_id, kind, trustee_index, payload_json, created_at FROM tallies "
                "WHERE kind = 'partial_decryption'"):
        with pytest.raises(DBAPIError, match="append-only|UNIQUE|unique"):
            with operator(meeting).begin() as conn:
                conn.execute(text(sql))
    assert set(stored_decryptions(meeting)) == {1}
