#!/usr/bin/env python3
"""Cross-language trustee vectors: writes tests/vectors/trustee_v1.json.

The key ceremony (3 trustees, k = 2, on the manifest of tests/vectors/protocol_v1.json), the
shares Box-encrypted from trustee to trustee, bad shares with Python's complaint texts, two key
files (argon2id + SecretBox, exactly ``seal_keys``) and the partial decryptions of a 5-unit
aggregate, all from the Python code (ballot/crypto/threshold.py, ballot/tally/trustee_keyfile.py,
ballot/tally/decryption.py) with fixed randomness, so the browser's code (js/src/threshold.js,
keyfile.js, trustee.js; js/test/trustee.test.js) can reproduce each byte. Deterministic:
tests/crypto/test_cross_language_trustee.py regenerates it and fails if the committed copy differs.

    python tests/vectors/trustee_make_vectors.py          # rewrite the file
    python tests/vectors/trustee_make_vectors.py --check  # exit 1 if it is stale

Randomness: scalars from the labelled sequences of make_protocol_vectors.py (the values each
step drew are written next to it, in Python's order); Box secret keys, Box nonces, the argon2id
salt and the SecretBox nonce from ``fixed_bytes`` — the nonces and the salt are injected into
PyNaCl's own ``random`` while the real ``make_shares`` and ``seal_keys`` run.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUTPUT = Path(__file__).resolve().with_name("trustee_v1.json")

import nacl.public  # noqa: E402
import nacl.secret  # noqa: E402
import nacl.utils  # noqa: E402
from nacl.public import Box, PrivateKey, PublicKey  # noqa: E402

from ballot.crypto import blind_rsa as br  # noqa: E402
from ballot.crypto.elgamal import encrypt  # noqa: E402
from ballot.crypto.encoding import b64encode, canonical_json  # noqa: E402
from ballot.crypto.group import base_mul, encode_scalar  # noqa: E402
from ballot.crypto.proofs import prove_dleq, prove_schnorr  # noqa: E402
from ballot.crypto.threshold import (  # noqa: E402
    EncryptedShare,
    PartialDecryption,
    ShareError,
    TrusteePublic,
    TrusteeSecret,
    _share_header,
    coefficient_context,
    make_shares,
    receive_share,
    secret_share,
)
from ballot.election.counts import UnitCounts  # noqa: E402
from ballot.election.manifest import Manifest  # noqa: E402
from ballot.tally.context import ElectionContext, trustee_public_to_json  # noqa: E402
from ballot.tally.decryption import (  # noqa: E402
    TrusteeDecryption,
    combine_decryptions,
    partial_context,
    value_of_counts,
    verify_decryption,
)
from ballot.tally.trustee_keyfile import TrusteeKeys, open_keys, seal_keys  # noqa: E402

PASSPHRASES = {1: "mật khẩu của tổ viên 1", 2: "correct horse battery staple"}


def _protocol_generator():
    spec = importlib.util.spec_from_file_location(
        "make_protocol_vectors", Path(__file__).resolve().with_name("make_protocol_vectors.py"))
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def injected(module, values: list[bytes]) -> Iterator[None]:
    """PyNaCl's ``random`` in ``module`` returns ``values`` in order (and must use them all)."""
    queue = list(values)
    original = module.random

    def fake(size: int = 32) -> bytes:
        value = queue.pop(0)
        assert len(value) == size, (len(value), size)
        return value

    module.random = fake
    try:
        yield
    finally:
        module.random = original
    assert not queue, "not every injected random value was used"


