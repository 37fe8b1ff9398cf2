"""Import the roll and the units to classify from CSV (docs/storage.md, "CSV files").

Files come from Excel or LibreOffice: UTF-8 with or without a BOM (or Excel's UTF-16 "Unicode
text"), separated by ``,`` ``;`` or tab (detected from the header row), headers in English or
Vietnamese with or without diacritics, optional title rows above the header, an optional
"STT" (row number) column. Parsing (:func:`parse_roll_csv`, :func:`parse_units_csv`) is pure
and returns frozen dataclasses; a bad file is refused as a whole with :class:`CsvImportError`
listing every problem with its line number. Saving (:func:`save_roll`, :func:`save_units`)
replaces the election's roll or units in the caller's transaction, only while it is a draft.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ballot.election.units import read_head
from ballot.store.lifecycle import require_status
from ballot.store.models import RollEntry, Unit
from ballot.store.repo import lock_election

__all__ = [
    "CsvProblem",
    "CsvImportError",
    "RollRow",
    "UnitRow",
    "parse_roll_csv",
    "parse_units_csv",
    "save_roll",
    "save_units",
    "import_roll_csv",
    "import_units_csv",
]

MAX_PROBLEMS = 50
_HEADER_SCAN_ROWS = 10
_DELIMITERS = (",", ";", "\t")


# --- results and errors -----------------------------------------------------------------------


@dataclass(frozen=True)
class CsvProblem:
    line: int | None  # 1-based line of the file; None for a problem with the whole file
    reason: str

    def __str__(self) -> str:
        return self.reason if self.line is None else f"line {self.line}: {self.reason}"


class CsvImportError(ValueError):
    """The file was refused as a whole; ``problems`` lists every problem found (up to 50),
    ``line`` and ``reason`` are those of the first."""

    def __init__(self, problems: Sequence[CsvProblem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        self.line = first.line
        self.reason = first.reason
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"{first}{suffix}")


@dataclass(frozen=True)
class RollRow:
    line: int
    roll_id: str
    name: str
    status: str  # official | probationary | excluded
    reason: str | None


@dataclass(frozen=True)
class UnitRow:
    line: int
    unit_id: str
    name: str
    kind: str  # member | organisation | leader
    group: str | None
    self_level: str | None
    proposed_level: str | None
    score: int | None
    collective: str | None  # unit_id of the organisation (collective) it heads or belongs to
    disciplined: bool
    outstanding: bool = False
    head: bool = False  # heads its collective (bí thư, trưởng): bound by its level


# --- vocabulary (compared after _fold: no diacritics, đ → d, lower case, single spaces) --------


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\s_\-./:()]+", " ", text).split())


def _vocabulary(table: Mapping[str, Sequence[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value, words in table.items():
        for word in (value, *words):
            folded = _fold(word)
            if out.get(folded, value) != value:
                raise RuntimeError(f"vocabulary: {folded!r} means two things")
            out[folded] = value
    return out


_ROLL_COLUMNS = _vocabulary(
    {
        "roll_id": ("roll id", "id", "code", "mã", "mã số", "mã đảng viên", "số thẻ đảng viên"),
        "name": ("full name", "họ tên", "họ và tên", "tên"),
        "status": ("tình trạng", "trạng thái"),
        "reason": ("lý do", "lí do", "ghi chú", "note", "notes"),
    }
)
_UNIT_COLUMNS = _vocabulary(
    {
        "unit_id": ("unit id", "id", "code", "mã", "mã số", "mã đơn vị"),
        "name": ("full name", "họ tên", "họ và tên", "tên", "tên đơn vị", "tên tổ chức"),
        "kind": ("type", "loại", "đối tượng", "loại đối tượng"),
        "group": ("grp", "nhóm", "nhóm chức danh", "nhóm tương đồng"),
        "self_level": ("self level", "tự xếp loại", "tự đánh giá", "mức tự xếp loại"),
        "proposed_level": ("proposed level", "đề xuất", "mức đề xuất", "đề xuất xếp loại"),
        "score": ("điểm", "tự chấm điểm", "điểm tự chấm"),
        "collective": ("tập thể", "thuộc tập thể", "tập thể lãnh đạo"),
        "disciplined": ("kỷ luật", "kỉ luật", "bị kỷ luật", "bị kỉ luật"),
        "outstanding": ("tiêu biểu", "nổi bật", "tiêu biểu xuất sắc"),
        "head": ("role", "vai trò", "vai_tro", "chức vụ", "người đứng đầu", "đứng đầu",
                 "head of collective"),
    }
)
_IGNORED_COLUMNS = {_fold(w) for w in ("stt", "tt", "no", "no.", "#", "số tt", "số thứ tự")}

_ROLL_STATUSES = _vocabulary(
    {
        "official": ("chính thức", "đảng viên chính thức", "ct"),
        "probationary": ("dự bị", "đảng viên dự bị", "db"),
        "excluded": (
            "miễn",
            "miễn sinh hoạt",
            "miễn sinh hoạt đảng",
            "miễn công tác và sinh hoạt đảng",
            "vắng có lý do",
            "vắng có lí do",
            "chuyển sinh hoạt tạm thời",
            "sinh hoạt tạm thời",
            "đình chỉ",
            "đình chỉ sinh hoạt",
            "loại trừ",
            "không tính",
        ),
    }
)
_UNIT_KINDS = _vocabulary(
    {
        "member": ("đảng viên", "cá nhân"),
        # a leadership collective is classified as an organisation (ballot.election.units)
        "organisation": (
            "organization", "tổ chức", "tổ chức đảng", "chi bộ", "đảng bộ", "đảng bộ cơ sở",
            "chi bộ cơ sở", "collective", "tập thể", "tập thể lãnh đạo", "ban thường vụ",
            "cấp ủy", "cấp uỷ", "ban chấp hành",
        ),
        "leader": ("lãnh đạo", "cán bộ", "cán bộ lãnh đạo", "cán bộ lãnh đạo quản lý",
                   "người đứng đầu"),
    }
)
_TRUE = {_fold(w) for w in ("yes", "y", "true", "1", "x", "có", "bị kỷ luật", "kỷ luật",
                            "bị kỉ luật", "kỉ luật", "tiêu biểu")}
_FALSE = {_fold(w) for w in ("", "no", "n", "false", "0", "-", "không", "không bị kỷ luật")}

_ROLL_REQUIRED = ("roll_id", "name", "status")
_UNIT_REQUIRED = ("unit_id", "name", "kind")
_HEADER_HELP = {
    "roll_id": "roll_id / mã",
    "name": "name / họ tên",
    "status": "status / tình trạng",
    "unit_id": "unit_id / mã",
    "kind": "kind / loại",
}


# --- reading ----------------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[CsvProblem] = []

    def add(self, line: int | None, reason: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(CsvProblem(line, reason))

    def raise_if_any(self) -> None:
        if self.items:
            raise CsvImportError(self.items)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        text = data
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise CsvImportError(
                [CsvProblem(line, "the file is not UTF-8 text; in Excel save it as "
                                  "'CSV UTF-8 (Comma delimited)'")]
            ) from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise CsvImportError([CsvProblem(None, "the file is not a text (CSV) file")])
    return unicodedata.normalize("NFC", text)


def _read_rows(
    text: str, delimiter: str
) -> tuple[list[tuple[int, list[str]]], CsvProblem | None]:
    """(first line of the record, cells) for every record, and the CSV syntax error that
    stopped the reading, if any."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    previous = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return rows, None
        except csv.Error as exc:
            return rows, CsvProblem(previous + 1, f"malformed CSV: {exc} (check the quotes)")
        rows.append((previous + 1, cells))
        previous = reader.line_num


