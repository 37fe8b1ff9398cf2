import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.crypto.encoding import b64encode, canonical_json, parse_json, sha256
from ballot.election.errors import ManifestError
from ballot.election.manifest import Manifest
from ballot.election.presets import branch_qd366
from ballot.election.roll import RollEntry
from ballot.election.trustees import Trustees
from ballot.election.units import Unit


def make_manifest(**changes) -> Manifest:
    levels, rules = branch_qd366()
    fields = dict(
        title="Xếp loại đảng viên 2025",
        organisation="Chi bộ 3",
        date="2025-12-15",
        meeting_kind="branch_members",
        roll=(RollEntry("r1", "Nguyễn Văn An"),
              RollEntry("r2", "Trần Thị Bình"),
              RollEntry("r3", "Lê Văn Cường", "probationary"),
              RollEntry("r4", "Phạm Thị Dung", "excluded", "đi học tập trung")),
        units=(Unit("org", "Chi ủy", kind="organisation"),
               Unit("u1", "Nguyễn Văn An", kind="leader", collective="org", score=91,
                    self_level="HTXSNV", proposed_level="HTTNV"),
               Unit("u2", "Trần Thị Bình", group="chuyen_vien", disciplined=True)),
        levels=levels,
        rules=rules,
        trustees=Trustees(("Tổ trưởng", "Thành viên 1", "Thành viên 2"), 2),
        issuer_public_key=b64encode(b"\x30\x2a spki der"),
    )
    fields.update(changes)
    return Manifest(**fields)


def test_round_trip_and_canonical_bytes_stable():
    m = make_manifest()
    doc = m.to_json()
    assert Manifest.from_json(doc) == m
    assert Manifest.from_json(parse_json(m.canonical_bytes())) == m
    assert m.canonical_bytes() == canonical_json(doc)
    assert Manifest.from_json(copy.deepcopy(doc)).canonical_bytes() == m.canonical_bytes()
    assert m.manifest_hash() == sha256("ballot/v1/manifest", m.canonical_bytes())
    assert len(m.manifest_hash()) == 32


def test_hash_changes_with_content():
    assert make_manifest().manifest_hash() != make_manifest(title="Khác").manifest_hash()


def test_json_shape():
    doc = make_manifest().to_json()
    assert list(doc) == ["version", "title", "organisation", "date", "meeting_kind", "roll",
                         "units", "levels", "rules", "trustees", "issuer_public_key"]
    assert doc["version"] == "ballot/manifest/v1"
    assert doc["roll"][3] == {"roll_id": "r4", "name": "Phạm Thị Dung", "status": "excluded",
                              "reason": "đi học tập trung"}
    assert doc["units"][1] == {
        "unit_id": "u1", "name": "Nguyễn Văn An", "kind": "leader", "group": None,
        "self_level": "HTXSNV", "proposed_level": "HTTNV", "score": 91, "collective": "org",
        "disciplined": False, "outstanding": False, "head": False}
    assert doc["trustees"] == {"members": ["Tổ trưởng", "Thành viên 1", "Thành viên 2"],
                               "threshold": 2}
    assert doc["rules"]["quota"]["ratio"] == "1/5"


def test_roll_figures():
    m = make_manifest()
    assert [e.roll_id for e in m.eligible_voters()] == ["r1", "r2"]
    assert (m.convened(), m.excluded(), m.roll_base()) == (3, 1, 2)


