"""Canonical encodings and domain-separated hashing (docs/protocol.md, "Encodings").

Every hash in the protocol goes through :func:`hash_parts`: a domain tag and a sequence of
byte strings, each length-prefixed, so that no two different inputs share a hash input.
JSON documents are hashed in their canonical form (:func:`canonical_json`): sorted keys,
no insignificant white space, UTF-8, integers only (no floats).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any, Iterable

__all__ = [
    "EncodingError",
    "canonical_json",
    "parse_json",
    "b64encode",
    "b64decode",
    "hash_parts",
    "sha256",
    "uint32",
    "uint64",
]


class EncodingError(ValueError):
    """A byte string or document that does not have the canonical form."""


MAX_DEPTH = 200


def _check_json_value(value: Any, path: str, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise EncodingError(f"{path}: JSON nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise EncodingError(f"{path}: a string with a lone surrogate is not valid UTF-8") from None
        return
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise EncodingError(f"{path}: integer {value} is outside the JSON-safe range")
        return
    if isinstance(value, float):
        raise EncodingError(f"{path}: floats are not allowed in canonical JSON")
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_json_value(item, f"{path}[{i}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EncodingError(f"{path}: object keys must be strings")
            _check_json_value(key, f"{path} key")
            _check_json_value(item, f"{path}.{key}", depth + 1)
        return
    raise EncodingError(f"{path}: {type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 bytes of a JSON value (a subset of RFC 8785 without floats)."""
    _check_json_value(value, "$")
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _no_constants(name: str) -> Any:
    raise EncodingError(f"{name} is not valid JSON")


def _no_floats(text: str) -> Any:
    raise EncodingError(f"floats are not allowed ({text})")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise EncodingError(f"duplicate key {key!r}")
        out[key] = value
    return out


def parse_json(data: bytes | str) -> Any:
    """Parse JSON strictly: no NaN/Infinity, no floats, no duplicate keys."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EncodingError(f"not UTF-8: {exc}") from None
    try:
        value = json.loads(
            data,
            parse_constant=_no_constants,
            parse_float=_no_floats,
            object_pairs_hook=_no_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise EncodingError(f"malformed JSON: {exc}") from None
    except RecursionError:
        raise EncodingError("JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise EncodingError(f"unacceptable JSON value: {exc}") from None
    try:
        _check_json_value(value, "$")
    except RecursionError:
        raise EncodingError("JSON nested too deeply") from None
    return value


_B64_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def b64encode(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str, length: int | None = None, what: str = "value") -> bytes:
    """Strict base64url-without-padding decoding; optionally of an exact byte length."""
    if not isinstance(text, str) or not _B64_RE.fullmatch(text) or len(text) % 4 == 1:
        raise EncodingError(f"{what}: not base64url without padding")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64encode(raw) != text:
        raise EncodingError(f"{what}: non-canonical base64url")
    if length is not None and len(raw) != length:
        raise EncodingError(f"{what}: expected {length} bytes, got {len(raw)}")
    return raw


def uint32(n: int) -> bytes:
    if not 0 <= n < 2**32:
        raise EncodingError(f"{n} does not fit in 32 bits")
    return n.to_bytes(4, "big")


def uint64(n: int) -> bytes:
    if not 0 <= n < 2**64:
        raise EncodingError(f"{n} does not fit in 64 bits")
    return n.to_bytes(8, "big")


def hash_parts(tag: str, parts: Iterable[bytes], *, digest: str = "sha512") -> bytes:
    """H(tag, parts) = HASH( u32(len(tag)) || tag || for each part: u32(len(part)) || part ).

    ``tag`` is an ASCII domain-separation string such as ``"ballot/v1/proof/dlog-eq"``.
    """
    h = hashlib.new(digest)
    t = tag.encode("ascii")
    h.update(uint32(len(t)))
    h.update(t)
    for part in parts:
        if not isinstance(part, (bytes, bytearray)):
            raise TypeError(f"hash parts must be bytes, got {type(part).__name__}")
        h.update(uint32(len(part)))
        h.update(part)
    return h.digest()


def sha256(tag: str, *parts: bytes) -> bytes:
    """A 32-byte domain-separated SHA-256 hash, for fingerprints and chains."""
    return hash_parts(tag, parts, digest="sha256")