@dataclass
class _Table:
    header_line: int
    columns: list[str | None]  # field for each column; None: ignored column
    blank_columns: set[int]  # columns with an empty header cell
    rows: list[tuple[int, list[str]]]


def _header_fields(cells: Sequence[str], vocabulary: Mapping[str, str]) -> list[str | None]:
    return [vocabulary.get(_fold(cell)) for cell in cells]


def _find_table(
    text: str, vocabulary: Mapping[str, str], required: Sequence[str], what: str
) -> _Table:
    best: tuple[int, str, int] | None = None  # (score, delimiter, row index)
    parsed: dict[str, tuple[list[tuple[int, list[str]]], CsvProblem | None]] = {}
    for delimiter in _DELIMITERS:
        rows, error = parsed[delimiter] = _read_rows(text, delimiter)
        candidates = [i for i, (_, cells) in enumerate(rows) if any(c.strip() for c in cells)]
        for index in candidates[:_HEADER_SCAN_ROWS]:
            score = sum(f is not None for f in _header_fields(rows[index][1], vocabulary))
            if best is None or score > best[0]:
                best = (score, delimiter, index)
    if best is None or best[0] == 0:
        if not text.strip():
            raise CsvImportError([CsvProblem(None, f"the {what} file is empty")])
        errors = [error for _, error in parsed.values() if error is not None]
        if len(errors) == len(parsed):
            raise CsvImportError([errors[0]])
        expected = ", ".join(_HEADER_HELP.get(f, f) for f in required)
        raise CsvImportError(
            [CsvProblem(1, f"no header row found; the {what} file needs the columns {expected}")]
        )
    _, delimiter, index = best
    rows, error = parsed[delimiter]
    if error is not None:
        raise CsvImportError([error])
    header_line, header_cells = rows[index]
    problems = _Problems()
    columns: list[str | None] = []
    blank: set[int] = set()
    seen: dict[str, str] = {}
    for position, cell in enumerate(header_cells):
        folded = _fold(cell)
        field = vocabulary.get(folded)
        if field is None:
            if folded == "":
                blank.add(position)
            elif folded not in _IGNORED_COLUMNS:
                known = ", ".join(sorted({f for f in vocabulary.values()}))
                problems.add(
                    header_line, f"unknown column {cell.strip()!r} (known columns: {known})"
                )
            columns.append(None)
            continue
        if field in seen:
            problems.add(
                header_line,
                f"columns {seen[field]!r} and {cell.strip()!r} both mean {field}",
            )
        seen[field] = cell.strip()
        columns.append(field)
    missing = [f for f in required if f not in seen]
    if missing:
        problems.add(
            header_line,
            "missing column"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(_HEADER_HELP.get(f, f) for f in missing),
        )
    problems.raise_if_any()
    return _Table(header_line, columns, blank, rows[index + 1 :])


