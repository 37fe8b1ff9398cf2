"""Importing the roll and the units from CSV files as Excel and LibreOffice write them."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.store import repo
from ballot.store.csv_import import (
    CsvImportError,
    RollRow,
    UnitRow,
    import_roll_csv,
    import_units_csv,
    parse_roll_csv,
    parse_units_csv,
)
from ballot.store.db import transaction
from ballot.store.errors import LifecycleError
from ballot.store.models import Unit
from tests.store.helpers import advance, make_draft

LEVELS = ["HTXSNV", "HTTNV", "HTNV", "KHTNV"]

ROLL_VI = (
    "\ufeffSTT;Mã;Họ và tên;Tình trạng;Lý do\r\n"
    "1;DV01;Nguyễn Thị Hương;Chính thức;\r\n"
    "2;DV02;Trần Văn Đức;Dự bị;\r\n"
    "3;DV03;Lê Quang Vinh;Miễn sinh hoạt;Trên 70 tuổi, được miễn\r\n"
    "4;DV04;Phạm Thị Ngọc Ánh;chính thức;\r\n"
    ";;;;\r\n"
).encode("utf-8")

UNITS_VI = (
    "DANH SÁCH ĐƠN VỊ XẾP LOẠI NĂM 2025\n"
    "\n"
    "mã,tên,loại,nhóm,tự xếp loại,đề xuất,điểm,tập thể,kỷ luật\n"
    "BTV,Ban Thường vụ Đảng ủy,tập thể,,HTTNV,HTTNV,,,\n"
    "U1,Nguyễn Văn An,cán bộ,Bí thư,htxsnv,HTTNV,92,BTV,không\n"
    'U2,"Trần Thị Bình, phó bí thư",đảng viên,,HTTNV,HTNV,85.0,,có\n'
    "CB3,Chi bộ 3,chi bộ,Chi bộ,HTTNV,HTTNV,90,,\n"
)

UNITS_EN = (
    "unit_id;name;kind;group;self_level;proposed_level;score;collective;disciplined;outstanding\n"
    "O1;Đảng bộ xã A;organisation;xã;HTTNV;HTTNV;88;;no;yes\n"
    "L1;Võ Thị Lan;leader;bí thư;HTTNV;HTTNV;;O1;;\n"
)


# --- parsing (pure) ---------------------------------------------------------------------------


def test_vietnamese_roll_with_bom_and_semicolons():
    rows = parse_roll_csv(ROLL_VI)
    assert rows == (
        RollRow(2, "DV01", "Nguyễn Thị Hương", "official", None),
        RollRow(3, "DV02", "Trần Văn Đức", "probationary", None),
        RollRow(4, "DV03", "Lê Quang Vinh", "excluded", "Trên 70 tuổi, được miễn"),
        RollRow(5, "DV04", "Phạm Thị Ngọc Ánh", "official", None),
    )


def test_english_roll_with_commas_and_decomposed_unicode():
    nfd = "Nguye\u0302\u0303n"  # "Nguyễn" in NFD, as macOS may write it
    rows = parse_roll_csv(f"roll_id,name,status,reason\nA,{nfd} B,official,\nB,C D,excluded,sick\n")
    assert rows[0].name == "Nguyễn B"
    assert rows[1] == RollRow(3, "B", "C D", "excluded", "sick")


def test_headers_and_values_without_diacritics_and_tabs_in_utf16():
    data = "ma\tho ten\ttinh trang\r\nX1\tAn\tchinh thuc\r\nX2\tBa\tdu bi\r\n".encode("utf-16")
    assert [(r.roll_id, r.status) for r in parse_roll_csv(data)] == [
        ("X1", "official"), ("X2", "probationary"),
    ]


def test_units_with_title_row_levels_and_collectives():
    rows = parse_units_csv(UNITS_VI, levels=LEVELS)
    assert [r.unit_id for r in rows] == ["BTV", "U1", "U2", "CB3"]
    assert rows[0] == UnitRow(4, "BTV", "Ban Thường vụ Đảng ủy", "organisation", None, "HTTNV",
                              "HTTNV", None, None, False)
    assert rows[1] == UnitRow(5, "U1", "Nguyễn Văn An", "leader", "Bí thư", "HTXSNV", "HTTNV",
                              92, "BTV", False)
    assert rows[2].name == "Trần Thị Bình, phó bí thư"
    assert (rows[2].kind, rows[2].score, rows[2].disciplined) == ("member", 85, True)
    assert rows[3].kind == "organisation"


@pytest.mark.parametrize(
    "data,line,reason",
    [
        ("mã;họ tên;tình trạng\nA;An;chính thức\nA;Ba;chính thức\n", 3,
         "duplicate roll id 'A' (first on line 2)"),
        ("mã;họ tên;tình trạng\nA;An;chính thức\nB;Ba;khách mời\n", 3, "unknown status 'khách mời'"),
        ("mã;họ tên;tình trạng\nA;An;chính thức\nB;;chính thức\n", 3, "empty name"),
        ("mã;họ tên;tình trạng\nA;An;chính thức\n;Ba;chính thức\n", 3, "empty roll id"),
        ("mã;họ tên\nA;An\n", 1, "missing column status / tình trạng"),
        ("mã;họ tên;tình trạng;tuổi\nA;An;ct;30\n", 1, "unknown column 'tuổi'"),
        ("mã;họ tên;tình trạng;mã số\nA;An;ct;A\n", 1, "both mean roll_id"),
        ("mã;họ tên;tình trạng\nA;An;ct;extra\n", 2, "value 'extra' in column 4, which has no header"),
        ("mã;họ tên;tình trạng\n", None, "no members"),
        ("", None, "empty"),
        ("a,b,c\n1,2,3\n", 1, "no header row found"),
        ('mã;họ tên;tình trạng\nA;An;ct\nB;"Ba;ct\n', 3, "malformed CSV"),
    ],
)
def test_bad_roll_files(data, line, reason):
    with pytest.raises(CsvImportError) as info:
        parse_roll_csv(data)
    assert info.value.line == line
    assert reason in info.value.reason
    assert isinstance(info.value, ValueError)


def test_every_problem_is_listed_with_its_line():
    data = "mã;họ tên;tình trạng\nA;An;ct\nA;Ba;ct\nC;;ct\nD;Đào;xyz\n"
    with pytest.raises(CsvImportError) as info:
        parse_roll_csv(data)
    assert [p.line for p in info.value.problems] == [3, 4, 5]
    assert str(info.value).startswith("line 3: duplicate roll id 'A'")
    assert "(and 2 more problems)" in str(info.value)


def test_not_utf8_is_refused_with_advice():
    with pytest.raises(CsvImportError, match="line 2: the file is not UTF-8.*CSV UTF-8"):
        # "Nguyên" in Windows' Vietnamese code page (cp1258): \xea is ê
        parse_roll_csv(b"ma;ho ten;tinh trang\nA;Nguy\xean;ct\n")


@pytest.mark.parametrize(
    "row,reason",
    [
        ("U9,X,đảng viên,,,,101,,", "bad score '101'"),
        ("U9,X,đảng viên,,,,9.5,,", "bad score '9.5'"),
        ("U9,X,đảng viên,,,,abc,,", "bad score 'abc'"),
        ("U9,X,robot,,,,,,", "unknown kind 'robot'"),
        ("U9,X,đảng viên,,,,,NOPE,", "unknown collective 'NOPE'"),
        ("U9,X,đảng viên,,,,,U9,", "cannot be its own collective"),
        ("U9,X,đảng viên,,,,,U1,", "collective 'U1' is a leader, not an organisation"),
        ("U9,X,đảng viên,,,,,U2,", "collective 'U2' is a member"),
        ("U9,X,đảng viên,,,,,,maybe", "disciplined must be yes/có or no/không"),
        ("U9,X,đảng viên,,Giỏi,,,,", "unknown self level 'Giỏi'"),
        ("U1,X,đảng viên,,,,,,", "duplicate unit id 'U1' (first on line 5)"),
        (",X,đảng viên,,,,,,", "empty unit id"),
        ("U 9,X,đảng viên,,,,,,", "unit id 'U 9': use at most 64 letters"),
        ("Đ9,X,đảng viên,,,,,,", "unit id 'Đ9'"),
    ],
)
def test_bad_unit_rows(row, reason):
    with pytest.raises(CsvImportError) as info:
        parse_units_csv(UNITS_VI + row + "\n", levels=LEVELS)
    assert info.value.line == 8
    assert reason in info.value.reason


def test_english_units_with_outstanding_flag():
    rows = parse_units_csv(UNITS_EN)
    assert [(r.unit_id, r.kind, r.outstanding, r.disciplined, r.collective) for r in rows] == [
        ("O1", "organisation", True, False, None), ("L1", "leader", False, False, "O1"),
    ]


def test_excluded_members_need_a_reason():
    rows = parse_roll_csv("mã;họ tên;tình trạng;lý do\nA;An;vắng có lý do;\nB;Ba;miễn;ốm\n")
    assert [(r.status, r.reason) for r in rows] == [
        ("excluded", "vắng có lý do"), ("excluded", "ốm"),
    ]
    with pytest.raises(CsvImportError, match="line 2: an excluded member needs a reason"):
        parse_roll_csv("roll_id,name,status\nA,An,excluded\n")


def test_levels_are_free_text_without_a_level_set():
    rows = parse_units_csv("mã,tên,loại,tự xếp loại\nA,An,đảng viên,Tốt\n")
    assert rows[0].self_level == "Tốt"


_vi_letters = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
_word = st.text(alphabet=_vi_letters, min_size=1, max_size=8).map(str.capitalize)
_name = st.lists(_word, min_size=1, max_size=4).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(_name, min_size=1, max_size=15),
    statuses=st.lists(st.sampled_from(["chính thức", "dự bị", "miễn", "official", "probationary"]),
                      min_size=15, max_size=15),
    delimiter=st.sampled_from([",", ";", "\t"]),
    bom=st.booleans(),
    crlf=st.booleans(),
)
def test_roundtrip_of_any_roll_excel_could_write(names, statuses, delimiter, bom, crlf):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["STT", "Mã", "Họ và tên", "Tình trạng"])
    for i, name in enumerate(names):
        writer.writerow([i + 1, f"M{i}", name, statuses[i]])
    data = (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")
    rows = parse_roll_csv(data)
    assert [r.name for r in rows] == names
    assert [r.line for r in rows] == list(range(2, len(names) + 2))
    expected = {"chính thức": "official", "dự bị": "probationary", "miễn": "excluded",
                "official": "official", "probationary": "probationary"}
    assert [r.status for r in rows] == [expected[s] for s in statuses[: len(names)]]


# --- saving (one transaction, draft only) -----------------------------------------------------


def test_import_saves_in_file_order(sf):
    election_id = make_draft(sf, members=0)
    with transaction(sf) as s:
        assert import_roll_csv(s, election_id, ROLL_VI) == 4
        assert import_units_csv(s, election_id, UNITS_VI, levels=LEVELS) == 4
    with transaction(sf) as s:
        entries = repo.roll(s, election_id)
        assert [(e.position, e.roll_id, e.name, e.status) for e in entries][:2] == [
            (1, "DV01", "Nguyễn Thị Hương", "official"),
            (2, "DV02", "Trần Văn Đức", "probationary"),
        ]
        units = s.query(Unit).filter_by(election_id=election_id).order_by(Unit.position).all()
        assert [(u.unit_id, u.collective, u.disciplined) for u in units] == [
            ("BTV", None, False), ("U1", "BTV", False), ("U2", None, True), ("CB3", None, False)
        ]


def test_bad_file_imports_nothing_and_keeps_the_previous_roll(sf):
    election_id = make_draft(sf, members=0)
    with transaction(sf) as s:
        import_roll_csv(s, election_id, ROLL_VI)
    bad = ROLL_VI.replace("Dự bị".encode(), "Dự khuyết".encode())
    with pytest.raises(CsvImportError, match="line 3: unknown status 'Dự khuyết'"):
        with transaction(sf) as s:
            import_roll_csv(s, election_id, bad)
    with transaction(sf) as s:
        assert [e.roll_id for e in repo.roll(s, election_id)] == ["DV01", "DV02", "DV03", "DV04"]


def test_bad_file_on_an_empty_election_leaves_it_empty(sf):
    election_id = make_draft(sf, members=0)
    with pytest.raises(CsvImportError) as info:
        with transaction(sf) as s:
            import_roll_csv(s, election_id, "mã;họ tên;tình trạng\nA;An;ct\nB;Ba;ct\nA;Ca;ct\n")
    assert info.value.line == 4
    with transaction(sf) as s:
        assert repo.roll(s, election_id) == []


def test_reimport_replaces_the_roll(sf):
    election_id = make_draft(sf, members=0)
    with transaction(sf) as s:
        import_roll_csv(s, election_id, ROLL_VI)
    with transaction(sf) as s:
        import_roll_csv(s, election_id, "mã;họ tên;tình trạng\nZ;Zê;ct\n")
    with transaction(sf) as s:
        assert [e.roll_id for e in repo.roll(s, election_id)] == ["Z"]


def test_import_only_in_draft(sf):
    election_id = make_draft(sf, members=1)
    advance(sf, election_id, "key_ceremony")
    with pytest.raises(LifecycleError, match="cannot import the roll while the election is key_ceremony"):
        with transaction(sf) as s:
            import_roll_csv(s, election_id, ROLL_VI)
    with pytest.raises(LifecycleError, match="cannot import the units"):
        with transaction(sf) as s:
            import_units_csv(s, election_id, UNITS_VI)
    with transaction(sf) as s:
        assert len(repo.roll(s, election_id)) == 1


def test_parsed_rows_are_valid_manifest_entries():
    """What the store accepts, the manifest accepts (ballot.election)."""
    units_mod = pytest.importorskip("ballot.election.units")
    roll_mod = pytest.importorskip("ballot.election.roll")
    from ballot.store import models

    assert models.UNIT_KINDS == units_mod.UNIT_KINDS
    assert models.ROLL_STATUSES == roll_mod.ROLL_STATUSES
    for row in parse_units_csv(UNITS_VI, levels=LEVELS) + parse_units_csv(UNITS_EN):
        units_mod.Unit(row.unit_id, row.name, row.kind, row.group, row.self_level,
                       row.proposed_level, row.score, row.collective, row.disciplined,
                       row.outstanding)
    for row in parse_roll_csv(ROLL_VI):
        roll_mod.RollEntry(row.roll_id, row.name, row.status, row.reason)


# -- issue 14: the head's role, control characters, NFC ------------------------------------------

UNITS_HEADS = (
    "Mã;Tên;Loại;Tập thể;Vai trò;Nhóm\n"
    "CB3;Chi bộ 3;chi bộ;;;\n"
    "DV01;Nguyễn Văn An;đảng viên;CB3;Bí thư;\n"
    "DV02;Trần Thị Bình;đảng viên;CB3;Phó bí thư;\n"
    "DV03;Lê Văn Cường;đảng viên;CB3;;\n"
    "DV04;Phạm Thu Dung;đảng viên;CB3;người đứng đầu;\n"
)


def test_the_head_role_column_marks_who_heads_the_collective():
    rows = {r.unit_id: r for r in parse_units_csv(UNITS_HEADS, levels=LEVELS)}
    assert {uid: r.head for uid, r in rows.items()} == {
        "CB3": False, "DV01": True, "DV02": False, "DV03": False, "DV04": True}
    units_mod = pytest.importorskip("ballot.election.units")
    unit = units_mod.Unit(rows["DV01"].unit_id, rows["DV01"].name, rows["DV01"].kind,
                          collective=rows["DV01"].collective, head=rows["DV01"].head)
    assert unit.to_json()["head"] is True
    english = parse_units_csv("unit_id,name,kind,collective,role\nO,Org,organisation,,\n"
                              "A,Ann,member,O,head\n")
    assert [r.head for r in english] == [False, True]


@pytest.mark.parametrize(
    "row,reason",
    [
        ("DV09;X;đảng viên;CB3;chủ nhiệm bếp;", "unknown role 'chủ nhiệm bếp'"),
        ("DV09;X;đảng viên;;bí thư;", "a head needs the collective it heads"),
        ("CB9;X;chi bộ;CB3;bí thư;", "an organisation does not head a collective"),
    ],
)
def test_bad_head_roles(row, reason):
    with pytest.raises(CsvImportError) as info:
        parse_units_csv(UNITS_HEADS + row + "\n", levels=LEVELS)
    assert info.value.line == 7 and reason in info.value.reason


@pytest.mark.parametrize("bad", ["\n", "\r", "\x07", "\u2028", "\x85"])
def test_control_characters_in_a_cell_are_refused(bad):
    data = UNITS_HEADS + f'DV09;"Nguyễn{bad}Văn";đảng viên;CB3;;\n'
    with pytest.raises(CsvImportError) as info:
        parse_units_csv(data, levels=LEVELS)
    assert "control character U+" in info.value.reason and info.value.line == 7
    roll = f'roll_id,name,status\nR1,"Trần{bad}Bình",official\n'
    with pytest.raises(CsvImportError, match="control character"):
        parse_roll_csv(roll)


def test_names_groups_and_headers_are_nfc_and_ids_differing_only_by_form_are_refused():
    import unicodedata

    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
    data = (f"{nfd('Mã')};{nfd('Tên')};{nfd('Loại')};{nfd('Nhóm')}\n"
            f"A1;{nfd('Nguyễn Văn An')};{nfd('đảng viên')};{nfd('xã_phường')}\n"
            f"A2;Trần Thị Bình;đảng viên;xã_phường\n")
    rows = parse_units_csv(data)
    assert {r.group for r in rows} == {"xã_phường"}
    assert all(unicodedata.is_normalized("NFC", r.name + r.group) for r in rows)
    # ids are ASCII (the manifest's identifier rule): a Vietnamese id is refused, NFC or NFD
    with pytest.raises(CsvImportError, match="unit id"):
        parse_units_csv(data + f"{nfd('Ấ1')};X;đảng viên;\n")
