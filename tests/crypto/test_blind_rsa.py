"""RFC 9474 blind RSA signatures: published vectors, round trips and rejection of bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.crypto import blind_rsa as br
from ballot.crypto.blind_rsa import BlindSignatureError

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS_PATH = REPO_ROOT / "tests" / "vectors" / "rfc9474.json"
SHARED_VECTORS_PATH = REPO_ROOT.parent / "shared" / "vectors" / "rfc9474.json"
VECTORS = json.loads(VECTORS_PATH.read_text())


def _hex(vector: dict, key: str) -> bytes:
    return bytes.fromhex(vector[key])


def _int(vector: dict, key: str) -> int:
    return int(vector[key], 16)


def _vector_key(vector: dict) -> br.IssuerPrivateKey:
    p, q, d, e, n = (_int(vector, k) for k in ("p", "q", "d", "e", "n"))
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, n))
    return br.IssuerPrivateKey(numbers.private_key())


VECTOR_KEY = _vector_key(VECTORS[0])


@pytest.fixture(scope="module")
def sk() -> br.IssuerPrivateKey:
    return br.generate_issuer_key(3072)


@pytest.fixture(scope="module")
def other_sk() -> br.IssuerPrivateKey:
    return br.generate_issuer_key(3072)


def _sign(sk: br.IssuerPrivateKey, msg: bytes, variant: br.Variant = br.DEFAULT_VARIANT):
    pk = sk.public_key()
    prepared = br.prepare(msg, variant=variant)
    blinded, state = br.blind(pk, prepared, variant=variant)
    return prepared, br.finalize(pk, prepared, br.blind_sign(sk, blinded), state)


# --- RFC 9474 Appendix A vectors -------------------------------------------------------------

def test_vector_file_lists_the_four_variants_in_order():
    assert [v["name"] for v in VECTORS] == list(br.VARIANTS)


def test_vector_file_is_a_copy_of_the_shared_one():
    if not SHARED_VECTORS_PATH.exists():
        pytest.skip(f"{SHARED_VECTORS_PATH} not present")
    assert VECTORS_PATH.read_bytes() == SHARED_VECTORS_PATH.read_bytes()


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_rfc9474_vector_end_to_end(vector):
    variant = br.VARIANTS[vector["name"]]
    assert variant.salt_length == vector["sLen"]
    assert variant.randomized == vector["is_randomized"]
    sk = _vector_key(vector)
    pk = sk.public_key()
    assert (pk.n, pk.e, pk.modulus_bits, pk.modulus_bytes) == (_int(vector, "n"), 65537, 4096, 512)

    prepared = _hex(vector, "prepared_msg")
    assert prepared == _hex(vector, "msg_prefix") + _hex(vector, "msg")
    salt = _hex(vector, "salt")
    encoded = br.emsa_pss_encode(prepared, pk.modulus_bits - 1, variant=variant, salt=salt)
    assert encoded == _hex(vector, "encoded_msg")

    blinded, state = br.blind(pk, prepared, variant=variant, salt=salt, inv=_int(vector, "inv"))
    assert blinded == _hex(vector, "blinded_msg")
    assert state.inv == _int(vector, "inv") and state.variant == variant

    blind_sig = br.blind_sign(sk, blinded)
    assert blind_sig == _hex(vector, "blind_sig")

    sig = br.finalize(pk, prepared, blind_sig, state)
    assert sig == _hex(vector, "sig")
    assert br.verify(pk, prepared, sig, variant=variant)
    assert not br.verify(pk, _hex(vector, "msg") + b"\x00", sig, variant=variant)


def test_vector_blind_with_r_equals_blind_with_inv():
    vector = VECTORS[0]
    pk, inv, salt = VECTOR_KEY.public_key(), _int(vector, "inv"), _hex(vector, "salt")
    prepared = _hex(vector, "prepared_msg")
    by_r, _ = br.blind(pk, prepared, salt=salt, r=pow(inv, -1, pk.n))
    assert by_r == _hex(vector, "blinded_msg")


def test_salt_and_zero_salt_variants_do_not_cross_verify():
    vector = VECTORS[0]
    pk = VECTOR_KEY.public_key()
    prepared, sig = _hex(vector, "prepared_msg"), _hex(vector, "sig")
    assert br.verify(pk, prepared, sig)  # default variant is PSS-Randomized
    assert not br.verify(pk, prepared, sig, variant=br.RSABSSA_SHA384_PSSZERO_RANDOMIZED)


def test_emsa_pss_clears_the_bits_above_em_bits():
    for em_bits in (3071, 3073, 4095):
        encoded = br.emsa_pss_encode(b"m", em_bits)
        assert len(encoded) == (em_bits + 7) // 8
        assert encoded[0] >> (em_bits % 8 or 8) == 0 and encoded[-1] == 0xBC


# --- keys --------------------------------------------------------------------------------

def test_generated_key_shape(sk):
    pk = sk.public_key()
    assert (pk.modulus_bits, pk.modulus_bytes, pk.e) == (3072, 384, 65537)
    assert br.DEFAULT_VARIANT is br.RSABSSA_SHA384_PSS_RANDOMIZED


def test_generate_refuses_small_keys():
    with pytest.raises(ValueError, match="3072"):
        br.generate_issuer_key(2048)


def test_public_key_der_pem_and_fingerprint(sk):
    pk = sk.public_key()
    der = pk.to_der()
    assert br.IssuerPublicKey.from_der(der) == pk
    assert br.IssuerPublicKey.from_pem(pk.to_pem()) == pk
    assert pk.fingerprint() == hashlib.sha256(der).digest() and len(pk.fingerprint()) == 32
    assert VECTOR_KEY.public_key().fingerprint() != pk.fingerprint()


@pytest.mark.parametrize("mutate", [
    lambda der: der + b"\x00",
    lambda der: der[:-1],
    lambda der: b"",
    lambda der: b"not a key",
], ids=["trailing", "truncated", "empty", "garbage"])
def test_public_key_from_der_rejects_malformed(sk, mutate):
    with pytest.raises(BlindSignatureError, match="public key"):
        br.IssuerPublicKey.from_der(mutate(sk.public_key().to_der()))


def _der_sequence(body: bytes) -> bytes:
    length = len(body).to_bytes(2, "big")
    return b"\x30\x82" + length + body


@pytest.mark.parametrize("algorithm_identifier", [
    "300b06092a864886f70d010101",  # rsaEncryption without the NULL parameters
    "300b06092a864886f70d01010a",  # id-RSASSA-PSS
], ids=["no-null-params", "rsassa-pss-oid"])
def test_public_key_from_der_accepts_only_the_canonical_encoding(algorithm_identifier):
    """cryptography loads both of these; a second encoding would give a second fingerprint."""
    der = VECTOR_KEY.public_key().to_der()
    canonical_algid = bytes.fromhex("300d06092a864886f70d0101010500")
    assert der[4:4 + len(canonical_algid)] == canonical_algid
    other = _der_sequence(bytes.fromhex(algorithm_identifier) + der[4 + len(canonical_algid):])
    loaded = serialization.load_der_public_key(other)
    assert loaded.public_numbers().n == VECTOR_KEY.public_key().n
    with pytest.raises(BlindSignatureError, match="non-canonical"):
        br.IssuerPublicKey.from_der(other)


def test_public_key_rejects_other_algorithms_and_small_moduli():
    ec_der = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(BlindSignatureError, match="expected RSA"):
        br.IssuerPublicKey.from_der(ec_der)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    small_der = small.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(BlindSignatureError, match="at least 3072"):
        br.IssuerPublicKey.from_der(small_der)
    with pytest.raises(BlindSignatureError, match="at least 3072"):
        br.IssuerPrivateKey(small)
    with pytest.raises(BlindSignatureError, match="invalid RSA public key"):
        br.IssuerPublicKey(VECTOR_KEY.public_key().n, 65536)


def test_private_key_pem_round_trip(sk):
    pem = sk.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert br.IssuerPrivateKey.from_pem(pem).public_key() == sk.public_key()
    encrypted = sk.to_pem(password=b"correct horse")
    assert encrypted.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert br.IssuerPrivateKey.from_pem(encrypted, b"correct horse").public_key() == sk.public_key()
    for data, password in ((encrypted, b"wrong"), (encrypted, None), (b"junk", None)):
        with pytest.raises(BlindSignatureError, match="private key"):
            br.IssuerPrivateKey.from_pem(data, password)


def test_reprs_do_not_leak_secrets(sk):
    _, state = br.blind(sk.public_key(), br.prepare(b"m"))
    assert str(state.inv) not in repr(state)
    assert str(sk._crt[0]) not in repr(sk)


# --- round trip, tampering, other keys ---------------------------------------------------------

def test_round_trip_with_generated_key(sk):
    pk = sk.public_key()
    prepared, sig = _sign(sk, b"ballot token")
    assert len(prepared) == 32 + len(b"ballot token") and prepared.endswith(b"ballot token")
    assert len(sig) == pk.modulus_bytes and br.verify(pk, prepared, sig)
    # An ordinary RSASSA-PSS verifier accepts it too.
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    sk.key.public_key().verify(sig, prepared, pss, hashes.SHA384())


@pytest.mark.parametrize("variant", list(br.VARIANTS.values()), ids=list(br.VARIANTS))
def test_round_trip_every_variant(sk, variant):
    prepared, sig = _sign(sk, b"m", variant)
    assert prepared == b"m" or variant.randomized
    assert br.verify(sk.public_key(), prepared, sig, variant=variant)


def test_tampered_message_and_signature_fail(sk):
    pk = sk.public_key()
    prepared, sig = _sign(sk, b"ballot token")
    assert not br.verify(pk, prepared[:-1] + bytes([prepared[-1] ^ 1]), sig)
    assert not br.verify(pk, prepared[1:], sig)
    assert not br.verify(pk, prepared, sig[:-1] + bytes([sig[-1] ^ 1]))
    assert not br.verify(pk, prepared, sig[:-1])
    assert not br.verify(pk, prepared, b"")
    with pytest.raises(BlindSignatureError, match="384 bytes"):
        br.check_signature(pk, prepared, sig + b"\x00")
    with pytest.raises(BlindSignatureError, match="invalid signature"):
        br.check_signature(pk, prepared + b"x", sig)


def test_signature_from_another_key_fails(sk, other_sk):
    prepared, sig = _sign(other_sk, b"ballot token")
    assert br.verify(other_sk.public_key(), prepared, sig)
    assert not br.verify(sk.public_key(), prepared, sig)


def test_finalize_rejects_bad_blind_signatures(sk, other_sk):
    pk = sk.public_key()
    prepared = br.prepare(b"ballot token")
    blinded, state = br.blind(pk, prepared)
    blind_sig = br.blind_sign(sk, blinded)
    flipped = blind_sig[:-1] + bytes([blind_sig[-1] ^ 1])
    with pytest.raises(BlindSignatureError, match="does not give a valid signature"):
        br.finalize(pk, prepared, flipped, state)
    # A blind signature by another key of the same size (values below both moduli).
    n_min = min(pk.n, other_sk.public_key().n)
    while True:
        other_blinded, other_state = br.blind(pk, prepared)
        if int.from_bytes(other_blinded, "big") < n_min:
            wrong = br.blind_sign(other_sk, other_blinded)
            if int.from_bytes(wrong, "big") < n_min:
                break
    with pytest.raises(BlindSignatureError, match="does not give a valid signature"):
        br.finalize(pk, prepared, wrong, other_state)
    with pytest.raises(BlindSignatureError, match="does not give a valid signature"):
        br.finalize(pk, prepared + b"x", blind_sig, state)
    with pytest.raises(BlindSignatureError, match="384 bytes"):
        br.finalize(pk, prepared, blind_sig[1:], state)
    with pytest.raises(BlindSignatureError, match="not less than n"):
        br.finalize(pk, prepared, b"\xff" * 384, state)
    with pytest.raises(BlindSignatureError, match="different issuer key"):
        br.finalize(other_sk.public_key(), prepared, blind_sig, state)
    assert br.verify(pk, prepared, br.finalize(pk, prepared, blind_sig, state))


# --- server-side checks ------------------------------------------------------------------------

@pytest.mark.parametrize("length", [0, 383, 385, 512])
def test_blind_sign_rejects_wrong_length(sk, length):
    with pytest.raises(BlindSignatureError, match=f"must be 384 bytes, got {length}"):
        br.blind_sign(sk, b"\x01" * length)


def test_blind_sign_rejects_values_not_below_n(sk):
    n = sk.public_key().n
    for value in (n, n + 1, 2**3072 - 1):
        with pytest.raises(BlindSignatureError, match="not less than n"):
            br.blind_sign(sk, value.to_bytes(384, "big"))
    assert len(br.blind_sign(sk, (n - 1).to_bytes(384, "big"))) == 384


def test_blind_sign_rejects_non_bytes(sk):
    with pytest.raises(BlindSignatureError, match="must be bytes"):
        br.blind_sign(sk, "00" * 384)


def test_blind_sign_checks_its_result(sk):
    faulty = br.IssuerPrivateKey(sk.key)
    p, q, dp, dq, qinv = faulty._crt
    object.__setattr__(faulty, "_crt", (p, q, dp + 2, dq, qinv))  # a fault in one CRT half
    blinded, _ = br.blind(sk.public_key(), br.prepare(b"m"))
    with pytest.raises(BlindSignatureError, match="signing failure"):
        br.blind_sign(faulty, blinded)


# --- client-side checks ------------------------------------------------------------------------

def test_blind_rejects_bad_parameters():
    pk = VECTOR_KEY.public_key()
    p = VECTOR_KEY._crt[0]
    for bad in (0, pk.n, pk.n + 1, int(p)):
        with pytest.raises(BlindSignatureError, match="coprime"):
            br.blind(pk, b"m", r=bad)
        with pytest.raises(BlindSignatureError, match="coprime"):
            br.blind(pk, b"m", inv=bad)
    with pytest.raises(BlindSignatureError, match="not both"):
        br.blind(pk, b"m", r=2, inv=2)
    with pytest.raises(BlindSignatureError, match="salt must be 48 bytes"):
        br.blind(pk, b"m", salt=b"\x00" * 47)
    with pytest.raises(BlindSignatureError, match="salt must be 0 bytes"):
        br.blind(pk, b"m", salt=b"\x00", variant=br.RSABSSA_SHA384_PSSZERO_RANDOMIZED)
    with pytest.raises(BlindSignatureError, match="must be bytes"):
        br.blind(pk, "m")
    with pytest.raises(BlindSignatureError, match="must be bytes"):
        br.prepare("m")


def test_encoding_error_when_modulus_too_small_for_salt():
    with pytest.raises(BlindSignatureError, match="encoding error"):
        br.emsa_pss_encode(b"m", 8 * (48 + 48 + 1))


def test_prepare():
    a, b = br.prepare(b"msg"), br.prepare(b"msg")
    assert len(a) == 35 and a[32:] == b"msg" and a != b
    assert br.prepare(b"msg", variant=br.RSABSSA_SHA384_PSS_DETERMINISTIC) == b"msg"


# --- unlinkability ---------------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(msg=st.binary(max_size=256))
def test_two_blindings_differ_and_both_finalize(sk, msg):
    pk = sk.public_key()
    prepared = br.prepare(msg)
    (b1, s1), (b2, s2) = br.blind(pk, prepared), br.blind(pk, prepared)
    assert b1 != b2 and s1.inv != s2.inv
    sig1 = br.finalize(pk, prepared, br.blind_sign(sk, b1), s1)
    sig2 = br.finalize(pk, prepared, br.blind_sign(sk, b2), s2)
    assert br.verify(pk, prepared, sig1) and br.verify(pk, prepared, sig2)
    assert sig1 != sig2  # random salts


@settings(max_examples=10, deadline=None)
@given(msg=st.binary(max_size=64))
def test_signer_view_is_independent_of_the_deterministic_signature(sk, msg):
    """With no randomness in the signature, different blindings still give the same signature."""
    variant = br.RSABSSA_SHA384_PSSZERO_DETERMINISTIC
    pk = sk.public_key()
    (b1, s1), (b2, s2) = (br.blind(pk, msg, variant=variant) for _ in range(2))
    assert b1 != b2
    sig1 = br.finalize(pk, msg, br.blind_sign(sk, b1), s1)
    assert sig1 == br.finalize(pk, msg, br.blind_sign(sk, b2), s2)
    assert br.verify(pk, msg, sig1, variant=variant)
