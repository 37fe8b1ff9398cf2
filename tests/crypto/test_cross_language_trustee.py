"""Cross-language trustee code: the browser's key ceremony, key file and partial decryption
(js/src/threshold.js, keyfile.js, trustee.js) and the Python ones (ballot/crypto/threshold.py,
ballot/tally/trustee_keyfile.py, ballot/tally/decryption.py) make and accept the same bytes.

- ``tests/vectors/trustee_v1.json`` is regenerated from the Python code and must equal the
  committed file; Python accepts what it says (``js/test/trustee.test.js`` reproduces it byte for
  byte in JavaScript, run by ``test_cross_language.py`` with the other Node tests, and here too).
- Node runs a whole ceremony with fresh randomness (3 trustees, k = 2) and prints what it made:
  every trustee's public, the shares, the key files (sealed in JS under a passphrase) and the
  partial decryptions of an aggregate. Python verifies the publics and proofs, opens the JS key
  files with ``open_keys``, receives every JS share with ``receive_share``, checks the partial
  decryptions with ``verify_decryption`` and combines them into the right counts.
"""

from __future__ import annotations

import json
import unicodedata
import shutil
import subprocess
from pathlib import Path

import pytest

from ballot.crypto.elgamal import Ciphertext
from ballot.crypto.encoding import b64decode
from ballot.crypto.group import base_mul
from ballot.crypto.threshold import EncryptedShare, receive_share, secret_share, verify_trustee_public
from ballot.election.manifest import Manifest
from ballot.tally.context import ElectionContext, trustee_public_from_json
from ballot.tally.decryption import TrusteeDecryption, combine_decryptions, verify_decryption
from ballot.tally.trustee_keyfile import KeyFileError, open_keys

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors" / "trustee_v1.json"
JS = ROOT / "js"


@pytest.fixture(scope="module")
def vectors() -> dict:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the JavaScript half of the trustee vectors was not run")
    if not (JS / "node_modules").is_dir():
        pytest.skip("js/node_modules is missing: run `cd js && npm ci`")
    return node


def test_regenerating_the_trustee_vectors_gives_the_committed_file(vector_generator):
    gen = vector_generator("trustee_make_vectors")
    assert gen.render(gen.build()) == VECTORS.read_text(encoding="utf-8"), (
        "tests/vectors/trustee_v1.json differs from what the Python code produces now; if the "
        "change is intended, run `python tests/vectors/trustee_make_vectors.py` and `npm test --prefix js`")


def test_python_accepts_the_trustee_vectors(vectors):
    manifest = Manifest.from_json(vectors["manifest"])
    ctx = ElectionContext.from_json(manifest, vectors["context"])
    mh = manifest.manifest_hash()
    for kf in vectors["keyfiles"]:
        keys = open_keys(kf["doc"], kf["passphrase"])
        assert keys.secret.index == kf["index"] and keys.manifest_hash == mh
        assert [str(a) for a in keys.secret.coefficients] == vectors["trustees"][kf["index"] - 1]["coefficients"]
        with pytest.raises(KeyFileError, match="wrong passphrase"):
            open_keys(kf["doc"], kf["passphrase"] + "!")
    totals = [Ciphertext.from_bytes(b64decode(u, 64)) for u in vectors["aggregate"]["aggregate"]]
    decs = {}
    for d in vectors["decryptions"]:
        dec = TrusteeDecryption.from_json(d["decryption"], len(totals))
        verify_decryption(ctx, totals, dec)
        decs[dec.trustee] = dec
    counts = combine_decryptions(ctx, totals, decs, len(vectors["marks"]))
    assert [{"votes": dict(c.votes), "abstain": c.abstain} for c in counts] == vectors["counts"]


