"""Encrypted ballots: one ciphertext per unit, its value proven to be one of the choices.

Encoding (docs/protocol.md, "Ballot encoding"): with R = (eligible voters + 1) as radix, a
choice of level i (0 = highest) is encrypted as g^(R^i), and an abstention (or an empty row)
as g^0. One disjunctive proof per unit shows the ciphertext holds one of those values. The
product of all ballots' ciphertexts for a unit encrypts Σ_i count_i · R^i; since no count
exceeds R − 1, its base-R digits are the counts per level.

The ballot is signed with the Ed25519 key inside the voting token, over the ballot hash;
the proofs' context binds the election, the voter key and the unit's position, so a proof
cannot be copied to another ballot, election or unit.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Sequence

from nacl.signing import SigningKey

from . import blind_rsa
from .elgamal import Ciphertext, encrypt
from .encoding import EncodingError, b64decode, b64encode, canonical_json, sha256, uint32
from .group import L, Point, random_scalar
from .proofs import DisjunctiveProof, ProofError, prove_disjunctive, verify_disjunctive
from .token import Token, TokenError, verify_voter_signature

__all__ = [
    "BALLOT_VERSION",
    "BallotError",
    "BallotShape",
    "EncryptedBallot",
    "encrypt_ballot",
    "verify_ballot",
    "check_envelope",
    "check_proofs",
    "ballot_from_json",
    "tracking_code",
    "unit_context",
    "limit_context",
    "AuditRecord",
    "check_audit",
]

BALLOT_VERSION = "ballot/v1/ballot"


class BallotError(ValueError):
    """A ballot that is malformed or does not verify; the message names the first problem."""


@dataclass(frozen=True)
class BallotShape:
    """What every ballot of one election looks like."""

    num_units: int
    num_levels: int
    abstain_allowed: bool
    radix: int  # eligible voters + 1
    #: "at most K agree" groups (ballot B of a second round): per group the 0-based unit
    #: indices and K. Only with two levels (agree = level 0, disagree = level 1).
    limits: tuple[tuple[tuple[int, ...], int], ...] = ()

    def __post_init__(self) -> None:
        if self.num_units < 1 or self.num_levels < 2 or self.radix < 2:
            raise ValueError("a ballot needs units, at least two levels and a radix of 2 or more")
        if self.radix**self.num_levels >= 2**48:
            raise ValueError("too many levels for this roll size (radix^levels must be < 2^48)")
        if not isinstance(self.limits, tuple):
            object.__setattr__(self, "limits", tuple(self.limits))
        if self.limits and self.num_levels != 2:
            raise ValueError("limits ('at most K agree') need exactly two levels (agree, disagree)")
        seen: set[int] = set()
        clean = []
        for j, group in enumerate(self.limits):
            if not isinstance(group, (tuple, list)) or len(group) != 2:
                raise ValueError(f"limits[{j}]: expected (unit indices, K)")
            indices, k = tuple(group[0]), group[1]
            if isinstance(k, bool) or not isinstance(k, int) or k < 0:
                raise ValueError(f"limits[{j}]: K must be an integer ≥ 0, got {k!r}")
            if not indices:
                raise ValueError(f"limits[{j}]: a group needs at least one unit")
            for i in indices:
                if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < self.num_units:
                    raise ValueError(f"limits[{j}]: unit index {i!r} is out of range")
                if i in seen:
                    raise ValueError(f"limits[{j}]: unit index {i} is in two groups")
                seen.add(i)
            if list(indices) != sorted(indices):
                raise ValueError(f"limits[{j}]: unit indices must be increasing")
            if self.radix <= len(indices):
                raise ValueError(f"limits[{j}]: the radix {self.radix} must exceed the group size "
                                 f"{len(indices)} (more voters than candidates in a group)")
            clean.append((indices, k))
        object.__setattr__(self, "limits", tuple(clean))

    @property
    def values(self) -> tuple[int, ...]:
        """The allowed plaintexts of a unit's ciphertext, in proof-branch order."""
        levels = tuple(self.radix**i for i in range(self.num_levels))
        return ((0,) if self.abstain_allowed else ()) + levels

    def value_of(self, choice: int | None) -> int:
        if choice is None:
            if not self.abstain_allowed:
                raise ValueError("this election does not allow abstaining")
            return 0
        if not 0 <= choice < self.num_levels:
            raise ValueError(f"level index {choice} is out of range")
        return self.radix**choice

    @property
    def unit_bytes(self) -> int:
        return 64 + 64 * len(self.values)

    @cached_property
    def _limit_values(self) -> tuple[tuple[int, ...], ...]:
        return tuple(
            tuple(sorted({a + d * self.radix for a in range(k + 1) for d in range(len(ix) - a + 1)}))
            for ix, k in self.limits)

    def limit_values(self, j: int) -> tuple[int, ...]:
        """The allowed plaintexts of limit group j's summed ciphertext, increasing: a agree and
        d disagree with a ≤ K and a + d ≤ n_j, as a + d·R (agree = R^0, disagree = R^1)."""
        return self._limit_values[j]

    def limit_bytes(self, j: int) -> int:
        return 64 * len(self.limit_values(j))


