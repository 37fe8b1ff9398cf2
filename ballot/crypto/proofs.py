"""Non-interactive zero-knowledge proofs (Fiat–Shamir), in challenge–response form.

Every proof is a list of (c, v) scalar pairs. The challenge is
``hash_to_scalar(TAG, [context, *statement, *commitments])`` where ``context`` is a 32-byte
value the caller derives from the election's base hash and the proof's place (so a proof
never verifies for another election, voter, unit or level), the statement is every public
value the proof speaks of, and the commitments are recomputed by the verifier.
Byte formats: docs/protocol.md, "Proofs".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

Rng = Callable[[], int]

from .elgamal import Ciphertext
from .encoding import EncodingError, uint32, uint64
from .group import L, Point, base_mul, decode_scalar, encode_scalar, hash_to_scalar, random_scalar

__all__ = [
    "ProofError",
    "ChallengeResponse",
    "SchnorrProof",
    "DleqProof",
    "DisjunctiveProof",
    "prove_schnorr",
    "verify_schnorr",
    "prove_dleq",
    "verify_dleq",
    "prove_disjunctive",
    "verify_disjunctive",
]

TAG_SCHNORR = "ballot/v1/proof/schnorr"
TAG_DLEQ = "ballot/v1/proof/dleq"
TAG_DISJUNCTIVE = "ballot/v1/proof/disjunctive"


class ProofError(ValueError):
    """A proof that does not verify, or is malformed."""


@lru_cache(maxsize=64)
def _g_to(m: int) -> Point:
    return base_mul(m)


def _pairs_to_bytes(pairs: Sequence[tuple[int, int]]) -> bytes:
    return b"".join(encode_scalar(c) + encode_scalar(v) for c, v in pairs)


def _pairs_from_bytes(data: bytes, count: int, what: str) -> tuple[tuple[int, int], ...]:
    if len(data) != 64 * count:
        raise EncodingError(f"{what}: expected {64 * count} bytes, got {len(data)}")
    return tuple(
        (
            decode_scalar(data[64 * i : 64 * i + 32], f"{what}[{i}].c"),
            decode_scalar(data[64 * i + 32 : 64 * i + 64], f"{what}[{i}].v"),
        )
        for i in range(count)
    )


# --- Schnorr: knowledge of x with X = g^x ----------------------------------------------


@dataclass(frozen=True, slots=True)
class ChallengeResponse:
    """A one-branch proof: the challenge c and the response v (64 bytes: c ‖ v)."""

    c: int
    v: int

    def to_bytes(self) -> bytes:
        return _pairs_to_bytes([(self.c, self.v)])

    @classmethod
    def from_bytes(cls, data: bytes, what: str = "proof") -> "ChallengeResponse":
        ((c, v),) = _pairs_from_bytes(data, 1, what)
        return cls(c, v)


#: Schnorr proofs of knowledge and Chaum–Pedersen proofs share the (c, v) form.
SchnorrProof = DleqProof = ChallengeResponse


def _schnorr_challenge(context: bytes, X: Point, a: Point) -> int:
    return hash_to_scalar(TAG_SCHNORR, [context, X.data, a.data])


def prove_schnorr(context: bytes, x: int, X: Point | None = None, *, rng: Rng = random_scalar) -> SchnorrProof:
    X = X if X is not None else base_mul(x)
    w = rng()
    c = _schnorr_challenge(context, X, base_mul(w))
    return SchnorrProof(c, (w + c * x) % L)


def verify_schnorr(context: bytes, X: Point, proof: SchnorrProof) -> None:
    a = base_mul(proof.v) - X * proof.c
    if _schnorr_challenge(context, X, a) != proof.c:
        raise ProofError("Schnorr proof of knowledge does not verify")


# --- Chaum–Pedersen: log_g X = log_A M ---------------------------------------------------


def _dleq_challenge(context: bytes, X: Point, A: Point, M: Point, a: Point, b: Point) -> int:
    return hash_to_scalar(TAG_DLEQ, [context, X.data, A.data, M.data, a.data, b.data])


def prove_dleq(
    context: bytes, x: int, A: Point, X: Point | None = None, *, rng: Rng = random_scalar
) -> tuple[Point, DleqProof]:
    """M = A^x with a proof that log_g X = log_A M. Returns (M, proof)."""
    X = X if X is not None else base_mul(x)
    M = A * x
    w = rng()
    c = _dleq_challenge(context, X, A, M, base_mul(w), A * w)
    return M, DleqProof(c, (w + c * x) % L)


def verify_dleq(context: bytes, X: Point, A: Point, M: Point, proof: DleqProof) -> None:
    a = base_mul(proof.v) - X * proof.c
    b = A * proof.v - M * proof.c
    if _dleq_challenge(context, X, A, M, a, b) != proof.c:
        raise ProofError("Chaum–Pedersen proof does not verify")


# --- Disjunctive: (alpha, beta) encrypts one of the values S under h ---------------------


@dataclass(frozen=True, slots=True)
class DisjunctiveProof:
    branches: tuple[tuple[int, int], ...]  # (c_j, v_j) for each allowed value, in order

    def to_bytes(self) -> bytes:
        return _pairs_to_bytes(self.branches)

    @classmethod
    def from_bytes(cls, data: bytes, count: int, what: str = "range proof") -> "DisjunctiveProof":
        return cls(_pairs_from_bytes(data, count, what))


def _disjunctive_challenge(
    context: bytes, h: Point, ct: Ciphertext, values: Sequence[int], commitments: list[Point]
) -> int:
    parts = [context, h.data, ct.alpha.data, ct.beta.data, uint32(len(values))]
    parts += [uint64(m) for m in values]
    parts += [p.data for p in commitments]
    return hash_to_scalar(TAG_DISJUNCTIVE, parts)


def prove_disjunctive(
    context: bytes, h: Point, ct: Ciphertext, r: int, m: int, values: Sequence[int],
    *, rng: Rng = random_scalar,
) -> DisjunctiveProof:
    """Prove that ct = Enc_h(m; r) with m in ``values`` (without telling which).

    Randomness is drawn from ``rng`` in this order: w, then (c_j, v_j) for each j ≠ t in
    increasing j (tests inject a fixed sequence to reproduce cross-language vectors)."""
    if m not in values:
        raise ValueError("the encrypted value is not one of the allowed values")
    t = list(values).index(m)
    commitments: list[Point] = []
    sims: dict[int, tuple[int, int]] = {}
    w = rng()
    for j, mj in enumerate(values):
        if j == t:
            commitments += [base_mul(w), h * w]
        else:
            cj, vj = rng(), rng()
            sims[j] = (cj, vj)
            # The simulated commitments g^v·α^(−c) and h^v·(β/g^mj)^(−c), computed with the
            # prover's knowledge of r (α = g^r, β = g^m·h^r) as g^(v−c·r) and
            # h^(v−c·r)·g^(−c·(m−mj)): the same points with two fixed-base and one
            # variable-base multiplication instead of one and three.
            e = (vj - cj * r) % L
            commitments += [base_mul(e), h * e + base_mul(-cj * (m - mj))]
    c = _disjunctive_challenge(context, h, ct, values, commitments)
    ct_ = (c - sum(cj for cj, _ in sims.values())) % L
    branches = tuple(sims[j] if j != t else (ct_, (w + ct_ * r) % L) for j in range(len(values)))
    return DisjunctiveProof(branches)


def verify_disjunctive(
    context: bytes, h: Point, ct: Ciphertext, values: Sequence[int], proof: DisjunctiveProof
) -> None:
    if len(proof.branches) != len(values):
        raise ProofError("range proof has the wrong number of branches")
    commitments: list[Point] = []
    total = 0
    for (cj, vj), mj in zip(proof.branches, values):
        commitments += [
            base_mul(vj) - ct.alpha * cj,
            h * vj - (ct.beta - _g_to(mj)) * cj,
        ]
        total += cj
    if _disjunctive_challenge(context, h, ct, values, commitments) != total % L:
        raise ProofError("range proof does not verify")
