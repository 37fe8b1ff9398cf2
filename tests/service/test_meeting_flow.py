"""A whole meeting through the real HTTP API and the trustee CLI, on SQLite or PostgreSQL:
k of n decryption with a missing trustee, a refused wrong decryption, paper votes mixed in,
and every hostile request refused with a reason while nothing accepted changes."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from waitress.server import create_server

from ballot.cli import main
from ballot.clients.http import ApiError, Http
from ballot.clients.voter import cast, fetch_election, obtain_token, seal, vote
from ballot.crypto import blind_rsa
from ballot.crypto.encoding import b64decode, b64encode
from ballot.election.presets import branch_qd366
from ballot.election.roll import RollEntry
from ballot.election.units import Unit
from ballot.service.meeting import ServiceError
from ballot.service.trustee_access import enrol_all
from ballot.tally.record import load_record
from ballot.tally.verify import verify_record
from ballot.web import create_app

SLUG = "cb-test"
MEMBERS = [("A1", "Nguyễn Văn An"), ("A2", "Trần Thị Bình"), ("A3", "Lê Hữu Châu"),
           ("A4", "Phạm Minh Dũng"), ("A5", "Hoàng Thu Giang"), ("A6", "Vũ Ngọc Hà"),
           ("A7", "Bùi Văn Giấy"), ("A8", "Đinh Thị Mạng")]


@pytest.fixture
def server(db_url, tmp_path):
    app = create_app({"DATABASE_URL": db_url, "KEYS_DIR": str(tmp_path / "keys"),
                      "RECORDS_DIR": str(tmp_path / "records")})
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=run_until_closed, args=(srv,), daemon=True)
    thread.start()
    yield app.extensions["ballot.meeting"], f"http://127.0.0.1:{srv.effective_port}"
    srv.close()


def run_until_closed(srv) -> None:
    """waitress's loop, ending quietly when the test closes the server under it."""
    try:
        srv.run()
    except OSError:
        pass


def create_meeting(meeting, *, trustees=3, k=2):
    """The meeting, with each trustee's first sign-in done: their own access codes."""
    return enrol_all(meeting, SLUG, create_codes(meeting, trustees=trustees, k=k))


def create_codes(meeting, *, trustees=1, k=1):
    """The meeting; the secretary's enrolment codes by trustee name."""
    levels, rules = branch_qd366()
    roll = [RollEntry(rid, name, "official", None) for rid, name in MEMBERS]
    roll.append(RollEntry("P1", "Đỗ Văn Dự Bị", "probationary", None))
    units = [Unit(unit_id=rid, name=name, kind="member", group="đv") for rid, name in MEMBERS]
    codes = meeting.create(slug=SLUG, title="Xếp loại 2025", organisation="Chi bộ thử",
                           date="2025-12-20", meeting_kind="branch_members", levels=levels,
                           rules=rules, roll=roll, units=units,
                           trustee_names=[f"T{i}" for i in range(1, trustees + 1)], threshold=k)
    return codes


def open_with_one_trustee(meeting, base_url):
    """A meeting with one trustee (k = 1), its ceremony done over HTTP, voting open.
    Returns the trustee's device, its keys and the invitation codes."""
    from tests.support.ceremony import hold_ceremony

    (device,), (keys,) = hold_ceremony(meeting, base_url, SLUG, create_codes(meeting))
    return device, keys, meeting.open_voting(SLUG)


def trustee_cli(runner, base_url, index, code, keyfile, *args):
    env = {"BALLOT_TRUSTEE_PASSPHRASE": f"passphrase-{index}", "BALLOT_TRUSTEE_CODE": code}
    result = runner.invoke(main, ["trustee", *args, "--server", base_url, "--election", SLUG,
                                  "--index", str(index), "--keyfile", str(keyfile)], env=env)
    return result


