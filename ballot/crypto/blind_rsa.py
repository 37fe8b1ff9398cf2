"""RSA blind signatures, RFC 9474 (RSABSSA); docs/protocol.md, "Blind RSA tokens".

The product uses RSABSSA-SHA384-PSS-Randomized everywhere (:data:`DEFAULT_VARIANT`); the
other three RFC 9474 variants exist so that the published test vectors can be checked.

Client::  prepared = prepare(msg); blinded, state = blind(pk, prepared)
Server::  blind_sig = blind_sign(sk, blinded)
Client::  sig = finalize(pk, prepared, blind_sig, state)       # verified before it is returned
Anyone::  verify(pk, prepared, sig)                           # cryptography's RSASSA-PSS verify

EMSA-PSS-ENCODE uses emBits = modBits - 1 as in RSASSA-PSS-SIGN (RFC 8017 §8.1.1), which is
what the RFC 9474 test vectors use. Every malformed input raises :class:`BlindSignatureError`.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass, field

import gmpy2
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = [
    "BlindSignatureError", "Variant", "VARIANTS", "DEFAULT_VARIANT", "MIN_MODULUS_BITS",
    "RSABSSA_SHA384_PSS_RANDOMIZED", "RSABSSA_SHA384_PSSZERO_RANDOMIZED",
    "RSABSSA_SHA384_PSS_DETERMINISTIC", "RSABSSA_SHA384_PSSZERO_DETERMINISTIC",
    "IssuerPublicKey", "IssuerPrivateKey", "BlindingState", "generate_issuer_key",
    "emsa_pss_encode", "prepare", "blind", "blind_sign", "finalize", "verify", "check_signature",
]

MIN_MODULUS_BITS = 3072
PREFIX_BYTES = 32  # the random prefix of the randomized Prepare
_HLEN = 48  # SHA-384


class BlindSignatureError(ValueError):
    """A malformed key, message, blinded message or signature, or a failed check."""


@dataclass(frozen=True)
class Variant:
    """An RFC 9474 suite: always SHA-384 / MGF1-SHA-384; salt length; randomized Prepare."""

    name: str
    salt_length: int
    randomized: bool


RSABSSA_SHA384_PSS_RANDOMIZED = Variant("RSABSSA-SHA384-PSS-Randomized", 48, True)
RSABSSA_SHA384_PSSZERO_RANDOMIZED = Variant("RSABSSA-SHA384-PSSZERO-Randomized", 0, True)
RSABSSA_SHA384_PSS_DETERMINISTIC = Variant("RSABSSA-SHA384-PSS-Deterministic", 48, False)
RSABSSA_SHA384_PSSZERO_DETERMINISTIC = Variant("RSABSSA-SHA384-PSSZERO-Deterministic", 0, False)
VARIANTS = {v.name: v for v in (
    RSABSSA_SHA384_PSS_RANDOMIZED, RSABSSA_SHA384_PSSZERO_RANDOMIZED,
    RSABSSA_SHA384_PSS_DETERMINISTIC, RSABSSA_SHA384_PSSZERO_DETERMINISTIC)}
DEFAULT_VARIANT = RSABSSA_SHA384_PSS_RANDOMIZED


def _bytes(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)):
        raise BlindSignatureError(f"{what} must be bytes, got {type(value).__name__}")
    return bytes(value)


def _check_modulus(bits: int) -> None:
    if bits < MIN_MODULUS_BITS:
        raise BlindSignatureError(
            f"RSA modulus has {bits} bits; at least {MIN_MODULUS_BITS} required")


@dataclass(frozen=True)
class IssuerPublicKey:
    """The token issuer's RSA public key (n, e). Wire form: SubjectPublicKeyInfo DER."""

    n: int
    e: int
    _key: rsa.RSAPublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_modulus(self.n.bit_length())
        try:
            object.__setattr__(self, "_key", rsa.RSAPublicNumbers(self.e, self.n).public_key())
        except ValueError as exc:
            raise BlindSignatureError(f"invalid RSA public key: {exc}") from None

    @property
    def modulus_bits(self) -> int:
        return self.n.bit_length()

    @property
    def modulus_bytes(self) -> int:
        """kLen: the length in bytes of n, of blinded messages and of signatures."""
        return (self.n.bit_length() + 7) // 8

    def to_der(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def to_pem(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def fingerprint(self) -> bytes:
        """SHA-256 of the SubjectPublicKeyInfo DER (32 bytes)."""
        return hashlib.sha256(self.to_der()).digest()

    @classmethod
    def from_der(cls, data: bytes) -> IssuerPublicKey:
        """Parse SPKI DER; only the canonical encoding (what :meth:`to_der` gives) is accepted."""
        data = _bytes(data, "public key")
        try:
            key = serialization.load_der_public_key(data)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise BlindSignatureError(f"public key: not SubjectPublicKeyInfo DER ({exc})") from None
        pk = cls._from_cryptography(key)
        if pk.to_der() != data:
            raise BlindSignatureError("public key: non-canonical DER encoding")
        return pk

    @classmethod
    def from_pem(cls, data: bytes) -> IssuerPublicKey:
        try:
            key = serialization.load_pem_public_key(_bytes(data, "public key"))
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise BlindSignatureError(f"public key: not SubjectPublicKeyInfo PEM ({exc})") from None
        return cls._from_cryptography(key)

    @classmethod
    def _from_cryptography(cls, key: object) -> IssuerPublicKey:
        if not isinstance(key, rsa.RSAPublicKey):
            raise BlindSignatureError(f"public key: expected RSA, got {type(key).__name__}")
        numbers = key.public_numbers()
        return cls(numbers.n, numbers.e)


@dataclass(frozen=True, eq=False)
class IssuerPrivateKey:
    """The issuer's RSA private key; the CRT values are taken from ``private_numbers()``."""

    key: rsa.RSAPrivateKey = field(repr=False)
    _public: IssuerPublicKey = field(init=False, repr=False)
    _crt: tuple = field(init=False, repr=False)  # (p, q, dp, dq, qinv) as gmpy2.mpz

    def __post_init__(self) -> None:
        if not isinstance(self.key, rsa.RSAPrivateKey):
            raise BlindSignatureError(f"private key: expected RSA, got {type(self.key).__name__}")
        _check_modulus(self.key.key_size)
        nums = self.key.private_numbers()
        crt = (nums.p, nums.q, nums.dmp1, nums.dmq1, nums.iqmp)
        object.__setattr__(self, "_crt", tuple(gmpy2.mpz(v) for v in crt))
        pub = nums.public_numbers
        object.__setattr__(self, "_public", IssuerPublicKey(pub.n, pub.e))

    def public_key(self) -> IssuerPublicKey:
        return self._public

    def to_pem(self, password: bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with ``password`` if one is given."""
        enc = (serialization.BestAvailableEncryption(password) if password
               else serialization.NoEncryption())
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)

    @classmethod
    def from_pem(cls, data: bytes, password: bytes | None = None) -> IssuerPrivateKey:
        try:
            key = serialization.load_pem_private_key(_bytes(data, "private key"), password)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise BlindSignatureError(f"private key: cannot load PKCS#8 PEM ({exc})") from None
        return cls(key)  # type: ignore[arg-type]


@dataclass(frozen=True)
class BlindingState:
    """What the client keeps between :func:`blind` and :func:`finalize`. ``inv`` is secret."""

    inv: int = field(repr=False)
    modulus: int = field(repr=False)
    variant: Variant = DEFAULT_VARIANT


def generate_issuer_key(bits: int = 3072) -> IssuerPrivateKey:
    """A fresh issuer key (e = 65537), at least :data:`MIN_MODULUS_BITS` bits."""
    if bits < MIN_MODULUS_BITS:
        raise ValueError(f"issuer keys must have at least {MIN_MODULUS_BITS} bits, not {bits}")
    return IssuerPrivateKey(rsa.generate_private_key(public_exponent=65537, key_size=bits))


def _mgf1_sha384(seed: bytes, length: int) -> bytes:
    out = b"".join(hashlib.sha384(seed + i.to_bytes(4, "big")).digest()
                   for i in range(-(-length // _HLEN)))
    return out[:length]


def emsa_pss_encode(msg: bytes, em_bits: int, *, variant: Variant = DEFAULT_VARIANT,
                    salt: bytes | None = None) -> bytes:
    """EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-384 and MGF1-SHA-384."""
    msg = _bytes(msg, "message")
    em_len = (em_bits + 7) // 8
    s_len = variant.salt_length
    if salt is None:
        salt = secrets.token_bytes(s_len)
    elif len(_bytes(salt, "salt")) != s_len:
        raise BlindSignatureError(f"salt must be {s_len} bytes for {variant.name}, got {len(salt)}")
    if em_len < _HLEN + s_len + 2:
        raise BlindSignatureError("encoding error: modulus too small for SHA-384 and this salt")
    h = hashlib.sha384(b"\x00" * 8 + hashlib.sha384(msg).digest() + salt).digest()
    db = b"\x00" * (em_len - s_len - _HLEN - 2) + b"\x01" + salt
    masked = bytearray(a ^ b for a, b in zip(db, _mgf1_sha384(h, em_len - _HLEN - 1)))
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked) + h + b"\xbc"


def prepare(msg: bytes, *, variant: Variant = DEFAULT_VARIANT) -> bytes:
    """RFC 9474 Prepare: 32 random bytes || msg (randomized variants), else msg itself."""
    msg = _bytes(msg, "message")
    return secrets.token_bytes(PREFIX_BYTES) + msg if variant.randomized else msg


def _random_unit(n: int) -> int:
    while True:
        r = 1 + secrets.randbelow(n - 1)
        if math.gcd(r, n) == 1:
            return r


def blind(pk: IssuerPublicKey, prepared_msg: bytes, *, variant: Variant = DEFAULT_VARIANT,
          salt: bytes | None = None, r: int | None = None,
          inv: int | None = None) -> tuple[bytes, BlindingState]:
    """RFC 9474 Blind. Returns (blinded_msg, state); blinded_msg is kLen bytes.

    ``salt``, ``r`` (the blinding factor) or ``inv`` (r⁻¹ mod n) are for test vectors only.
    """
    n = pk.n
    if r is not None and inv is not None:
        raise BlindSignatureError("give r or inv, not both")
    given = r if r is not None else inv
    if given is not None and not (1 <= given < n and math.gcd(given, n) == 1):
        raise BlindSignatureError("blinding factor must be in [1, n) and coprime with n")
    if inv is not None:
        r = pow(inv, -1, n)
    elif r is None:
        r = _random_unit(n)
    encoded = emsa_pss_encode(prepared_msg, pk.modulus_bits - 1, variant=variant, salt=salt)
    m = int.from_bytes(encoded, "big")
    if math.gcd(m, n) != 1:
        raise BlindSignatureError("invalid input: encoded message is not coprime with n")
    z = m * pow(r, pk.e, n) % n
    return z.to_bytes(pk.modulus_bytes, "big"), BlindingState(pow(r, -1, n), n, variant)


def blind_sign(sk: IssuerPrivateKey, blinded_msg: bytes) -> bytes:
    """RFC 9474 BlindSign: blinded_msg^d mod n (CRT, constant-time powmod), checked by s^e."""
    pk = sk.public_key()
    blinded_msg = _bytes(blinded_msg, "blinded message")
    if len(blinded_msg) != pk.modulus_bytes:
        raise BlindSignatureError(
            f"blinded message must be {pk.modulus_bytes} bytes, got {len(blinded_msg)}")
    m = int.from_bytes(blinded_msg, "big")
    if m >= pk.n:
        raise BlindSignatureError("blinded message out of range: its value is not less than n")
    p, q, dp, dq, qinv = sk._crt
    s1 = gmpy2.powmod_sec(m % p, dp, p)
    s2 = gmpy2.powmod_sec(m % q, dq, q)
    s = int(s2 + q * (qinv * (s1 - s2) % p))  # Garner's recombination
    if pow(s, pk.e, pk.n) != m:
        raise BlindSignatureError("signing failure: blind signature does not verify (s^e != m)")
    return s.to_bytes(pk.modulus_bytes, "big")


def check_signature(pk: IssuerPublicKey, prepared_msg: bytes, sig: bytes, *,
                    variant: Variant = DEFAULT_VARIANT) -> None:
    """Raise :class:`BlindSignatureError` unless ``sig`` is a valid RSASSA-PSS signature."""
    prepared_msg = _bytes(prepared_msg, "message")
    sig = _bytes(sig, "signature")
    if len(sig) != pk.modulus_bytes:
        raise BlindSignatureError(f"signature must be {pk.modulus_bytes} bytes, got {len(sig)}")
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=variant.salt_length)
    try:
        pk._key.verify(sig, prepared_msg, pss, hashes.SHA384())
    except InvalidSignature:
        raise BlindSignatureError(f"invalid signature ({variant.name})") from None


def verify(pk: IssuerPublicKey, prepared_msg: bytes, sig: bytes, *,
           variant: Variant = DEFAULT_VARIANT) -> bool:
    """True iff ``sig`` is a valid signature of ``prepared_msg`` (malformed input: False)."""
    try:
        check_signature(pk, prepared_msg, sig, variant=variant)
    except BlindSignatureError:
        return False
    return True


def finalize(pk: IssuerPublicKey, prepared_msg: bytes, blind_sig: bytes,
             state: BlindingState) -> bytes:
    """RFC 9474 Finalize: sig = blind_sig · inv mod n, verified before it is returned."""
    blind_sig = _bytes(blind_sig, "blind signature")
    if state.modulus != pk.n:
        raise BlindSignatureError("blinding state belongs to a different issuer key")
    if len(blind_sig) != pk.modulus_bytes:
        raise BlindSignatureError(
            f"blind signature must be {pk.modulus_bytes} bytes, got {len(blind_sig)}")
    z = int.from_bytes(blind_sig, "big")
    if z >= pk.n:
        raise BlindSignatureError("blind signature out of range: its value is not less than n")
    sig = (z * state.inv % pk.n).to_bytes(pk.modulus_bytes, "big")
    try:
        check_signature(pk, prepared_msg, sig, variant=state.variant)
    except BlindSignatureError:
        raise BlindSignatureError(
            "finalize: the issuer's blind signature does not give a valid signature") from None
    return sig
