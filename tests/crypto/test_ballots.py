"""Encrypted ballots with real RFC 9474 tokens: round trip, tally by digits, every tampering."""

from __future__ import annotations

import copy
import dataclasses
import random
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from ballot.crypto import blind_rsa as br
from ballot.crypto.ballots import (
    BALLOT_VERSION,
    AuditRecord,
    BallotError,
    BallotShape,
    EncryptedBallot,
    ballot_from_json,
    check_audit,
    encrypt_ballot,
    tracking_code,
    unit_context,
    verify_ballot,
)
from ballot.crypto.dlog import discrete_log
from ballot.crypto.elgamal import Ciphertext, KeyPair, add_all, decrypt_to_point, encrypt
from ballot.crypto.encoding import b64decode, b64encode, canonical_json, parse_json, sha256
from ballot.crypto.group import L
from ballot.crypto.proofs import verify_disjunctive
from ballot.crypto.token import Token, token_message

VOTERS = 5
SHAPE = BallotShape(num_units=3, num_levels=4, abstain_allowed=True, radix=VOTERS + 1)
STRICT = BallotShape(num_units=3, num_levels=4, abstain_allowed=False, radix=VOTERS + 1)
BASE = sha256("test/base-hash", b"election A")
OTHER_BASE = sha256("test/base-hash", b"election B")
KEY = KeyPair.generate()

ORDER_8 = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")


@pytest.fixture(scope="module")
def issuer() -> br.IssuerPrivateKey:
    return br.generate_issuer_key(3072)


@pytest.fixture(scope="module")
def other_issuer() -> br.IssuerPrivateKey:
    return br.generate_issuer_key(3072)


def issue_token(issuer: br.IssuerPrivateKey, base_hash: bytes = BASE,
                voter: SigningKey | None = None) -> tuple[Token, SigningKey]:
    """The real RFC 9474 flow: the voter blinds, the issuer signs blind, the voter finalizes."""
    voter = voter or SigningKey.generate()
    pk = issuer.public_key()
    prepared = br.prepare(token_message(base_hash, bytes(voter.verify_key)))
    blinded, state = br.blind(pk, prepared)
    sig = br.finalize(pk, prepared, br.blind_sign(issuer, blinded), state)
    return Token(prepared, sig), voter


@dataclass
class Cast:
    ballot: EncryptedBallot
    nonces: tuple[int, ...]
    voter: SigningKey
    choices: tuple[int | None, ...]


def cast(issuer, choices, shape=SHAPE, base_hash=BASE) -> Cast:
    token, voter = issue_token(issuer, base_hash)
    ballot, nonces = encrypt_ballot(shape, base_hash, KEY.public, token, voter, choices)
    return Cast(ballot, nonces, voter, tuple(choices))


def resign(ballot: EncryptedBallot, voter: SigningKey, **changes) -> EncryptedBallot:
    """The voter (who holds the token key) re-signs a modified ballot."""
    unsigned = dataclasses.replace(ballot, signature=b"", **changes)
    return dataclasses.replace(unsigned, signature=voter.sign(unsigned.ballot_hash).signature)


def verify(ballot, issuer, shape=SHAPE, base_hash=BASE, public_key=None) -> None:
    verify_ballot(ballot, shape, base_hash, public_key or KEY.public, issuer.public_key())


def through_json(ballot: EncryptedBallot, shape=SHAPE) -> EncryptedBallot:
    text = canonical_json(ballot.to_json()).decode("utf-8")
    return ballot_from_json(parse_json(text), shape)


@pytest.fixture(scope="module")
def good(issuer) -> Cast:
    return cast(issuer, (0, 3, None))


@pytest.fixture(scope="module")
def other_voter(issuer) -> Cast:
    return cast(issuer, (1, 1, 2))


def _unit_b64(ct: Ciphertext, proof) -> str:
    return b64encode(ct.to_bytes() + proof.to_bytes())


# --- round trip and tally ---------------------------------------------------------------------


