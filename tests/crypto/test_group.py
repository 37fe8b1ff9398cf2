"""The Ed25519 prime-order subgroup: point validation, scalars, group algebra."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl import bindings as sodium

from ballot.crypto.encoding import EncodingError, hash_parts
from ballot.crypto.group import (
    GENERATOR,
    IDENTITY,
    L,
    Point,
    PointError,
    base_mul,
    decode_point,
    decode_scalar,
    encode_scalar,
    hash_to_scalar,
    random_scalar,
    sum_points,
)

P_FIELD = 2**255 - 19
D = -121665 * pow(121666, -1, P_FIELD) % P_FIELD
IDENTITY_BYTES = bytes([1]) + bytes(31)

# The eight points of order dividing 8, in their canonical encodings.
SMALL_ORDER = {
    "order 1 (identity)": "0100000000000000000000000000000000000000000000000000000000000000",
    "order 2 (0, -1)": "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "order 4 (+sqrt(-1), 0)": "0000000000000000000000000000000000000000000000000000000000000000",
    "order 4 (-sqrt(-1), 0)": "0000000000000000000000000000000000000000000000000000000000000080",
    "order 8 a": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "order 8 -a": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "order 8 b": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "order 8 -b": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
}
SMALL_ORDER_BYTES = {name: bytes.fromhex(h) for name, h in SMALL_ORDER.items()}
ORDER_8 = SMALL_ORDER_BYTES["order 8 a"]

scalars = st.integers(0, L - 1) | st.sampled_from([0, 1, 2, L - 1, L - 2, (L - 1) // 2])
P1 = base_mul(0x1234567890ABCDEF)


def _on_curve(y: int, sign: int) -> bool:
    """Does (x, y) with this sign of x satisfy -x^2 + y^2 = 1 + d x^2 y^2 over GF(p)?"""
    if y >= P_FIELD:
        return False
    u, v = (y * y - 1) % P_FIELD, (D * y * y + 1) % P_FIELD
    x2 = u * pow(v, -1, P_FIELD) % P_FIELD
    if x2 == 0:
        return sign == 0
    return pow(x2, (P_FIELD - 1) // 2, P_FIELD) == 1


def _enc(y: int, sign: int = 0) -> bytes:
    return (y | (sign << 255)).to_bytes(32, "little")


def _raw_mul8(data: bytes) -> bytes:
    """8·P by additions, with libsodium's add (which accepts any point on the curve)."""
    acc = data
    for _ in range(3):
        acc = sodium.crypto_core_ed25519_add(acc, acc)
    return acc


# --- decoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 31, 33, 64])
def test_decode_point_rejects_wrong_length(n):
    with pytest.raises(PointError, match="32 bytes"):
        decode_point(bytes(GENERATOR)[:n] + bytes(max(0, n - 32)))


@pytest.mark.parametrize("value", ["00" * 32, None, 5, [0] * 32])
def test_decode_point_rejects_non_bytes(value):
    with pytest.raises(PointError):
        decode_point(value)  # type: ignore[arg-type]


def test_small_order_list_is_right():
    assert len(set(SMALL_ORDER_BYTES.values())) == 8
    for name, data in SMALL_ORDER_BYTES.items():
        assert _raw_mul8(data) == IDENTITY_BYTES, name
    # Only the identity has order 1, and exactly two points have order dividing 2.
    twice = [sodium.crypto_core_ed25519_add(d, d) for d in SMALL_ORDER_BYTES.values()]
    assert twice.count(IDENTITY_BYTES) == 2


@pytest.mark.parametrize("name", sorted(SMALL_ORDER))
@pytest.mark.parametrize("allow_identity", [False, True])
def test_decode_point_rejects_small_order(name, allow_identity):
    data = SMALL_ORDER_BYTES[name]
    if data == IDENTITY_BYTES and allow_identity:
        assert decode_point(data, allow_identity=True) == IDENTITY
        return
    with pytest.raises(PointError):
        decode_point(data, allow_identity=allow_identity)


