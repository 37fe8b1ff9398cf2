#!/usr/bin/env python3
"""Cross-language vectors of ballot B (a second round): writes tests/vectors/second_round_v1.json.

A second-round election (docs/protocol.md §8.5): 5 candidates in two groups ("at most 2 of 3
agree", "at most 1 of 2"), 10 voters (R = 11), 3 trustees (k = 2), the issuer key of
make_protocol_vectors.py; one ballot encrypted by the Python code with fixed randomness, with
its unit and limit proofs, the limit contexts, the groups' summed ciphertexts and allowed
values. js/test/ballot_limits.test.js reproduces every byte; tests/crypto/test_limits_vectors.py
regenerates the file and fails if the committed copy differs.

    python tests/vectors/make_second_round_vectors.py          # rewrite the file
    python tests/vectors/make_second_round_vectors.py --check  # exit 1 if it is stale
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUTPUT = Path(__file__).resolve().with_name("second_round_v1.json")

from nacl.public import PrivateKey  # noqa: E402
from nacl.signing import SigningKey  # noqa: E402

from ballot.crypto import blind_rsa as br  # noqa: E402
from ballot.crypto.ballots import (  # noqa: E402
    ballot_from_json,
    encrypt_ballot,
    limit_ciphertext,
    limit_context,
    verify_ballot,
)
from ballot.crypto.encoding import b64encode, canonical_json  # noqa: E402
from ballot.crypto.group import base_mul, encode_scalar  # noqa: E402
from ballot.crypto.proofs import prove_schnorr  # noqa: E402
from ballot.crypto.threshold import TrusteePublic, coefficient_context  # noqa: E402
from ballot.crypto.token import Token  # noqa: E402
from ballot.election.ballot_b import BallotB, FirstRound  # noqa: E402
from ballot.election.levels import Level, LevelSet  # noqa: E402
from ballot.election.manifest import Manifest  # noqa: E402
from ballot.election.results import SecondRoundBallot  # noqa: E402
from ballot.election.roll import RollEntry  # noqa: E402
from ballot.election.rules import RuleProfile  # noqa: E402
from ballot.election.trustees import Trustees  # noqa: E402
from ballot.election.units import Unit  # noqa: E402
from ballot.tally.context import ElectionContext  # noqa: E402


def _protocol():
    path = Path(__file__).resolve().with_name("make_protocol_vectors.py")
    spec = importlib.util.spec_from_file_location("make_protocol_vectors", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


P = _protocol()
ROLL = [(f"dv{i:02d}", f"Đảng viên {i}") for i in range(1, 11)]


def build() -> dict:
    issuer = br.IssuerPrivateKey.from_pem(P.ISSUER_PRIVATE_KEY_PEM.encode())
    rng = P.Sequence("second-round")
    manifest = Manifest(
        title="Đánh giá, xếp loại 2025 — vòng hai / second round",
        organisation="Chi bộ Khối Văn phòng", date="2025-12-15", meeting_kind="branch_members",
        roll=tuple(RollEntry(rid, name) for rid, name in ROLL),
        units=tuple(Unit(rid, name, group=g) for (rid, name), g in
                    zip(ROLL[:5], ("lanh-dao", "lanh-dao", "lanh-dao", "dang-vien", "dang-vien"))),
        levels=LevelSet((Level("agree", "Đồng ý", "Agree", "Đồng ý"),
                         Level("disagree", "Không đồng ý", "Disagree", "Không đồng ý"))),
        rules=RuleProfile(),
        trustees=Trustees(("Tổ kiểm phiếu 1", "Tổ kiểm phiếu 2", "Tổ kiểm phiếu 3"), 2),
        issuer_public_key=b64encode(issuer.public_key().to_der()),
        ballot_b=BallotB(FirstRound("chi-bo-van-phong-2025", "ab" * 32, "cd" * 32), 10, (
            SecondRoundBallot("lanh-dao", ("dv01", "dv02", "dv03"), 2),
            SecondRoundBallot("dang-vien", ("dv04", "dv05"), 1))),
    )
    mh = manifest.manifest_hash()
    trustees = []
    for i in range(1, 4):
        coefficients = [rng() for _ in range(2)]
        commitments = tuple(base_mul(a) for a in coefficients)
        proofs = tuple(prove_schnorr(coefficient_context(mh, i, j), a, K, rng=rng)
                       for j, (a, K) in enumerate(zip(coefficients, commitments)))
        box = PrivateKey(P.fixed_bytes(f"second-round/trustee-box/{i}", 32))
        trustees.append(TrusteePublic(i, commitments, proofs, bytes(box.public_key)))
    rng.take()
    ctx = ElectionContext(manifest, tuple(trustees))
    ctx.validate()
    shape = ctx.shape
    assert shape.limits == (((0, 1, 2), 2), ((3, 4), 1))
    receipt_key = SigningKey(P.fixed_bytes("second-round/receipt-key", 32))
    info = {
        "slug": "chi-bo-van-phong-2025-v2", "status": "open",
        "manifest": manifest.to_json(), "context": ctx.to_json(),
        "base_hash": ctx.base_hash.hex(),
        "receipt_key": b64encode(bytes(receipt_key.verify_key)),
        "limits": [{"units": list(ix), "max": k} for ix, k in shape.limits],
        "round": 2, "first_round": "chi-bo-van-phong-2025",
    }
    voter = SigningKey(P.fixed_bytes("second-round/voter-seed", 32))
    token_vec = P.issue_token(issuer, ctx.base_hash, voter, "second-round/token")
    token = Token(bytes.fromhex(token_vec["prepared"]), bytes.fromhex(token_vec["signature"]))
    choices = [0, None, 0, 1, 0]  # 2 of 3 agree, 1 of 2 agree: both groups at their K
    ballot, nonces = encrypt_ballot(shape, ctx.base_hash, ctx.public_key, token, voter, choices,
                                    rng=rng)
    ballot_json = ballot.to_json()
    verify_ballot(ballot_from_json(ballot_json, shape), shape, ctx.base_hash, ctx.public_key,
                  ctx.issuer)
    vk = bytes(voter.verify_key)
    return {
        "version": "ballot/vectors/second-round/v1",
        "generated_by": "tests/vectors/make_second_round_vectors.py (do not edit by hand)",
        "info": info,
        "manifest_hash": mh.hex(),
        "limits": [{"units": list(ix), "max": k, "values": [str(v) for v in shape.limit_values(j)],
                    "bytes": shape.limit_bytes(j),
                    "context": limit_context(ctx.base_hash, vk, j).hex(),
                    "ciphertext": limit_ciphertext(ballot.units, ix).to_bytes().hex()}
                   for j, (ix, k) in enumerate(shape.limits)],
        "ballot": {
            "choices": choices,
            "voter_seed": bytes(voter).hex(),
            "token": token_vec["json"],
            "rng": rng.take(),
            "nonces": [str(r) for r in nonces],
            "audit_nonces": [b64encode(encode_scalar(r)) for r in nonces],
            "ballot": ballot_json,
            "ballot_canonical_hex": canonical_json(ballot_json).hex(),
            "ballot_hash": ballot.ballot_hash.hex(),
            "tracking_code": ballot.tracking_code,
        },
    }


def render(vectors: dict) -> str:
    return P.render(vectors)


def main(argv: list[str] | None = None) -> int:
    return P.vector_file_main(build, OUTPUT, Path(__file__), argv)


if __name__ == "__main__":
    sys.exit(main())