def _records(table: _Table, problems: _Problems) -> list[tuple[int, dict[str, str]]]:
    """Non-blank data rows as {field: stripped value}."""
    out: list[tuple[int, dict[str, str]]] = []
    width = len(table.columns)
    for line, cells in table.rows:
        if not any(c.strip() for c in cells):
            continue
        values: dict[str, str] = {}
        for position, cell in enumerate(cells):
            bad = _control_character(cell)
            if bad is not None:
                problems.add(line, f"control character {bad} in column {position + 1}: every "
                                   "value must be one line of printable text (no line break "
                                   "or tab inside a cell)")
            value = " ".join(cell.split())
            if position >= width or position in table.blank_columns:
                if value:
                    problems.add(
                        line, f"value {value!r} in column {position + 1}, which has no header"
                    )
                continue
            field = table.columns[position]
            if field is not None:
                values[field] = value
        out.append((line, values))
    return out


def _control_character(value: str) -> str | None:
    """The first control character in ``value`` (``"U+000A"``): C0/C1 controls and the
    Unicode line and paragraph separators (the manifest refuses them in names too)."""
    for c in value:
        if unicodedata.category(c) in ("Cc", "Zl", "Zp"):
            return f"U+{ord(c):04X}"
    return None


# The manifest's identifier rule (ballot.election._fields.IDENT_RE).
_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def _check_id(value: str, what: str, line: int, problems: _Problems) -> bool:
    if not value:
        problems.add(line, f"empty {what}")
        return False
    if not _IDENT.match(value):
        problems.add(
            line,
            f"{what} {value[:70]!r}: use at most 64 letters without diacritics, digits, "
            "'_', '.' or '-' (no spaces)",
        )
        return False
    return True


def _check_name(value: str, line: int, problems: _Problems) -> bool:
    if not value:
        problems.add(line, "empty name")
        return False
    if len(value) > 300:
        problems.add(line, "name longer than 300 characters")
        return False
    return True


def _lookup(
    value: str, vocabulary: Mapping[str, str], what: str, help_: str, line: int,
    problems: _Problems,
) -> str | None:
    found = vocabulary.get(_fold(value))
    if found is None:
        if value:
            problems.add(line, f"unknown {what} {value!r} (expected {help_})")
        else:
            problems.add(line, f"empty {what} (expected {help_})")
    return found


# --- the roll ---------------------------------------------------------------------------------

_STATUS_HELP = "official/chính thức, probationary/dự bị or excluded/miễn/vắng có lý do/..."
_BARE_EXCLUDED = {_fold(w) for w in ("excluded", "loại trừ", "không tính")}


