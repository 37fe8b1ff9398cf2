"""Cross-language vectors: the Python code and the phone's JavaScript produce the same bytes.

``tests/vectors/protocol_v1.json`` is written by ``tests/vectors/make_protocol_vectors.py`` from
the Python implementation with fixed randomness. Here: regenerating it gives exactly the
committed file (so the vectors cannot drift from the Python code), the Python side accepts what
the file says it made, and — when Node and ``js/node_modules`` are present (``cd js && npm ci``)
— the JavaScript tests in ``js/test`` reproduce every vector byte for byte.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ballot.crypto import blind_rsa as br
from ballot.crypto.ballots import AuditRecord, ballot_from_json, check_audit, verify_ballot
from ballot.crypto.encoding import b64decode, canonical_json
from ballot.election.manifest import Manifest
from ballot.tally.board import Receipt, verify_receipt
from ballot.tally.context import ElectionContext

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors" / "protocol_v1.json"
JS = ROOT / "js"


@pytest.fixture(scope="module")
def vectors() -> dict:
    return json.loads(VECTORS.read_text(encoding="utf-8"))


def test_regenerating_the_vectors_gives_the_committed_file(vector_generator):
    gen = vector_generator("make_protocol_vectors")
    fresh = gen.render(gen.build())
    committed = VECTORS.read_text(encoding="utf-8")
    assert fresh == committed, (
        "tests/vectors/protocol_v1.json differs from what the Python code produces now; if the "
        "protocol change is intended, run `python tests/vectors/make_protocol_vectors.py` and "
        "check that the JavaScript client (js/) still passes `npm test`"
    )


def test_the_generator_is_deterministic(vector_generator):
    gen = vector_generator("make_protocol_vectors")
    assert gen.render(gen.build()) == gen.render(gen.build())


def test_python_accepts_the_vector_ballot_and_receipt(vectors):
    e = vectors["election"]
    info = e["info"]
    ctx = ElectionContext.from_json(Manifest.from_json(info["manifest"]), info["context"])
    assert ctx.base_hash.hex() == info["base_hash"]
    ballot = ballot_from_json(e["ballot"]["ballot"], ctx.shape)
    verify_ballot(ballot, ctx.shape, ctx.base_hash, ctx.public_key, ctx.issuer)
    assert canonical_json(ballot.to_json()).hex() == e["ballot"]["ballot_canonical_hex"]
    assert ballot.tracking_code == e["ballot"]["tracking_code"]
    nonces = tuple(int(r) for r in e["ballot"]["nonces"])
    check_audit(ballot, ctx.shape, ctx.public_key, AuditRecord(tuple(e["ballot"]["choices"]), nonces))
    verify_receipt(b64decode(info["receipt_key"], 32), Receipt.from_json(e["receipt"]["receipt"]))


def test_the_issuer_key_in_the_vectors_is_a_3072_bit_product_key(vectors):
    rsa = vectors["rsa"]
    key = br.IssuerPrivateKey.from_pem(rsa["private_key_pem"].encode())
    pub = br.IssuerPublicKey.from_der(b64decode(rsa["public_key_b64"]))
    assert key.public_key() == pub
    assert pub.modulus_bits == 3072 and pub.e == 65537
    assert vectors["election"]["info"]["manifest"]["issuer_public_key"] == rsa["public_key_b64"]


def _js_test_files() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (JS / "test").glob("*.test.js"))


def test_javascript_reproduces_the_vectors():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the JavaScript half of the vectors was not run")
    if not (JS / "node_modules").is_dir():
        pytest.skip("js/node_modules is missing: run `cd js && npm ci` to run the JavaScript tests")
    files = _js_test_files()
    assert files, "no js/test/*.test.js files"
    proc = subprocess.run([node, "--test", *files], cwd=ROOT, capture_output=True, text=True, timeout=900)
    summary = [line for line in proc.stdout.splitlines() if line.startswith("# ")]
    print("\n".join(summary))
    assert proc.returncode == 0, (
        "JavaScript tests failed:\n" + proc.stdout[-8000:] + "\n" + proc.stderr[-4000:]
    )
