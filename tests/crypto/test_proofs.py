"""Schnorr, Chaum–Pedersen (DLEQ) and disjunctive (CDS) proofs: completeness, soundness checks
against every single-field change, and strict byte decoding."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.crypto.elgamal import Ciphertext, KeyPair, encrypt
from ballot.crypto.encoding import EncodingError, sha256
from ballot.crypto.group import GENERATOR, L, Point, base_mul, encode_scalar, random_scalar
from ballot.crypto.proofs import (
    DisjunctiveProof,
    DleqProof,
    ProofError,
    SchnorrProof,
    prove_disjunctive,
    prove_dleq,
    prove_schnorr,
    verify_disjunctive,
    verify_dleq,
    verify_schnorr,
)

CTX = sha256("test/ctx", b"proofs")
OTHER_CTX = sha256("test/ctx", b"other")
KEY = KeyPair.generate()
H = KEY.public
VALUES = (0, 1, 11, 121, 1331)  # abstain + 4 levels, radix 11

deltas = st.integers(1, L - 1)


def _other_point(p: Point, k: int) -> Point:
    """A valid group element different from p."""
    return p + base_mul(k)


def _flip_ctx(ctx: bytes, i: int) -> bytes:
    b = bytearray(ctx)
    b[i % len(b)] ^= 1 << (i % 8)
    return bytes(b)


# --- Schnorr ----------------------------------------------------------------------------------

X_SECRET = random_scalar()
X = base_mul(X_SECRET)
SCHNORR = prove_schnorr(CTX, X_SECRET)


def test_schnorr_honest_verifies():
    verify_schnorr(CTX, X, SCHNORR)
    verify_schnorr(CTX, X, prove_schnorr(CTX, X_SECRET, X))
    assert SchnorrProof.from_bytes(SCHNORR.to_bytes()) == SCHNORR
    assert len(SCHNORR.to_bytes()) == 64


def test_schnorr_proofs_are_randomized():
    assert prove_schnorr(CTX, X_SECRET) != prove_schnorr(CTX, X_SECRET)


def test_schnorr_wrong_secret_fails():
    with pytest.raises(ProofError):
        verify_schnorr(CTX, X, prove_schnorr(CTX, X_SECRET + 1, X))


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["c", "v", "context", "X"]), deltas)
def test_schnorr_any_changed_field_fails(field, delta):
    ctx, statement, proof = CTX, X, SCHNORR
    if field == "c":
        proof = SchnorrProof((proof.c + delta) % L, proof.v)
    elif field == "v":
        proof = SchnorrProof(proof.c, (proof.v + delta) % L)
    elif field == "context":
        ctx = _flip_ctx(ctx, delta)
    else:
        statement = _other_point(X, delta)
    with pytest.raises(ProofError):
        verify_schnorr(ctx, statement, proof)


# --- Chaum–Pedersen ---------------------------------------------------------------------------

A = base_mul(random_scalar())
M, DLEQ = prove_dleq(CTX, X_SECRET, A)


def test_dleq_honest_verifies():
    assert M == A * X_SECRET
    verify_dleq(CTX, X, A, M, DLEQ)
    M2, proof2 = prove_dleq(CTX, X_SECRET, A, X)
    assert M2 == M
    verify_dleq(CTX, X, A, M2, proof2)
    assert DleqProof.from_bytes(DLEQ.to_bytes()) == DLEQ


def test_dleq_different_exponents_fail():
    # M' = A^(x+1) with an honest proof for exponent x+1 does not verify against X = g^x.
    M_bad, proof_bad = prove_dleq(CTX, X_SECRET + 1, A)
    with pytest.raises(ProofError):
        verify_dleq(CTX, X, A, M_bad, proof_bad)
    # and the honest proof does not make a wrong M verify
    with pytest.raises(ProofError):
        verify_dleq(CTX, X, A, M_bad, DLEQ)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(["c", "v", "context", "X", "A", "M"]), deltas)
def test_dleq_any_changed_field_fails(field, delta):
    args = {"context": CTX, "X": X, "A": A, "M": M, "proof": DLEQ}
    if field == "c":
        args["proof"] = DleqProof((DLEQ.c + delta) % L, DLEQ.v)
    elif field == "v":
        args["proof"] = DleqProof(DLEQ.c, (DLEQ.v + delta) % L)
    elif field == "context":
        args["context"] = _flip_ctx(CTX, delta)
    else:
        args[field] = _other_point(args[field], delta)
    with pytest.raises(ProofError):
        verify_dleq(args["context"], args["X"], args["A"], args["M"], args["proof"])


# --- Disjunctive ------------------------------------------------------------------------------

M_TRUE = 11
CT, R = encrypt(H, M_TRUE)
DISJ = prove_disjunctive(CTX, H, CT, R, M_TRUE, VALUES)


@pytest.mark.parametrize("m", VALUES)
def test_disjunctive_honest_verifies_for_every_branch(m):
    ct, r = encrypt(H, m)
    proof = prove_disjunctive(CTX, H, ct, r, m, VALUES)
    assert len(proof.branches) == len(VALUES)
    verify_disjunctive(CTX, H, ct, VALUES, proof)
    verify_disjunctive(CTX, H, ct, list(VALUES), proof)


def test_disjunctive_two_way_and_single_value():
    for m in (0, 1):
        ct, r = encrypt(H, m)
        verify_disjunctive(CTX, H, ct, (0, 1), prove_disjunctive(CTX, H, ct, r, m, (0, 1)))
    ct, r = encrypt(H, 1)
    verify_disjunctive(CTX, H, ct, (1,), prove_disjunctive(CTX, H, ct, r, 1, (1,)))


def test_disjunctive_bytes_round_trip():
    data = DISJ.to_bytes()
    assert len(data) == 64 * len(VALUES)
    assert DisjunctiveProof.from_bytes(data, len(VALUES)) == DISJ
    verify_disjunctive(CTX, H, CT, VALUES, DisjunctiveProof.from_bytes(data, len(VALUES)))


FIELDS = ["c", "v", "context", "h", "alpha", "beta", "value", "public_key"]


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(FIELDS), st.integers(0, len(VALUES) - 1), deltas)
def test_disjunctive_any_changed_field_fails(field, j, delta):
    ctx, h, ct, values, branches = CTX, H, CT, list(VALUES), list(DISJ.branches)
    if field == "c":
        branches[j] = ((branches[j][0] + delta) % L, branches[j][1])
    elif field == "v":
        branches[j] = (branches[j][0], (branches[j][1] + delta) % L)
    elif field == "context":
        ctx = _flip_ctx(ctx, delta)
    elif field == "h":
        h = _other_point(h, delta)
    elif field == "public_key":
        h = KeyPair.generate().public
    elif field == "alpha":
        ct = Ciphertext(_other_point(ct.alpha, delta), ct.beta)
    elif field == "beta":
        ct = Ciphertext(ct.alpha, _other_point(ct.beta, delta))
    else:  # one allowed value replaced by a value not in the set
        new = values[j] + 1 + delta % 1000
        while new in values:
            new += 1
        values[j] = new
    with pytest.raises(ProofError):
        verify_disjunctive(ctx, h, ct, values, DisjunctiveProof(tuple(branches)))


def test_disjunctive_reordered_values_fail():
    swapped = (VALUES[1], VALUES[0]) + VALUES[2:]
    with pytest.raises(ProofError):
        verify_disjunctive(CTX, H, CT, swapped, DISJ)


def test_disjunctive_swapped_branches_fail():
    b = list(DISJ.branches)
    b[0], b[2] = b[2], b[0]
    with pytest.raises(ProofError):
        verify_disjunctive(CTX, H, CT, VALUES, DisjunctiveProof(tuple(b)))


def test_disjunctive_value_not_in_set_raises():
    ct, r = encrypt(H, 5)
    with pytest.raises(ValueError, match="not one of the allowed"):
        prove_disjunctive(CTX, H, ct, r, 5, VALUES)


def test_disjunctive_cheating_prover_fails():
    # The prover claims branch 1 (value 1) for a ciphertext that holds 2.
    ct, r = encrypt(H, 2)
    proof = prove_disjunctive(CTX, H, ct, r, 1, VALUES)
    with pytest.raises(ProofError):
        verify_disjunctive(CTX, H, ct, VALUES, proof)
    # and for a ciphertext of an allowed value with the wrong nonce
    ct, r = encrypt(H, 1)
    with pytest.raises(ProofError):
        verify_disjunctive(CTX, H, ct, VALUES, prove_disjunctive(CTX, H, ct, r + 1, 1, VALUES))


def test_disjunctive_proof_is_bound_to_its_ciphertext():
    other, _ = encrypt(H, M_TRUE)  # same value, another nonce
    with pytest.raises(ProofError):
        verify_disjunctive(CTX, H, other, VALUES, DISJ)
    rerandomized = CT + encrypt(H, 0)[0]
    with pytest.raises(ProofError):
        verify_disjunctive(CTX, H, rerandomized, VALUES, DISJ)
    with pytest.raises(ProofError):
        verify_disjunctive(OTHER_CTX, H, CT, VALUES, DISJ)


@pytest.mark.parametrize("count", [0, 1, 4, 6, 10])
def test_disjunctive_wrong_branch_count_rejected(count):
    branches = (DISJ.branches * 2)[:count]
    with pytest.raises(ProofError, match="number of branches"):
        verify_disjunctive(CTX, H, CT, VALUES, DisjunctiveProof(tuple(branches)))
    with pytest.raises(ProofError):
        verify_disjunctive(CTX, H, CT, VALUES[:count] if count < 5 else VALUES + (7,), DISJ)


# --- strict byte decoding ---------------------------------------------------------------------


@pytest.mark.parametrize("cls", [SchnorrProof, DleqProof])
@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("bad", [L, L + 1, 2**256 - 1])
def test_single_pair_from_bytes_rejects_non_canonical(cls, which, bad):
    data = bytearray(SCHNORR.to_bytes())
    data[32 * which : 32 * which + 32] = bad.to_bytes(32, "little")
    with pytest.raises(EncodingError, match="non-canonical"):
        cls.from_bytes(bytes(data))


@pytest.mark.parametrize("cls", [SchnorrProof, DleqProof])
@pytest.mark.parametrize("n", [0, 32, 63, 65, 128])
def test_single_pair_from_bytes_rejects_wrong_length(cls, n):
    with pytest.raises(EncodingError):
        cls.from_bytes(bytes(n))


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2 * len(VALUES) - 1), st.integers(L, 2**256 - 1))
def test_disjunctive_from_bytes_rejects_non_canonical(slot, bad):
    data = bytearray(DISJ.to_bytes())
    data[32 * slot : 32 * slot + 32] = bad.to_bytes(32, "little")
    with pytest.raises(EncodingError, match="non-canonical"):
        DisjunctiveProof.from_bytes(bytes(data), len(VALUES))


def test_disjunctive_from_bytes_rejects_wrong_length():
    data = DISJ.to_bytes()
    for bad in (data[:-1], data + b"\x00", data[:-64], data + data[:64]):
        with pytest.raises(EncodingError):
            DisjunctiveProof.from_bytes(bad, len(VALUES))
    with pytest.raises(EncodingError):
        DisjunctiveProof.from_bytes(data, len(VALUES) + 1)


def test_serialized_scalars_are_little_endian():
    assert SCHNORR.to_bytes() == encode_scalar(SCHNORR.c) + encode_scalar(SCHNORR.v)
    assert dataclasses.astuple(SCHNORR) == (SCHNORR.c, SCHNORR.v)
    assert GENERATOR * SCHNORR.v == base_mul(SCHNORR.v)