def test_shape_values():
    assert SHAPE.values == (0, 1, 6, 36, 216)
    assert STRICT.values == (1, 6, 36, 216)
    assert SHAPE.unit_bytes == 64 + 5 * 64
    assert SHAPE.value_of(None) == 0 and SHAPE.value_of(2) == 36
    for bad in (-1, 4):
        with pytest.raises(ValueError):
            SHAPE.value_of(bad)
    with pytest.raises(ValueError, match="abstain"):
        STRICT.value_of(None)
    for args in ((0, 4, True, 6), (1, 1, True, 6), (1, 4, True, 1), (1, 12, True, 101)):
        with pytest.raises(ValueError):
            BallotShape(*args)


def test_round_trip_through_json_text(good, issuer):
    b = good.ballot
    verify(b, issuer)
    text = canonical_json(b.to_json()).decode("utf-8")
    assert set(parse_json(text)) == {"version", "election", "token", "units", "signature"}
    decoded = ballot_from_json(parse_json(text), SHAPE)
    assert decoded == b
    assert decoded.ballot_hash == b.ballot_hash
    assert canonical_json(decoded.to_json()).decode("utf-8") == text
    verify(decoded, issuer)
    code = b.tracking_code
    assert code == tracking_code(b.ballot_hash) and len(code) == 19 and code.count("-") == 3
    assert len(good.nonces) == SHAPE.num_units and all(0 < r < L for r in good.nonces)


def test_homomorphic_tally_digits_are_the_counts(issuer):
    rng = random.Random(7)
    options = [None, 0, 1, 2, 3]
    casts = [cast(issuer, [rng.choice(options) for _ in range(SHAPE.num_units)])
             for _ in range(VOTERS)]
    for c in casts:
        verify(through_json(c.ballot), issuer)
    bound = VOTERS * SHAPE.radix ** (SHAPE.num_levels - 1)
    for u in range(SHAPE.num_units):
        total = add_all(c.ballot.units[u][0] for c in casts)
        value = discrete_log(decrypt_to_point(KEY.secret, total), bound)
        expected_counts = [sum(1 for c in casts if c.choices[u] == level)
                           for level in range(SHAPE.num_levels)]
        assert value == sum(n * SHAPE.radix**i for i, n in enumerate(expected_counts))
        digits = []
        for _ in range(SHAPE.num_levels):
            value, d = divmod(value, SHAPE.radix)
            digits.append(d)
        assert value == 0
        assert digits == expected_counts


def test_all_voters_same_level_does_not_carry(issuer):
    # VOTERS = radix - 1 votes at one level is the largest digit: no carry into the next.
    casts = [cast(issuer, (3, 0, None)) for _ in range(VOTERS)]
    r = SHAPE.radix
    for u, expected in enumerate((VOTERS * r**3, VOTERS, 0)):
        total = add_all(c.ballot.units[u][0] for c in casts)
        assert discrete_log(decrypt_to_point(KEY.secret, total), VOTERS * r**3) == expected


def test_encrypt_ballot_argument_checks(issuer, good):
    token, voter = issue_token(issuer)
    with pytest.raises(ValueError, match="units"):
        encrypt_ballot(SHAPE, BASE, KEY.public, token, voter, (0, 1))
    with pytest.raises(ValueError, match="voter key"):
        encrypt_ballot(SHAPE, BASE, KEY.public, token, SigningKey.generate(), (0, 1, 2))
    with pytest.raises(ValueError, match="out of range"):
        encrypt_ballot(SHAPE, BASE, KEY.public, token, voter, (0, 1, 4))


def test_abstain_refused_when_not_allowed(issuer, good):
    token, voter = issue_token(issuer)
    with pytest.raises(ValueError, match="abstain"):
        encrypt_ballot(STRICT, BASE, KEY.public, token, voter, (0, None, 1))
    ok, _ = encrypt_ballot(STRICT, BASE, KEY.public, token, voter, (0, 3, 1))
    verify(through_json(ok, STRICT), issuer, shape=STRICT)
    # A ballot made where abstaining is allowed does not pass where it is not.
    with pytest.raises(BallotError):
        ballot_from_json(good.ballot.to_json(), STRICT)
    # Nor does a unit holding g^0 proven against the no-abstain value set, even re-signed:
    # graft the abstain ciphertext with a 4-branch proof of something else.
    abstain_ct = good.ballot.units[2][0]
    units = list(ok.units)
    units[1] = (abstain_ct, ok.units[1][1])
    with pytest.raises(BallotError, match="unit 2"):
        verify(resign(ok, voter, units=tuple(units)), issuer, shape=STRICT)