def build() -> dict:
    gen = _protocol_generator()
    Sequence, fixed_bytes = gen.Sequence, gen.fixed_bytes
    issuer = br.IssuerPrivateKey.from_pem(gen.ISSUER_PRIVATE_KEY_PEM.encode())
    manifest = Manifest.from_json(gen.election_vectors(issuer, Sequence("election"))["info"]["manifest"])
    mh = manifest.manifest_hash()
    n, k = manifest.trustees.n, manifest.trustees.threshold
    assert (n, k) == (3, 2)

    # 1. each trustee: coefficients, then one Schnorr nonce per coefficient (new_trustee's order)
    rng = Sequence("trustee-ceremony")
    secrets, publics, trustee_vecs = {}, {}, []
    for i in range(1, n + 1):
        coefficients = tuple(rng() for _ in range(k))
        commitments = tuple(base_mul(a) for a in coefficients)
        proofs = tuple(prove_schnorr(coefficient_context(mh, i, j), a, K, rng=rng)
                       for j, (a, K) in enumerate(zip(coefficients, commitments)))
        box = PrivateKey(fixed_bytes(f"trustee-vectors/box/{i}", 32))
        secrets[i] = TrusteeSecret(i, coefficients, bytes(box))
        publics[i] = TrusteePublic(i, commitments, proofs, bytes(box.public_key))
        trustee_vecs.append({
            "index": i, "rng": rng.take(), "coefficients": [str(a) for a in coefficients],
            "box_secret": bytes(box).hex(), "public": trustee_public_to_json(publics[i]),
            "evaluations": {str(x): str(secrets[i].evaluate(x)) for x in range(1, n + 1)},
        })
    ordered = [publics[i] for i in range(1, n + 1)]

    # 2. shares: the real make_shares, with PyNaCl's Box nonces injected
    shares, share_vecs = {}, []
    for i in range(1, n + 1):
        nonces = [fixed_bytes(f"trustee-vectors/share-nonce/{i}/{l}", 24) for l in range(1, n + 1) if l != i]
        with injected(nacl.public, nonces):
            made = make_shares(mh, secrets[i], ordered)
        for sh, nonce in zip(made, nonces):
            assert sh.ciphertext[:24] == nonce
            shares[(i, sh.recipient)] = sh
            share_vecs.append({"sender": i, "recipient": sh.recipient, "nonce": nonce.hex(),
                               "ciphertext": b64encode(sh.ciphertext),
                               "value": str(secrets[i].evaluate(sh.recipient))})

    # 3. every trustee receives and checks its shares; secret shares and public shares
    ctx = ElectionContext(manifest, tuple(ordered))
    ctx.validate()
    secret_shares = {}
    for l in range(1, n + 1):
        received = {i: receive_share(mh, secrets[l], publics[i], shares[(i, l)])
                    for i in range(1, n + 1) if i != l}
        secret_shares[l] = secret_share(secrets[l], received)
        assert base_mul(secret_shares[l]) == ctx.public_share(l)

    # bad shares addressed to trustee 1 by trustee 2, and the complaint Python makes of each
    good = shares[(2, 1)].ciphertext
    tampered = bytearray(good)
    tampered[40] ^= 1
    box21 = Box(PrivateKey(secrets[2].box_secret), PublicKey(publics[1].box_public))
    wrong_value = bytes(box21.encrypt(_share_header(mh, 2, 1) + encode_scalar(secrets[2].evaluate(1) + 1),
                                      fixed_bytes("trustee-vectors/bad/value", 24)))
    wrong_header = bytes(box21.encrypt(_share_header(mh, 2, 3) + encode_scalar(secrets[2].evaluate(1)),
                                       fixed_bytes("trustee-vectors/bad/header", 24)))
    bad_vecs = []
    for name, ct in (("tampered", bytes(tampered)), ("wrong_value", wrong_value),
                     ("wrong_header", wrong_header)):
        try:
            receive_share(mh, secrets[1], publics[2], EncryptedShare(2, 1, ct))
        except ShareError as exc:
            bad_vecs.append({"name": name, "sender": 2, "recipient": 1, "ciphertext": b64encode(ct),
                             "complaint": str(exc)})
        else:  # pragma: no cover
            raise AssertionError(f"the bad share {name} was accepted")

    # 4. key files: the real seal_keys with the salt and the SecretBox nonce injected
    keyfile_vecs = []
    for i, share in ((1, secret_shares[1]), (2, None)):
        salt = fixed_bytes(f"trustee-vectors/keyfile-salt/{i}", 16)
        nonce = fixed_bytes(f"trustee-vectors/keyfile-nonce/{i}", 24)
        keys = TrusteeKeys(mh, secrets[i], share)
        with injected(nacl.utils, [salt]), injected(nacl.secret, [nonce]):
            doc = seal_keys(keys, PASSPHRASES[i])
        assert open_keys(doc, PASSPHRASES[i]) == keys
        keyfile_vecs.append({"index": i, "passphrase": PASSPHRASES[i], "salt": salt.hex(),
                             "nonce": nonce.hex(), "doc": doc, "bytes": canonical_json(doc).decode(),
                             "share": None if share is None else str(share)})

    # 5. the aggregate of 4 ballots over 5 units, and partial decryptions by trustees 1 and 3
    enc = Sequence("trustee-aggregate")
    radix, codes = ctx.shape.radix, manifest.levels.codes
    marks = [[0, 1, 2, None, 0], [0, 0, 3, 1, None], [1, 1, None, 2, 0], [3, 0, 2, 1, 0]]
    totals = None
    for ballot in marks:
        cts = [encrypt(ctx.public_key, 0 if m is None else radix**m, enc())[0] for m in ballot]
        totals = cts if totals is None else [a + b for a, b in zip(totals, cts)]
    agg = {"base_hash": ctx.base_hash.hex(), "context": ctx.to_json(), "manifest": manifest.to_json(),
           "aggregate": [b64encode(c.to_bytes()) for c in totals]}
    enc.take()
    dec_rng = Sequence("trustee-decryption")
    decs, dec_vecs = {}, []
    for l in (1, 3):
        S = ctx.public_share(l)
        partials = []
        for u, ct in enumerate(totals):
            M, proof = prove_dleq(partial_context(ctx.base_hash, l, u), secret_shares[l], ct.alpha, S,
                                  rng=dec_rng)
            partials.append(PartialDecryption(l, M, proof))
        decs[l] = TrusteeDecryption(l, tuple(partials))
        verify_decryption(ctx, totals, decs[l])
        dec_vecs.append({"trustee": l, "share": str(secret_shares[l]), "rng": dec_rng.take(),
                         "decryption": decs[l].to_json()})
    counts = combine_decryptions(ctx, totals, decs, len(marks))
    expected = []
    for u in range(5):
        votes = {c: sum(1 for b in marks if b[u] == i) for i, c in enumerate(codes)}
        expected.append(UnitCounts(votes, abstain=sum(1 for b in marks if b[u] is None)))
    assert list(counts) == expected, (counts, expected)
    assert [value_of_counts(c, radix, codes) for c in counts]

    return {
        "version": "ballot/vectors/trustee/v1",
        "generated_by": "tests/vectors/trustee_make_vectors.py (do not edit by hand)",
        "manifest": manifest.to_json(),
        "manifest_hash": mh.hex(),
        "threshold": k,
        "trustees": trustee_vecs,
        "shares": share_vecs,
        "bad_shares": bad_vecs,
        "secret_shares": {str(l): str(s) for l, s in secret_shares.items()},
        "public_shares": {str(l): ctx.public_share(l).data.hex() for l in range(1, n + 1)},
        "context": ctx.to_json(),
        "base_hash": ctx.base_hash.hex(),
        "keyfiles": keyfile_vecs,
        "aggregate": agg,
        "marks": marks,
        "decryptions": dec_vecs,
        "counts": [{"votes": dict(c.votes), "abstain": c.abstain} for c in counts],
    }


def render(vectors: dict) -> str:
    return _protocol_generator().render(vectors)


def main(argv: list[str] | None = None) -> int:
    return _protocol_generator().vector_file_main(build, OUTPUT, Path(__file__), argv)


if __name__ == "__main__":
    sys.exit(main())
