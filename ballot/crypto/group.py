"""The prime-order subgroup of Ed25519, through libsodium (PyNaCl).

Elements are :class:`Point` values holding their canonical 32-byte encoding; scalars are
Python integers modulo :data:`L` (Python integer arithmetic is faster than library calls).

libsodium refuses the identity in several places (``crypto_core_ed25519_is_valid_point``
calls it a small-order point; ``crypto_scalarmult_ed25519_*noclamp`` fails when the product
is the identity), so the identity has its own paths here: ``x * 0``, ``identity * x``, and
sums that cancel all give :data:`IDENTITY` without calling the library.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Iterable

from nacl import bindings as _sodium

from .encoding import EncodingError, hash_parts

__all__ = [
    "L",
    "Point",
    "PointError",
    "GENERATOR",
    "IDENTITY",
    "decode_point",
    "decode_scalar",
    "encode_scalar",
    "random_scalar",
    "hash_to_scalar",
    "base_mul",
    "sum_points",
]

#: The order of the prime-order subgroup (and of the base point).
L = 2**252 + 27742317777372353535851937790883648493

_IDENTITY_BYTES = bytes([1]) + bytes(31)


class PointError(EncodingError):
    """A byte string that is not the canonical encoding of an element of the group."""


@dataclass(frozen=True, slots=True)
class Point:
    """An element of the prime-order subgroup, as its canonical 32-byte encoding.

    Build points only through :func:`decode_point` (for untrusted bytes), the constants, or
    the group operations; the constructor trusts its input.
    """

    data: bytes

    @property
    def is_identity(self) -> bool:
        return self.data == _IDENTITY_BYTES

    def __add__(self, other: "Point") -> "Point":
        if self.is_identity:
            return other
        if other.is_identity:
            return self
        return Point(_sodium.crypto_core_ed25519_add(self.data, other.data))

    def __neg__(self) -> "Point":
        if self.is_identity:
            return self
        # For a point of the prime-order subgroup other than the identity x != 0, so negation
        # is flipping the sign bit of x (bit 255) in the canonical encoding.
        flipped = bytearray(self.data)
        flipped[31] ^= 0x80
        return Point(bytes(flipped))

    def __sub__(self, other: "Point") -> "Point":
        return self + (-other)

    def __mul__(self, k: int) -> "Point":
        k %= L
        if k == 0 or self.is_identity:
            return IDENTITY
        if self.data == _GENERATOR_BYTES:
            return Point(_sodium.crypto_scalarmult_ed25519_base_noclamp(encode_scalar(k)))
        return Point(_sodium.crypto_scalarmult_ed25519_noclamp(encode_scalar(k), self.data))

    __rmul__ = __mul__

    def __bytes__(self) -> bytes:
        return self.data

    def __repr__(self) -> str:
        return "Point(identity)" if self.is_identity else f"Point({self.data.hex()[:16]}…)"


def encode_scalar(k: int) -> bytes:
    """A scalar in [0, L) as 32 bytes, little-endian (libsodium's and RFC 8032's order)."""
    if not 0 <= k < L:
        k %= L
    return k.to_bytes(32, "little")


def decode_scalar(data: bytes, what: str = "scalar") -> int:
    """Decode a canonical scalar: exactly 32 bytes, little-endian, less than L."""
    if not isinstance(data, (bytes, bytearray)) or len(data) != 32:
        raise EncodingError(f"{what}: a scalar is 32 bytes")
    k = int.from_bytes(data, "little")
    if k >= L:
        raise EncodingError(f"{what}: non-canonical scalar (not less than the group order)")
    return k


def decode_point(data: bytes, what: str = "point", *, allow_identity: bool = False) -> Point:
    """Decode and validate a received group element.

    Rejects anything that is not exactly 32 bytes, not canonical, not on the curve, of small
    order, or outside the prime-order subgroup (``crypto_core_ed25519_is_valid_point``).
    The identity is refused unless ``allow_identity`` is set, since no honest protocol
    message carries it (docs/protocol.md, "Group elements").
    """
    if not isinstance(data, (bytes, bytearray)) or len(data) != 32:
        raise PointError(f"{what}: a group element is 32 bytes")
    data = bytes(data)
    if data == _IDENTITY_BYTES:
        if allow_identity:
            return IDENTITY
        raise PointError(f"{what}: the identity element is not allowed here")
    if not _sodium.crypto_core_ed25519_is_valid_point(data):
        raise PointError(f"{what}: not a valid element of the prime-order subgroup")
    return Point(data)


def random_scalar() -> int:
    """A uniformly random non-zero scalar, from the operating system's CSPRNG."""
    return secrets.randbelow(L - 1) + 1


def hash_to_scalar(tag: str, parts: Iterable[bytes]) -> int:
    """SHA-512 of the domain-separated input (:func:`hash_parts`), little-endian, mod L."""
    return int.from_bytes(hash_parts(tag, parts), "little") % L


_GENERATOR_BYTES = _sodium.crypto_scalarmult_ed25519_base_noclamp(encode_scalar(1))

#: The standard Ed25519 base point B, generator of the prime-order subgroup.
GENERATOR = Point(_GENERATOR_BYTES)
#: The neutral element (0, 1), encoded as 0x01 followed by 31 zero bytes.
IDENTITY = Point(_IDENTITY_BYTES)


def base_mul(k: int) -> Point:
    """g^k (written k·B on the curve), with the identity for k ≡ 0."""
    return GENERATOR * k


def sum_points(points: Iterable[Point]) -> Point:
    total = IDENTITY
    for p in points:
        total = total + p
    return total