def test_every_accepted_shape_can_be_encrypted(issuer):
    shape = BallotShape(num_units=1, num_levels=4, abstain_allowed=True, radix=2000)
    token, voter = issue_token(issuer)
    ballot, _ = encrypt_ballot(shape, BASE, KEY.public, token, voter, (3,))
    verify(ballot, issuer, shape=shape)


# --- tampering: every change fails -------------------------------------------------------------


def test_replaced_ciphertext_fails(good, issuer):
    ct, proof = good.ballot.units[0]
    other_ct, _ = encrypt(KEY.public, SHAPE.value_of(0))  # same choice, valid, new nonce
    units = (( other_ct, proof),) + good.ballot.units[1:]
    # without re-signing: the voter's signature no longer matches
    data = good.ballot.to_json()
    data["units"][0] = _unit_b64(other_ct, proof)
    tampered = ballot_from_json(data, SHAPE)
    with pytest.raises(BallotError, match="signature"):
        verify(tampered, issuer)
    # re-signed by the voter: the proof no longer matches its ciphertext
    with pytest.raises(BallotError, match="unit 1"):
        verify(through_json(resign(good.ballot, good.voter, units=units)), issuer)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, SHAPE.num_units - 1), st.integers(0, SHAPE.unit_bytes - 1),
       st.integers(0, 7))
def test_any_flipped_unit_bit_fails(good, issuer, unit, pos, bit):
    data = copy.deepcopy(good.ballot.to_json())
    raw = bytearray(b64decode(data["units"][unit]))
    raw[pos] ^= 1 << bit
    data["units"][unit] = b64encode(bytes(raw))
    try:
        tampered = ballot_from_json(data, SHAPE)
    except BallotError:
        return  # not a valid point or not a canonical scalar: refused at decoding
    with pytest.raises(BallotError, match="signature"):
        verify(tampered, issuer)
    with pytest.raises(BallotError, match=f"unit {unit + 1}"):
        verify(resign(tampered, good.voter), issuer)


def test_swapped_units_fail(good, issuer):
    u = good.ballot.units
    swapped = (u[1], u[0], u[2])
    data = good.ballot.to_json()
    data["units"][0], data["units"][1] = data["units"][1], data["units"][0]
    with pytest.raises(BallotError, match="signature"):
        verify(ballot_from_json(data, SHAPE), issuer)
    with pytest.raises(BallotError, match="unit 1"):
        verify(through_json(resign(good.ballot, good.voter, units=swapped)), issuer)


def test_unit_copied_from_another_voter_fails(good, other_voter, issuer):
    # A voter copies another voter's encrypted choice (with its valid proof) into their ballot.
    units = (other_voter.ballot.units[0],) + good.ballot.units[1:]
    copied = resign(good.ballot, good.voter, units=units)
    with pytest.raises(BallotError, match="unit 1"):
        verify(through_json(copied), issuer)
    # The copied proof really is valid in its own ballot's context.
    ct, proof = other_voter.ballot.units[0]
    verify_disjunctive(unit_context(BASE, bytes(other_voter.voter.verify_key), 0), KEY.public,
                       ct, SHAPE.values, proof)


def test_whole_units_of_another_ballot_fail(good, other_voter, issuer):
    stolen = resign(good.ballot, good.voter, units=other_voter.ballot.units)
    with pytest.raises(BallotError, match="unit 1"):
        verify(stolen, issuer)


@pytest.mark.parametrize("pos", [0, 31, 32, 63])
def test_changed_signature_fails(good, issuer, pos):
    data = good.ballot.to_json()
    sig = bytearray(b64decode(data["signature"]))
    sig[pos] ^= 0x04
    data["signature"] = b64encode(bytes(sig))
    with pytest.raises(BallotError, match="signature"):
        verify(ballot_from_json(data, SHAPE), issuer)


