"""Trustees' approvals of the election fingerprint (docs/protocol.md, "Trustee approvals").

After the key ceremony each trustee's device fetches the final election context, checks that
its trustees' keys are exactly the ones it checked its shares against (it remembers their
digest, :func:`publics_digest`, in its key file), so that the joint key is the product of
those constant-term commitments, shows the base hash for the committee to compare with the
projector, and signs it: a Schnorr signature with the trustee's ceremony key a_i0 (whose
commitment K_i0 is in the context), over the context

    approval_context = SHA-256 tag "ballot/v1/ctx/trustee-approval"
                       over base_hash (32 bytes) || u32(trustee index)

i.e. the Schnorr proof of knowledge of a_i0 with that context (``ballot/crypto/proofs.py``).
Wire and record form: ``{"trustee": i, "base_hash": hex, "signature": b64(c ‖ v)}``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ballot.crypto.encoding import EncodingError, b64decode, b64encode, canonical_json, sha256, uint32
from ballot.crypto.group import random_scalar
from ballot.crypto.proofs import ProofError, SchnorrProof, prove_schnorr, verify_schnorr
from ballot.crypto.threshold import TrusteePublic

from .context import ElectionContext, trustee_public_to_json

__all__ = ["APPROVAL_TAG", "ApprovalError", "approval_context", "publics_digest", "sign_approval",
           "verify_approval", "verify_approvals"]

APPROVAL_TAG = "ballot/v1/ctx/trustee-approval"
PUBLICS_TAG = "ballot/v1/trustee-publics"


class ApprovalError(ValueError):
    """An approval that is malformed, for another election, or whose signature fails."""


def approval_context(base_hash: bytes, index: int) -> bytes:
    return sha256(APPROVAL_TAG, base_hash, uint32(index))


def publics_digest(publics: Sequence[TrusteePublic]) -> bytes:
    """SHA-256 tag "ballot/v1/trustee-publics" over the canonical JSON of the list of every
    trustee's public keys in index order (the context's ``trustees`` field)."""
    return sha256(PUBLICS_TAG, canonical_json([trustee_public_to_json(p) for p in publics]))


def sign_approval(ctx: ElectionContext, index: int, a0: int, *,
                  rng: Callable[[], int] = random_scalar) -> dict[str, Any]:
    """Trustee ``index`` approves ``ctx``'s base hash with its constant coefficient a_i0
    (``rng`` draws the Schnorr nonce: fixed in the cross-language vectors)."""
    K0 = ctx.trustees[index - 1].commitments[0]
    proof = prove_schnorr(approval_context(ctx.base_hash, index), a0, K0, rng=rng)
    return {"trustee": index, "base_hash": ctx.base_hash.hex(), "signature": b64encode(proof.to_bytes())}


def verify_approval(ctx: ElectionContext, data: Any, where: str = "approval") -> int:
    """Check one approval against the context; returns the trustee's index."""
    if not isinstance(data, dict) or set(data) != {"trustee", "base_hash", "signature"}:
        raise ApprovalError(f"{where}: expected the fields trustee, base_hash, signature")
    t = data["trustee"]
    if isinstance(t, bool) or not isinstance(t, int) or not 1 <= t <= len(ctx.trustees):
        raise ApprovalError(f"{where}.trustee: one of the trustees 1..{len(ctx.trustees)}")
    if data["base_hash"] != ctx.base_hash.hex():
        raise ApprovalError(f"{where}: trustee {t} approved another fingerprint")
    try:
        proof = SchnorrProof.from_bytes(b64decode(data["signature"], 64, f"{where}.signature"))
        verify_schnorr(approval_context(ctx.base_hash, t), ctx.trustees[t - 1].commitments[0], proof)
    except (EncodingError, ProofError, TypeError):
        raise ApprovalError(f"{where}: trustee {t}'s signature does not verify") from None
    return t


def verify_approvals(ctx: ElectionContext, items: Any) -> list[int]:
    """Exactly one valid approval by each trustee 1..n, in order; returns the indices."""
    if not isinstance(items, list):
        raise ApprovalError("approvals: a list")
    seen = [verify_approval(ctx, a, f"approvals[{i}]") for i, a in enumerate(items)]
    n = len(ctx.trustees)
    missing = sorted(set(range(1, n + 1)) - set(seen))
    if missing:
        raise ApprovalError(f"no approval by trustees {missing}")
    if seen != list(range(1, n + 1)):
        raise ApprovalError("approvals: one per trustee, in trustee order")
    return seen