def test_whole_meeting_over_http(server, tmp_path):
    meeting, base_url = server
    codes = create_meeting(meeting)
    meeting.begin_ceremony(SLUG)
    runner = CliRunner()
    keyfiles = {i: tmp_path / f"trustee-{i}.json" for i in (1, 2, 3)}
    for step in ("keygen", "send-shares", "receive-shares"):
        for i in (1, 2, 3):
            r = trustee_cli(runner, base_url, i, codes[f"T{i}"], keyfiles[i], step)
            assert r.exit_code == 0, (step, i, r.output)
    assert oct(keyfiles[1].stat().st_mode & 0o777) == "0o600"
    # The secret never reaches the server in clear: the key file is encrypted.
    assert b"coefficients" not in keyfiles[1].read_bytes()
    # A wrong access code is refused.
    bad = trustee_cli(runner, base_url, 1, "wrong", tmp_path / "x.json", "keygen")
    assert bad.exit_code != 0 and "wrong access code" in bad.output
    base_hash = meeting.finish_ceremony(SLUG)
    with pytest.raises(ServiceError, match=r"trustees \[1, 2, 3\] have not approved"):
        meeting.open_voting(SLUG)
    for i in (1, 2, 3):  # each trustee compares the fingerprint with the projector, approves
        r = trustee_cli(runner, base_url, i, codes[f"T{i}"], keyfiles[i], "approve",
                        "--expect-fingerprint", base_hash[:16])
        assert r.exit_code == 0, (i, r.output)
        assert f"Election fingerprint: {base_hash[:4]} {base_hash[4:8]}" in r.output
    invitations = meeting.open_voting(SLUG)
    assert set(invitations) == {rid for rid, _ in MEMBERS}  # probationary members get none

    http = Http(base_url)
    election = fetch_election(http, SLUG)
    receipts = []
    for i, (rid, _) in enumerate(MEMBERS[:4]):
        choices = [1] * len(MEMBERS)
        choices[i] = None
        receipts.append(vote(http, SLUG, invitations[rid], choices, election))

    # --- hostile and malformed requests: each a 4xx with a reason, nothing changes ---------
    before = meeting.board(SLUG)
    with pytest.raises(ApiError) as e:  # a used invitation
        obtain_token(http, election, invitations["A1"])
    assert e.value.status == 409 and "already been used" in e.value.message
    with pytest.raises(ApiError) as e:  # an unknown invitation
        obtain_token(http, election, "not-a-code")
    assert e.value.status in (403, 404) and "unknown invitation" in e.value.message
    with pytest.raises(ApiError) as e:  # a malformed blinded message
        http.post(f"/api/v1/elections/{SLUG}/tokens", {"invitation": invitations["A5"],
                                                        "blinded_msg": "AAAA"})
    assert e.value.status == 400 and "blinded_msg" in e.value.message
    for payload, status in [(None, 400), ({}, 400), ({"ballot": 5}, 422),
                            ({"ballot": {"version": "x"}}, 422)]:
        with pytest.raises(ApiError) as e:
            if payload is None:
                http.request("POST", f"/api/v1/elections/{SLUG}/ballots", "not an object")
            else:
                http.post(f"/api/v1/elections/{SLUG}/ballots", payload)
        assert e.value.status == status, (payload, e.value)
    # A replayed ballot (same token) is refused.
    token, key = obtain_token(http, election, invitations["A5"])
    ballot, _ = seal(election, token, key, [0, 1, 1, 1, None, 1, 1, 1])
    first = cast(http, election, ballot)
    with pytest.raises(ApiError) as e:
        cast(http, election, ballot)
    assert e.value.status == 409 and "already been cast" in e.value.message
    # The same token with another ballot is refused too.
    other, _ = seal(election, token, key, [2] * len(MEMBERS))
    with pytest.raises(ApiError) as e:
        cast(http, election, other)
    assert e.value.status == 409
    # A ballot whose proofs do not match its rows (a fresh token) is refused with its reason.
    token6, key6 = obtain_token(http, election, invitations["A6"])
    forged_ballot, _ = seal(election, token6, key6, [0] * len(MEMBERS))
    forged = forged_ballot.to_json()
    units = forged["units"]
    units[0], units[1] = units[1], units[0]
    with pytest.raises(ApiError) as e:
        http.post(f"/api/v1/elections/{SLUG}/ballots", {"ballot": forged})
    assert e.value.status == 422
    after = meeting.board(SLUG)
    assert after[: len(before)] == before and len(after) == len(before) + 1
    assert after[-1]["tracking_code"] == first.tracking_code

    # A lost token answer can be retried with the same blinded message.
    issuer = election.ctx.issuer
    prepared = blind_rsa.prepare(b"m" * 79)
    blinded, _ = blind_rsa.blind(issuer, prepared)
    req = {"invitation": invitations["A8"], "blinded_msg": b64encode(blinded)}
    s1 = http.post(f"/api/v1/elections/{SLUG}/tokens", req)["blind_sig"]
    s2 = http.post(f"/api/v1/elections/{SLUG}/tokens", req)["blind_sig"]
    assert s1 == s2
    other_blind, _ = blind_rsa.blind(issuer, blind_rsa.prepare(b"n" * 79))
    with pytest.raises(ApiError) as e:
        http.post(f"/api/v1/elections/{SLUG}/tokens",
                  {"invitation": invitations["A8"], "blinded_msg": b64encode(other_blind)})
    assert e.value.status == 409

    counters = http.get(f"/api/v1/elections/{SLUG}/counters")
    assert {k: counters[k] for k in ("status", "eligible", "tokens", "ballots")} == \
        {"status": "open", "eligible": 8, "tokens": 7, "ballots": 5}
    assert counters["checked"] + counters["unchecked"] == 5  # checked in the background
    # One member (A7) voted on paper: attendance and paper figures are fixed at the close.
    closed = meeting.close_voting(SLUG, present=8, paper={"voters": 1, "ballots_issued": 1,
                                                          "ballots_valid": 1, "ballots_invalid": 0})
    assert closed["board"]["ballots"] == 5 and closed["tokens"] == 7
    assert http.get(f"/api/v1/elections/{SLUG}/close")["entry_hash"] == closed["entry_hash"]
    with pytest.raises(ApiError):  # no more tokens once closed
        obtain_token(http, election, invitations["A7"])
    # The trustees wait for the paper counts, entered by the committee before any decryption.
    r = trustee_cli(runner, base_url, 1, codes["T1"], keyfiles[1], "decrypt", "--yes")
    assert r.exit_code != 0 and "paper" in r.output, r.output
    with pytest.raises(ServiceError) as bad:
        meeting.enter_paper_counts(SLUG, {"counts": []})
    assert bad.value.status == 422 and "one entry per unit" in str(bad.value)
    paper_counts = [{"unit_id": rid, "votes": {"HTTNV": 1}, "abstain": 0, "blank": 0}
                    for rid, _ in MEMBERS]
    with pytest.raises(ServiceError) as bad:  # the figures cannot change after the close
        meeting.enter_paper_counts(SLUG, {"ballots_issued": 2, "counts": paper_counts})
    assert bad.value.status == 422 and "fixed at the close" in str(bad.value)
    meeting.enter_paper_counts(SLUG, {"counts": paper_counts})

    # Trustee 2 is absent; trustee 1 first sends a wrong decryption, which is refused.
    agg = http.get(f"/api/v1/elections/{SLUG}/aggregate")
    head = meeting.board(SLUG)[-1]["entry_hash"]  # as the projector shows it at close
    r = trustee_cli(runner, base_url, 1, codes["T1"], keyfiles[1], "decrypt",
                    "--expect-head", head[:16], "--expect-ballots", "5")
    assert r.exit_code == 0, r.output
    with pytest.raises(ApiError) as e:
        http3 = Http(base_url, bearer=codes["T3"])
        dec = {"trustee": 3, "units": [u for u in (
            b64encode(b64decode(a, 64)[32:] + bytes(64)) for a in agg["aggregate"])]}
        http3.post(f"/api/v1/elections/{SLUG}/trustees/3/decryption", {"decryption": dec})
    assert e.value.status == 422 and "decryption refused" in e.value.message
    with pytest.raises(ServiceError):
        meeting.finalize(SLUG)  # only one decryption so far
    r = trustee_cli(runner, base_url, 3, codes["T3"], keyfiles[3], "decrypt", "--expect-head", head)
    assert r.exit_code == 0, r.output
    path = meeting.finalize(SLUG)
    record = load_record(path)
    report = verify_record(record, workers=1)
    assert report.ok, report.first_failure
    counts = {c["unit_id"]: c for c in record["counts"]}
    electronic = {c["unit_id"]: c for c in record["electronic_counts"]}
    assert electronic["A2"]["votes"]["HTTNV"] == 4 and counts["A2"]["votes"]["HTTNV"] == 5
    assert record["figures"]["ballots_valid"] == 6 and record["figures"]["ballots_issued"] == 8
    assert record["figures"]["present"] == 8
    assert any("paper" in c.detail for c in report.checks)
    assert sorted(record["issuance_log"]) == ["A1", "A2", "A3", "A4", "A5", "A6", "A8"]
    assert [d["trustee"] for d in record["decryptions"]] == [1, 3]
    assert record["close"] == {k: v for k, v in closed.items() if k not in ("seq", "entry_hash")}
    assert [a["action"] for a in record["audit"]] == ["close", "paper_counts", "decryption",
                                                      "decryption"]
    codes_on_board = {e["tracking_code"] for e in meeting.board(SLUG)}
    assert {r["tracking_code"] for r in receipts} <= codes_on_board