def test_signature_from_another_ballot_fails(good, other_voter, issuer):
    data = good.ballot.to_json()
    data["signature"] = other_voter.ballot.to_json()["signature"]
    with pytest.raises(BallotError, match="signature"):
        verify(ballot_from_json(data, SHAPE), issuer)


def test_token_from_another_election_fails(issuer):
    # A real token for election B used to cast a ballot in election A.
    token_b, voter = issue_token(issuer, OTHER_BASE)
    ballot, _ = encrypt_ballot(SHAPE, BASE, KEY.public, token_b, voter, (0, 1, 2))
    with pytest.raises(BallotError, match="another election"):
        verify(through_json(ballot), issuer)
    # A whole ballot of election B presented to election A.
    b_ballot = cast(issuer, (0, 1, 2), base_hash=OTHER_BASE).ballot
    verify(b_ballot, issuer, base_hash=OTHER_BASE)
    with pytest.raises(BallotError, match="another election"):
        verify(through_json(b_ballot), issuer)


def test_token_from_another_issuer_fails(other_issuer, issuer):
    forged = cast(other_issuer, (0, 1, 2))
    verify(forged.ballot, other_issuer)
    with pytest.raises(BallotError, match="issuer"):
        verify(through_json(forged.ballot), issuer)


def test_token_with_changed_message_or_signature_fails(good, issuer):
    tok = good.ballot.token
    msg = bytearray(tok.message)
    msg[0] ^= 1  # in the random prefix
    bad_msg = resign(good.ballot, good.voter, token=Token(bytes(msg), tok.signature))
    with pytest.raises(BallotError, match="issuer"):
        verify(through_json(bad_msg), issuer)
    sig = bytearray(tok.signature)
    sig[-1] ^= 1
    bad_sig = resign(good.ballot, good.voter, token=Token(tok.message, bytes(sig)))
    with pytest.raises(BallotError, match="issuer"):
        verify(through_json(bad_sig), issuer)
    short = resign(good.ballot, good.voter, token=Token(tok.message[:-1], tok.signature))
    with pytest.raises(BallotError):
        verify(through_json(short), issuer)


def test_signed_by_another_key_than_the_tokens(good, issuer):
    intruder = SigningKey.generate()
    with pytest.raises(BallotError, match="token's key"):
        verify(through_json(resign(good.ballot, intruder)), issuer)
    # Even with proofs made for the intruder's key: the context uses the token's key.
    token, voter = issue_token(issuer)
    honest, _ = encrypt_ballot(SHAPE, BASE, KEY.public, token, voter, (0, 1, 2))
    token2, voter2 = issue_token(issuer)
    mixed = resign(dataclasses.replace(honest, token=token2), voter2)
    with pytest.raises(BallotError, match="unit 1"):
        verify(mixed, issuer)


def test_verify_under_another_public_key_fails(good, issuer):
    with pytest.raises(BallotError, match="unit 1"):
        verify(good.ballot, issuer, public_key=KeyPair.generate().public)


@pytest.mark.parametrize("count", [0, 2, 4])
def test_wrong_number_of_units_in_json(good, issuer, count):
    data = good.ballot.to_json()
    data["units"] = (data["units"] * 2)[:count]
    with pytest.raises(BallotError, match="units"):
        ballot_from_json(data, SHAPE)


@pytest.mark.parametrize("change", ["missing", "extra"])
def test_wrong_number_of_units_fails_verify_ballot(good, issuer, change):
    token, voter = issue_token(issuer)
    if change == "missing":
        ballot, _ = encrypt_ballot(
            dataclasses.replace(SHAPE, num_units=2), BASE, KEY.public, token, voter, (0, 1))
    else:
        ballot, _ = encrypt_ballot(
            dataclasses.replace(SHAPE, num_units=4), BASE, KEY.public, token, voter, (0, 1, 2, 3))
    with pytest.raises(BallotError):
        verify(ballot, issuer)


