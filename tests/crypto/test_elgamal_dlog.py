"""Exponential ElGamal and small discrete logarithms."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.crypto import dlog as dlog_module
from ballot.crypto.dlog import DlogError, DlogTable, discrete_log
from ballot.crypto.elgamal import (
    ZERO_CIPHERTEXT,
    Ciphertext,
    KeyPair,
    add_all,
    decrypt_to_point,
    encrypt,
    rerandomize,
)
from ballot.crypto.encoding import EncodingError
from ballot.crypto.group import GENERATOR, IDENTITY, L, PointError, base_mul

KEY = KeyPair.generate()
ORDER_8 = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
ORDER_2 = bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")


def _decrypt(c: Ciphertext, bound: int = 5000) -> int:
    return discrete_log(decrypt_to_point(KEY.secret, c), bound)


# --- ElGamal ----------------------------------------------------------------------------------


def test_keypair():
    assert 0 < KEY.secret < L
    assert KEY.public == base_mul(KEY.secret)


@pytest.mark.parametrize("m", [0, 1, 2, 100, 1023, 1024, 1025, 4999])
def test_decrypt_encrypt(m):
    c, r = encrypt(KEY.public, m)
    assert 0 < r < L
    assert c.alpha == base_mul(r)
    assert decrypt_to_point(KEY.secret, c) == base_mul(m)
    assert _decrypt(c) == m


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 1023))
def test_decrypt_encrypt_across_table(m):
    c, _ = encrypt(KEY.public, m)
    assert _decrypt(c, 1023) == m


def test_encrypt_with_given_randomness_is_deterministic():
    c1, r1 = encrypt(KEY.public, 7, 12345)
    c2, r2 = encrypt(KEY.public, 7, 12345 + L)
    assert r1 == r2 == 12345 and c1 == c2
    assert encrypt(KEY.public, 7)[0] != encrypt(KEY.public, 7)[0]


def test_homomorphic_sums():
    rng = random.Random(1)
    ms = [rng.randrange(0, 50) for _ in range(12)]
    cs = [encrypt(KEY.public, m)[0] for m in ms]
    assert _decrypt(add_all(cs)) == sum(ms)
    assert _decrypt(cs[0] + cs[1]) == ms[0] + ms[1]
    assert add_all([]) == ZERO_CIPHERTEXT
    assert _decrypt(ZERO_CIPHERTEXT) == 0
    assert cs[0] + ZERO_CIPHERTEXT == cs[0]


def test_homomorphic_sum_with_randomness_adds_nonces():
    c1, r1 = encrypt(KEY.public, 3)
    c2, r2 = encrypt(KEY.public, 4)
    c3, _ = encrypt(KEY.public, 7, r1 + r2)
    assert c1 + c2 == c3


def test_rerandomize_keeps_plaintext_changes_ciphertext():
    c, _ = encrypt(KEY.public, 42)
    c2 = rerandomize(KEY.public, c)
    assert c2 != c and c2.alpha != c.alpha and c2.beta != c.beta
    assert _decrypt(c2) == 42
    assert rerandomize(KEY.public, c, 5) == c + encrypt(KEY.public, 0, 5)[0]


def test_wrong_key_does_not_decrypt():
    other = KeyPair.generate()
    c, _ = encrypt(KEY.public, 5)
    with pytest.raises(DlogError):
        discrete_log(decrypt_to_point(other.secret, c), 1000)


def test_ciphertext_bytes_round_trip():
    c, _ = encrypt(KEY.public, 9)
    data = c.to_bytes()
    assert len(data) == 64 and data[:32] == bytes(c.alpha)
    assert Ciphertext.from_bytes(data) == c


@pytest.mark.parametrize("n", [0, 32, 63, 65, 96])
def test_ciphertext_from_bytes_rejects_wrong_length(n):
    with pytest.raises(EncodingError):
        Ciphertext.from_bytes(bytes(n))


@pytest.mark.parametrize("half", [0, 1])
@pytest.mark.parametrize("bad", [
    bytes(32),                                  # order 4
    IDENTITY.data,                              # identity
    ORDER_8,                                    # order 8
    b"\xff" * 31 + b"\x7f",                     # y >= p
    (2).to_bytes(32, "little"),                 # y = 2 is not on the curve
    "mixed",
])
def test_ciphertext_from_bytes_rejects_bad_points(half, bad):
    from nacl import bindings as sodium

    c, _ = encrypt(KEY.public, 1)
    if bad == "mixed":
        bad = sodium.crypto_core_ed25519_add(bytes(c.alpha), ORDER_2)
    parts = [bytes(c.alpha), bytes(c.beta)]
    parts[half] = bad
    with pytest.raises(PointError, match="alpha" if half == 0 else "beta"):
        Ciphertext.from_bytes(b"".join(parts))


# --- discrete logs ----------------------------------------------------------------------------


def test_small_table_whole_range():
    table = DlogTable(16)
    bound = 16 * 16 - 1
    p = IDENTITY
    for m in range(bound + 1):
        assert table.log(p, bound) == m
        p = p + GENERATOR
    with pytest.raises(DlogError):
        table.log(p, bound)  # g^(bound+1)
    with pytest.raises(ValueError, match="exceeds"):
        table.log(p, 16 * 16)


@pytest.mark.parametrize("bound", [0, 1, 15, 16, 17, 100, 200])
def test_small_table_refuses_just_above_any_bound(bound):
    table = DlogTable(16)
    assert table.log(base_mul(bound), bound) == bound
    with pytest.raises(DlogError):
        table.log(base_mul(bound + 1), bound)


def test_table_rejects_bad_size():
    with pytest.raises(ValueError):
        DlogTable(0)


@pytest.mark.parametrize("m", [0, 1, 1023, 1024, 1025, 2047, 2048, 2049, 5000, 99_999])
def test_discrete_log_table_boundaries(m):
    assert discrete_log(base_mul(m), 100_000) == m


def test_discrete_log_exact_bound_and_just_above():
    bound = 1024 * 1024 - 1  # the largest bound a 1024 table covers
    assert discrete_log(base_mul(bound), bound) == bound
    with pytest.raises(DlogError):
        discrete_log(base_mul(bound + 1), bound)
    for bound in (0, 1, 1023, 1024, 1025, 3000):
        assert discrete_log(base_mul(bound), bound) == bound
        with pytest.raises(DlogError):
            discrete_log(base_mul(bound + 1), bound)


def test_discrete_log_grows_its_table_for_large_bounds():
    bound = 2048 * 2048 - 1  # needs a 2048-entry table
    for m in (0, 2047, 2048, 2049, 1024 * 1024, bound):
        assert discrete_log(base_mul(m), bound) == m
    with pytest.raises(DlogError):
        discrete_log(base_mul(bound + 1), bound)
    assert dlog_module.cached_table(2048).size == 2048


def test_discrete_log_of_negative_exponent_is_not_found():
    with pytest.raises(DlogError):
        discrete_log(base_mul(-1), 5000)


def test_table_built_in_slices_is_the_same_table():
    from ballot.crypto.dlog import baby_steps

    whole = baby_steps(0, 64)
    assert baby_steps(0, 20) + baby_steps(20, 64) == whole
    assert DlogTable(64).entries == whole
    table = DlogTable(64, whole)
    assert table.log(base_mul(64 * 64 - 1), 64 * 64 - 1) == 64 * 64 - 1
    with pytest.raises(ValueError, match="bytes"):
        DlogTable(64, whole[:-1])
    with pytest.raises(ValueError):
        baby_steps(5, 4)


def test_a_forged_table_entry_is_never_an_answer():
    # A table handed over by another process is checked: a look-up that hits a wrong entry
    # (here g^3 listed as entry 12) is confirmed against g^m and refused, not returned.
    from ballot.crypto.dlog import baby_steps

    entries = bytearray(baby_steps(0, 16))
    entries[12 * 32 : 13 * 32] = base_mul(3).data
    table = DlogTable(16, bytes(entries))
    assert table.log(base_mul(5), 100) == 5
    with pytest.raises(DlogError):
        table.log(base_mul(3), 100)  # the look-up says 12: refused, since g^12 != g^3