def _doc_with(path, value):
    doc = make_manifest().to_json()
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize("path,value,message", [
    (("extra",), 1, r"^extra: unknown key"),
    (("title",), KeyError, r"^title: missing"),
    (("version",), "ballot/manifest/v2", r"^version: expected"),
    (("date",), "2025-2-1", r"^date: expected an ISO date"),
    (("date",), "2025-02-30", r"^date: expected an ISO date"),
    (("meeting_kind",), "congress", r"^meeting_kind: expected one of"),
    (("title",), "", r"^title: must not be empty"),
    (("roll", 0, "status"), "guest", r"^roll\[0\].status: expected one of"),
    (("roll", 3, "reason"), None, r"^roll\[3\].reason: an excluded member needs"),
    (("roll", 1, "roll_id"), "r1", r"^roll\[1\].roll_id: 'r1' appears twice"),
    (("roll", 0, "age"), 40, r"^roll\[0\].age: unknown key"),
    (("units", 1, "score"), 101, r"^units\[1\].score: must be at most 100"),
    (("units", 1, "score"), True, r"^units\[1\].score: expected an integer, got a boolean"),
    (("units", 1, "score"), "90", r"^units\[1\].score: expected an integer"),
    (("units", 1, "kind"), "cadre", r"^units\[1\].kind: expected one of"),
    (("units", 1, "self_level"), "XS", r"^units\[1\].self_level: 'XS' is not a level"),
    (("units", 1, "collective"), "nobody", r"^units\[1\].collective: no unit 'nobody'"),
    (("units", 1, "collective"), "u2", r"^units\[1\].collective: 'u2' is a member"),
    (("units", 1, "collective"), "u1", r"^units\[1\].collective: unit 'u1' cannot be its own"),
    (("units", 2, "unit_id"), "u1", r"^units\[2\].unit_id: 'u1' appears twice"),
    (("units", 2, "disciplined"), 1, r"^units\[2\].disciplined: expected true or false"),
    (("units", 2, "notes"), "x", r"^units\[2\].notes: unknown key"),
    (("units",), [], r"^units: at least one unit"),
    (("levels",), [], r"^levels: at least 2 levels"),
    (("rules", "quota", "top"), "XS", r"^rules.quota.top: 'XS' is not a level"),
    (("trustees", "threshold"), 0, r"^trustees.threshold: must be at least 1"),
    (("trustees", "threshold"), 4, r"^trustees.threshold: must be at most 3"),
    (("trustees", "members"), [], r"^trustees.members: at least one trustee"),
    (("issuer_public_key",), "not base64!", r"^issuer_public_key: not base64url"),
])
def test_from_json_is_strict(path, value, message):
    with pytest.raises(ManifestError, match=message):
        Manifest.from_json(_doc_with(path, value))


def test_collective_cycle_rejected():
    units = (Unit("a", "A", kind="organisation", collective="b"),
             Unit("b", "B", kind="organisation", collective="a"))
    with pytest.raises(ManifestError, match="cycle"):
        make_manifest(units=units)


def test_draft_manifest_may_have_no_issuer_key():
    assert make_manifest(issuer_public_key="").to_json()["issuer_public_key"] == ""


def test_constructors_validate_too():
    with pytest.raises(ManifestError, match="roll_id"):
        RollEntry("bad id", "Tên")
    with pytest.raises(ManifestError, match="name"):
        Unit("u1", "")


_text = st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạ ", min_size=1, max_size=12).map(
    str.strip).filter(bool)
_ident = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
_level = st.none() | st.sampled_from(["HTXSNV", "HTTNV", "HTNV", "KHTNV"])


@st.composite
def manifests(draw):
    ids = draw(st.lists(_ident, min_size=1, max_size=6, unique=True))
    units = tuple(Unit(uid, draw(_text), kind=draw(st.sampled_from(["member", "leader"])),
                       group=draw(st.none() | _text), self_level=draw(_level),
                       proposed_level=draw(_level),
                       score=draw(st.none() | st.integers(0, 100)),
                       disciplined=draw(st.booleans()), outstanding=draw(st.booleans()))
                  for uid in ids)
    roll_ids = draw(st.lists(_ident, max_size=6, unique=True))
    roll = tuple(RollEntry(rid, draw(_text), status, "lý do" if status == "excluded" else None)
                 for rid in roll_ids
                 for status in [draw(st.sampled_from(["official", "probationary", "excluded"]))])
    members = draw(st.lists(_text, min_size=1, max_size=5, unique=True))
    levels, rules = branch_qd366(top_two_thirds=draw(st.booleans()),
                                 cumulative=draw(st.booleans()))
    return Manifest(draw(_text), draw(_text), "2025-12-15", "custom", roll, units, levels, rules,
                    Trustees(tuple(members), draw(st.integers(1, len(members)))))


@settings(max_examples=60, deadline=None)
@given(manifests())
def test_round_trip_property(m):
    again = Manifest.from_json(parse_json(m.canonical_bytes()))
    assert again == m
    assert again.canonical_bytes() == m.canonical_bytes()
    assert again.manifest_hash() == m.manifest_hash()