def unit_context(base_hash: bytes, voter_key: bytes, unit: int) -> bytes:
    return sha256("ballot/v1/ctx/unit", base_hash, voter_key, uint32(unit))


def limit_context(base_hash: bytes, voter_key: bytes, group: int) -> bytes:
    return sha256("ballot/v1/ctx/limit", base_hash, voter_key, uint32(group))


def limit_ciphertext(units: Sequence[tuple[Ciphertext, Any]], indices: Sequence[int]) -> Ciphertext:
    """C_j: the component-wise product (sum on the curve) of the group's unit ciphertexts."""
    total = units[indices[0]][0]
    for i in indices[1:]:
        total = total + units[i][0]
    return total


@dataclass(frozen=True)
class EncryptedBallot:
    election: bytes  # base hash
    token: Token
    units: tuple[tuple[Ciphertext, DisjunctiveProof], ...]
    signature: bytes  # Ed25519 by the token's voter key over ballot_hash
    #: one "at most K agree" proof per limit group of the shape; None when it has none
    limits: tuple[DisjunctiveProof, ...] | None = None

    def body_json(self) -> dict[str, Any]:
        body = {
            "version": BALLOT_VERSION,
            "election": self.election.hex(),
            "token": {
                "message": b64encode(self.token.message),
                "signature": b64encode(self.token.signature),
            },
            "units": [b64encode(ct.to_bytes() + proof.to_bytes()) for ct, proof in self.units],
        }
        if self.limits is not None:
            body["limits"] = [b64encode(p.to_bytes()) for p in self.limits]
        return body

    def to_json(self) -> dict[str, Any]:
        return {**self.body_json(), "signature": b64encode(self.signature)}

    @property
    def ballot_hash(self) -> bytes:
        return body_hash(self.body_json())

    @property
    def tracking_code(self) -> str:
        return tracking_code(self.ballot_hash)


def body_hash(body: dict[str, Any]) -> bytes:
    return sha256("ballot/v1/ballot", canonical_json(body))


def tracking_code(ballot_hash: bytes) -> str:
    """The first 80 bits of the ballot hash in base32, as four groups of four characters."""
    code = base64.b32encode(ballot_hash[:10]).decode("ascii")
    return "-".join(code[i : i + 4] for i in range(0, 16, 4))


