"""Hostile and malformed requests to every JSON API endpoint: never a 500, always a 4xx with a
reason, and the board unchanged (issue: hostile input)."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ballot.clients.http import Http
from ballot.clients.voter import fetch_election, obtain_token, seal, vote
from ballot.crypto.encoding import b64encode
from ballot.web.openapi import PATHS

from .test_meeting_flow import MEMBERS, SLUG, open_with_one_trustee, server  # noqa: F401

SMALL_ORDER = [bytes([1]) + bytes(31), bytes(32), bytes([0xEC]) + b"\xff" * 30 + b"\x7f",
               bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
               bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")]
NON_CANONICAL = b"\xff" * 31 + b"\x7f"  # y >= p

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@pytest.fixture
def open_meeting(server):  # noqa: F811
    meeting, base_url = server
    _, _, invitations = open_with_one_trustee(meeting, base_url)
    http = Http(base_url)
    election = fetch_election(http, SLUG)
    vote(http, SLUG, invitations["A1"], [1] * len(MEMBERS), election)
    token, key = obtain_token(http, election, invitations["A2"])
    valid, _ = seal(election, token, key, [0] * len(MEMBERS))
    return meeting, None, valid.to_json(), election


def refused(resp) -> None:
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.data[:300])
    body = resp.get_json(silent=True)
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], resp.data[:300]




@pytest.fixture
def client(open_meeting, server):  # noqa: F811
    meeting = open_meeting[0]
    from ballot.web import create_app

    app = create_app({"DATABASE_URL": meeting.factory.kw["bind"].url.render_as_string(
        hide_password=False), "KEYS_DIR": str(meeting.keys.path), "MIGRATE": False,
        "RECORDS_DIR": str(meeting.records_dir)})
    return app.test_client()


HYP = settings(max_examples=40, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def test_openapi_describes_every_api_route(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    described = {(p, m.upper()) for p, ops in spec["paths"].items() for m in ops}
    app = client.application
    actual = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.rule != "/api/v1/openapi.json":
            path = rule.rule.removeprefix("/api/v1").replace("<int:index>", "{index}").replace(
                    "<int:position>", "{position}").replace(
                "<slug>", "{slug}")
            actual |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == actual
    assert set(spec["paths"]) == set(PATHS)


@HYP
@given(body=json_values)
def test_every_post_endpoint_refuses_arbitrary_json(client, open_meeting, body):
    meeting = open_meeting[0]
    before = meeting.board(SLUG)
    for path, ops in PATHS.items():
        if "post" not in ops:
            continue
        url = "/api/v1" + path.replace("{slug}", SLUG).replace("{index}", "1")
        resp = client.post(url, json=body, headers={"Authorization": "Bearer wrong"})
        refused(resp)
    assert meeting.board(SLUG) == before


@HYP
@given(data=st.binary(max_size=200), ctype=st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
def test_non_json_bodies_are_refused(client, open_meeting, data, ctype):
    meeting = open_meeting[0]
    before = meeting.board(SLUG)
    for url in ("/api/v1/elections/cb-test/tokens", "/api/v1/elections/cb-test/ballots"):
        refused(client.post(url, data=data, content_type=ctype or None))
    assert meeting.board(SLUG) == before


@HYP
@given(depth=st.one_of(st.integers(1, 3000), st.integers(3000, 200_000)),
       nest=st.sampled_from([("[", "]"), ('{"a":', "}"), ('{"ballot":[', "]}"),
                             ('{"invitation":{"x":', "}}"), ('[{"":', "}]")]),
       closed=st.booleans())
def test_deeply_nested_json_is_refused(client, open_meeting, depth, nest, closed):
    """JSON nested 200,000 deep used to be a 500 (RecursionError in the parser)."""
    meeting = open_meeting[0]
    before = meeting.board(SLUG)
    opener, closer = nest
    data = opener * depth + ("1" + closer * depth if closed else "")
    for path, ops in PATHS.items():
        if "post" not in ops:
            continue
        url = "/api/v1" + path.replace("{slug}", SLUG).replace("{index}", "1")
        resp = client.post(url, data=data, content_type="application/json",
                           headers={"Authorization": "Bearer wrong"})
        refused(resp)
        if depth >= 3000:
            assert resp.status_code in (400, 401), (url, resp.status_code)
    assert meeting.board(SLUG) == before


#: invitation codes made only of what normalisation removes: they used to be a 500
EMPTY_CODES = st.text(alphabet=" -\t\n", min_size=1, max_size=30)


@HYP
@given(invitation=st.one_of(st.text(max_size=40), st.integers(), st.none(), EMPTY_CODES),
       blinded=st.one_of(st.binary(max_size=400).map(b64encode), st.text(max_size=50),
                         st.just(b64encode(b"\xff" * 384)), st.just(b64encode(bytes(384)))))
def test_token_requests_with_bad_values(client, open_meeting, invitation, blinded):
    meeting = open_meeting[0]
    before = meeting.counters(SLUG)
    refused(client.post(f"/api/v1/elections/{SLUG}/tokens",
                        json={"invitation": invitation, "blinded_msg": blinded}))
    assert meeting.counters(SLUG) == before


def _mutations():
    point_bytes = st.sampled_from(SMALL_ORDER + [NON_CANONICAL]) | st.binary(min_size=32, max_size=32)
    return st.one_of(
        st.tuples(st.just("unit_point"), st.integers(0, len(MEMBERS) - 1), st.integers(0, 1), point_bytes),
        st.tuples(st.just("unit_bytes"), st.integers(0, len(MEMBERS) - 1), st.integers(0, 383),
                  st.integers(1, 255)),
        st.tuples(st.just("unit_length"), st.integers(0, len(MEMBERS) - 1), st.integers(-5, 5),
                  st.just(0)),
        st.tuples(st.just("field"), st.sampled_from(["version", "election", "token", "units",
                                                     "signature"]), json_values, st.just(0)),
        st.tuples(st.just("drop"), st.sampled_from(["version", "election", "token", "units",
                                                    "signature"]), st.just(0), st.just(0)),
    )


@HYP
@given(mutation=_mutations())
def test_mutated_ballots_are_refused(client, open_meeting, mutation):
    from ballot.crypto.encoding import b64decode

    meeting, _, valid, _ = open_meeting
    before = meeting.board(SLUG)
    ballot = copy.deepcopy(valid)
    kind, a, b, c = mutation
    if kind == "unit_point":
        raw = bytearray(b64decode(ballot["units"][a]))
        raw[32 * b: 32 * b + 32] = c
        ballot["units"][a] = b64encode(bytes(raw))
    elif kind == "unit_bytes":
        raw = bytearray(b64decode(ballot["units"][a]))
        raw[b] ^= c
        ballot["units"][a] = b64encode(bytes(raw))
    elif kind == "unit_length":
        raw = b64decode(ballot["units"][a])
        raw = raw[: len(raw) + b] if b < 0 else raw + bytes(b)
        if b == 0:
            raw = raw[:-1]
        ballot["units"][a] = b64encode(raw)
    elif kind == "field":
        if ballot[a] == b:
            return
        ballot[a] = b
    else:
        del ballot[a]
    refused(client.post(f"/api/v1/elections/{SLUG}/ballots", json={"ballot": ballot}))
    assert meeting.board(SLUG) == before


def test_replays_and_other_elections_are_refused(client, open_meeting):
    meeting, _, valid, election = open_meeting
    ok = client.post(f"/api/v1/elections/{SLUG}/ballots", json={"ballot": valid})
    assert ok.status_code == 201
    receipt = ok.get_json()["receipt"]
    board = meeting.board(SLUG)
    refused(client.post(f"/api/v1/elections/{SLUG}/ballots", json={"ballot": valid}))  # replay
    refused(client.post(f"/api/v1/elections/{SLUG}/ballots", json={"ballot": receipt}))
    refused(client.post(f"/api/v1/elections/{SLUG}/ballots", json={"receipt": receipt}))
    other = copy.deepcopy(valid)
    other["election"] = "ab" * 32  # proofs and token for another election
    refused(client.post(f"/api/v1/elections/{SLUG}/ballots", json={"ballot": other}))
    refused(client.post("/api/v1/elections/no-such-election/ballots", json={"ballot": valid}))
    assert meeting.board(SLUG) == board


def test_huge_bodies_are_refused(client, open_meeting):
    meeting = open_meeting[0]
    before = meeting.board(SLUG)
    huge = json.dumps({"ballot": {"units": ["A" * 1000] * 5000}})
    resp = client.post(f"/api/v1/elections/{SLUG}/ballots", data=huge,
                       content_type="application/json")
    assert resp.status_code == 413
    refused(resp)
    assert meeting.board(SLUG) == before


@HYP
@given(path=st.sampled_from(sorted(PATHS)), slug=st.text(max_size=30), index=st.integers(-5, 99))
def test_get_endpoints_never_fail_on_odd_paths(client, path, slug, index):
    from urllib.parse import quote

    if "get" not in PATHS[path]:
        return
    url = "/api/v1" + path.replace("{slug}", quote(slug, safe="") or "x").replace(
        "{index}", str(index))
    resp = client.get(url, headers={"Authorization": "Bearer nope"})
    assert resp.status_code < 500, (url, resp.status_code, resp.data[:200])


@pytest.mark.parametrize("slug", ["%00", "a%00b", "UPPER", "-x", "x" * 80, "%C3%A9"])
def test_impossible_slugs_are_not_found(client, slug):
    """Found by the property test on PostgreSQL: a NUL byte in the slug reached the database."""
    resp = client.get(f"/api/v1/elections/{slug}")
    assert resp.status_code == 404
    refused(resp)