def parse_roll_csv(data: bytes | str) -> tuple[RollRow, ...]:
    """Parse a roll file: columns roll_id (mã), name (họ tên), status (tình trạng), optional
    reason (lý do). Raises CsvImportError listing every problem."""
    text = _decode(data)
    table = _find_table(text, _ROLL_COLUMNS, _ROLL_REQUIRED, "roll")
    problems = _Problems()
    rows: list[RollRow] = []
    first_line: dict[str, int] = {}
    for line, values in _records(table, problems):
        roll_id = values.get("roll_id", "")
        name = values.get("name", "")
        ok = _check_id(roll_id, "roll id", line, problems)
        if ok:
            key = roll_id.casefold()
            if key in first_line:
                problems.add(
                    line, f"duplicate roll id {roll_id!r} (first on line {first_line[key]})"
                )
                ok = False
            else:
                first_line[key] = line
        ok = _check_name(name, line, problems) and ok
        status = _lookup(values.get("status", ""), _ROLL_STATUSES, "status", _STATUS_HELP,
                         line, problems)
        reason = values.get("reason") or None
        if status == "excluded" and reason is None:
            if _fold(values["status"]) in _BARE_EXCLUDED:
                problems.add(line, "an excluded member needs a reason (column reason / lý do)")
                ok = False
            else:  # "Miễn sinh hoạt", "Vắng có lý do"...: the status says why
                reason = values["status"]
        if ok and status is not None:
            rows.append(RollRow(line, roll_id, name, status, reason))
    if not rows and not problems.items:
        problems.add(None, "the roll file has a header but no members")
    problems.raise_if_any()
    return tuple(rows)


# --- the units --------------------------------------------------------------------------------

_KIND_HELP = "member/đảng viên, organisation/tổ chức/chi bộ/tập thể or leader/cán bộ"
_SCORE = re.compile(r"^(\d{1,3})(?:[.,]0+)?$")


def _parse_score(value: str, line: int, problems: _Problems) -> tuple[bool, int | None]:
    if not value:
        return True, None
    match = _SCORE.match(value)
    if match is None or int(match.group(1)) > 100:
        problems.add(line, f"bad score {value!r}: a whole number from 0 to 100")
        return False, None
    return True, int(match.group(1))


def _parse_level(
    value: str, levels: Mapping[str, str] | None, what: str, line: int, problems: _Problems
) -> tuple[bool, str | None]:
    if not value:
        return True, None
    if levels is None:
        if len(value) > 64:
            problems.add(line, f"{what} longer than 64 characters")
            return False, None
        return True, value
    found = levels.get(_fold(value))
    if found is None:
        problems.add(
            line, f"unknown {what} {value!r} (levels: {', '.join(dict.fromkeys(levels.values()))})"
        )
        return False, None
    return True, found


