"""Ballot B of a second round: "at most K agree" per group, proven in every ballot
(docs/protocol.md §8.5): round trip, the tally, the shape's checks, every forgery refused."""

from __future__ import annotations

import dataclasses

import pytest
from nacl.signing import SigningKey

from ballot.crypto import blind_rsa as br
from ballot.crypto.ballots import (
    BallotError,
    BallotShape,
    EncryptedBallot,
    ballot_from_json,
    encrypt_ballot,
    limit_context,
    unit_context,
    verify_ballot,
)
from ballot.crypto.dlog import discrete_log
from ballot.crypto.elgamal import KeyPair, add_all, decrypt_to_point, encrypt
from ballot.crypto.encoding import b64decode, b64encode, sha256
from ballot.crypto.group import L, base_mul, random_scalar
from ballot.crypto.proofs import DisjunctiveProof, _disjunctive_challenge, verify_disjunctive
from ballot.crypto.token import Token, token_message

VOTERS = 6
R = VOTERS + 1
# Two groups: units 0..3 with at most 2 agree, units 4..5 with at most 1.
SHAPE = BallotShape(num_units=6, num_levels=2, abstain_allowed=True, radix=R,
                    limits=(((0, 1, 2, 3), 2), ((4, 5), 1)))
PLAIN = BallotShape(num_units=6, num_levels=2, abstain_allowed=True, radix=R)
BASE = sha256("test/base-hash", b"second round")
KEY = KeyPair.generate()


@pytest.fixture(scope="module")
def issuer() -> br.IssuerPrivateKey:
    return br.generate_issuer_key(3072)


def token_for(issuer) -> tuple[Token, SigningKey]:
    voter = SigningKey.generate()
    pk = issuer.public_key()
    prepared = br.prepare(token_message(BASE, bytes(voter.verify_key)))
    blinded, state = br.blind(pk, prepared)
    return Token(prepared, br.finalize(pk, prepared, br.blind_sign(issuer, blinded), state)), voter


def make(issuer, choices, shape=SHAPE) -> tuple[EncryptedBallot, SigningKey]:
    token, voter = token_for(issuer)
    ballot, _ = encrypt_ballot(shape, BASE, KEY.public, token, voter, choices)
    return ballot, voter


def check(ballot, issuer, shape=SHAPE) -> None:
    verify_ballot(ballot, shape, BASE, KEY.public, issuer.public_key())


def resign(ballot: EncryptedBallot, voter: SigningKey, **changes) -> EncryptedBallot:
    unsigned = dataclasses.replace(ballot, signature=b"", **changes)
    return dataclasses.replace(unsigned, signature=voter.sign(unsigned.ballot_hash).signature)


def test_allowed_values_of_a_group():
    # a agree (≤ K = 1) and d disagree with a + d ≤ 2, as a + d·R.
    assert SHAPE.limit_values(1) == (0, 1, R, R + 1, 2 * R)
    assert len(SHAPE.limit_values(0)) == 3 * 5 - 3  # Σ_{a=0..2} (4 − a + 1)
    assert SHAPE.limit_bytes(0) == 64 * 12
    assert limit_context(BASE, b"k" * 32, 0) != unit_context(BASE, b"k" * 32, 0)


@pytest.mark.parametrize("choices", [
    [0, 0, 1, None, 0, 1],          # exactly K agree in both groups
    [None] * 6,                     # everything blank
    [1, 1, 1, 1, 1, 1],             # everything disagree
    [0, None, None, 1, None, 0],
])
def test_round_trip_and_tally(issuer, choices):
    ballot, _ = make(issuer, choices)
    data = ballot.to_json()
    assert set(data) == {"version", "election", "token", "units", "limits", "signature"}
    assert len(data["limits"]) == 2
    again = ballot_from_json(data, SHAPE)
    assert again == ballot
    check(again, issuer)
    # The homomorphic sum of a group still decrypts to a + d·R.
    total = add_all(ballot.units[i][0] for i in (0, 1, 2, 3))
    point = decrypt_to_point(KEY.secret, total)
    agree = sum(1 for c in choices[:4] if c == 0)
    disagree = sum(1 for c in choices[:4] if c == 1)
    assert discrete_log(point, 2 * R * R) == agree + disagree * R


