"""Exponential ElGamal over the Ed25519 subgroup: Enc(m; r) = (g^r, g^m · h^r).

Ciphertexts add homomorphically, so the product of many encryptions of 0 or 1 encrypts the
count. Decryption yields g^m; :mod:`ballot.crypto.dlog` recovers a small m.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .encoding import EncodingError
from .group import IDENTITY, L, Point, base_mul, decode_point, random_scalar

__all__ = ["Ciphertext", "KeyPair", "encrypt", "add_all", "rerandomize", "decrypt_to_point"]


@dataclass(frozen=True, slots=True)
class Ciphertext:
    alpha: Point  # g^r
    beta: Point  # g^m · h^r

    def __add__(self, other: "Ciphertext") -> "Ciphertext":
        return Ciphertext(self.alpha + other.alpha, self.beta + other.beta)

    def to_bytes(self) -> bytes:
        """64 bytes: alpha || beta."""
        return self.alpha.data + self.beta.data

    @classmethod
    def from_bytes(cls, data: bytes, what: str = "ciphertext") -> "Ciphertext":
        if len(data) != 64:
            raise EncodingError(f"{what}: a ciphertext is 64 bytes")
        return cls(
            decode_point(data[:32], f"{what}.alpha"), decode_point(data[32:], f"{what}.beta")
        )


ZERO_CIPHERTEXT = Ciphertext(IDENTITY, IDENTITY)


@dataclass(frozen=True, slots=True)
class KeyPair:
    secret: int
    public: Point

    @classmethod
    def generate(cls) -> "KeyPair":
        s = random_scalar()
        return cls(s, base_mul(s))


def encrypt(public_key: Point, m: int, r: int | None = None) -> tuple[Ciphertext, int]:
    """Encrypt the small integer m; returns the ciphertext and the randomness used."""
    if r is None:
        r = random_scalar()
    r %= L
    return Ciphertext(base_mul(r), base_mul(m) + public_key * r), r


def add_all(ciphertexts: Iterable[Ciphertext]) -> Ciphertext:
    total = ZERO_CIPHERTEXT
    for c in ciphertexts:
        total = total + c
    return total


def rerandomize(public_key: Point, c: Ciphertext, r: int | None = None) -> Ciphertext:
    zero, _ = encrypt(public_key, 0, r)
    return c + zero


def decrypt_to_point(secret: int, c: Ciphertext) -> Point:
    """g^m = beta / alpha^s."""
    return c.beta - c.alpha * secret

