"""Canonical JSON, strict parsing, strict base64url and domain-separated hashing."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.crypto.encoding import (
    EncodingError,
    b64decode,
    b64encode,
    canonical_json,
    hash_parts,
    parse_json,
    sha256,
    uint32,
)

MAX_SAFE = 2**53 - 1

json_scalars = st.none() | st.booleans() | st.integers(-MAX_SAFE, MAX_SAFE) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


# --- canonical_json ----------------------------------------------------------------------------


def test_canonical_json_sorted_keys_no_spaces():
    assert canonical_json({"b": 1, "a": [1, 2, {"d": None, "c": True}]}) == (
        b'{"a":[1,2,{"c":true,"d":null}],"b":1}'
    )


def test_canonical_json_is_utf8_not_escaped():
    out = canonical_json({"tên": "Nguyễn Văn A"})
    assert out == '{"tên":"Nguyễn Văn A"}'.encode("utf-8")
    assert b"\\u" not in out


def test_canonical_json_escapes_controls_and_quotes():
    assert canonical_json('a"b\\c\n\x01') == b'"a\\"b\\\\c\\n\\u0001"'


def test_canonical_json_key_order_is_independent_of_insertion_order():
    assert canonical_json({"x": 1, "y": 2, "a": 3}) == canonical_json({"a": 3, "y": 2, "x": 1})


def test_canonical_json_tuples_are_arrays():
    assert canonical_json((1, "a")) == b'[1,"a"]'


@pytest.mark.parametrize("value", [1.0, 0.5, float("nan"), float("inf"), -float("inf"), [1, 2.5],
                                   {"a": {"b": 1e3}}])
def test_canonical_json_rejects_floats_and_nan(value):
    with pytest.raises(EncodingError):
        canonical_json(value)


@pytest.mark.parametrize("value", [2**53, -(2**53), 10**30, [2**64]])
def test_canonical_json_rejects_huge_integers(value):
    with pytest.raises(EncodingError):
        canonical_json(value)


def test_canonical_json_accepts_extreme_safe_integers():
    assert canonical_json([MAX_SAFE, -MAX_SAFE]) == f"[{MAX_SAFE},{-MAX_SAFE}]".encode()


@pytest.mark.parametrize("value", [{1: "a"}, b"bytes", {"a": object()}, {1, 2}])
def test_canonical_json_rejects_non_json_values(value):
    with pytest.raises(EncodingError):
        canonical_json(value)


@settings(max_examples=60, deadline=None)
@given(json_values)
def test_canonical_json_round_trips_through_parse_json(value):
    out = canonical_json(value)
    parsed = parse_json(out)
    assert canonical_json(parsed) == out
    # Byte-identical to the reference form: sorted keys, no white space, UTF-8.
    assert out == json.dumps(value, sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False).encode("utf-8")


def test_canonical_json_sorts_keys_by_code_point_as_protocol_md_says():
    # docs/protocol.md 1.2: keys sorted by code point (not RFC 8785's UTF-16 code units);
    # U+1F600 sorts after U+FFFF. The JavaScript client sorts the same way.
    assert canonical_json({"\uffff": 2, "\U0001F600": 1}) == (
        '{"\uffff":2,"\U0001F600":1}'.encode("utf-8")
    )


def test_canonical_json_lone_surrogate_raises_encoding_error():
    with pytest.raises(EncodingError):
        canonical_json({"a": "\ud800"})


def test_parse_json_rejects_lone_surrogate_escape():
    with pytest.raises(EncodingError):
        parse_json(b'{"a":"\\ud800"}')


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000])
def test_parse_json_deep_nesting_is_an_encoding_error(text):
    with pytest.raises(EncodingError):
        parse_json(text)


def test_parse_json_giant_integer_is_an_encoding_error():
    with pytest.raises(EncodingError):
        parse_json("[" + "9" * 5000 + "]")


# --- parse_json --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    '{"a":1,"a":2}',
    '{"x":{"b":1,"b":1}}',
    '[{"k":null,"k":null}]',
])
def test_parse_json_rejects_duplicate_keys(text):
    with pytest.raises(EncodingError, match="duplicate"):
        parse_json(text)


@pytest.mark.parametrize("text", ["1.0", "[0.5]", '{"a":1e3}', "1E2", "-0.0", "2.5e-3"])
def test_parse_json_rejects_floats(text):
    with pytest.raises(EncodingError):
        parse_json(text)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a":-Infinity}'])
def test_parse_json_rejects_nan_and_infinity(text):
    with pytest.raises(EncodingError):
        parse_json(text)


@pytest.mark.parametrize("data", [b"{", b"[1,]", b"", b"\xff\xfe", b"{'a':1}", "[1] x"])
def test_parse_json_rejects_malformed(data):
    with pytest.raises(EncodingError):
        parse_json(data)


def test_parse_json_accepts_bytes_and_str():
    assert parse_json(b'{"a":[1,true,null,"x"]}') == {"a": [1, True, None, "x"]}
    assert parse_json('{"tên":"Ấp"}') == {"tên": "Ấp"}
    assert parse_json('{"tên":"Ấp"}'.encode()) == {"tên": "Ấp"}


# --- base64url ---------------------------------------------------------------------------------


@given(st.binary(max_size=80))
def test_b64_round_trip_and_no_padding(data):
    text = b64encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert text == base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert b64decode(text) == data
    assert b64decode(text, len(data)) == data


@pytest.mark.parametrize("text", ["YQ==", "YWI=", "YQ=", "=", "YWJj="])
def test_b64decode_rejects_padding(text):
    with pytest.raises(EncodingError):
        b64decode(text)


@pytest.mark.parametrize("text", ["YR", "YWJ", "YWL", "_-"])
def test_b64decode_rejects_non_canonical_trailing_bits(text):
    # "YQ" is b"a"; "YR" decodes to the same byte with a non-zero unused bit.
    with pytest.raises(EncodingError, match="non-canonical"):
        b64decode(text)


@pytest.mark.parametrize("text", ["YW+i", "YW/i", "YW i", "Y.Q", "YQ\u00e9", " YQ", "YWJj\t"])
def test_b64decode_rejects_wrong_alphabet(text):
    with pytest.raises(EncodingError):
        b64decode(text)


@pytest.mark.parametrize("text", ["Y", "YWJjZ"])
def test_b64decode_rejects_impossible_lengths(text):
    with pytest.raises(EncodingError):
        b64decode(text)


@pytest.mark.parametrize("value", [None, b"YQ", 12, ["YQ"]])
def test_b64decode_rejects_non_strings(value):
    with pytest.raises(EncodingError):
        b64decode(value)  # type: ignore[arg-type]


def test_b64decode_length_check():
    text = b64encode(bytes(32))
    assert b64decode(text, 32) == bytes(32)
    for n in (0, 31, 33, 64):
        with pytest.raises(EncodingError, match="expected"):
            b64decode(text, n)
    assert b64decode("", 0) == b""


@pytest.mark.parametrize("text", ["abc\n", "Zm9vYg\n"])
def test_b64decode_trailing_newline_raises_encoding_error(text):
    with pytest.raises(EncodingError):
        b64decode(text)


def test_b64decode_trailing_newline_is_rejected_somehow():
    # Whatever the exception type, such input must never decode.
    for text in ("abc\n", "Zm9vYg\n", "Zm9v\n"):
        with pytest.raises(ValueError):
            b64decode(text)


# --- hashing -----------------------------------------------------------------------------------


def test_hash_parts_format():
    expected = hashlib.sha512(
        (3).to_bytes(4, "big") + b"tag" + (2).to_bytes(4, "big") + b"ab" + (0).to_bytes(4, "big")
    ).digest()
    assert hash_parts("tag", [b"ab", b""]) == expected
    assert sha256("tag", b"ab", b"") == hashlib.sha256(
        (3).to_bytes(4, "big") + b"tag" + (2).to_bytes(4, "big") + b"ab" + bytes(4)).digest()
    assert len(sha256("t")) == 32


@pytest.mark.parametrize("left, right", [
    (("t", [b"ab", b"c"]), ("t", [b"a", b"bc"])),
    (("t", [b"abc"]), ("t", [b"ab", b"c"])),
    (("t", [b"", b"a"]), ("t", [b"a", b""])),
    (("t", [b"a"]), ("t", [b"a", b""])),
    (("t", []), ("t", [b""])),
    (("ta", [b"b"]), ("t", [b"ab"])),
    (("tag1", [b"x"]), ("tag2", [b"x"])),
])
def test_hash_parts_part_boundaries_and_tags_matter(left, right):
    assert hash_parts(*left) != hash_parts(*right)
    assert sha256(left[0], *left[1]) != sha256(right[0], *right[1])


@settings(max_examples=100)
@given(st.lists(st.binary(max_size=5), max_size=4), st.lists(st.binary(max_size=5), max_size=4))
def test_hash_parts_injective(a, b):
    if a != b:
        assert hash_parts("t", a) != hash_parts("t", b)
    else:
        assert hash_parts("t", a) == hash_parts("t", b)


def test_hash_parts_rejects_non_bytes_and_accepts_bytearray():
    with pytest.raises(TypeError):
        hash_parts("t", ["text"])  # type: ignore[list-item]
    assert hash_parts("t", [bytearray(b"x")]) == hash_parts("t", [b"x"])


def test_uint32_bounds():
    assert uint32(0) == bytes(4)
    assert uint32(2**32 - 1) == b"\xff" * 4
    for bad in (-1, 2**32):
        with pytest.raises(EncodingError):
            uint32(bad)


def test_parse_json_refuses_nesting_deeper_than_the_js_client_accepts():
    from ballot.crypto.encoding import MAX_DEPTH

    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_json(ok) is not None
    with pytest.raises(EncodingError, match="deeper than 200"):
        parse_json("[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2))
