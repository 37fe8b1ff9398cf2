"""A voter's device: fetch the election, obtain a blind-signed token, encrypt, cast, check
the receipt (the same steps as the phone page, docs/protocol.md "Voting")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from nacl.signing import SigningKey

from ballot.crypto import blind_rsa
from ballot.crypto.ballots import AuditRecord, EncryptedBallot, encrypt_ballot
from ballot.crypto.credential import credential
from ballot.crypto.encoding import b64decode, b64encode
from ballot.crypto.group import encode_scalar
from ballot.crypto.token import Token, token_message
from ballot.election.manifest import Manifest
from ballot.tally.board import Receipt, verify_receipt
from ballot.tally.context import ElectionContext

from .http import Http

AUDIT_VERSION = "ballot/v1/audit"


@dataclass(frozen=True)
class Election:
    slug: str
    ctx: ElectionContext
    receipt_key: bytes


def fetch_election(http: Http, slug: str) -> Election:
    info = http.get(f"/api/v1/elections/{slug}")
    ctx = ElectionContext.from_json(Manifest.from_json(info["manifest"]), info["context"])
    if ctx.base_hash.hex() != info["base_hash"]:
        raise ValueError("the server's base hash does not match its manifest and keys")
    return Election(slug, ctx, b64decode(info["receipt_key"], 32))


def token_credential(slug: str, invitation: str) -> str:
    """What the token request carries instead of the slip's code: its credential for this
    election (round), 64 hex digits. A code that is empty once normalized gives a credential
    that matches no invitation, so the server answers as for any unknown code."""
    try:
        return credential(slug, invitation).hex()
    except ValueError:
        return "0" * 64


def obtain_token(http: Http, election: Election, invitation: str) -> tuple[Token, SigningKey]:
    key = SigningKey.generate()
    issuer = election.ctx.issuer
    prepared = blind_rsa.prepare(token_message(election.ctx.base_hash, bytes(key.verify_key)))
    blinded, state = blind_rsa.blind(issuer, prepared)
    # The per-round credential, never the code (docs/protocol.md §7.1), as the phone page.
    resp = http.post(f"/api/v1/elections/{election.slug}/tokens",
                     {"credential": token_credential(election.slug, invitation),
                      "blinded_msg": b64encode(blinded)})
    sig = blind_rsa.finalize(issuer, prepared, b64decode(resp["blind_sig"]), state)
    return Token(prepared, sig), key


def seal(election: Election, token: Token, key: SigningKey,
         choices: Sequence[int | None]) -> tuple[EncryptedBallot, AuditRecord]:
    ballot, nonces = encrypt_ballot(election.ctx.shape, election.ctx.base_hash,
                                    election.ctx.public_key, token, key, choices)
    return ballot, AuditRecord(tuple(choices), nonces)


def seal_unsigned(election: Election, token: Token,
                  choices: Sequence[int | None]) -> tuple[EncryptedBallot, AuditRecord]:
    """Encrypt and prove without signing, as the phone does before the member chooses between
    audit and cast: the body a Benaloh audit may open (sign it with sign_ballot to cast)."""
    ballot, nonces = encrypt_ballot(election.ctx.shape, election.ctx.base_hash,
                                    election.ctx.public_key, token, None, choices)
    return ballot, AuditRecord(tuple(choices), nonces)


def audit_document(election: Election, body: EncryptedBallot, audit: AuditRecord) -> dict[str, Any]:
    """The phone's audit file (docs/protocol.md §8.4): the unsigned body, choices and nonces.
    Refuses a signed ballot: an opened ballot must not be castable."""
    if body.signature:
        raise ValueError("an audit opens an unsigned ballot body; this one is signed")
    return {"version": AUDIT_VERSION, "election": election.ctx.base_hash.hex(),
            "slug": election.slug, "tracking_code": body.tracking_code,
            "ballot": body.body_json(),
            "audit": {"choices": list(audit.choices),
                      "nonces": [b64encode(encode_scalar(r)) for r in audit.nonces]}}


def cast(http: Http, election: Election, ballot: EncryptedBallot) -> Receipt:
    resp = http.post(f"/api/v1/elections/{election.slug}/ballots", {"ballot": ballot.to_json()})
    receipt = Receipt.from_json(resp["receipt"])
    verify_receipt(election.receipt_key, receipt)
    if receipt.tracking_code != ballot.tracking_code:
        raise ValueError("the receipt is for another ballot")
    return receipt


def vote(http: Http, slug: str, invitation: str, choices: Sequence[int | None],
         election: Election | None = None) -> dict[str, Any]:
    election = election or fetch_election(http, slug)
    token, key = obtain_token(http, election, invitation)
    ballot, _ = seal(election, token, key, choices)
    return cast(http, election, ballot).to_json()