def test_identity_only_when_allowed():
    with pytest.raises(PointError, match="identity"):
        decode_point(IDENTITY_BYTES)
    p = decode_point(IDENTITY_BYTES, allow_identity=True)
    assert p == IDENTITY and p.is_identity
    assert decode_point(bytearray(IDENTITY_BYTES), allow_identity=True) == IDENTITY


@pytest.mark.parametrize("allow_identity", [False, True])
def test_identity_with_sign_bit_is_rejected(allow_identity):
    # x = 0 with the sign bit set: a non-canonical encoding of the identity.
    with pytest.raises(PointError):
        decode_point(bytes([1]) + bytes(30) + b"\x80", allow_identity=allow_identity)


@pytest.mark.parametrize("k", range(19))
@pytest.mark.parametrize("sign", [0, 1])
def test_decode_point_rejects_non_canonical_y(k, sign):
    # y = p + k, i.e. an encoding of y = k that is not reduced mod p.
    data = _enc(P_FIELD + k, sign)
    with pytest.raises(PointError):
        decode_point(data, allow_identity=True)


def test_decode_point_rejects_points_not_on_the_curve():
    off = [y for y in range(2, 60) if not _on_curve(y, 0)][:6]
    assert len(off) == 6
    for y in off:
        for sign in (0, 1):
            with pytest.raises(PointError):
                decode_point(_enc(y, sign))
    # The same check against a real point: perturb y of a valid point until it leaves the curve.
    y = int.from_bytes(bytes(P1), "little") & ((1 << 255) - 1)
    sign = bytes(P1)[31] >> 7
    y2 = next(y + i for i in range(1, 200) if not _on_curve(y + i, sign))
    with pytest.raises(PointError):
        decode_point(_enc(y2, sign))


@pytest.mark.parametrize("torsion", sorted(set(SMALL_ORDER) - {"order 1 (identity)"}))
def test_decode_point_rejects_mixed_order(torsion):
    mixed = sodium.crypto_core_ed25519_add(bytes(P1), SMALL_ORDER_BYTES[torsion])
    assert mixed != bytes(P1)
    assert len(mixed) == 32  # a real point on the curve, of order 2L, 4L or 8L
    with pytest.raises(PointError):
        decode_point(mixed)
    # and subtracting the torsion part gives back a valid element
    back = sodium.crypto_core_ed25519_sub(mixed, SMALL_ORDER_BYTES[torsion])
    assert decode_point(back) == P1


def test_decode_point_names_the_field():
    with pytest.raises(PointError, match="units\\[3\\]"):
        decode_point(bytes(32), "units[3]")


@settings(max_examples=25, deadline=None)
@given(st.integers(1, L - 1))
def test_encode_decode_round_trip(k):
    p = base_mul(k)
    assert len(bytes(p)) == 32
    q = decode_point(bytes(p))
    assert q == p and not q.is_identity
    assert decode_point(bytes(-p)) == -p


# --- algebra ----------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(scalars, scalars)
def test_base_mul_is_a_homomorphism(a, b):
    assert base_mul(a) + base_mul(b) == base_mul(a + b)
    assert base_mul(a) - base_mul(b) == base_mul(a - b)
    assert GENERATOR * a == base_mul(a) == a * GENERATOR


@settings(max_examples=20, deadline=None)
@given(scalars, scalars, st.integers(1, L - 1))
def test_variable_base_distributes(a, b, x):
    p = base_mul(x)
    assert p * a + p * b == p * (a + b)
    assert (p * a) * b == p * (a * b % L) == base_mul(a * b * x)


@settings(max_examples=20, deadline=None)
@given(scalars)
def test_identity_cases(k):
    assert IDENTITY * k == IDENTITY
    assert k * IDENTITY == IDENTITY
    assert P1 * 0 == IDENTITY
    assert P1 * L == IDENTITY
    assert P1 * (k * L) == IDENTITY
    assert P1 - P1 == IDENTITY
    assert -IDENTITY == IDENTITY
    assert P1 + IDENTITY == P1 == IDENTITY + P1
    assert IDENTITY + IDENTITY == IDENTITY
    p = base_mul(k)
    assert p - p == IDENTITY
    assert p + (-p) == IDENTITY
    assert -(-p) == p