def test_more_than_k_agree_cannot_be_proven(issuer):
    token, voter = token_for(issuer)
    with pytest.raises(ValueError, match="group 1: 3 agree, at most 2"):
        encrypt_ballot(SHAPE, BASE, KEY.public, token, voter, [0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="group 2: 2 agree, at most 1"):
        encrypt_ballot(SHAPE, BASE, KEY.public, token, voter, [1, 1, 1, 1, 0, 0])


def forge_limit_proof(ballot: EncryptedBallot, shape: BallotShape, j: int, voter_key: bytes):
    """A cheater's proof for a sum outside the allowed set: every branch simulated, the
    challenges forced to add up. It is well-formed, and it does not verify."""
    indices, _ = shape.limits[j]
    ct = add_all(ballot.units[i][0] for i in indices)
    values = shape.limit_values(j)
    branches, commitments = [], []
    for mj in values:
        c, v = random_scalar(), random_scalar()
        branches.append((c, v))
        commitments += [base_mul(v) - ct.alpha * c, KEY.public * v - (ct.beta - base_mul(mj)) * c]
    total = _disjunctive_challenge(limit_context(BASE, voter_key, j), KEY.public, ct, values,
                                   commitments)
    c0, v0 = branches[0]
    branches[0] = ((c0 + total - sum(c for c, _ in branches)) % L, v0)  # sums match; a_0 no longer
    return DisjunctiveProof(tuple(branches))


def test_a_ballot_with_k_plus_one_agree_is_refused(issuer):
    """A dishonest phone encrypts three agrees in group 1 (unit proofs are honest) and forges
    the group's proof: verification names the group."""
    ballot, voter = make(issuer, [0, 0, 1, 1, 1, 1])
    vk = bytes(voter.verify_key)
    r = random_scalar()
    ct, _ = encrypt(KEY.public, 1, r)  # unit 2 now "agree": 3 agree in group 1
    from ballot.crypto.proofs import prove_disjunctive

    proof = prove_disjunctive(unit_context(BASE, vk, 2), KEY.public, ct, r, 1, SHAPE.values)
    units = list(ballot.units)
    units[2] = (ct, proof)
    cheat = dataclasses.replace(ballot, units=tuple(units))
    forged = forge_limit_proof(cheat, SHAPE, 0, vk)
    cheat = resign(cheat, voter, limits=(forged, ballot.limits[1]))
    with pytest.raises(BallotError, match=r"group 1: more than 2 agree, or the proof fails"):
        check(cheat, issuer)
    # Keeping the old, honest limit proof does not help either: it speaks of another sum.
    stale = resign(dataclasses.replace(ballot, units=tuple(units)), voter)
    with pytest.raises(BallotError, match=r"group 1: more than 2 agree"):
        check(stale, issuer)


def test_altered_or_swapped_limit_proofs_are_refused(issuer):
    ballot, voter = make(issuer, [0, 1, None, 1, 0, 1])
    (c, v), *rest = ballot.limits[1].branches
    altered = DisjunctiveProof((((c + 1) % L, v), *rest))
    with pytest.raises(BallotError, match="signature"):  # signed: a change breaks it
        check(dataclasses.replace(ballot, limits=(ballot.limits[0], altered)), issuer)
    with pytest.raises(BallotError, match=r"group 2: more than 1 agree, or the proof fails"):
        check(resign(ballot, voter, limits=(ballot.limits[0], altered)), issuer)
    # Another ballot's proof (another voter key in the context) does not verify here.
    other, _ = make(issuer, [0, 1, None, 1, 0, 1])
    with pytest.raises(BallotError, match=r"group 1: more than 2 agree"):
        check(resign(ballot, voter, limits=(other.limits[0], ballot.limits[1])), issuer)
    # The unit proofs still hold: only the group proof fails.
    for u, (ct, proof) in enumerate(ballot.units):
        verify_disjunctive(unit_context(BASE, bytes(voter.verify_key), u), KEY.public, ct,
                           SHAPE.values, proof)


def test_limits_key_is_required_exactly_when_the_shape_has_limits(issuer):
    ballot, _ = make(issuer, [0, 1, None, 1, 0, 1])
    data = ballot.to_json()
    without = {k: v for k, v in data.items() if k != "limits"}
    with pytest.raises(BallotError, match=r"missing \['limits'\]"):
        ballot_from_json(without, SHAPE)
    with pytest.raises(BallotError, match=r"unexpected \['limits'\]"):
        ballot_from_json(data, PLAIN)
    plain, _ = make(issuer, [0, 1, None, 1, 0, 1], PLAIN)
    assert "limits" not in plain.to_json()
    with pytest.raises(BallotError, match=r"unexpected \['limits'\]"):
        ballot_from_json({**plain.to_json(), "limits": []}, PLAIN)
    # Wrong count, wrong length, not a list, non-canonical scalars.
    with pytest.raises(BallotError, match="limits: expected a list of 2 entries"):
        ballot_from_json({**data, "limits": data["limits"][:1]}, SHAPE)
    with pytest.raises(BallotError, match="limits: expected a list of 2 entries"):
        ballot_from_json({**data, "limits": "x"}, SHAPE)
    short = b64encode(b64decode(data["limits"][0])[:-64])
    with pytest.raises(BallotError, match=r"limits\[0\]"):
        ballot_from_json({**data, "limits": [short, data["limits"][1]]}, SHAPE)
    big = bytearray(b64decode(data["limits"][1]))
    big[:32] = (L + 1).to_bytes(32, "little")
    with pytest.raises(BallotError, match=r"limits\[1\]"):
        ballot_from_json({**data, "limits": [data["limits"][0], b64encode(bytes(big))]}, SHAPE)
    # A ballot object without limit proofs, against a shape with limits (and the reverse).
    with pytest.raises(BallotError, match="0 limit proofs, the election 2"):
        check(dataclasses.replace(ballot, limits=None), issuer)
    with pytest.raises(BallotError, match="2 limit proofs, the election 0"):
        check(ballot, issuer, PLAIN)


def test_a_shape_without_limits_makes_exactly_the_old_bytes(issuer):
    """No ``limits`` key and the same body for a first-round election: nothing changes."""
    token, voter = token_for(issuer)
    seq = iter(range(1, 10_000))
    rng = lambda: next(seq)  # noqa: E731
    ballot, _ = encrypt_ballot(PLAIN, BASE, KEY.public, token, voter, [0, 1, None, 1, 0, 1],
                               rng=rng)
    assert ballot.limits is None
    assert list(ballot.body_json()) == ["version", "election", "token", "units"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_levels=4, limits=(((0, 1), 1),)), "exactly two levels"),
    (dict(radix=3, limits=(((0, 1, 2), 1),)), "radix 3 must exceed the group size 3"),
    (dict(limits=(((0, 9), 1),)), "out of range"),
    (dict(limits=(((0, 1), 1), ((1, 2), 1))), "in two groups"),
    (dict(limits=(((1, 0), 1),)), "increasing"),
    (dict(limits=(((), 1),)), "at least one unit"),
    (dict(limits=(((0,), -1),)), "K must be an integer"),
    (dict(limits=(((0,), True),)), "K must be an integer"),
])
def test_shape_checks(kwargs, message):
    base = dict(num_units=4, num_levels=2, abstain_allowed=True, radix=7)
    with pytest.raises(ValueError, match=message):
        BallotShape(**{**base, **kwargs})
