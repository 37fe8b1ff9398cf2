"""A trustee's device: the key ceremony and the partial decryption, over the JSON API.

The trustee's secrets live only in its key file (passphrase-encrypted) and in memory here.
"""

from __future__ import annotations

from typing import Any, Callable

from ballot.crypto.encoding import b64decode, b64encode
from ballot.crypto.threshold import EncryptedShare, ShareError, make_shares, new_trustee, receive_share, secret_share
from ballot.election.errors import ManifestError
from ballot.election.manifest import Manifest
from ballot.crypto.group import base_mul
from ballot.crypto.threshold import joint_public_key
from ballot.tally.approval import publics_digest, sign_approval
from ballot.tally.board_check import BoardError, CheckedBoard, check_board
from ballot.tally.context import (ContextError, ElectionContext, trustee_public_from_json,
                                  trustee_public_to_json)
from ballot.tally.decryption import decrypt_aggregate
from ballot.tally.trustee_keyfile import TrusteeKeys

from .http import Http


class TrusteeCheckError(ValueError):
    """What the server gave does not check: this device does not act on it."""


class TrusteeDevice:
    def __init__(self, http: Http, slug: str, index: int):
        self.http, self.slug, self.index = http, slug, index

    def _path(self, tail: str) -> str:
        return f"/api/v1/elections/{self.slug}/{tail}"

    def enrol(self, new_code: str) -> None:
        """First sign-in: this device holds the secretary's one-time enrolment code; set the
        trustee's own access code, which every later request presents."""
        self.http.post(self._path(f"trustees/{self.index}/enrol"), {"code": new_code})
        self.http.bearer = new_code

    def state(self) -> dict[str, Any]:
        return self.http.get(self._path("ceremony"))

    def keygen(self) -> TrusteeKeys:
        st = self.state()
        manifest = Manifest.from_json(st["manifest"])
        mh = manifest.manifest_hash()
        if mh.hex() != st["manifest_hash"]:
            raise ValueError("the server's manifest hash does not match its manifest")
        secret, public = new_trustee(mh, self.index, manifest.trustees.threshold)
        self.http.post(self._path(f"trustees/{self.index}/public"),
                       {"public": trustee_public_to_json(public)})
        return TrusteeKeys(mh, secret)

    def send_shares(self, keys: TrusteeKeys) -> None:
        st = self.state()
        publics = [trustee_public_from_json(t["public"]) for t in st["trustees"]]
        shares = make_shares(keys.manifest_hash, keys.secret, publics)
        self.http.post(self._path(f"trustees/{self.index}/shares"), {"shares": [
            {"recipient": sh.recipient, "ciphertext": b64encode(sh.ciphertext)} for sh in shares]})

    def receive_shares(self, keys: TrusteeKeys) -> TrusteeKeys:
        st = self.state()
        publics = {t["index"]: trustee_public_from_json(t["public"]) for t in st["trustees"]}
        inbox = self.http.get(self._path(f"trustees/{self.index}/shares"))["shares"]
        received, complaints = {}, []
        for sh in inbox:
            try:
                received[sh["sender"]] = receive_share(
                    keys.manifest_hash, keys.secret, publics[sh["sender"]],
                    EncryptedShare(sh["sender"], self.index, b64decode(sh["ciphertext"])))
            except ShareError as exc:
                complaints.append({"sender": exc.sender, "reason": str(exc)})
        missing = set(publics) - {self.index} - set(received) - {c["sender"] for c in complaints}
        complaints += [{"sender": m, "reason": "no share received"} for m in sorted(missing)]
        self.http.post(self._path(f"trustees/{self.index}/accept"), {"complaints": complaints})
        if complaints:
            raise ShareError(complaints[0]["sender"], self.index, complaints[0]["reason"])
        # Remember the keys the shares were checked against: the election key must be made of
        # exactly these (checked before approving, approve()).
        digest = publics_digest([publics[i] for i in sorted(publics)])
        return TrusteeKeys(keys.manifest_hash, keys.secret, secret_share(keys.secret, received),
                           digest)

    def approve(self, keys: TrusteeKeys, *, confirm: Callable[[str], bool] | None = None) -> str:
        """After "Finish": fetch the final election context, check that its trustees' keys are
        the ones this device checked its shares against (so the joint key is the product of
        those constant-term commitments) and that its public share is g^(s_i); ``confirm``
        sees the fingerprint (base hash) for the committee to compare with the projector;
        then sign it (ballot/tally/approval.py). Returns the base hash (hex)."""
        if keys.share is None:
            raise TrusteeCheckError("this key file has no secret share: check your shares first")
        if keys.publics is None:
            raise TrusteeCheckError("this key file does not remember the trustees' keys the shares "
                                    "were checked against (made before approvals existed, or the "
                                    "first key file): open the key file saved after the check")
        ctx = self.election(keys)
        if publics_digest(ctx.trustees) != keys.publics:
            raise TrusteeCheckError("the election key is NOT made of the trustees' keys your shares "
                                    "were checked against: do not approve, tell the committee")
        if ctx.public_key != joint_public_key(ctx.trustees):
            raise TrusteeCheckError("the joint key is not the product of the trustees' commitments")
        mine = ctx.trustees[self.index - 1]
        if mine.commitments[0] != base_mul(keys.secret.coefficients[0]) \
                or base_mul(keys.share) != ctx.public_share(self.index):
            raise TrusteeCheckError("your own keys in the election context are not yours")
        if confirm is not None and not confirm(ctx.base_hash.hex()):
            raise TrusteeCheckError("not approved: the fingerprint was not confirmed")
        approval = sign_approval(ctx, self.index, keys.secret.coefficients[0])
        self.http.post(self._path(f"trustees/{self.index}/approval"), {"approval": approval})
        return ctx.base_hash.hex()

    def election(self, keys: TrusteeKeys | None = None) -> ElectionContext:
        """The election context as the server gives it to phones, every proof and derived field
        checked (and, with ``keys``, for the key file's election)."""
        info = self.http.get(f"/api/v1/elections/{self.slug}")
        try:
            if not isinstance(info, dict):
                raise TrusteeCheckError("the server's election info is not an object")
            ctx = ElectionContext.from_json(Manifest.from_json(info.get("manifest")),
                                            info.get("context"))
        except (ManifestError, ContextError, ValueError, TypeError) as exc:
            raise TrusteeCheckError(f"the election context does not check: {exc}") from None
        if info.get("base_hash") != ctx.base_hash.hex():
            raise TrusteeCheckError("the server's fingerprint does not match its manifest and keys")
        if keys is not None and ctx.manifest_hash != keys.manifest_hash:
            raise TrusteeCheckError("this key file is for another election")
        return ctx

    def check_board(self, keys: TrusteeKeys, *, progress: Callable[[int, int], None] | None = None,
                    workers: int | None = None) -> tuple[ElectionContext, CheckedBoard]:
        """Download the whole board and check it here (chain, every ballot's token, signature
        and proofs, no token twice, ballots ≤ tokens issued by the counters); the aggregate is
        recomputed from it (ballot/tally/board_check.py). Raises TrusteeCheckError."""
        ctx = self.election(keys)
        counters = self.http.get(self._path("counters"))
        board = self.http.get(self._path("board/ballots"))
        try:
            checked = check_board(ctx, board.get("board") if isinstance(board, dict) else None,
                                  counters.get("tokens") if isinstance(counters, dict) else None,
                                  progress=progress, workers=workers,
                                  checks=board.get("checks") if isinstance(board, dict) else None)
        except BoardError as exc:
            raise TrusteeCheckError(f"the board does not check: {exc}") from None
        return ctx, checked

    def decrypt(self, keys: TrusteeKeys, *, confirm: Callable[[CheckedBoard], bool] | None = None,
                progress: Callable[[int, int], None] | None = None,
                workers: int | None = None) -> int:
        """Partial decryptions of the aggregate recomputed from the board checked here, exactly
        one per unit, never of anything the server calls an aggregate. ``confirm`` sees the
        board's head (ballot count, last entry hash) first; False stops before any decryption."""
        ctx, checked = self.check_board(keys, progress=progress, workers=workers)
        if confirm is not None and not confirm(checked):
            raise TrusteeCheckError("not confirmed: nothing was decrypted")
        if len(checked.aggregate) != len(ctx.manifest.units):
            raise TrusteeCheckError("the aggregate is not one ciphertext per unit")
        dec = decrypt_aggregate(ctx, self.index, keys.share, checked.aggregate)
        resp = self.http.post(self._path(f"trustees/{self.index}/decryption"),
                              {"decryption": dec.to_json()})
        return resp["decryptions"]
