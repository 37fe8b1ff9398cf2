"""What a phone computes before the timed window of ``load.py``: its voter key and the
encrypted, proven units of its ballot (the expensive part, done on phones in real life).

A ballot's units depend on the election key, the voter key and the choices, not on the
token's signature; so they are sealed in advance with a placeholder token, and after the
token request only the token and the voter's Ed25519 signature are added
(:func:`finish_ballot`), giving exactly the bytes ``ballot.crypto.ballots.encrypt_ballot``
produces for the real token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from nacl.signing import SigningKey

from ballot.crypto import blind_rsa
from ballot.crypto.ballots import BALLOT_VERSION, BallotShape, body_hash, encrypt_ballot, tracking_code
from ballot.crypto.encoding import b64encode
from ballot.crypto.group import decode_point
from ballot.crypto.token import Token, token_message

def seal_units(job: tuple[BallotShape, bytes, bytes, bytes, bytes, Sequence[int | None]]) -> list[str]:
    """(shape, base hash, election public key, voter key seed, prepared token message,
    choices) -> the ballot's units (base64url), as the phone would send them."""
    shape, base_hash, public_key, seed, prepared, choices = job
    key = SigningKey(seed)
    placeholder = Token(prepared, b"")
    ballot, _ = encrypt_ballot(shape, base_hash, decode_point(public_key), placeholder, key,
                               list(choices))
    return ballot.body_json()["units"]


@dataclass
class PhoneKit:
    """Everything one phone holds when the meeting's voting starts."""

    slug: str
    invitation: str
    seed: bytes
    prepared: bytes
    blinded: bytes
    state: Any  # blind_rsa.BlindingState
    units: list[str]

    @staticmethod
    def prepare_token(base_hash: bytes, issuer: blind_rsa.IssuerPublicKey,
                      seed: bytes) -> tuple[bytes, bytes, Any]:
        key = SigningKey(seed)
        prepared = blind_rsa.prepare(token_message(base_hash, bytes(key.verify_key)))
        blinded, state = blind_rsa.blind(issuer, prepared)
        return prepared, blinded, state


def finish_ballot(kit: PhoneKit, base_hash: bytes, signature: bytes) -> tuple[dict, str]:
    """The ballot JSON for the real token, signed by the voter key; and its tracking code."""
    body = {
        "version": BALLOT_VERSION,
        "election": base_hash.hex(),
        "token": {"message": b64encode(kit.prepared), "signature": b64encode(signature)},
        "units": kit.units,
    }
    bhash = body_hash(body)
    sig = SigningKey(kit.seed).sign(bhash).signature
    return {**body, "signature": b64encode(sig)}, tracking_code(bhash)