def encrypt_ballot(
    shape: BallotShape,
    base_hash: bytes,
    public_key: Point,
    token: Token,
    voter_key: SigningKey | None,
    choices: Sequence[int | None],
    *,
    rng: Callable[[], int] = random_scalar,
) -> tuple[EncryptedBallot, tuple[int, ...]]:
    """Encrypt and prove every unit's choice; sign. Returns the ballot and the nonces.

    ``voter_key=None``: the ballot body only, unsigned (``signature == b""``), as the phone
    seals it before the member chooses between audit and cast (docs/protocol.md §8.4); sign it
    with :func:`sign_ballot` to cast it.

    Per unit, in order, ``rng`` gives the encryption nonce r, then the proof's randomness;
    then, for each limit group of the shape in order, that group's proof randomness."""
    if len(choices) != shape.num_units:
        raise ValueError(f"{len(choices)} choices for {shape.num_units} units")
    vk = token.voter_public_key
    if voter_key is not None and bytes(voter_key.verify_key) != vk:
        raise ValueError("the token does not carry this voter key")
    units, nonces = [], []
    for u, choice in enumerate(choices):
        m = shape.value_of(choice)
        ct, r = encrypt(public_key, m, rng())
        proof = prove_disjunctive(unit_context(base_hash, vk, u), public_key, ct, r, m,
                                  shape.values, rng=rng)
        units.append((ct, proof))
        nonces.append(r)
    limits = None
    if shape.limits:
        proofs = []
        for j, (indices, k) in enumerate(shape.limits):
            agree = sum(1 for i in indices if choices[i] == 0)
            if agree > k:
                raise ValueError(f"group {j + 1}: {agree} agree, at most {k} allowed")
            m = sum(shape.value_of(choices[i]) for i in indices)
            r = sum(nonces[i] for i in indices) % L
            proofs.append(prove_disjunctive(limit_context(base_hash, vk, j), public_key,
                                            limit_ciphertext(units, indices), r, m,
                                            shape.limit_values(j), rng=rng))
        limits = tuple(proofs)
    unsigned = EncryptedBallot(base_hash, token, tuple(units), b"", limits)
    if voter_key is None:
        return unsigned, tuple(nonces)
    return sign_ballot(unsigned, voter_key), tuple(nonces)


def sign_ballot(ballot: EncryptedBallot, voter_key: SigningKey) -> EncryptedBallot:
    """The unsigned ballot body signed with the token's voter key (Ed25519 over ballot_hash)."""
    if ballot.signature:
        raise ValueError("this ballot is already signed")
    if ballot.token.voter_public_key != bytes(voter_key.verify_key):
        raise ValueError("the token does not carry this voter key")
    signature = voter_key.sign(ballot.ballot_hash).signature
    return EncryptedBallot(ballot.election, ballot.token, ballot.units, signature, ballot.limits)


_TOP_KEYS = {"version", "election", "token", "units", "signature"}
_LIMIT_KEYS = _TOP_KEYS | {"limits"}


def ballot_from_json(data: Any, shape: BallotShape, *, signed: bool = True) -> EncryptedBallot:
    """Strict decoding: exact keys, canonical encodings, valid group elements.

    ``signed=False`` decodes a ballot body (an audited ballot, docs/protocol.md §8.4): the same
    fields but ``signature``, which it must not have (the result's signature is ``b""``)."""
    if not isinstance(data, dict):
        raise BallotError("a ballot is a JSON object")
    want = _LIMIT_KEYS if shape.limits else _TOP_KEYS
    if not signed:
        want = want - {"signature"}
    if set(data) != want:
        missing, extra = want - set(data), set(data) - want
        raise BallotError(f"ballot fields: missing {sorted(missing)}, unexpected {sorted(extra)}")
    if data["version"] != BALLOT_VERSION:
        raise BallotError(f"unsupported ballot version {data['version']!r}")
    text = data["election"]
    if not isinstance(text, str) or len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise BallotError("election: 64 lowercase hex digits")
    election = bytes.fromhex(text)
    try:
        tok = data["token"]
        if not isinstance(tok, dict) or set(tok) != {"message", "signature"}:
            raise BallotError("token: an object with message and signature")
        token = Token(b64decode(tok["message"], what="token.message"),
                      b64decode(tok["signature"], what="token.signature"))
        units_json = data["units"]
        if not isinstance(units_json, list) or len(units_json) != shape.num_units:
            raise BallotError(f"units: expected a list of {shape.num_units} entries")
        units = []
        for u, text in enumerate(units_json):
            raw = b64decode(text, shape.unit_bytes, what=f"units[{u}]")
            ct = Ciphertext.from_bytes(raw[:64], f"units[{u}].ciphertext")
            proof = DisjunctiveProof.from_bytes(raw[64:], len(shape.values), f"units[{u}].proof")
            units.append((ct, proof))
        limits = None
        if shape.limits:
            items = data["limits"]
            if not isinstance(items, list) or len(items) != len(shape.limits):
                raise BallotError(f"limits: expected a list of {len(shape.limits)} entries")
            limits = tuple(
                DisjunctiveProof.from_bytes(b64decode(text, shape.limit_bytes(j), what=f"limits[{j}]"),
                                            len(shape.limit_values(j)), f"limits[{j}]")
                for j, text in enumerate(items))
        signature = b64decode(data["signature"], 64, what="signature") if signed else b""
    except EncodingError as exc:
        raise BallotError(str(exc)) from None
    return EncryptedBallot(election, token, tuple(units), signature, limits)