def test_results_downloads_after_tally(server, tmp_path):
    meeting, base_url = server
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    with pytest.raises(ApiError) as e:
        http.get(f"/api/v1/elections/{SLUG}/results.json")
    assert e.value.status == 404 and "once the secretary publishes" in e.value.message
    election = fetch_election(http, SLUG)
    for rid, _ in MEMBERS[:5]:
        vote(http, SLUG, invitations[rid], [1] * len(MEMBERS), election)
    meeting.close_voting(SLUG)
    device.decrypt(keys)
    meeting.finalize(SLUG)
    for what in ("results.json", "results.csv", "record"):  # not public before "publish"
        with pytest.raises(ApiError) as e:
            http.get(f"/api/v1/elections/{SLUG}/{what}")
        assert e.value.status == 404, what
    meeting.publish(SLUG)
    res = http.get(f"/api/v1/elections/{SLUG}/results.json")
    assert res["status"] == "published" and len(res["results"]["units"]) == len(MEMBERS)
    import urllib.request

    with urllib.request.urlopen(f"{base_url}/api/v1/elections/{SLUG}/results.csv") as resp:
        text = resp.read().decode("utf-8")
        assert resp.headers["Content-Type"].startswith("text/csv")
    assert text.startswith("\ufeffstt;unit_id;ho_ten;HTXSNV;HTXSNV_%N")
    assert "Trần Thị Bình" in text and "5;62.5%" in text  # 5 of N = 8 at HTTNV
    with urllib.request.urlopen(f"{base_url}/api/v1/elections/{SLUG}/record") as resp:
        assert load_record_bytes(resp.read())["base_hash"] == res["base_hash"]


