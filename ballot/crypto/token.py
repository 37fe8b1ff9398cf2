"""The voting token: a blind-signed message binding the election and a fresh voter key.

token message  msg = "ballot/v1/token" || base_hash (32) || voter_public_key (32)
prepared       prefix (32 random bytes) || msg            (RFC 9474 randomized Prepare)
signature      RSABSSA-SHA384-PSS-Randomized over the prepared message, by the issuer key
token id       SHA-256 tag hash "ballot/v1/token-id" over the prepared message

The issuer sees only the blinded message, so it learns that a roll entry received a token,
never which one. The ballot is signed with the voter key inside the token, so nobody can
attach another ballot to a token (docs/protocol.md, "Tokens").
"""

from __future__ import annotations

from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from . import blind_rsa
from .encoding import EncodingError, sha256

__all__ = ["TOKEN_TAG", "TokenError", "Token", "token_message", "parse_token_message"]

TOKEN_TAG = b"ballot/v1/token"
PREPARED_LENGTH = 32 + len(TOKEN_TAG) + 32 + 32


class TokenError(ValueError):
    """A token that is malformed, for another election, or not signed by the issuer."""


def token_message(base_hash: bytes, voter_public_key: bytes) -> bytes:
    if len(base_hash) != 32 or len(voter_public_key) != 32:
        raise EncodingError("the base hash and the voter key are 32 bytes each")
    return TOKEN_TAG + base_hash + voter_public_key


def parse_token_message(prepared: bytes) -> tuple[bytes, bytes]:
    """(base_hash, voter_public_key) from a prepared token message."""
    if len(prepared) != PREPARED_LENGTH:
        raise TokenError(f"a token message is {PREPARED_LENGTH} bytes, got {len(prepared)}")
    body = prepared[32:]
    if not body.startswith(TOKEN_TAG):
        raise TokenError("not a ballot token message")
    return body[len(TOKEN_TAG) : len(TOKEN_TAG) + 32], body[len(TOKEN_TAG) + 32 :]


@dataclass(frozen=True)
class Token:
    message: bytes  # the prepared message: prefix || msg
    signature: bytes  # the issuer's RSASSA-PSS signature over it

    @property
    def token_id(self) -> bytes:
        return sha256("ballot/v1/token-id", self.message)

    @property
    def voter_public_key(self) -> bytes:
        return parse_token_message(self.message)[1]

    def check(self, issuer: blind_rsa.IssuerPublicKey, base_hash: bytes) -> VerifyKey:
        """Check the issuer's signature and the election; return the voter's verify key."""
        election, voter_key = parse_token_message(self.message)
        if election != base_hash:
            raise TokenError("the token is for another election")
        try:
            blind_rsa.check_signature(issuer, self.message, self.signature)
        except blind_rsa.BlindSignatureError as exc:
            raise TokenError(f"the token's signature is not the issuer's: {exc}") from None
        try:
            return VerifyKey(voter_key)
        except Exception:
            raise TokenError("the voter key in the token is not an Ed25519 key") from None


def new_voter_key() -> SigningKey:
    return SigningKey.generate()


def verify_voter_signature(key: VerifyKey, message: bytes, signature: bytes) -> None:
    try:
        key.verify(message, signature)
    except (BadSignatureError, ValueError, TypeError):
        raise TokenError("the ballot's signature does not verify with the token's key") from None