def test_decoding_errors_name_the_right_field(good):
    data = good.ballot.to_json()
    data["units"] = data["units"][:2]
    with pytest.raises(BallotError, match="^units"):
        ballot_from_json(data, SHAPE)


@pytest.mark.parametrize("mutate", [
    lambda d: d.pop("signature"),
    lambda d: d.pop("units"),
    lambda d: d.pop("version"),
    lambda d: d.__setitem__("extra", 1),
    lambda d: d.__setitem__("Signature", d["signature"]),
    lambda d: d["token"].pop("signature"),
    lambda d: d["token"].__setitem__("id", "AA"),
    lambda d: d.__setitem__("token", [d["token"]["message"], d["token"]["signature"]]),
    lambda d: d.__setitem__("units", {"0": d["units"][0]}),
    lambda d: d.__setitem__("version", "ballot/v2/ballot"),
    lambda d: d.__setitem__("election", d["election"].upper()),
    lambda d: d.__setitem__("election", d["election"][:-2]),
    lambda d: d.__setitem__("election", " " + d["election"][1:]),
    lambda d: d.__setitem__("election", 5),
    lambda d: d.__setitem__("units", [5, *d["units"][1:]]),
    lambda d: d.__setitem__("signature", None),
], ids=["no-signature", "no-units", "no-version", "extra-key", "case-key", "no-token-sig",
        "extra-token-key", "token-list", "units-object", "version", "election-upper",
        "election-short", "election-space", "election-int", "unit-int", "signature-null"])
def test_malformed_json_rejected(good, mutate):
    data = copy.deepcopy(good.ballot.to_json())
    mutate(data)
    with pytest.raises(BallotError):
        ballot_from_json(data, SHAPE)


def test_non_object_rejected():
    for data in ([], "ballot", None, 5):
        with pytest.raises(BallotError):
            ballot_from_json(data, SHAPE)


def _bad_b64_variants(text: str) -> list[str]:
    raw = b64decode(text)
    std = __import__("base64").b64encode(raw).decode()
    out = [text + "=" * (-len(text) % 4 or 4), text[:-1] + "!", text + "A"]
    if "+" in std or "/" in std:
        out.append(std.rstrip("="))  # standard alphabet instead of URL-safe
    # non-canonical trailing bits: change the last character to a neighbour decoding the same
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if len(text) % 4:
        i = last.index(text[-1])
        out.append(text[:-1] + last[i ^ 1])
    return out


@pytest.mark.parametrize("field", ["unit", "signature", "token.message", "token.signature"])
def test_bad_base64_rejected(good, field):
    base = good.ballot.to_json()
    get = {
        "unit": lambda d: d["units"][1],
        "signature": lambda d: d["signature"],
        "token.message": lambda d: d["token"]["message"],
        "token.signature": lambda d: d["token"]["signature"],
    }[field]

    def put(d, value):
        if field == "unit":
            d["units"][1] = value
        elif field == "signature":
            d["signature"] = value
        else:
            d["token"][field.split(".")[1]] = value

    for variant in _bad_b64_variants(get(base)):
        data = copy.deepcopy(base)
        put(data, variant)
        with pytest.raises(BallotError):
            ballot_from_json(data, SHAPE)


def test_wrong_lengths_rejected(good):
    for field, value in (("signature", bytes(63)), ("signature", bytes(65))):
        data = good.ballot.to_json()
        data[field] = b64encode(value)
        with pytest.raises(BallotError, match="64 bytes"):
            ballot_from_json(data, SHAPE)
    raw = b64decode(good.ballot.to_json()["units"][0])
    for bad in (raw[:-1], raw + b"\x00", raw[:-64]):
        data = good.ballot.to_json()
        data["units"][0] = b64encode(bad)
        with pytest.raises(BallotError, match="units\\[0\\]"):
            ballot_from_json(data, SHAPE)


