"""Cross-language trustee approvals (issue 11, key substitution): the browser's approval of the
election fingerprint (js/src/trustee.js ``signApproval``/``approve``/``publicsDigest``) and the
Python one (ballot/tally/approval.py) make the same bytes from the same nonce, and each side
accepts the other's.

Fixture: the trustee vectors (tests/vectors/trustee_v1.json: the manifest, the context of a
3-trustee ceremony, each trustee's coefficients and secret share). Node signs each trustee's
approval with a fixed nonce; Python signs with the same nonce and must get the same JSON, and
``verify_approval`` accepts Node's. Node's ``approve`` (the page's step) accepts the honest
context with keys remembering the honest publics' digest, and refuses a context with trustee 3's
keys swapped (with valid proofs) for someone else's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ballot.crypto.threshold import new_trustee
from ballot.election.manifest import Manifest
from ballot.tally.approval import publics_digest, sign_approval, verify_approval
from ballot.tally.context import ElectionContext

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tests" / "vectors" / "trustee_v1.json").read_text(encoding="utf-8"))
JS = ROOT / "js"
NONCES = {1: 1234567, 2: 2345678, 3: 3456789}

JS_APPROVALS = r"""
import * as BC from "./js/src/index.js";
await BC.ready();
const T = BC.trustee;
const input = JSON.parse(process.argv[1]);
const V = input.vectors;
const info = { manifest: V.manifest, context: V.context, base_hash: V.base_hash };
const ctx = T.checkContext(info);
const approvals = V.trustees.map((t) => T.signApproval(ctx, t.index, BigInt(t.coefficients[0]),
  { rng: () => BigInt(input.nonces[t.index]) }));
const digest = BC.bytes.toHex(T.publicsDigest(ctx.publics));
const keysOf = (t, publics) => ({ manifestHash: BC.bytes.fromHex(V.manifest_hash),
  secret: { index: t.index, coefficients: t.coefficients.map(BigInt), boxSecret: BC.bytes.fromHex(t.box_secret) },
  share: BigInt(V.secret_shares[String(t.index)]), publics });
const honest = T.approve(info, keysOf(V.trustees[0], T.publicsDigest(ctx.publics)));
let refused = null;
try {
  T.approve(input.swapped, keysOf(V.trustees[0], T.publicsDigest(ctx.publics)));
} catch (e) {
  refused = `${e.name}: ${e.message}`;
}
let noDigest = null;
try {
  T.approve(info, keysOf(V.trustees[0], null));
} catch (e) {
  noDigest = e.message;
}
process.stdout.write(JSON.stringify({ approvals, digest, honest, refused, noDigest }));
"""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (JS / "node_modules").is_dir():
        pytest.skip("js/node_modules is missing: run `cd js && npm ci`")
    return node


def test_approvals_are_the_same_bytes_in_python_and_javascript():
    node = _node()
    manifest = Manifest.from_json(VECTORS["manifest"])
    ctx = ElectionContext.from_json(manifest, VECTORS["context"])
    assert ctx.base_hash.hex() == VECTORS["base_hash"]
    _, rogue = new_trustee(ctx.manifest_hash, 3, ctx.threshold)
    swapped = ElectionContext(manifest, (*ctx.trustees[:2], rogue))
    payload = {"vectors": VECTORS, "nonces": {str(i): str(w) for i, w in NONCES.items()},
               "swapped": {"manifest": VECTORS["manifest"], "context": swapped.to_json(),
                           "base_hash": swapped.base_hash.hex()}}
    proc = subprocess.run([node, "--input-type=module", "-e", JS_APPROVALS, json.dumps(payload)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout)
    for t, js in zip(VECTORS["trustees"], out["approvals"]):
        i = t["index"]
        py = sign_approval(ctx, i, int(t["coefficients"][0]), rng=lambda: NONCES[i])
        assert js == py  # the same bytes
        assert verify_approval(ctx, js) == i  # and Python accepts JavaScript's
    assert out["digest"] == publics_digest(ctx.trustees).hex()
    assert out["honest"]["baseHashHex"] == ctx.base_hash.hex()
    assert verify_approval(ctx, out["honest"]["request"]["approval"]) == 1
    assert out["refused"].startswith("CeremonyError: the election key is NOT made of")
    assert "does not remember the trustees' keys" in out["noDigest"]

