"""A passive listener on the meeting's plain-HTTP Wi-Fi (docs/threat-model.md §3.4) records
every token request of round one, then replays them, byte for byte, into round two, where the
same slips work again. Refused: the phone sends a per-round credential of the slip's code
(docs/protocol.md §7.1), never the code, and round two's credentials are other ones. The
owners' round-one slips still work in round two."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from sqlalchemy import select

from ballot.clients.http import ApiError, Http
from ballot.clients.voter import fetch_election, vote
from ballot.election.presets import branch_qd366
from ballot.election.roll import RollEntry
from ballot.election.units import Unit
from ballot.service.trustee_access import enrol_all
from ballot.store.db import transaction
from ballot.store.models import Election, Invitation
from ballot.store.models import RollEntry as RollRow
from tests.service.test_meeting_flow import server  # noqa: F401 - the fixture
from tests.service.test_second_round import MEMBERS, SLUG, ceremony


class Wire(Http):
    """An Http whose request bodies a listener on the Wi-Fi records, exactly as sent."""

    def __init__(self, base_url: str, heard: list[tuple[str, bytes]]):
        super().__init__(base_url)
        self.heard = heard

    def request(self, method, path, payload=None):
        if payload is not None:
            self.heard.append((path, json.dumps(payload).encode()))
        return super().request(method, path, payload)


def post_raw(base_url: str, path: str, body: bytes) -> tuple[int, dict]:
    req = urllib.request.Request(base_url + path, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # nosec B310 - a test's own server
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_round_one_token_requests_replayed_into_round_two_are_refused(server):  # noqa: F811
    meeting, base_url = server
    levels, rules = branch_qd366(second_round=True)
    roll = [RollEntry(rid, name, "official", None) for rid, name in MEMBERS]
    units = [Unit(unit_id=rid, name=name, kind="member", group="đv") for rid, name in MEMBERS]
    trustee_codes = meeting.create(slug=SLUG, title="Xếp loại 2025", organisation="Chi bộ thử",
                                   date="2025-12-20", meeting_kind="branch_members",
                                   levels=levels, rules=rules, roll=roll, units=units,
                                   trustee_names=["T1", "T2"], threshold=2)
    trustee_codes = enrol_all(meeting, SLUG, trustee_codes)  # the trustees choose their own codes
    meeting.begin_ceremony(SLUG)
    devices, keys = ceremony(meeting, base_url, SLUG, trustee_codes)
    slips = meeting.open_voting(SLUG)

    # Round one: every member votes; the listener records every request body.
    heard: list[tuple[str, bytes]] = []
    wire = Wire(base_url, heard)
    election = fetch_election(wire, SLUG)
    for rid, _ in MEMBERS:
        vote(wire, SLUG, slips[rid], [0] * 4 + [1] * 8, election)
    token_requests = [body for path, body in heard if path.endswith("/tokens")]
    assert len(token_requests) == len(MEMBERS)
    # What the listener heard holds no slip code, in any spelling.
    for body in token_requests:
        sent = json.loads(body)
        assert set(sent) == {"credential", "blinded_msg"}
        for code in slips.values():
            assert code.encode() not in body and code.replace("-", "").encode() not in body

    meeting.close_voting(SLUG)
    for i in (1, 2):
        devices[i].decrypt(keys[i])
    meeting.finalize(SLUG)
    slug2 = meeting.create_second_round(SLUG)
    meeting.begin_ceremony(slug2)
    ceremony(meeting, base_url, slug2, trustee_codes)
    assert meeting.open_voting(slug2) == {}  # the round-one slips carry over
    # Round two's invitations are made in roll order, whatever order round one's were used in
    # (their ids must not replay round one's order of redemption), and hold round two's hashes.
    with transaction(meeting.factory, read_only=True) as s:
        e1, e2 = (s.execute(select(Election.id).where(Election.slug == x)).scalar_one()
                  for x in (SLUG, slug2))
        roll2 = {r.id: r.roll_id for r in s.execute(
            select(RollRow).where(RollRow.election_id == e2)).scalars()}
        rows2 = list(s.execute(select(Invitation).where(Invitation.election_id == e2)
                               .order_by(Invitation.id)).scalars())
        assert [roll2[i.roll_entry_id] for i in rows2] == [rid for rid, _ in MEMBERS]
        assert all(i.next_round_hash is None and i.redeemed_at is None for i in rows2)
        hashes1 = {i.code_hash for i in s.execute(
            select(Invitation).where(Invitation.election_id == e1)).scalars()}
        assert not hashes1 & {i.code_hash for i in rows2}

    # The attack: each captured body, byte for byte, into round two. Refused, and not one
    # token issued.
    for body in token_requests:
        status, answer = post_raw(base_url, f"/api/v1/elections/{slug2}/tokens", body)
        assert status in (403, 404), (status, answer)
        assert "unknown invitation" in answer["error"]
    # the same with the credential re-labelled as a code: still nothing
    for body in token_requests[:3]:
        sent = json.loads(body)
        status, _ = post_raw(base_url, f"/api/v1/elections/{slug2}/tokens", json.dumps(
            {"invitation": sent["credential"], "blinded_msg": sent["blinded_msg"]}).encode())
        assert status in (403, 404)
    assert meeting.counters(slug2)["tokens"] == 0

    # The owners: their round-one slips work in round two, once.
    http = Http(base_url)
    election2 = fetch_election(http, slug2)
    for rid, _ in MEMBERS[:3]:
        receipt = vote(http, slug2, slips[rid], [0, 0, 1, 1], election2)
        assert receipt["position"] >= 1
    try:
        vote(http, slug2, slips[MEMBERS[0][0]], [0, 0, 1, 1], election2)
        raise AssertionError("a slip was used twice in round two")
    except ApiError as exc:
        assert exc.status == 409
    assert meeting.counters(slug2)["tokens"] == 3