def parse_units_csv(
    data: bytes | str, *, levels: Sequence[str] | None = None
) -> tuple[UnitRow, ...]:
    """Parse a units file: unit_id (mã), name (tên), kind (loại); optional group (nhóm),
    self_level (tự xếp loại), proposed_level (đề xuất), score (điểm), collective (tập thể),
    head (vai trò: bí thư, trưởng… heads the collective), disciplined (kỷ luật), outstanding
    (tiêu biểu). With ``levels`` (e.g. ``["HTXSNV", "HTTNV", "HTNV", "KHTNV"]``) the
    level columns must name one of them (compared without case or diacritics)."""
    text = _decode(data)
    table = _find_table(text, _UNIT_COLUMNS, _UNIT_REQUIRED, "units")
    level_map = None if levels is None else {_fold(level): level for level in levels}
    problems = _Problems()
    parsed: list[dict] = []
    first_line: dict[str, int] = {}
    canonical_id: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for line, values in _records(table, problems):
        unit_id = values.get("unit_id", "")
        name = values.get("name", "")
        ok = _check_id(unit_id, "unit id", line, problems)
        if ok:
            key = unit_id.casefold()
            if key in first_line:
                problems.add(
                    line, f"duplicate unit id {unit_id!r} (first on line {first_line[key]})"
                )
                ok = False
            else:
                first_line[key] = line
                canonical_id[key] = unit_id
        ok = _check_name(name, line, problems) and ok
        kind = _lookup(values.get("kind", ""), _UNIT_KINDS, "kind", _KIND_HELP, line, problems)
        ok = ok and kind is not None
        if ok:
            kinds[unit_id.casefold()] = kind
        group = values.get("group") or None
        if group is not None and len(group) > 200:
            problems.add(line, "group longer than 200 characters")
            ok = False
        good, self_level = _parse_level(values.get("self_level", ""), level_map, "self level",
                                        line, problems)
        ok = ok and good
        good, proposed = _parse_level(values.get("proposed_level", ""), level_map,
                                      "proposed level", line, problems)
        ok = ok and good
        good, score = _parse_score(values.get("score", ""), line, problems)
        ok = ok and good
        flags: dict[str, bool] = {}
        for field in ("disciplined", "outstanding"):
            flag = _fold(values.get(field, ""))
            if flag in _TRUE:
                flags[field] = True
            elif flag in _FALSE:
                flags[field] = False
            else:
                problems.add(
                    line,
                    f"{field} must be yes/có or no/không (or empty), not {values.get(field)!r}",
                )
                ok = False
        role = values.get("head", "")
        head = read_head(role)
        if head is None:
            problems.add(line, f"unknown role {role!r} (bí thư / trưởng / người đứng đầu / "
                               "yes for the head of the collective; empty / đảng viên / phó "
                               "bí thư / no for the others)")
            ok, head = False, False
        elif head and not values.get("collective"):
            problems.add(line, f"role {role!r}: a head needs the collective it heads (column "
                               "collective / tập thể)")
            ok = False
        elif head and kind == "organisation":
            problems.add(line, f"role {role!r}: an organisation does not head a collective; "
                               "only a person does")
            ok = False
        parsed.append(
            dict(
                ok=ok, line=line, unit_id=unit_id, name=name, kind=kind, group=group, head=head,
                self_level=self_level, proposed_level=proposed, score=score,
                collective=values.get("collective") or None,
                disciplined=flags.get("disciplined", False),
                outstanding=flags.get("outstanding", False),
            )
        )
    rows: list[UnitRow] = []
    for item in parsed:
        collective = item["collective"]
        if collective is not None:
            key = collective.casefold()
            if key == item["unit_id"].casefold():
                problems.add(item["line"], f"unit {item['unit_id']!r} cannot be its own collective")
                item["ok"] = False
            elif key not in canonical_id:
                problems.add(
                    item["line"], f"unknown collective {collective!r} (no unit with that id)"
                )
                item["ok"] = False
            elif kinds.get(key) not in (None, "organisation"):
                problems.add(
                    item["line"],
                    f"collective {collective!r} is a {kinds[key]}, not an organisation",
                )
                item["ok"] = False
            else:
                collective = canonical_id[key]
        if item.pop("ok"):
            item["collective"] = collective
            rows.append(UnitRow(**item))
    if not rows and not problems.items:
        problems.add(None, "the units file has a header but no units")
    problems.raise_if_any()
    return tuple(rows)


# --- saving -----------------------------------------------------------------------------------


def _save(session: Session, election_id: int, action: str, replace: Callable[[], int]) -> int:
    election = lock_election(session, election_id)
    require_status(election, "draft", action=action)
    try:
        with session.begin_nested():
            count = replace()
            session.flush()
    except IntegrityError as exc:
        raise CsvImportError(
            [CsvProblem(None, f"the database refused the rows: {exc.orig}")]
        ) from None
    return count


def save_roll(session: Session, election_id: int, rows: Sequence[RollRow]) -> int:
    """Replace the election's roll with ``rows`` (in that order); only in draft."""

    def replace() -> int:
        session.execute(delete(RollEntry).where(RollEntry.election_id == election_id))
        session.add_all(
            RollEntry(
                election_id=election_id, position=position, roll_id=row.roll_id,
                name=row.name, status=row.status, reason=row.reason,
            )
            for position, row in enumerate(rows, start=1)
        )
        return len(rows)

    return _save(session, election_id, "import the roll", replace)


def save_units(session: Session, election_id: int, rows: Sequence[UnitRow]) -> int:
    """Replace the election's units with ``rows`` (in that order); only in draft."""

    def replace() -> int:
        session.execute(delete(Unit).where(Unit.election_id == election_id))
        session.add_all(
            Unit(
                election_id=election_id, position=position, unit_id=row.unit_id,
                name=row.name, kind=row.kind, grp=row.group, self_level=row.self_level,
                proposed_level=row.proposed_level, score=row.score,
                collective=row.collective, disciplined=row.disciplined,
                outstanding=row.outstanding,
            )
            for position, row in enumerate(rows, start=1)
        )
        return len(rows)

    return _save(session, election_id, "import the units", replace)


def import_roll_csv(session: Session, election_id: int, data: bytes | str) -> int:
    """Parse and save a roll file in one go; returns the number of members."""
    return save_roll(session, election_id, parse_roll_csv(data))


def import_units_csv(
    session: Session, election_id: int, data: bytes | str, *, levels: Sequence[str] | None = None
) -> int:
    """Parse and save a units file in one go; returns the number of units."""
    return save_units(session, election_id, parse_units_csv(data, levels=levels))