def test_multiplication_reduces_mod_l():
    assert P1 * (L + 1) == P1
    assert P1 * -1 == -P1 == P1 * (L - 1)
    assert base_mul(-5) == -base_mul(5)
    assert GENERATOR * L == IDENTITY and base_mul(0) == IDENTITY


def test_generator_is_the_ed25519_base_point():
    # RFC 8032: B has y = 4/5.
    y = 4 * pow(5, -1, P_FIELD) % P_FIELD
    assert bytes(GENERATOR) == y.to_bytes(32, "little")
    assert IDENTITY.data == IDENTITY_BYTES


def test_sum_points_and_commutativity():
    pts = [base_mul(k) for k in (3, 5, 7)]
    assert sum_points(pts) == base_mul(15)
    assert sum_points([]) == IDENTITY
    assert pts[0] + pts[1] == pts[1] + pts[0]
    assert sum_points([pts[0], -pts[0]]) == IDENTITY


def test_point_is_immutable_and_hashable():
    p = base_mul(9)
    with pytest.raises(AttributeError):
        p.data = bytes(32)  # type: ignore[misc]
    assert {p: 1}[base_mul(9)] == 1
    assert repr(IDENTITY) == "Point(identity)"


# --- scalars ----------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, 1, L - 1])
def test_scalar_round_trip_edges(k):
    assert decode_scalar(encode_scalar(k)) == k


@settings(max_examples=50)
@given(st.integers(0, L - 1))
def test_scalar_round_trip(k):
    data = encode_scalar(k)
    assert len(data) == 32 and data == k.to_bytes(32, "little")
    assert decode_scalar(data) == k


@pytest.mark.parametrize("k", [L, L + 1, 2 * L, 2**253, 2**256 - 1])
def test_decode_scalar_rejects_non_canonical(k):
    with pytest.raises(EncodingError, match="non-canonical"):
        decode_scalar(k.to_bytes(32, "little"))


@pytest.mark.parametrize("data", [b"", bytes(31), bytes(33), bytes(64), "00" * 32, None])
def test_decode_scalar_rejects_wrong_length(data):
    with pytest.raises(EncodingError, match="32 bytes"):
        decode_scalar(data)  # type: ignore[arg-type]


def test_encode_scalar_reduces():
    assert encode_scalar(L) == bytes(32)
    assert encode_scalar(-1) == encode_scalar(L - 1)
    assert encode_scalar(L + 7) == encode_scalar(7)


def test_random_scalar_range():
    for _ in range(50):
        k = random_scalar()
        assert 0 < k < L


def test_hash_to_scalar_definition():
    parts = [b"a", b"bc"]
    expected = int.from_bytes(hash_parts("t", parts), "little") % L
    assert hash_to_scalar("t", parts) == expected
    assert expected == int.from_bytes(hashlib.sha512(
        b"\x00\x00\x00\x01t\x00\x00\x00\x01a\x00\x00\x00\x02bc").digest(), "little") % L


@settings(max_examples=50)
@given(st.binary(max_size=16))
def test_hash_to_scalar_domain_separation(data):
    a = hash_to_scalar("ballot/v1/proof/schnorr", [data])
    b = hash_to_scalar("ballot/v1/proof/dleq", [data])
    c = hash_to_scalar("ballot/v1/proof/schnorr", [data, b""])
    assert len({a, b, c}) == 3
    assert all(0 <= s < L for s in (a, b, c))
    assert hash_to_scalar("ballot/v1/proof/schnorr", [data]) == a


def test_hash_to_scalar_part_boundaries():
    assert hash_to_scalar("t", [b"ab", b"c"]) != hash_to_scalar("t", [b"a", b"bc"])
    assert hash_to_scalar("t", [b"ab"]) != hash_to_scalar("ta", [b"b"])


def test_point_constructor_trusts_but_decode_validates():
    # A Point built directly from garbage is not validated; decode_point is the gate.
    garbage = Point(bytes(32))
    with pytest.raises(PointError):
        decode_point(garbage.data)
