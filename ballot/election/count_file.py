"""``ballot count FILE``: count plaintext counts from a JSON or CSV file (docs/counting.md).

JSON (``.json``, or any file starting with ``{``)::

    {"format": "ballot/counts/v1", "title": "...", "preset": "branch_qd366",
     "levels": [...], "rules": {...},          # optional, override the preset's
     "units": [{"unit_id": "m01", "name": "..."}, ...],
     "figures": {"convened": 60, "excluded": 3, "present": 55, "ballots_valid": 54, ...},
     "counts": {"m01": {"votes": {"HTXSNV": 10, ...}, "abstain": 1, "blank": 0}, ...}}

or ``"manifest": {...}`` (a full manifest) instead of preset/levels/rules/units.

CSV (``.csv``): a header block of ``# key: value`` lines (preset, title, the figures, rule
options), then a table ``unit_id;name;<level codes>;abstain;blank`` (``;`` or ``,``).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import click

from ballot.crypto.encoding import EncodingError, parse_json

from . import _fields as F
from .counting import count, count_manifest
from .counts import MeetingFigures, UnitCounts
from .errors import CountError, ManifestError
from .levels import LevelSet
from .manifest import Manifest
from .presets import PRESETS, RULE_OPTIONS, options_to_rules, preset
from .results import CountResult
from .rules import RuleProfile, merge_json, merge_rules
from .table import format_result
from .units import Unit

__all__ = ["CountsFile", "COUNTS_FORMAT", "load_counts", "run_count", "count_command"]

COUNTS_FORMAT = "ballot/counts/v1"

_FIGURES = ("convened", "excluded", "present", "ballots_issued", "ballots_valid",
            "ballots_invalid")
_OPTIONS = RULE_OPTIONS
#: The largest count a file may hold, in CSV as in JSON: integers below 2^53 (docs/protocol.md).
MAX_COUNT = 2**53 - 1


@dataclasses.dataclass(frozen=True)
class CountsFile:
    """What a counts file holds, ready for :func:`ballot.election.counting.count`."""

    title: str | None
    levels: LevelSet
    rules: RuleProfile
    units: tuple[Unit, ...]
    figures: MeetingFigures
    counts: dict[str, UnitCounts]
    manifest: Manifest | None = None

    def count(self) -> CountResult:
        if self.manifest is not None:
            return count_manifest(self.manifest, self.counts, self.figures)
        return count(self.levels, self.rules, self.units, self.counts, self.figures)


# -- shared -------------------------------------------------------------------------------------
def _figures(d: dict[str, Any], where: str) -> MeetingFigures:
    F.keys(d, where, required=("convened", "excluded", "present", "ballots_valid"),
           optional=("ballots_issued", "ballots_invalid"), error=CountError)
    with F.context(where, CountError):
        return MeetingFigures(**d)


def _unit_counts(votes: dict[str, Any], abstain: Any, blank: Any, valid: int,
                 where: str) -> UnitCounts:
    with F.context(where, CountError):
        c = UnitCounts(votes, abstain if abstain is not None else 0, 0)
        if blank is None:
            rest = valid - c.marked - c.abstain
            if rest < 0:
                raise CountError(
                    f"votes: {c.marked} level votes + {c.abstain} abstain exceed the "
                    f"{valid} valid ballots"
                )
            return dataclasses.replace(c, blank=rest)
        return dataclasses.replace(c, blank=blank)


# -- JSON ---------------------------------------------------------------------------------------
def _load_json(text: str) -> CountsFile:
    try:
        doc = parse_json(text)
    except EncodingError as exc:
        raise CountError(f"not valid JSON: {exc}") from None
    d = F.nfc_document(F.obj(doc, "", CountError), "", CountError)
    F.keys(d, "", required=("format", "figures", "counts"),
           optional=("title", "manifest", "preset", "levels", "rules", "units"), error=CountError)
    if d["format"] != COUNTS_FORMAT:
        raise CountError(f"format: expected {COUNTS_FORMAT!r}, got {d['format']!r}")
    title = F.string(d.get("title"), "title", none=True)
    manifest = None
    if "manifest" in d:
        for k in ("preset", "levels", "rules", "units"):
            if k in d:
                raise CountError(f"{k}: not allowed with 'manifest' (the manifest has them)")
        with F.context("manifest"):
            manifest = Manifest.from_json(d["manifest"])
        levels, rules, units = manifest.levels, manifest.rules, manifest.units
        title = title or manifest.title
    else:
        base = preset(d["preset"]) if "preset" in d else None
        if base is None and not ("levels" in d and "rules" in d):
            raise CountError("preset: missing (give a preset, or both levels and rules)")
        levels = LevelSet.from_json(d["levels"], "levels") if "levels" in d else base.levels
        if base is None:
            rules = RuleProfile.from_json(d["rules"], "rules")
        elif "rules" in d:  # only the keys named override the preset's (its quota stays)
            rules = merge_rules(base.rules, d["rules"], "rules")
        else:
            rules = base.rules
        if "units" not in d:
            raise CountError("units: missing")
        units = tuple(Unit.from_json(x, f"units[{i}]")
                      for i, x in enumerate(F.items(d["units"], "units")))
    figures = _figures(F.obj(d["figures"], "figures", CountError), "figures")
    counts: dict[str, UnitCounts] = {}
    for uid, raw in F.obj(d["counts"], "counts", CountError).items():
        where = f"counts.{uid}"
        c = F.obj(raw, where, CountError)
        F.keys(c, where, required=("votes",), optional=("abstain", "blank"), error=CountError)
        votes = F.obj(c["votes"], f"{where}.votes", CountError)
        counts[uid] = _unit_counts(votes, c.get("abstain"), c.get("blank"),
                                   figures.ballots_valid, where)
    return CountsFile(title, levels, rules, units, figures, counts, manifest)


# -- CSV ----------------------------------------------------------------------------------------
#: The unit columns of a CSV counts file (a JSON file's unit objects have the same fields).
_UNIT_COLUMNS = ("unit_id", "name", "group", "score", "kind", "collective", "head",
                 "disciplined")
_HEADER_RE = re.compile(r"^#\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")
_YES = {"yes": True, "true": True, "1": True, "có": True, "no": False, "false": False,
        "0": False, "không": False, "": False}


def _int(text: str, where: str) -> int:
    if not re.fullmatch(r"[0-9]+", text.strip()):
        raise CountError(f"{where}: expected a whole number ≥ 0, got {text!r}")
    digits = text.strip().lstrip("0") or "0"
    value = int(digits) if len(digits) <= 16 else MAX_COUNT + 1
    if value > MAX_COUNT:
        raise CountError(f"{where}: {text.strip()[:30]} is too large: at most 2^53 − 1 = {MAX_COUNT} "
                         "(the same limit as in JSON)")
    return value


def _yesno(text: str, where: str) -> bool:
    try:
        return _YES[text.strip().lower()]
    except KeyError:
        raise CountError(f"{where}: expected yes or no, got {text!r}") from None


def _apply_options(levels: LevelSet, rules: RuleProfile,
                   options: dict[str, tuple[int, str]]) -> RuleProfile:
    """The header's rule options laid on the preset's rules: the same path as a JSON file's
    partial ``rules`` and the web form (:func:`merge_rules`)."""
    partial: dict = {}
    for key, (line, value) in options.items():
        try:
            part = options_to_rules(levels, rules, {key: value})
            partial = merge_json(partial, part)
        except ManifestError as exc:
            text = str(exc)
            text = text[len(key) + 2:] if text.startswith(f"{key}: ") else text
            raise CountError(f"line {line} ({key}): {text}") from None
    try:
        return merge_rules(rules, partial)
    except ManifestError as exc:
        raise CountError(f"header: {exc}") from None


def _load_csv(text: str) -> CountsFile:
    text = unicodedata.normalize("NFC", text)  # ids, names, groups and headers alike
    lines = text.splitlines()
    header: dict[str, tuple[int, str]] = {}
    first_table = None
    for i, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = _HEADER_RE.match(stripped)
            if m is None:
                continue  # a plain comment
            key = m.group(1).lower()
            if key not in ("preset", "title") + _FIGURES + _OPTIONS:
                raise CountError(f"line {i}: unknown header key {key!r} (keys: preset, title, "
                                 f"{', '.join(_FIGURES + _OPTIONS)})")
            if key in header:
                raise CountError(f"line {i}: {key!r} given twice (first on line {header[key][0]})")
            header[key] = (i, m.group(2))
            continue
        first_table = i
        break
    if "preset" not in header:
        raise CountError(f"preset: missing header line '# preset: NAME' "
                         f"(presets: {', '.join(PRESETS)})")
    base = preset(header["preset"][1])
    levels = base.levels
    options = {k: v for k, v in header.items() if k in _OPTIONS}
    if "outstanding" in options and "quota_ratio" in options:
        raise CountError(f"line {options['outstanding'][0]}: give either outstanding or "
                         "quota_ratio, not both")
    rules = _apply_options(levels, base.rules, options)
    fig: dict[str, int] = {}
    for key in _FIGURES:
        if key in header:
            line, value = header[key]
            fig[key] = _int(value, f"line {line} ({key})")
    for key in ("convened", "excluded", "present", "ballots_valid"):
        if key not in fig:
            raise CountError(f"{key}: missing header line '# {key}: NUMBER'")
    with F.context("figures", CountError):
        figures = MeetingFigures(**fig)
    if first_table is None:
        raise CountError("no table: expected a header row unit_id;name;<level codes>;abstain")

    table = "\n".join(lines[first_table - 1:])
    delimiter = ";" if ";" in lines[first_table - 1] else ","
    reader = csv.reader(io.StringIO(table), delimiter=delimiter)
    columns = [c.strip() for c in next(reader)]
    known = set(_UNIT_COLUMNS) | {"abstain", "blank"} | set(levels.codes)
    for c in columns:
        if c not in known:
            raise CountError(f"line {first_table}: unknown column {c!r} (expected unit_id, name, "
                             f"{', '.join(levels.codes)}, abstain, blank, "
                             f"{', '.join(_UNIT_COLUMNS[2:])})")
    if len(set(columns)) != len(columns):
        raise CountError(f"line {first_table}: a column appears twice")
    for c in ("unit_id", "name") + levels.codes:
        if c not in columns:
            raise CountError(f"line {first_table}: missing column {c!r}")

    units, counts = [], {}
    for offset, row in enumerate(reader):
        line = first_table + 1 + offset
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) != len(columns):
            raise CountError(f"line {line}: {len(row)} fields, expected {len(columns)}")
        cells = dict(zip(columns, (c.strip() for c in row)))
        uid = cells["unit_id"]
        where = f"line {line} ({uid or 'no unit_id'})"
        score = _int(cells["score"], f"{where}, column score") if cells.get("score") else None
        try:
            units.append(Unit(uid, cells["name"], group=cells.get("group") or None, score=score,
                              kind=cells.get("kind") or "member",
                              collective=cells.get("collective") or None,
                              head=_yesno(cells.get("head", ""), f"{where}, column head"),
                              disciplined=_yesno(cells.get("disciplined", ""),
                                                 f"{where}, column disciplined")))
        except ManifestError as exc:
            raise CountError(f"{where}: {exc}") from None
        if uid in counts:
            raise CountError(f"{where}: unit_id appears twice")
        votes = {code: _int(cells[code], f"{where}, column {code}") for code in levels.codes}
        abstain = _int(cells["abstain"], f"{where}, column abstain") if cells.get("abstain") else None
        blank = _int(cells["blank"], f"{where}, column blank") if cells.get("blank") else None
        counts[uid] = _unit_counts(votes, abstain, blank, figures.ballots_valid, where)
    if not units:
        raise CountError(f"line {first_table}: the table has no rows")
    title = header["title"][1] if "title" in header else None
    return CountsFile(title, levels, rules, tuple(units), figures, counts)


# -- entry points -------------------------------------------------------------------------------
def load_counts(path: str | Path) -> CountsFile:
    """Read a counts file; raise :class:`CountError`/:class:`ManifestError` naming the problem."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CountError(f"not UTF-8 text (byte {exc.start})") from None
    suffix = Path(path).suffix.lower()
    if suffix == ".json" or (suffix != ".csv" and text.lstrip().startswith("{")):
        return _load_json(text)
    return _load_csv(text)


def run_count(path: str | Path, as_json: bool = False) -> tuple[str, int]:
    """The text (or JSON) of the count of ``path``, and an exit code: 0 counted, 1 bad file."""
    try:
        loaded = load_counts(path)
        result = loaded.count()
    except OSError as exc:
        return f"ballot count: {path}: cannot read ({exc.strerror or exc})\n", 1
    except ValueError as exc:  # ManifestError, CountError, EncodingError
        return f"ballot count: {path}: {exc}\n", 1
    if as_json:
        doc = {"title": loaded.title, "units": [u.to_json() for u in loaded.units],
               "result": result.to_json()}
        return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n", 0
    return format_result(result, loaded.units, loaded.title), 0


@click.command("count")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def count_command(file: str, as_json: bool) -> None:
    """Count plaintext counts from FILE (JSON or CSV; see docs/counting.md)."""
    text, code = run_count(file, as_json)
    click.echo(text, nl=False, err=code != 0)
    if code:
        raise SystemExit(code)
