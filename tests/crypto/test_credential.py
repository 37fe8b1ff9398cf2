"""The per-round invitation credential (docs/protocol.md §7.1): Python writes
tests/vectors/credential_v1.json, which js/test/phone.test.js reproduces byte for byte (run by
test_cross_language.py's JavaScript test); what the server stores is the hash of the phone's
credential."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ballot.crypto.credential import (
    credential,
    credential_hash,
    normalize_code,
    parse_credential,
)
from ballot.crypto.encoding import hash_parts
from ballot.store import repo

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "credential_v1.json"


def test_regenerating_the_vectors_gives_the_committed_file(vector_generator):
    gen = vector_generator("make_credential_vectors")
    assert gen.render(gen.build()) == VECTORS.read_text(encoding="utf-8"), (
        "run `python tests/vectors/make_credential_vectors.py` if the change is intended")


def test_the_bytes_are_the_documented_ones():
    # docs/protocol.md §7.1, written out: u32 length-prefixed tag and parts, SHA-256.
    import hashlib
    import struct

    def framed(tag: bytes, *parts: bytes) -> bytes:
        out = struct.pack(">I", len(tag)) + tag
        for p in parts:
            out += struct.pack(">I", len(p)) + p
        return hashlib.sha256(out).digest()

    cred = credential("chi-bo-tn", "7kq2m 9xh4t oalbc defgh")
    assert cred == framed(b"ballot/v1/invitation-credential", b"chi-bo-tn", b"7KQ2M9XH4T0A1BCDEFGH")
    assert cred == hash_parts("ballot/v1/invitation-credential",
                              [b"chi-bo-tn", b"7KQ2M9XH4T0A1BCDEFGH"], digest="sha256")
    assert credential_hash(cred) == framed(b"ballot/v1/invitation-credential-hash", cred).hex()


def test_vectors_and_the_servers_stored_hash():
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    for case in data["cases"]:
        assert normalize_code(case["typed"]) == case["normalized"]
        assert credential(case["slug"], case["typed"]).hex() == case["credential"]
        assert credential_hash(bytes.fromhex(case["credential"])) == case["credential_hash"]
        assert repo.hash_invitation_code(case["typed"], case["slug"]) == case["credential_hash"]


def test_one_code_two_rounds_two_unrelated_credentials():
    code = repo.new_invitation_code()
    one, two = credential("cb", code), credential(repo.next_round_slug("cb"), code)
    assert one != two and len(one) == len(two) == 32
    assert code.encode() not in one + two


@pytest.mark.parametrize("bad", ["", "AB" * 32, "g" * 64, "0" * 63, 42, None])
def test_a_malformed_credential_is_refused(bad):
    with pytest.raises(ValueError, match="64 lowercase hex"):
        parse_credential(bad)
    with pytest.raises(ValueError, match="empty"):
        credential("cb", " - \t")
