import pytest

from ballot.election.errors import ManifestError
from ballot.election.levels import Level, LevelSet
from ballot.election.presets import QD366_LEVELS


def test_qd366_levels_highest_first():
    assert QD366_LEVELS.codes == ("HTXSNV", "HTTNV", "HTNV", "KHTNV")
    assert QD366_LEVELS.top.code == "HTXSNV" and QD366_LEVELS.lowest.code == "KHTNV"
    assert QD366_LEVELS.rank("HTXSNV") == 0 and QD366_LEVELS.rank("KHTNV") == 3
    assert QD366_LEVELS["HTTNV"].name_vi == "Hoàn thành tốt nhiệm vụ"
    assert QD366_LEVELS["HTTNV"].name_en == "completed tasks well"
    with pytest.raises(KeyError):
        QD366_LEVELS.rank("XS")


@pytest.mark.parametrize("code", ["", "1A", "A B", "TOO_LONG_A_CODE_X", "abstain", "Blank", 7])
def test_bad_level_code(code):
    with pytest.raises(ManifestError, match="code"):
        Level(code, "Tên", "Name", "S")


def test_empty_names_rejected():
    with pytest.raises(ManifestError, match="name_vi"):
        Level("A", " ", "Name", "A")
    with pytest.raises(ManifestError, match="name_en"):
        Level("A", "Tên", "", "A")


def test_levelset_needs_two_unique_levels():
    a = Level("A", "Một", "one", "A")
    with pytest.raises(ManifestError, match="at least 2"):
        LevelSet((a,))
    with pytest.raises(ManifestError, match=r"levels\[1\].code: 'a' appears twice"):
        LevelSet((a, Level("a", "Hai", "two", "a")))


def test_levelset_json_round_trip_and_strict():
    assert LevelSet.from_json(QD366_LEVELS.to_json()) == QD366_LEVELS
    bad = QD366_LEVELS.to_json()
    bad[2]["colour"] = "red"
    with pytest.raises(ManifestError, match=r"levels\[2\].colour: unknown key"):
        LevelSet.from_json(bad)
    short_missing = [{"code": "A", "name_vi": "Một", "name_en": "one"},
                     {"code": "B", "name_vi": "Hai", "name_en": "two"}]
    assert LevelSet.from_json(short_missing).levels[0].short == "A"