def load_record_bytes(data: bytes) -> dict:
    from ballot.crypto.encoding import parse_json

    return parse_json(data)


def test_invitation_guessing_is_rate_limited_across_workers(server, monkeypatch):
    """Failed redemptions are counted in the database, so every worker sees them; a right
    code is never blocked by them (issue 12: a venue NAT shares one address)."""
    meeting, base_url = server
    _, _, invitations = open_with_one_trustee(meeting, base_url)
    monkeypatch.setattr(meeting.throttles.invitations, "limit", 3)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    for i in range(3):
        with pytest.raises(ApiError) as e:
            obtain_token(http, election, f"guess-{i}")
        assert e.value.status in (403, 404)
    with pytest.raises(ApiError) as e:  # the device is blocked for wrong codes
        obtain_token(http, election, "guess-4")
    assert e.value.status == 429 and "too many failed invitation codes" in e.value.message
    # Another worker process (a second app on the same database) sees the same count.
    second = create_app({"DATABASE_URL": meeting.factory.kw["bind"].url.render_as_string(
        hide_password=False), "KEYS_DIR": str(meeting.keys.path), "MIGRATE": False})
    second_meeting = second.extensions["ballot.meeting"]
    monkeypatch.setattr(second_meeting.throttles.invitations, "limit", 3)
    with pytest.raises(ServiceError) as e2:
        second_meeting.issue_token(SLUG, "guess-5", "x", client="127.0.0.1")
    assert e2.value.status == 429
    # A right code from the blocked device still works, and so does another device.
    token, _ = obtain_token_from(second_meeting, election, invitations["A1"], client="127.0.0.1")
    assert token
    token, _ = obtain_token_from(meeting, election, invitations["A2"], client="10.0.0.2")
    assert token