@pytest.mark.parametrize("where", ["alpha", "beta"])
@pytest.mark.parametrize("point", ["identity", "order8", "y>=p", "mixed", "off-curve"])
def test_invalid_point_rejected(good, where, point):
    from nacl import bindings as sodium

    raw = bytearray(b64decode(good.ballot.to_json()["units"][0]))
    off = 0 if where == "alpha" else 32
    bad = {
        "identity": bytes([1]) + bytes(31),
        "order8": ORDER_8,
        "y>=p": b"\xee" + b"\xff" * 30 + b"\x7f",
        "mixed": sodium.crypto_core_ed25519_add(bytes(raw[off:off + 32]), ORDER_8),
        "off-curve": (2).to_bytes(32, "little"),
    }[point]
    raw[off:off + 32] = bad
    data = good.ballot.to_json()
    data["units"][0] = b64encode(bytes(raw))
    with pytest.raises(BallotError, match=f"units\\[0\\].ciphertext.{where}"):
        ballot_from_json(data, SHAPE)


@pytest.mark.parametrize("branch", [0, 4])
@pytest.mark.parametrize("half", ["c", "v"])
def test_non_canonical_proof_scalar_rejected(good, branch, half):
    raw = bytearray(b64decode(good.ballot.to_json()["units"][2]))
    off = 64 + 64 * branch + (0 if half == "c" else 32)
    k = int.from_bytes(raw[off:off + 32], "little") + L
    if k >= 2**256:
        pytest.skip("scalar too large to have a non-canonical twin")
    raw[off:off + 32] = k.to_bytes(32, "little")
    data = good.ballot.to_json()
    data["units"][2] = b64encode(bytes(raw))
    with pytest.raises(BallotError, match="non-canonical"):
        ballot_from_json(data, SHAPE)


def test_version_constant():
    assert BALLOT_VERSION == "ballot/v1/ballot"


# --- Benaloh audit ----------------------------------------------------------------------------


def test_check_audit_accepts_the_truth(good):
    check_audit(good.ballot, SHAPE, KEY.public, AuditRecord(good.choices, good.nonces))
    check_audit(through_json(good.ballot), SHAPE, KEY.public,
                AuditRecord(good.choices, good.nonces))


@pytest.mark.parametrize("unit, choice", [(0, 1), (1, 2), (2, 0), (0, None), (1, None)])
def test_check_audit_rejects_a_changed_choice(good, unit, choice):
    choices = list(good.choices)
    assert choices[unit] != choice
    choices[unit] = choice
    with pytest.raises(BallotError, match=f"unit {unit + 1}"):
        check_audit(good.ballot, SHAPE, KEY.public, AuditRecord(tuple(choices), good.nonces))


def test_check_audit_rejects_changed_nonces_and_lengths(good):
    nonces = list(good.nonces)
    nonces[1] = (nonces[1] + 1) % L
    with pytest.raises(BallotError, match="unit 2"):
        check_audit(good.ballot, SHAPE, KEY.public, AuditRecord(good.choices, tuple(nonces)))
    swapped = (good.nonces[1], good.nonces[0], good.nonces[2])
    with pytest.raises(BallotError):
        check_audit(good.ballot, SHAPE, KEY.public, AuditRecord(good.choices, swapped))
    for bad in (-1, L, L + good.nonces[0]):
        with pytest.raises(BallotError, match="nonce"):
            check_audit(good.ballot, SHAPE, KEY.public,
                        AuditRecord(good.choices, (bad,) + good.nonces[1:]))
    with pytest.raises(BallotError, match="every unit"):
        check_audit(good.ballot, SHAPE, KEY.public, AuditRecord(good.choices[:2], good.nonces))
    with pytest.raises(BallotError, match="every unit"):
        check_audit(good.ballot, SHAPE, KEY.public, AuditRecord(good.choices, good.nonces[:2]))
    with pytest.raises(BallotError):
        check_audit(good.ballot, SHAPE, KeyPair.generate().public,
                    AuditRecord(good.choices, good.nonces))


@pytest.mark.parametrize("choice", [4, -1])
def test_check_audit_out_of_range_choice_is_a_ballot_error(good, choice):
    choices = (choice,) + good.choices[1:]
    with pytest.raises(BallotError):
        check_audit(good.ballot, SHAPE, KEY.public, AuditRecord(choices, good.nonces))
