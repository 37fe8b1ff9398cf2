"""Strict readers for JSON objects: every message names the field (``units[3].score: ...``)."""

from __future__ import annotations

import re
import unicodedata
from contextlib import contextmanager
from fractions import Fraction
from typing import Any, Iterator, Type

from .errors import ManifestError

IDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_FRACTION_RE = re.compile(r"^(0|[1-9][0-9]{0,8})/([1-9][0-9]{0,8})$")

_MISSING = object()


@contextmanager
def context(where: str, error: Type[ValueError] = ManifestError) -> Iterator[None]:
    """Prefix the message of an ``error`` raised inside with ``where``."""
    try:
        yield
    except error as exc:
        raise type(exc)(f"{where}.{exc}" if where else str(exc)) from None


def join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def obj(value: Any, where: str, error: Type[ValueError] = ManifestError) -> dict:
    if not isinstance(value, dict):
        raise error(f"{where or 'document'}: expected an object, got {_kind(value)}")
    return value


def keys(
    value: dict,
    where: str,
    required: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    error: Type[ValueError] = ManifestError,
) -> None:
    """Reject unknown keys and missing required keys."""
    allowed = set(required) | set(optional)
    unknown = sorted(k for k in value if k not in allowed)
    if unknown:
        raise error(
            f"{join(where, unknown[0])}: unknown key (allowed: {', '.join(sorted(allowed))})"
        )
    for k in required:
        if k not in value:
            raise error(f"{join(where, k)}: missing")


def string(value: Any, name: str, *, empty: bool = False, none: bool = False) -> str | None:
    if value is None and none:
        return None
    if not isinstance(value, str):
        raise ManifestError(f"{name}: expected a string, got {_kind(value)}")
    if not empty and not value.strip():
        raise ManifestError(f"{name}: must not be empty")
    if value != value.strip():
        raise ManifestError(f"{name}: leading or trailing white space in {value!r}")
    bad = control_character(value)
    if bad is not None:
        raise ManifestError(f"{name}: control character {bad} in {value!r}; a name is one line "
                            "of printable text")
    return value


def control_character(value: str) -> str | None:
    """The first control character of ``value`` (``"U+000A"``), or None: C0/C1 controls (a
    newline, a tab, ...) and the Unicode line and paragraph separators, which would split a
    row of the printed minutes."""
    for c in value:
        if unicodedata.category(c) in ("Cc", "Zl", "Zp"):
            return f"U+{ord(c):04X}"
    return None


def nfc_string(value: Any, name: str, *, none: bool = False) -> str | None:
    """:func:`string`, and in Unicode NFC: a name or group that prints the same is the same
    text. The entrances (counts files, CSV import, the web form) normalise; a manifest, whose
    bytes are hashed, is refused rather than silently changed."""
    out = string(value, name, none=none)
    if out is not None and not unicodedata.is_normalized("NFC", out):
        raise ManifestError(f"{name}: {out!r} is not in Unicode NFC form (normalise it: the "
                            "same letters typed as base + combining marks must not make "
                            "a different name or group)")
    return out


def nfc_document(value: Any, where: str = "", error: Type[ValueError] = ManifestError) -> Any:
    """A parsed JSON document with every string and object key in Unicode NFC; two keys of one
    object that differ only by normalisation are refused (they would name the same thing)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [nfc_document(v, f"{where}[{i}]", error) for i, v in enumerate(value)]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = unicodedata.normalize("NFC", k) if isinstance(k, str) else k
            if key in out:
                raise error(f"{join(where, key)}: two keys differ only by Unicode "
                            "normalisation (the same letters typed two ways)")
            out[key] = nfc_document(v, join(where, key), error)
        return out
    return value


def ident(value: Any, name: str, *, none: bool = False) -> str | None:
    if value is None and none:
        return None
    if not isinstance(value, str) or not IDENT_RE.match(value):
        raise ManifestError(
            f"{name}: expected an identifier (letters, digits, '_', '.', '-', at most 64), "
            f"got {value!r}"
        )
    return value


def integer(value: Any, name: str, *, lo: int | None = None, hi: int | None = None,
            none: bool = False) -> int | None:
    if value is None and none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ManifestError(f"{name}: expected an integer, got {_kind(value)}")
    if lo is not None and value < lo:
        raise ManifestError(f"{name}: must be at least {lo}, got {value}")
    if hi is not None and value > hi:
        raise ManifestError(f"{name}: must be at most {hi}, got {value}")
    return value


def boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ManifestError(f"{name}: expected true or false, got {_kind(value)}")
    return value


def choice(value: Any, name: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ManifestError(f"{name}: expected one of {', '.join(options)}, got {value!r}")
    return value


def fraction(value: Any, name: str, *, lo: Fraction = Fraction(0),
             hi: Fraction = Fraction(1), lo_open: bool = False) -> Fraction:
    """A fraction written ``"p/q"`` in lowest terms (``"1/2"``, ``"2/3"``, ``"1/1"``)."""
    if isinstance(value, Fraction):
        f = value
    else:
        m = _FRACTION_RE.match(value) if isinstance(value, str) else None
        if not m:
            raise ManifestError(f"{name}: expected a fraction written \"p/q\", got {value!r}")
        f = Fraction(int(m.group(1)), int(m.group(2)))
        if format_fraction(f) != value:
            raise ManifestError(f"{name}: write {value!r} in lowest terms, as {format_fraction(f)!r}")
    if f < lo or f > hi or (lo_open and f == lo):
        bracket = "(" if lo_open else "["
        raise ManifestError(
            f"{name}: must be in {bracket}{format_fraction(lo)}, {format_fraction(hi)}], "
            f"got {format_fraction(f)}"
        )
    return f


def format_fraction(f: Fraction) -> str:
    """Always ``"p/q"`` (``Fraction(1)`` is ``"1/1"``), so the JSON form is one string type."""
    return f"{f.numerator}/{f.denominator}"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def items(value: Any, where: str) -> list:
    if not isinstance(value, (list, tuple)):
        raise ManifestError(f"{where}: expected a list, got {_kind(value)}")
    return list(value)
