"""The election context: the manifest plus the key ceremony's public result.

Its canonical JSON is hashed into the **base hash** (the election fingerprint) that every
token, ballot proof, partial decryption and board entry is bound to (docs/protocol.md,
"Election context").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ballot.crypto import blind_rsa
from ballot.crypto.ballots import BallotShape
from ballot.crypto.encoding import EncodingError, b64decode, b64encode, canonical_json, sha256
from ballot.crypto.group import Point, decode_point
from ballot.crypto.proofs import SchnorrProof
from ballot.crypto.threshold import (
    CeremonyError,
    TrusteePublic,
    joint_commitments,
    public_share,
    verify_trustee_public,
)
from ballot.election.manifest import Manifest

__all__ = ["CONTEXT_VERSION", "ContextError", "ElectionContext", "trustee_public_to_json",
           "trustee_public_from_json"]

CONTEXT_VERSION = "ballot/v1/context"


class ContextError(ValueError):
    """An election context that is malformed or inconsistent with its manifest."""


def trustee_public_to_json(pub: TrusteePublic) -> dict[str, Any]:
    return {
        "index": pub.index,
        "commitments": [b64encode(K.data) for K in pub.commitments],
        "proofs": [b64encode(p.to_bytes()) for p in pub.proofs],
        "box_public": b64encode(pub.box_public),
    }


def trustee_public_from_json(data: Any, where: str = "trustee") -> TrusteePublic:
    try:
        if not isinstance(data, dict) or set(data) != {"index", "commitments", "proofs", "box_public"}:
            raise ContextError(f"{where}: expected index, commitments, proofs, box_public")
        index = data["index"]
        if isinstance(index, bool) or not isinstance(index, int) or index < 1:
            raise ContextError(f"{where}.index: a positive integer")
        if not isinstance(data["commitments"], list) or not isinstance(data["proofs"], list):
            raise ContextError(f"{where}: commitments and proofs are lists")
        return TrusteePublic(
            index,
            tuple(decode_point(b64decode(c, 32, f"{where}.commitments[{j}]"), f"{where}.commitments[{j}]")
                  for j, c in enumerate(data["commitments"])),
            tuple(SchnorrProof.from_bytes(b64decode(p, 64, f"{where}.proofs[{j}]"))
                  for j, p in enumerate(data["proofs"])),
            b64decode(data["box_public"], 32, f"{where}.box_public"),
        )
    except EncodingError as exc:
        raise ContextError(str(exc)) from None


@dataclass(frozen=True)
class ElectionContext:
    manifest: Manifest
    trustees: tuple[TrusteePublic, ...]  # indices 1..n in order

    # -- derived values ----------------------------------------------------------------------
    @cached_property
    def manifest_hash(self) -> bytes:
        return self.manifest.manifest_hash()

    @cached_property
    def threshold(self) -> int:
        return self.manifest.trustees.threshold

    @cached_property
    def joint(self) -> tuple[Point, ...]:
        return joint_commitments(self.trustees)

    @property
    def public_key(self) -> Point:
        return self.joint[0]

    def public_share(self, index: int) -> Point:
        return public_share(self.joint, index)

    @cached_property
    def issuer(self) -> blind_rsa.IssuerPublicKey:
        try:
            return blind_rsa.IssuerPublicKey.from_der(
                b64decode(self.manifest.issuer_public_key, what="issuer_public_key"))
        except (EncodingError, blind_rsa.BlindSignatureError) as exc:
            raise ContextError(f"manifest issuer_public_key: {exc}") from None

    @cached_property
    def eligible(self) -> int:
        return len(self.manifest.eligible_voters())

    @cached_property
    def shape(self) -> BallotShape:
        return BallotShape(
            num_units=len(self.manifest.units),
            num_levels=len(self.manifest.levels),
            abstain_allowed=self.manifest.rules.abstain_allowed,
            radix=self.manifest.radix(),
            limits=self.manifest.ballot_limits(),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": CONTEXT_VERSION,
            "manifest_hash": self.manifest_hash.hex(),
            "threshold": self.threshold,
            "trustees": [trustee_public_to_json(t) for t in self.trustees],
            "joint_public_key": b64encode(self.public_key.data),
            "radix": self.shape.radix,
        }

    @cached_property
    def base_hash(self) -> bytes:
        return sha256("ballot/v1/base-hash", canonical_json(self.to_json()))

    # -- checks ------------------------------------------------------------------------------
    def validate(self) -> None:
        """Every trustee's proofs, the count of trustees, the issuer key; raises ContextError."""
        n = self.manifest.trustees.n
        if [t.index for t in self.trustees] != list(range(1, n + 1)):
            raise ContextError(f"expected the public keys of trustees 1..{n} in order")
        for t in self.trustees:
            try:
                verify_trustee_public(self.manifest_hash, t, self.threshold)
            except CeremonyError as exc:
                raise ContextError(str(exc)) from None
        self.issuer  # noqa: B018 — decodes and checks the key
        try:
            self.shape  # noqa: B018
        except ValueError as exc:
            raise ContextError(str(exc)) from None

    @classmethod
    def from_json(cls, manifest: Manifest, data: Any) -> "ElectionContext":
        """Rebuild from the manifest and a context document, checking every derived field."""
        keys = {"version", "manifest_hash", "threshold", "trustees", "joint_public_key", "radix"}
        if not isinstance(data, dict) or set(data) != keys:
            raise ContextError(f"context: expected exactly the fields {sorted(keys)}")
        if data["version"] != CONTEXT_VERSION:
            raise ContextError(f"context: unsupported version {data['version']!r}")
        if not isinstance(data["trustees"], list):
            raise ContextError("context.trustees: a list")
        ctx = cls(manifest, tuple(trustee_public_from_json(t, f"context.trustees[{i}]")
                                  for i, t in enumerate(data["trustees"])))
        ctx.validate()
        if ctx.to_json() != data:
            mismatch = [k for k in sorted(keys) if ctx.to_json()[k] != data[k]]
            raise ContextError(f"context: {', '.join(mismatch)} do not match the manifest and keys")
        return ctx
