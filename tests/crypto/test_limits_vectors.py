"""Cross-language ballot B: ``tests/vectors/second_round_v1.json`` is what the Python code
makes (regenerated here, byte for byte), Python accepts the vector ballot, the JavaScript tests
(js/test/ballot_limits.test.js) reproduce it, and Python accepts a ballot B that the phone's
JavaScript made with its own randomness."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ballot.crypto.ballots import BallotError, ballot_from_json, verify_ballot
from ballot.crypto.encoding import canonical_json
from ballot.election.manifest import Manifest
from ballot.tally.context import ElectionContext

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors" / "second_round_v1.json"
JS = ROOT / "js"


@pytest.fixture(scope="module")
def vectors() -> dict:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


def context(info: dict) -> ElectionContext:
    ctx = ElectionContext.from_json(Manifest.from_json(info["manifest"]), info["context"])
    assert ctx.base_hash.hex() == info["base_hash"]
    return ctx


def test_regenerating_gives_the_committed_file(vector_generator):
    gen = vector_generator("make_second_round_vectors")
    assert gen.render(gen.build()) == VECTORS.read_text(encoding="utf-8"), (
        "tests/vectors/second_round_v1.json is stale: run "
        "`python tests/vectors/make_second_round_vectors.py` and `npm test --prefix js`")


def test_python_accepts_the_vector_ballot(vectors):
    info = vectors["info"]
    ctx = context(info)
    assert [{"units": list(ix), "max": k} for ix, k in ctx.shape.limits] == info["limits"]
    ballot = ballot_from_json(vectors["ballot"]["ballot"], ctx.shape)
    verify_ballot(ballot, ctx.shape, ctx.base_hash, ctx.public_key, ctx.issuer)
    assert canonical_json(ballot.to_json()).hex() == vectors["ballot"]["ballot_canonical_hex"]
    assert ballot.tracking_code == vectors["ballot"]["tracking_code"]


_JS_BALLOT = """
import { readFileSync } from "node:fs";
import * as BC from "./js/src/index.js";
const V = JSON.parse(readFileSync("tests/vectors/second_round_v1.json", "utf8"));
await BC.ready();
const seed = BC.encoding.b64encode(BC.bytes.fromHex(V.ballot.voter_seed));
const out = BC.encryptBallot(V.info, V.ballot.token, seed, CHOICES);
process.stdout.write(JSON.stringify(out.ballot));
"""


def _node_ballot(choices: list) -> dict:
    node = shutil.which("node")
    if node is None or not (JS / "node_modules").is_dir():
        pytest.skip("node or js/node_modules missing: run `npm ci --prefix js`")
    script = _JS_BALLOT.replace("CHOICES", json.dumps(choices))
    proc = subprocess.run([node, "--input-type=module", "-e", script], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_python_accepts_a_ballot_b_made_by_the_javascript(vectors):
    """Random nonces from the phone's code (not the vector's): Python verifies every proof,
    including both "at most K" proofs; and a changed limit proof is refused."""
    ctx = context(vectors["info"])
    data = _node_ballot([None, 0, 1, 0, 1])
    assert data != vectors["ballot"]["ballot"] and len(data["limits"]) == 2
    ballot = ballot_from_json(data, ctx.shape)
    verify_ballot(ballot, ctx.shape, ctx.base_hash, ctx.public_key, ctx.issuer)
    swapped = dict(data, limits=vectors["ballot"]["ballot"]["limits"])
    with pytest.raises(BallotError):
        verify_ballot(ballot_from_json(swapped, ctx.shape), ctx.shape, ctx.base_hash,
                      ctx.public_key, ctx.issuer)
