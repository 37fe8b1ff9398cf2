"""The bulletin board's hash chain and the server's receipts (docs/protocol.md, "Board").

entry_hash(n) = SHA-256 tag "ballot/v1/board-entry" over
                prev_hash (32) || u32(position) || ballot_hash (32)
with prev_hash of position 1 = 32 zero bytes (:data:`GENESIS`). Every ballot carries the
election's base hash, so the chain is bound to the election through its entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ballot.crypto.encoding import b64decode, b64encode, canonical_json, sha256, uint32

__all__ = ["GENESIS", "entry_hash", "Receipt", "sign_receipt", "verify_receipt", "ReceiptError"]


GENESIS = bytes(32)


def entry_hash(prev_hash: bytes, position: int, ballot_hash: bytes) -> bytes:
    return sha256("ballot/v1/board-entry", prev_hash, uint32(position), ballot_hash)


class ReceiptError(ValueError):
    pass


@dataclass(frozen=True)
class Receipt:
    election: str  # base hash, hex
    position: int
    tracking_code: str
    entry_hash: str  # hex
    accepted_at: str
    signature: str = ""  # base64url Ed25519 by the server's receipt key

    def body(self) -> dict[str, Any]:
        return {
            "version": "ballot/v1/receipt",
            "election": self.election,
            "position": self.position,
            "tracking_code": self.tracking_code,
            "entry_hash": self.entry_hash,
            "accepted_at": self.accepted_at,
        }

    def signed_bytes(self) -> bytes:
        return sha256("ballot/v1/receipt", canonical_json(self.body()))

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "signature": self.signature}

    @classmethod
    def from_json(cls, data: Any) -> "Receipt":
        keys = {"version", "election", "position", "tracking_code", "entry_hash", "accepted_at",
                "signature"}
        if not isinstance(data, dict) or set(data) != keys or data["version"] != "ballot/v1/receipt":
            raise ReceiptError("not a ballot/v1/receipt document")
        return cls(data["election"], data["position"], data["tracking_code"], data["entry_hash"],
                   data["accepted_at"], data["signature"])


def sign_receipt(key: SigningKey, receipt: Receipt) -> Receipt:
    sig = key.sign(receipt.signed_bytes()).signature
    return Receipt(**{**receipt.__dict__, "signature": b64encode(sig)})


def verify_receipt(public_key: bytes, receipt: Receipt) -> None:
    try:
        VerifyKey(public_key).verify(receipt.signed_bytes(), b64decode(receipt.signature, 64))
    except (BadSignatureError, ValueError):
        raise ReceiptError("the receipt's signature is not the server's") from None
