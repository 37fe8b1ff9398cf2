"""The second round (ballot B) as its own encrypted, verifiable election, linked to the first:
created from a finalized first round, same roll, trustees' access codes and invitation codes,
a new key ceremony, "at most K agree" proven in every ballot, counted by the second-round
rule, written into the first round's minutes, and checked by the verifier."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import replace

import pytest

from ballot.clients.http import ApiError, Http
from ballot.clients.trustee import TrusteeDevice
from ballot.clients.voter import cast, fetch_election, obtain_token, seal, vote
from ballot.crypto.encoding import b64decode, b64encode
from ballot.crypto.group import L
from ballot.crypto.proofs import DisjunctiveProof
from ballot.election.presets import branch_qd366
from ballot.election.roll import RollEntry
from ballot.election.units import Unit
from ballot.service.meeting import ServiceError
from ballot.service.trustee_access import enrol_all
from ballot.tally.minutes import minutes_data, render_minutes_html
from ballot.tally.record import load_record
from ballot.tally.report import checklist
from ballot.tally.verify import verify_record

from .test_meeting_flow import server  # noqa: F401 - the fixture: the app on waitress

SLUG = "cb-hai"
MEMBERS = [(f"M{i:02d}", f"Đảng viên {i}") for i in range(1, 13)]  # 12 members → X_max = 2


def ceremony(meeting, base_url, slug, codes):
    """Two trustees (k = 2), each on its own device, over HTTP. Returns their keys."""
    devices = {i: TrusteeDevice(Http(base_url, bearer=codes[f"T{i}"]), slug, i) for i in (1, 2)}
    keys = {i: d.keygen() for i, d in devices.items()}
    for i, d in devices.items():
        d.send_shares(keys[i])
    keys = {i: d.receive_shares(keys[i]) for i, d in devices.items()}
    meeting.finish_ceremony(slug)
    for i, d in devices.items():
        d.approve(keys[i])
    return devices, keys


def first_round(meeting, base_url, *, second_round=True, voters=12, **preset):
    """12 members classify each other; M01..M04 get HTXSNV from everyone, the others HTTNV:
    n = 12 at HTTNV or better, X_max = ⌊12/6⌋ = 2 < 4 candidates → a second round, K = 2.
    ``voters``: how many of them vote (the first ones)."""
    levels, rules = branch_qd366(second_round=second_round, **preset)
    roll = [RollEntry(rid, name, "official", None) for rid, name in MEMBERS]
    units = [Unit(unit_id=rid, name=name, kind="member", group="đv") for rid, name in MEMBERS]
    codes = meeting.create(slug=SLUG, title="Xếp loại 2025", organisation="Chi bộ thử",
                           date="2025-12-20", meeting_kind="branch_members", levels=levels,
                           rules=rules, roll=roll, units=units, trustee_names=["T1", "T2"],
                           threshold=2)
    codes = enrol_all(meeting, SLUG, codes)  # the trustees choose their own access codes
    meeting.begin_ceremony(SLUG)
    devices, keys = ceremony(meeting, base_url, SLUG, codes)
    invitations = meeting.open_voting(SLUG)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    for rid, _ in MEMBERS[:voters]:
        vote(http, SLUG, invitations[rid], [0] * 4 + [1] * 8, election)
    meeting.close_voting(SLUG)
    for i in (1, 2):
        devices[i].decrypt(keys[i])
    meeting.finalize(SLUG)
    return codes, invitations


def test_second_round_end_to_end(server, tmp_path):
    meeting, base_url = server
    codes, invitations = first_round(meeting, base_url)
    results = meeting.results(SLUG)["results"]
    assert results["second_round"] == [{"group": "đv", "candidates": ["M01", "M02", "M03", "M04"],
                                        "k": 2}]
    assert meeting.rounds(SLUG) == {"round": 1, "first_round": None, "second_round": None,
                                    "second_round_status": None, "candidates": True}
    record1 = meeting.record_path(SLUG).read_bytes()

    slug2 = meeting.create_second_round(SLUG)
    assert slug2 == f"{SLUG}-v2"
    with pytest.raises(ServiceError, match="already exists") as e:
        meeting.create_second_round(SLUG)
    assert e.value.status == 409
    with pytest.raises(ServiceError, match="already a second round"):
        meeting.create_second_round(slug2)

    state = meeting.ceremony_state(slug2)
    m2 = state["manifest"]
    assert [u["unit_id"] for u in m2["units"]] == ["M01", "M02", "M03", "M04"]
    assert [lv["code"] for lv in m2["levels"]] == ["agree", "disagree"]
    assert m2["roll"] == meeting.ceremony_state(SLUG)["manifest"]["roll"]
    link = m2["ballot_b"]["first_round"]
    assert link == {"slug": SLUG,
                    "manifest_hash": meeting.ceremony_state(SLUG)["manifest_hash"],
                    "record_sha256": hashlib.sha256(record1).hexdigest()}
    assert m2["ballot_b"]["base"] == 12
    assert meeting.rounds(slug2)["round"] == 2 and meeting.rounds(SLUG)["second_round"] == slug2

    # A new key ceremony, the trustees logging in with their round-one access codes.
    meeting.begin_ceremony(slug2)
    devices, keys = ceremony(meeting, base_url, slug2, codes)
    assert meeting.open_voting(slug2) == {}  # every member already holds a slip

    http = Http(base_url)
    info = http.get(f"/api/v1/elections/{slug2}")
    assert info["limits"] == [{"units": [0, 1, 2, 3], "max": 2}]
    assert info["round"] == 2 and info["first_round"] == SLUG
    assert http.get(f"/api/v1/elections/{SLUG}")["second_round"] == slug2
    election = fetch_election(http, slug2)
    # The same invitation codes work again, once.
    plans = {"M01": [0, 0, 1, 1], "M02": [0, 0, None, 1], "M03": [0, 1, 0, 1],
             "M04": [0, None, None, None], "M05": [0, 0, 1, 1], "M06": [0, 0, 1, 1],
             "M07": [0, 0, 1, 1], "M08": [1, 0, 0, 1], "M09": [0, 1, 0, 1]}
    for rid, choices in plans.items():
        vote(http, slug2, invitations[rid], choices, election)
    with pytest.raises(ApiError) as e:
        obtain_token(http, election, invitations["M01"])
    assert e.value.status == 409

    # A phone that tries three "agree" with K = 2 cannot prove it; a forged proof is refused.
    token, key = obtain_token(http, election, invitations["M10"])
    with pytest.raises(ValueError, match="at most 2"):
        seal(election, token, key, [0, 0, 0, 1])
    ballot, _ = seal(election, token, key, [0, 0, 1, 1])
    # The limit proofs are signed with the ballot: changed, the signature fails first ...
    tampered = ballot.to_json()
    (c0, v0), *rest = ballot.limits[0].branches
    altered = DisjunctiveProof((((c0 + 1) % L, v0), *rest))
    tampered["limits"] = [b64encode(altered.to_bytes())]
    with pytest.raises(ApiError) as e:
        http.post(f"/api/v1/elections/{slug2}/ballots", {"ballot": tampered})
    assert e.value.status == 422 and "signature" in e.value.message
    # ... and re-signed by the voter key (M11 here), the proof itself fails: the ballot is
    # received (its token and signature are good), then marked invalid by the background
    # check, with the reason, and not counted; the token is spent.
    token11, key11 = obtain_token(http, election, invitations["M11"])
    honest11, _ = seal(election, token11, key11, [0, 0, 1, 1])
    unsigned = replace(honest11, limits=(altered,), signature=b"")
    forged = replace(unsigned, signature=key11.sign(unsigned.ballot_hash).signature)
    receipt = http.post(f"/api/v1/elections/{slug2}/ballots",
                        {"ballot": forged.to_json()})["receipt"]
    assert meeting.finish_close(slug2) is False  # not closed: checks only, no aggregate
    status = http.get(f"/api/v1/elections/{slug2}/ballots/{receipt['position']}/status")
    assert status["status"] == "invalid" and status["tracking_code"] == forged.tracking_code
    assert "group 1: more than 2 agree, or the proof fails" in status["reason"]
    with pytest.raises(ApiError) as e:
        cast(http, election, honest11)
    assert e.value.status == 409
    without = {k: v for k, v in ballot.to_json().items() if k != "limits"}
    with pytest.raises(ApiError) as e:
        http.post(f"/api/v1/elections/{slug2}/ballots", {"ballot": without})
    assert e.value.status == 422 and "missing ['limits']" in e.value.message
    cast(http, election, ballot)  # the honest one is accepted
    plans["M10"] = [0, 0, 1, 1]

    meeting.close_voting(slug2)
    for i in (1, 2):
        devices[i].decrypt(keys[i])
    path2 = meeting.finalize(slug2)

    res2 = meeting.results(slug2)
    units = {r["unit_id"]: r for r in res2["results"]["units"]}
    # agree: M01 = 9 (M08 disagrees), M02 = 7, M03 = 3, M04 = 0; N = 12 → more than 6.
    assert {u: r["counts"]["votes"]["agree"] for u, r in units.items()} == \
        {"M01": 9, "M02": 7, "M03": 3, "M04": 0}
    assert units["M03"]["counts"]["abstain"] == 2  # M02's and M04's blank rows
    assert {u: r["outcome"] for u, r in units.items()} == {
        "M01": "selected", "M02": "selected", "M03": "not_selected", "M04": "not_selected"}
    (group,) = res2["results"]["ballot_b"]
    assert group["selected"] == ["M01", "M02"] and group["k"] == 2

    # Round two's record verifies, and says so about its limit proofs.
    rec2 = load_record(path2)
    report = verify_record(rec2, workers=1)
    assert report.ok, checklist(report)
    limits = next(c for c in report.checks if c.key == "limits")
    assert "10 ballots" in limits.detail and "at most 2" in limits.detail
    assert report.figures["limit_proofs"] == 10

    # Round one's record is unchanged; its minutes get the second-round section.
    assert meeting.record_path(SLUG).read_bytes() == record1
    extra = meeting.second_round_minutes(SLUG)
    assert extra == {"second_round": {
        "agree": {"M01": 9, "M02": 7, "M03": 3, "M04": 0},
        "disagree": {"M01": 1, "M02": 2, "M03": 5, "M04": 9},
        "outcome": {"M01": "selected", "M02": "selected", "M03": "not_selected",
                    "M04": "not_selected"},
        "texts": {"đv": group["text"]["vi"]},
        # round two's own record: its SHA-256 and its verification, for the minutes
        "verification": extra["second_round"]["verification"]}}
    assert hashlib.sha256(path2.read_bytes()).hexdigest() in extra["second_round"]["verification"]
    assert "HỢP LỆ" in extra["second_round"]["verification"]
    rec1 = load_record(meeting.record_path(SLUG))
    d = minutes_data(rec1, meeting=extra)
    (view,) = d.second_round
    assert [(r.unit_id, r.agree, r.disagree, r.status) for r in view.rows] == [
        ("M01", 9, 1, "Được chọn"), ("M02", 7, 2, "Được chọn"),
        ("M03", 3, 5, "Không được chọn"), ("M04", 0, 9, "Không được chọn")]
    assert "Được chọn" in render_minutes_html(rec1, meeting=extra)
    # Round two's own minutes render from its record.
    page2 = render_minutes_html(rec2, report)
    assert "được chọn" in page2.lower()


def open_round_two(meeting, base_url, codes):
    """Round two created, its key ceremony held, voting open: (slug, devices, keys, http,
    election)."""
    slug2 = meeting.create_second_round(SLUG)
    meeting.begin_ceremony(slug2)
    devices, keys = ceremony(meeting, base_url, slug2, codes)
    meeting.open_voting(slug2)
    http = Http(base_url)
    return slug2, devices, keys, http, fetch_election(http, slug2)


def test_the_verifier_names_a_tampered_limit_proof(server):
    meeting, base_url = server
    codes, invitations = first_round(meeting, base_url)
    slug2, devices, keys, http, election = open_round_two(meeting, base_url, codes)
    signed = []
    for rid in ("M01", "M02"):
        token, key = obtain_token(http, election, invitations[rid])
        ballot, _ = seal(election, token, key, [0, 1, None, 1])
        cast(http, election, ballot)
        signed.append((ballot, key))
    meeting.close_voting(slug2)
    for i in (1, 2):
        devices[i].decrypt(keys[i])
    record = load_record(meeting.finalize(slug2))
    assert verify_record(record, workers=1).ok

    # Board position 2 altered: its limit proof changed. As is, the ballot's signature fails;
    # re-signed with the voter's key (or by anyone holding a valid token), the verifier names
    # the limit proof itself.
    ballot, key = signed[1]
    (c0, v0), *rest = ballot.limits[0].branches
    unsigned = replace(ballot, limits=(DisjunctiveProof((((c0 + 1) % L, v0), *rest)),),
                       signature=b"")
    bad = copy.deepcopy(record)
    bad["board"][1]["ballot"] = unsigned.to_json()
    bad["board"][1]["ballot"]["signature"] = record["board"][1]["ballot"]["signature"]
    report = verify_record(bad, workers=1)
    assert not report.ok and report.first_failure.key == "ballots"
    assert "board position 2: the ballot's signature does not verify" in report.first_failure.detail
    forged = replace(unsigned, signature=key.sign(unsigned.ballot_hash).signature)
    bad["board"][1]["ballot"] = forged.to_json()
    report = verify_record(bad, workers=1)
    assert not report.ok and report.first_failure.key == "ballots"
    assert "board position 2: group 1: more than 2 agree, or the proof fails" in \
        report.first_failure.detail

    # A limit proof with the wrong number of branches is refused as malformed.
    bad = copy.deepcopy(record)
    bad["board"][0]["ballot"]["limits"] = [b64encode(b64decode(
        record["board"][0]["ballot"]["limits"][0])[:-64])]
    report = verify_record(bad, workers=1)
    assert not report.ok and "limits[0]: expected" in report.first_failure.detail


def test_create_second_round_preconditions(server):
    meeting, base_url = server
    with pytest.raises(ServiceError) as e:
        meeting.create_second_round("nope")
    assert e.value.status == 404
    # No second round in the rules: the quota cuts instead, nobody goes to a second round.
    first_round(meeting, base_url, second_round=False)
    with pytest.raises(ServiceError, match="no candidate to a second round") as e:
        meeting.create_second_round(SLUG)
    assert e.value.status == 409


def test_create_second_round_needs_a_finalized_first_round(server):
    meeting, _ = server
    levels, rules = branch_qd366(second_round=True)
    roll = [RollEntry(rid, name, "official", None) for rid, name in MEMBERS]
    units = [Unit(unit_id=rid, name=name, kind="member") for rid, name in MEMBERS]
    meeting.create(slug=SLUG, title="Xếp loại", organisation="Chi bộ", date="2025-12-20",
                   meeting_kind="branch_members", levels=levels, rules=rules, roll=roll,
                   units=units, trustee_names=["T1"], threshold=1)
    with pytest.raises(ServiceError, match="not finalized") as e:
        meeting.create_second_round(SLUG)
    assert e.value.status == 409


def _round_two(meeting, base_url, codes, invitations, voters: int, plan: list) -> dict:
    return _round_two_plans(meeting, base_url, codes, invitations, [plan] * voters)


def test_round_one_minutes_show_round_two_as_it_was_counted_quorum_failed(server):
    # Round two: 7 of 12 present, below the 2/3 quorum: no one is selected there, and round
    # one's minutes must say so, not count the agree votes again.
    meeting, base_url = server
    codes, invitations = first_round(meeting, base_url)
    res2 = _round_two(meeting, base_url, codes, invitations, 7, [0, 0, 1, 1])
    assert {u["outcome"] for u in res2["units"]} == {"quorum_failed"}
    extra = meeting.second_round_minutes(SLUG)
    assert set(extra["second_round"]["outcome"].values()) == {"quorum_failed"}
    d = minutes_data(load_record(meeting.record_path(SLUG)), meeting=extra)
    (view,) = d.second_round
    assert {r.status for r in view.rows} == {"Vòng hai không đủ số đảng viên có mặt theo quy định"}
    assert "Được chọn" not in render_minutes_html(load_record(meeting.record_path(SLUG)),
                                                 meeting=extra)


def test_round_one_minutes_with_a_present_base_larger_in_round_two(server):
    # N = members present: 9 in round one, 12 in round two. Round two counts with its own N
    # (12 agree ≤ 12); round one's minutes show that result (no "12 exceeds N = 9").
    meeting, base_url = server
    codes, invitations = first_round(meeting, base_url, voters=9, base="present")
    assert meeting.results(SLUG)["results"]["base"] == 9
    res2 = _round_two(meeting, base_url, codes, invitations, 12, [0, 0, 1, 1])
    assert res2["base"] == 12
    assert {u["unit_id"]: u["outcome"] for u in res2["units"]} == {
        "M01": "selected", "M02": "selected", "M03": "not_selected", "M04": "not_selected"}
    extra = meeting.second_round_minutes(SLUG)
    rec1 = load_record(meeting.record_path(SLUG))
    (view,) = minutes_data(rec1, meeting=extra).second_round
    assert [(r.unit_id, r.agree, r.status) for r in view.rows] == [
        ("M01", 12, "Được chọn"), ("M02", 12, "Được chọn"),
        ("M03", 0, "Không được chọn"), ("M04", 0, "Không được chọn")]
    assert "N = 12" in view.text_vi


def test_a_committee_smaller_than_its_second_round_group(server):
    # A standing committee of 3 classifies 12 organisations; all 3 rate O01..O04 excellent:
    # 4 candidates for at most ⌊12/6⌋ = 2 places, with 3 voters. The radix becomes
    # max(3, 4) + 1 = 5 so that "at most 2 agree" has one reading; round two runs and verifies.
    from ballot.election.presets import committee_qd366

    meeting, base_url = server
    slug = "ban-tv"
    levels, rules = committee_qd366(second_round=True)
    roll = [RollEntry(f"U{i}", f"Ủy viên {i}", "official", None) for i in (1, 2, 3)]
    orgs = [Unit(unit_id=f"O{i:02d}", name=f"Chi bộ {i}", kind="organisation", group="cb")
            for i in range(1, 13)]
    codes = meeting.create(slug=slug, title="Xếp loại tổ chức", organisation="Đảng ủy thử",
                           date="2025-12-20", meeting_kind="committee_units",
                           levels=levels, rules=rules, roll=roll, units=orgs,
                           trustee_names=["T1", "T2"], threshold=2)
    codes = enrol_all(meeting, slug, codes)
    meeting.begin_ceremony(slug)
    devices, keys = ceremony(meeting, base_url, slug, codes)
    invitations = meeting.open_voting(slug)
    http = Http(base_url)
    election = fetch_election(http, slug)
    for rid in ("U1", "U2", "U3"):
        vote(http, slug, invitations[rid], [0] * 4 + [1] * 8, election)
    meeting.close_voting(slug)
    for i in (1, 2):
        devices[i].decrypt(keys[i])
    meeting.finalize(slug)

    slug2 = meeting.create_second_round(slug)
    meeting.begin_ceremony(slug2)
    devices, keys = ceremony(meeting, base_url, slug2, codes)
    info = meeting.public_info(slug2)
    assert len(info["manifest"]["units"]) == 4 and info["limits"] == [{"units": [0, 1, 2, 3], "max": 2}]
    meeting.open_voting(slug2)
    election2 = fetch_election(http, slug2)
    assert election2.ctx.shape.radix == 5
    for rid, plan in (("U1", [0, 0, 1, 1]), ("U2", [0, 1, 0, 1]), ("U3", [0, 0, None, 1])):
        vote(http, slug2, invitations[rid], plan, election2)
    meeting.close_voting(slug2)
    for i in (1, 2):
        devices[i].decrypt(keys[i])
    record = load_record(meeting.finalize(slug2))
    assert record["context"]["radix"] == 5
    report = verify_record(record, workers=1)
    assert report.ok, checklist(report)
    agree = {u["unit_id"]: u["counts"]["votes"]["agree"] for u in record["results"]["units"]}
    assert agree == {"O01": 3, "O02": 2, "O03": 1, "O04": 0}


def test_round_two_needs_what_round_one_needed_for_the_top_level(server):
    # Round one under "2/3 for HTXSNV": round two's agree needs at least 2/3 of N too. With
    # 12 members, 7 agree is a majority but not 2/3: not selected; 8 is.
    meeting, base_url = server
    codes, invitations = first_round(meeting, base_url, top_two_thirds=True)
    res2 = _round_two_plans(meeting, base_url, codes, invitations,
                            [[0, 0, 1, 1]] * 7 + [[1, 0, 1, 1]] + [[1, 1, 1, 1]] * 4)
    agree = {u["unit_id"]: u["counts"]["votes"]["agree"] for u in res2["units"]}
    assert agree == {"M01": 7, "M02": 8, "M03": 0, "M04": 0}
    out = {u["unit_id"]: u["outcome"] for u in res2["units"]}
    assert out == {"M01": "not_selected", "M02": "selected", "M03": "not_selected",
                   "M04": "not_selected"}
    assert "2/3" in next(u for u in res2["units"] if u["unit_id"] == "M01")["rule"]["vi"]
    rec2 = load_record(meeting.record_path(meeting.second_round_slug(SLUG)))
    assert "Đồng ý ≥ 2/3 N" in render_minutes_html(rec2)


def _round_two_plans(meeting, base_url, codes, invitations, plans: list) -> dict:
    slug2, devices, keys, http, election = open_round_two(meeting, base_url, codes)
    for (rid, _), plan in zip(MEMBERS, plans):
        vote(http, slug2, invitations[rid], plan, election)
    meeting.close_voting(slug2)
    for i in (1, 2):
        devices[i].decrypt(keys[i])
    meeting.finalize(slug2)
    return meeting.results(slug2)["results"]