def test_the_javascript_trustee_tests_pass():
    node = _node()
    proc = subprocess.run([node, "--test", "js/test/trustee.test.js"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "# fail 0" in proc.stdout and "# pass " in proc.stdout


# A whole ceremony in Node with fresh randomness; prints what the browser would send and keep.
JS_CEREMONY = r"""
import { readFileSync } from "node:fs";
import * as BC from "./js/src/index.js";
await BC.ready();
const V = JSON.parse(readFileSync("tests/vectors/trustee_v1.json", "utf8"));
const T = BC.trustee;
const state = { status: "key_ceremony", manifest: V.manifest, manifest_hash: V.manifest_hash,
  threshold: V.threshold, trustees: [1, 2, 3].map((index) => ({ index, public: null })) };
const made = state.trustees.map((t) => T.keygen(state, t.index));
state.trustees.forEach((t, i) => { t.public = made[i].request.public; });
const shares = made.flatMap((m) => T.sendShares(state, m.keys).shares.map((s) => ({ sender: m.keys.secret.index, ...s })));
const passphrases = ["mật khẩu một 1", "mật khẩu hai 2", "password three"];
const final = made.map((m, i) => {
  const out = T.receiveShares(state, m.keys, shares.filter((s) => s.recipient === m.keys.secret.index));
  if (out.request.complaints.length) throw new Error(JSON.stringify(out.request.complaints));
  return out.keys;
});
const keyfiles = final.map((k, i) => new TextDecoder().decode(T.keyfile.keyFileBytes(T.keyfile.sealKeys(k, passphrases[i]).doc)));
const firstKeyfile = new TextDecoder().decode(T.keyfile.keyFileBytes(T.keyfile.sealKeys(made[0].keys, passphrases[0]).doc));
// the same passphrase typed as letters + combining marks (NFD), on each side
const nfdKeyfile = new TextDecoder().decode(T.keyfile.keyFileBytes(T.keyfile.sealKeys(final[0], passphrases[0].normalize("NFD")).doc));
const pyNfdOpened = T.keyfile.openKeyFile(JSON.stringify(V.keyfiles[0].doc), V.keyfiles[0].passphrase.normalize("NFD")).keys.share !== undefined;
// the context Python's finish_ceremony would write, and an aggregate of 3 ballots under its key
const publics = state.trustees.map((t) => T.threshold.trusteePublicFromJson(t.public));
const joint = T.threshold.jointCommitments(publics);
const radix = V.context.radix;
const context = { ...V.context, trustees: state.trustees.map((t) => t.public), joint_public_key: BC.encoding.b64encode(joint[0]) };
const baseHash = BC.bytes.toHex(BC.encoding.sha256Tag("ballot/v1/base-hash", BC.encoding.canonicalJson(context)));
const marks = [[0, 1, 2, 3, null], [1, 1, null, 0, 0], [2, 0, 0, 3, 1]];
let totals = null;
for (const b of marks) {
  const cts = b.map((m) => BC.elgamal.encrypt(joint[0], m === null ? 0n : BigInt(radix) ** BigInt(m)).ciphertext);
  totals = totals ? totals.map((t, u) => BC.elgamal.addCiphertexts(t, cts[u])) : cts;
}
const agg = { base_hash: baseHash, context, manifest: V.manifest,
  aggregate: totals.map((c) => BC.encoding.b64encode(BC.elgamal.ciphertextToBytes(c))) };
const decryptions = [final[0], final[2]].map((k) => T.decrypt(agg, k).decryption);
process.stdout.write(JSON.stringify({ publics: state.trustees.map((t) => t.public), shares, passphrases,
  keyfiles, firstKeyfile, nfdKeyfile, pyNfdOpened, agg, marks, decryptions }));
"""


@pytest.fixture(scope="module")
def js_ceremony() -> dict:
    node = _node()
    proc = subprocess.run([node, "--input-type=module", "-e", JS_CEREMONY], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


def test_python_accepts_a_key_ceremony_made_in_javascript(js_ceremony, vectors):
    manifest = Manifest.from_json(vectors["manifest"])
    mh = manifest.manifest_hash()
    publics = {p["index"]: trustee_public_from_json(p) for p in js_ceremony["publics"]}
    for pub in publics.values():
        verify_trustee_public(mh, pub, 2)
    # the key files made in JS open with Python's open_keys (the CLI's), each with its passphrase
    keys = {}
    for text, passphrase in zip(js_ceremony["keyfiles"], js_ceremony["passphrases"]):
        k = open_keys(json.loads(text), passphrase)
        assert k.manifest_hash == mh and k.share is not None
        keys[k.secret.index] = k
        with pytest.raises(KeyFileError, match="wrong passphrase"):
            open_keys(json.loads(text), passphrase[:-1])
    # Vietnamese typed as precomposed letters (NFC) or with combining marks (NFD): one key
    p0 = js_ceremony["passphrases"][0]
    assert unicodedata.normalize("NFD", p0) != p0
    for typed in (p0, unicodedata.normalize("NFD", p0)):
        assert open_keys(json.loads(js_ceremony["nfdKeyfile"]), typed).share == keys[1].share
    assert js_ceremony["pyNfdOpened"]  # JS opened a Python key file typed in NFD
    first = open_keys(json.loads(js_ceremony["firstKeyfile"]), js_ceremony["passphrases"][0])
    assert first.share is None and first.secret == keys[1].secret
    # every JS share decrypts and checks in Python; Python's secret shares equal the JS ones
    ctx = ElectionContext.from_json(manifest, js_ceremony["agg"]["context"])
    for l, k in keys.items():
        received = {}
        for sh in js_ceremony["shares"]:
            if sh["recipient"] == l:
                received[sh["sender"]] = receive_share(
                    mh, k.secret, publics[sh["sender"]],
                    EncryptedShare(sh["sender"], l, b64decode(sh["ciphertext"], 104)))
        assert sorted(received) == sorted(set(publics) - {l})
        assert secret_share(k.secret, received) == k.share
        assert base_mul(k.share) == ctx.public_share(l)
    # the JS partial decryptions verify and combine into the marks' counts
    assert ctx.base_hash.hex() == js_ceremony["agg"]["base_hash"]
    totals = [Ciphertext.from_bytes(b64decode(u, 64)) for u in js_ceremony["agg"]["aggregate"]]
    decs = {}
    for d in js_ceremony["decryptions"]:
        dec = TrusteeDecryption.from_json(d, len(totals))
        verify_decryption(ctx, totals, dec)
        decs[dec.trustee] = dec
    assert sorted(decs) == [1, 3]
    counts = combine_decryptions(ctx, totals, decs, 3)
    codes = manifest.levels.codes
    for u, c in enumerate(counts):
        marks = [b[u] for b in js_ceremony["marks"]]
        assert dict(c.votes) == {code: marks.count(i) for i, code in enumerate(codes)}
        assert c.abstain == marks.count(None)
    # and a tampered JS decryption is refused by Python
    bad = dict(js_ceremony["decryptions"][0])
    raw = bytearray(b64decode(bad["units"][0], 96))
    raw[40] ^= 1
    from ballot.crypto.encoding import b64encode
    from ballot.tally.decryption import DecryptionError

    bad["units"] = [b64encode(bytes(raw))] + bad["units"][1:]
    with pytest.raises(DecryptionError):
        verify_decryption(ctx, totals, TrusteeDecryption.from_json(bad, len(totals)))


def test_a_passphrase_is_the_same_in_nfc_and_nfd():
    # Sealed as NFC whatever was typed; an older file sealed with the NFD bytes still opens
    # when the passphrase is typed in NFC (and the reverse). Another passphrase does not.
    import nacl.pwhash
    import nacl.secret
    import nacl.utils

    from ballot.crypto.encoding import b64encode, canonical_json
    from ballot.crypto.threshold import new_trustee
    from ballot.tally.trustee_keyfile import TrusteeKeys, passphrase_forms, seal_keys

    nfc = "mật khẩu của tổ viên"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd and passphrase_forms(nfd) == [nfc, nfd] and passphrase_forms("ascii pw") == ["ascii pw"]
    secret, _ = new_trustee(bytes(32), 1, 2)
    keys = TrusteeKeys(bytes(32), secret, None)
    doc = seal_keys(keys, nfd, opslimit=1, memlimit=8192)
    assert open_keys(doc, nfc).secret == secret and open_keys(doc, nfd).secret == secret
    # a file sealed with the raw NFD bytes, as before the rule
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    key = nacl.pwhash.argon2id.kdf(32, nfd.encode("utf-8"), salt, opslimit=1, memlimit=8192)
    old = dict(doc, kdf=dict(doc["kdf"], salt=b64encode(salt)),
               secretbox=b64encode(bytes(nacl.secret.SecretBox(key).encrypt(canonical_json(
                   {"coefficients": [b64encode(c.to_bytes(32, "little")) for c in secret.coefficients],
                    "box_secret": b64encode(secret.box_secret), "share": None})))))
    assert open_keys(old, nfc).secret == secret
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        open_keys(old, "mat khau cua to vien")
