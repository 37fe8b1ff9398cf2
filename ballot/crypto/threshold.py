"""Threshold trustees (k of n): a Feldman/Pedersen key ceremony as in ElectionGuard, partial
decryptions with Chaum–Pedersen proofs, and Lagrange combination from any k trustees.

Ceremony, for trustees 1..n and threshold k (docs/protocol.md, "Key ceremony"):

1. Trustee i draws a polynomial P_i(x) = a_i0 + a_i1·x + … + a_i,k-1·x^(k-1), publishes the
   commitments K_ij = g^(a_ij), a Schnorr proof for each, and a Curve25519 ``Box`` public key.
2. Trustee i sends P_i(l) to every other trustee l, encrypted with NaCl ``Box`` from i to l,
   so a trustee's secret leaves its owner only encrypted.
3. Trustee l decrypts each share and checks g^(P_i(l)) = Π_j K_ij^(l^j); a bad share is
   rejected (:class:`ShareError`) and the sender named. The sender may answer a complaint by
   revealing the share in clear, which anyone checks with :func:`check_share`.
4. Trustee l's secret share is s_l = Σ_i P_i(l); its public share S_l = g^(s_l) = Π_j C_j^(l^j)
   with C_j = Π_i K_ij, computable by anyone. The joint public key is H = C_0 = g^(Σ_i a_i0).

Decryption of (A, B): each present trustee l publishes M_l = A^(s_l) with a proof that
log_g S_l = log_A M_l; any k of them combine as M = Π M_l^(λ_l) with Lagrange coefficients at 0,
and B − M = g^m.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from nacl.exceptions import CryptoError
from nacl.public import Box, PrivateKey, PublicKey

from .encoding import EncodingError, sha256, uint32
from .group import (
    IDENTITY,
    L,
    Point,
    base_mul,
    decode_scalar,
    encode_scalar,
    random_scalar,
    sum_points,
)
from .proofs import DleqProof, SchnorrProof, prove_dleq, prove_schnorr, verify_dleq, verify_schnorr

__all__ = [
    "CeremonyError",
    "ShareError",
    "TrusteeSecret",
    "TrusteePublic",
    "EncryptedShare",
    "new_trustee",
    "verify_trustee_public",
    "make_shares",
    "receive_share",
    "check_share",
    "secret_share",
    "joint_commitments",
    "joint_public_key",
    "public_share",
    "PartialDecryption",
    "partial_decrypt",
    "verify_partial",
    "lagrange_at_zero",
    "combine_partials",
]


class CeremonyError(ValueError):
    """A malformed or inconsistent key-ceremony message."""


class ShareError(CeremonyError):
    """A share that does not decrypt or does not match its sender's commitments."""

    def __init__(self, sender: int, recipient: int, reason: str):
        super().__init__(f"share from trustee {sender} to trustee {recipient}: {reason}")
        self.sender = sender
        self.recipient = recipient


def coefficient_context(manifest_hash: bytes, index: int, j: int) -> bytes:
    return sha256("ballot/v1/ctx/ceremony-coefficient", manifest_hash, uint32(index), uint32(j))


def _share_header(manifest_hash: bytes, sender: int, recipient: int) -> bytes:
    return sha256("ballot/v1/ctx/ceremony-share", manifest_hash, uint32(sender), uint32(recipient))


@dataclass(frozen=True)
class TrusteeSecret:
    """What only trustee ``index`` holds: its polynomial and its Box private key."""

    index: int
    coefficients: tuple[int, ...]
    box_secret: bytes  # 32-byte Curve25519 private key

    def evaluate(self, x: int) -> int:
        y = 0
        for a in reversed(self.coefficients):
            y = (y * x + a) % L
        return y


@dataclass(frozen=True)
class TrusteePublic:
    """What trustee ``index`` publishes in the ceremony."""

    index: int
    commitments: tuple[Point, ...]  # K_i0 .. K_i,k-1
    proofs: tuple[SchnorrProof, ...]  # knowledge of each a_ij
    box_public: bytes  # 32-byte Curve25519 public key


@dataclass(frozen=True)
class EncryptedShare:
    sender: int
    recipient: int
    ciphertext: bytes  # NaCl Box (24-byte nonce || MAC || encrypted 64 bytes)


def new_trustee(manifest_hash: bytes, index: int, k: int) -> tuple[TrusteeSecret, TrusteePublic]:
    if index < 1 or k < 1:
        raise CeremonyError("trustee indices and the threshold start at 1")
    coefficients = tuple(random_scalar() for _ in range(k))
    commitments = tuple(base_mul(a) for a in coefficients)
    proofs = tuple(
        prove_schnorr(coefficient_context(manifest_hash, index, j), a, K)
        for j, (a, K) in enumerate(zip(coefficients, commitments))
    )
    box = PrivateKey.generate()
    return (
        TrusteeSecret(index, coefficients, bytes(box)),
        TrusteePublic(index, commitments, proofs, bytes(box.public_key)),
    )