def verify_ballot(
    ballot: EncryptedBallot,
    shape: BallotShape,
    base_hash: bytes,
    public_key: Point,
    issuer: blind_rsa.IssuerPublicKey,
) -> None:
    """Every check a ballot must pass to be counted: :func:`check_envelope` (the cheap checks
    done on receipt), then :func:`check_proofs` (done in the background, docs/protocol.md
    "Received, then checked")."""
    check_envelope(ballot, shape, base_hash, issuer)
    check_proofs(ballot, shape, base_hash, public_key)


def check_envelope(
    ballot: EncryptedBallot,
    shape: BallotShape,
    base_hash: bytes,
    issuer: blind_rsa.IssuerPublicKey,
) -> None:
    """The cheap checks (about a millisecond): election, shape, the token's blind signature and
    the voter's signature over the ballot hash. Together with :func:`ballot_from_json` (exact
    fields, canonical encodings, every point on the curve) this is what a server checks before
    it gives a receipt."""
    if ballot.election != base_hash:
        raise BallotError("the ballot is for another election")
    if len(ballot.units) != shape.num_units:
        raise BallotError(f"the ballot has {len(ballot.units)} units, the election {shape.num_units}")
    if (ballot.limits is not None) != bool(shape.limits) or \
            len(ballot.limits or ()) != len(shape.limits):
        raise BallotError(f"the ballot has {len(ballot.limits or ())} limit proofs, the election "
                          f"{len(shape.limits)}")
    try:
        voter = ballot.token.check(issuer, base_hash)
        verify_voter_signature(voter, ballot.ballot_hash, ballot.signature)
    except TokenError as exc:
        raise BallotError(str(exc)) from None


def check_proofs(
    ballot: EncryptedBallot,
    shape: BallotShape,
    base_hash: bytes,
    public_key: Point,
) -> None:
    """The costly checks (a disjunctive proof per unit and per limit group): each ciphertext
    holds one allowed choice. Call after :func:`check_envelope` (it relies on the shape)."""
    try:
        vk = ballot.token.voter_public_key
    except TokenError as exc:
        raise BallotError(str(exc)) from None
    for u, (ct, proof) in enumerate(ballot.units):
        try:
            verify_disjunctive(unit_context(base_hash, vk, u), public_key, ct, shape.values, proof)
        except ProofError:
            raise BallotError(f"unit {u + 1}: the proof that it holds one allowed choice fails") from None
    for j, ((indices, k), proof) in enumerate(zip(shape.limits, ballot.limits or ())):
        try:
            verify_disjunctive(limit_context(base_hash, vk, j), public_key,
                               limit_ciphertext(ballot.units, indices), shape.limit_values(j), proof)
        except ProofError:
            raise BallotError(f"group {j + 1}: more than {k} agree, or the proof fails") from None


@dataclass(frozen=True)
class AuditRecord:
    """A ballot opened for a Benaloh challenge: its choices and nonces revealed."""

    choices: tuple[int | None, ...]
    nonces: tuple[int, ...]


def check_audit(
    ballot: EncryptedBallot, shape: BallotShape, public_key: Point, audit: AuditRecord
) -> None:
    """Does the ballot encrypt exactly the revealed choices with the revealed nonces?"""
    if len(audit.choices) != shape.num_units or len(audit.nonces) != shape.num_units:
        raise BallotError("the audit does not cover every unit")
    for u, ((ct, _), choice, r) in enumerate(zip(ballot.units, audit.choices, audit.nonces)):
        if not 0 <= r < L:
            raise BallotError(f"unit {u + 1}: nonce out of range")
        try:
            value = shape.value_of(choice)
        except ValueError as exc:
            raise BallotError(f"unit {u + 1}: {exc}") from None
        expected, _ = encrypt(public_key, value, r)
        if expected != ct:
            raise BallotError(f"unit {u + 1}: the ciphertext does not encrypt the shown choice")
