"""A trustee's device: the key ceremony and the partial decryption, over the JSON API.

The trustee's secrets live only in its key file (passphrase-encrypted) and in memory here.
"""

from __future__ import annotations

from typing import Any

from ballot.crypto.elgamal import Ciphertext
from ballot.crypto.encoding import b64decode, b64encode
from ballot.crypto.threshold import EncryptedShare, ShareError, make_shares, new_trustee, receive_share, secret_share
from ballot.election.manifest import Manifest
from ballot.tally.context import ElectionContext, trustee_public_from_json, trustee_public_to_json
from ballot.tally.decryption import decrypt_aggregate
from ballot.tally.trustee_keyfile import TrusteeKeys

from .http import Http


class TrusteeDevice:
    def __init__(self, http: Http, slug: str, index: int):
        self.http, self.slug, self.index = http, slug, index

    def _path(self, tail: str) -> str:
        return f"/api/v1/elections/{self.slug}/{tail}"

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
        return TrusteeKeys(keys.manifest_hash, keys.secret, secret_share(keys.secret, received))

    def decrypt(self, keys: TrusteeKeys) -> int:
        agg = self.http.get(self._path("aggregate"))
        ctx = ElectionContext.from_json(Manifest.from_json(agg["manifest"]), agg["context"])
        if ctx.manifest_hash != keys.manifest_hash:
            raise ValueError("this key file is for another election")
        totals = [Ciphertext.from_bytes(b64decode(u, 64)) for u in agg["aggregate"]]
        dec = decrypt_aggregate(ctx, self.index, keys.share, totals)
        resp = self.http.post(self._path(f"trustees/{self.index}/decryption"),
                              {"decryption": dec.to_json()})
        return resp["decryptions"]