def verify_trustee_public(manifest_hash: bytes, pub: TrusteePublic, k: int) -> None:
    if len(pub.commitments) != k or len(pub.proofs) != k:
        raise CeremonyError(f"trustee {pub.index}: expected {k} commitments and proofs")
    if len(pub.box_public) != 32:
        raise CeremonyError(f"trustee {pub.index}: a Box public key is 32 bytes")
    for j, (K, proof) in enumerate(zip(pub.commitments, pub.proofs)):
        if K.is_identity:
            raise CeremonyError(f"trustee {pub.index}: commitment {j} is the identity")
        try:
            verify_schnorr(coefficient_context(manifest_hash, pub.index, j), K, proof)
        except ValueError:
            raise CeremonyError(
                f"trustee {pub.index}: proof of knowledge for coefficient {j} does not verify"
            ) from None


def make_shares(
    manifest_hash: bytes, secret: TrusteeSecret, publics: Sequence[TrusteePublic]
) -> list[EncryptedShare]:
    """P_i(l) for every other trustee l, each encrypted to l's Box key."""
    me = PrivateKey(secret.box_secret)
    shares = []
    for pub in publics:
        if pub.index == secret.index:
            continue
        plaintext = _share_header(manifest_hash, secret.index, pub.index) + encode_scalar(
            secret.evaluate(pub.index)
        )
        box = Box(me, PublicKey(pub.box_public))
        shares.append(EncryptedShare(secret.index, pub.index, bytes(box.encrypt(plaintext))))
    return shares


def _commitment_at(commitments: Sequence[Point], x: int) -> Point:
    """Π_j K_j^(x^j) = g^(P(x))."""
    total, power = IDENTITY, 1
    for K in commitments:
        total = total + K * power
        power = power * x % L
    return total


def check_share(sender: TrusteePublic, recipient: int, share: int) -> bool:
    """Does ``share`` equal P_sender(recipient), by the sender's public commitments?"""
    return base_mul(share) == _commitment_at(sender.commitments, recipient)


def receive_share(
    manifest_hash: bytes, recipient: TrusteeSecret, sender: TrusteePublic, share: EncryptedShare
) -> int:
    """Decrypt and check one share; raises :class:`ShareError` naming the sender if bad."""
    if share.recipient != recipient.index or share.sender != sender.index:
        raise ShareError(share.sender, share.recipient, "addressed to someone else")
    box = Box(PrivateKey(recipient.box_secret), PublicKey(sender.box_public))
    try:
        plaintext = box.decrypt(share.ciphertext)
    except CryptoError:
        raise ShareError(share.sender, share.recipient, "does not decrypt") from None
    header = _share_header(manifest_hash, sender.index, recipient.index)
    if len(plaintext) != 64 or plaintext[:32] != header:
        raise ShareError(share.sender, share.recipient, "wrong election or wrong addressee")
    try:
        value = decode_scalar(plaintext[32:], "share")
    except EncodingError:
        raise ShareError(share.sender, share.recipient, "not a canonical scalar") from None
    if not check_share(sender, recipient.index, value):
        raise ShareError(share.sender, share.recipient, "does not match the sender's commitments")
    return value


def secret_share(secret: TrusteeSecret, received: Mapping[int, int]) -> int:
    """s_l = P_l(l) + Σ_(i≠l) P_i(l)."""
    return (secret.evaluate(secret.index) + sum(received.values())) % L


def joint_commitments(publics: Sequence[TrusteePublic]) -> tuple[Point, ...]:
    """C_j = Π_i K_ij."""
    k = len(publics[0].commitments)
    return tuple(sum_points(pub.commitments[j] for pub in publics) for j in range(k))


def joint_public_key(publics: Sequence[TrusteePublic]) -> Point:
    return joint_commitments(publics)[0]


def public_share(joint: Sequence[Point], index: int) -> Point:
    """S_l = g^(s_l), from the joint commitments alone."""
    return _commitment_at(joint, index)


@dataclass(frozen=True)
class PartialDecryption:
    trustee: int
    share: Point  # M_l = A^(s_l)
    proof: DleqProof


def partial_decrypt(context: bytes, trustee: int, s: int, S: Point, A: Point) -> PartialDecryption:
    M, proof = prove_dleq(context, s, A, S)
    return PartialDecryption(trustee, M, proof)


def verify_partial(context: bytes, S: Point, A: Point, partial: PartialDecryption) -> None:
    verify_dleq(context, S, A, partial.share, partial.proof)


def lagrange_at_zero(indices: Sequence[int], i: int) -> int:
    """λ_i = Π_(m≠i) m / (m − i) mod L."""
    num, den = 1, 1
    for m in indices:
        if m != i:
            num = num * m % L
            den = den * (m - i) % L
    return num * pow(den, -1, L) % L


def combine_partials(shares: Mapping[int, Point], k: int) -> Point:
    """M = Π M_l^(λ_l) over exactly the trustees given; needs at least k of them."""
    if len(shares) < k:
        raise CeremonyError(f"{len(shares)} partial decryptions given, {k} needed")
    indices = sorted(shares)
    total = IDENTITY
    for i in indices:
        total = total + shares[i] * lagrange_at_zero(indices, i)
    return total