def obtain_token_from(meeting, election, invitation, *, client):
    prepared = blind_rsa.prepare(b"t" * 79)
    blinded, _ = blind_rsa.blind(election.ctx.issuer, prepared)
    return meeting.issue_token(SLUG, invitation, b64encode(blinded), client=client), prepared


def test_creating_a_taken_slug_leaves_the_first_meeting_intact(server):
    meeting, _ = server
    create_meeting(meeting)
    key_file = meeting.keys.path / f"issuer-{SLUG}.pem"
    before = key_file.read_bytes()
    with pytest.raises(ServiceError) as e:
        create_meeting(meeting)
    assert e.value.status == 409 and "already exists" in str(e.value)
    assert key_file.read_bytes() == before


def test_projector_and_phone_show_the_fingerprint_to_compare(server):
    """The fingerprint is read aloud and compared between the projector and each phone."""
    import urllib.request

    meeting, base_url = server
    open_with_one_trustee(meeting, base_url)
    base_hash = fetch_election(Http(base_url), SLUG).ctx.base_hash.hex()
    grouped = " ".join(base_hash[i:i + 4] for i in range(0, 64, 4))
    for page in (f"/p/{SLUG}", f"/v/{SLUG}"):
        with urllib.request.urlopen(base_url + page) as resp:
            assert grouped in resp.read().decode("utf-8"), page


def test_results_page_once_counted(server):
    import urllib.error
    import urllib.request

    meeting, base_url = server
    device, keys, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{base_url}/r/{SLUG}")
    assert e.value.code == 404
    election = fetch_election(http, SLUG)
    for rid, _ in MEMBERS[:6]:
        vote(http, SLUG, invitations[rid], [0] + [1] * (len(MEMBERS) - 1), election)
    meeting.close_voting(SLUG)
    device.decrypt(keys)
    meeting.finalize(SLUG)
    with pytest.raises(urllib.error.HTTPError) as e:  # public once published
        urllib.request.urlopen(f"{base_url}/r/{SLUG}")
    assert e.value.code == 404
    meeting.publish(SLUG)
    with urllib.request.urlopen(f"{base_url}/r/{SLUG}?lang=vi") as resp:
        page = resp.read().decode("utf-8")
    assert "Kết quả" in page and "Trần Thị Bình" in page
    assert "75,0 %" in page  # 6 of N = 8 at HTTNV, in the Vietnamese number format
    assert "results.csv" in page and "results.json" in page
