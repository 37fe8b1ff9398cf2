#!/usr/bin/env python3
"""Cross-language protocol vectors: writes tests/vectors/protocol_v1.json.

Every value comes from the Python implementation (ballot/crypto, ballot/tally) with fixed
randomness, so the JavaScript client (js/, tests in js/test/) can reproduce each byte. The file
is deterministic: tests/crypto/test_cross_language.py regenerates it and fails if the committed
copy differs, so the vectors cannot drift from the Python code.

    python tests/vectors/make_protocol_vectors.py          # rewrite the file
    python tests/vectors/make_protocol_vectors.py --check  # exit 1 if it is stale

Randomness: every random scalar is drawn from a labelled deterministic sequence
(SHA-512 of the label and a counter, reduced into [1, L)); the values each call consumed are
written next to its result, in the order Python drew them, so a test injects them as they are.
Big integers are written as decimal strings (scalars) or hex (RSA values).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUTPUT = Path(__file__).resolve().with_name("protocol_v1.json")

#: The test issuer's key: 3072-bit RSA, e = 65537, generated once with
#: ballot.crypto.blind_rsa.generate_issuer_key(3072). A test key only; never use it for a meeting.
ISSUER_PRIVATE_KEY_PEM = """\
-----BEGIN PRIVATE KEY-----
MIIG/QIBADANBgkqhkiG9w0BAQEFAASCBucwggbjAgEAAoIBgQDK0CONYTWKz7u+
QXiYI/99wRaO/cAYRBR8cPnyLvqBs2TcFS7fwGbAOqP1PuTdoYUnU7zMjv3DJfdm
csTBp7FUfSA6pVqRmkisb6fPEcQ1+/8TPWlCNzO00RS/w6L50NmRpVzyTiDu3L6Y
FBsoNaieRznRutXeW9IJqnstbX/WQClAVbHmS12v5a8tDxJdmmjDIE68MPNSdq0x
FgtHljqFR5SizIRcKHd9ZUumg6DOHEot33uKvcboh6Bw7UCBd+bysFFuu9iWGKyT
QR7xFUN9mcdNi9Cs8/+xRFmLBdBQjb2CL3Yj4IUW0Mjcq9DRAKZBY8APLWG+NSl1
qeJdAxUlJ8QEEzcC4qSMHCHCRg6Fka3R65HETujvB7rQPEEwQQZa3dh0gQa9MxOp
ITL+0/wnM8REp66bQxZIdBrjgZ9wpvy01oH3pi0qSpPwYOANFnpZjSt2CFpDFEvc
mBO6EWitxroa+MZ8sgdk2Isj4UHpKCEtVs74zJ8GyFrlUm0EUe0CAwEAAQKCAYBE
5VXedjJRGGZnqCgGTtxA5PH72zmBRMdMyrgtzEWu/7j4hn2o5txA2urNqfLnUzI/
fNO7DawoueIEPGKYgpXb5LGpGnjc03NymG+CCUAFMrig2ZDDPKtk9k29IwFfKdJv
BqS/b0kCu5xHXzUmgKvqMLn0hCqY4cpFHFPBx9vQdXVN9I59dAa8dSMABImxoH2M
I5J7nYla7xPAhAOK6v6wPfPBJgako96Li3iadUaQHc4ZLTzzkapbXY9kLURndsoz
ss7nf9ve5TxBqYKJ+W/t5VSrEJiEK0Rq4MxcAPNG/SiWKeBYz77QEYFOoTZtQ1NT
PNFFt+0Y2hcz3LTo7HFPV+yVX5pIoUaRsRvrk+hxSI1oJvOms8S9ZqIhUVzgZK/P
pkC9o9m26QvcwZprJukAmPck7fQwCx2l1SlBT5IBGGww3dWY55Ri2bsH8SsTn3X5
7UzE5gwNzEwjzhHGy8g7S8D5BkVLLoGGYoXTHbpXOGXirXkRQa57NHThR0uoweUC
gcEA6ireb+EqaTWSudwwivhcdvqA04HTRXhCvAXloxawbugdMBzLWXi5G1bQ2ceI
CS7vBilWUs58ShUB8yVfqzWkd7DMNaODR1cThE3lYAaIpfwRqUraV6ya4JTdqSw4
uACJAmhdyrTL0NESwc/wIgJCgIyecQsZj/RB0puqEg/fqJwT4sMZ4gv1R4/SF9td
u0P91l/34emYXrQp6kX+AI4TNqerMhpOvOJYiWsUt5Ckrf23aJBuzQ1PVF8g90Kr
3K5bAoHBAN245lxGJROoRVbWpDyl7KgQUIK9m4RNVVQG4yj9xVnulITeptmhAhY4
HyzMm3+HScFfaR7GpyqoL4lfO9TBTl4KBEpwNkPzP/O+ZRT9L4DAx8n2+NWFquWI
BAfq/i5Xjde0eiWlR4GDyjeTC1w2NlnIfG0QNrrwSh4fYFuYGCeAZuQm232HBfbI
Qh6pmpigUj/ezjO3KhLrRR7afVfBI96ic/zOKJ7BFTLXd/Hy4aN/ic3AXVtVKA+/
kg9/kg4DVwKBwFas23zJ+WrL+610BTvLRl57xqeDTHJQW1NBU4iUY2YJ4JPodJR/
jPTDo7aYlo/foXXEY0FvUK4TLI+Va93xkxkChfPsvDDx2DWGp7ptcLMPpHHnVP5S
01kBgTKXPb9N42jSvLTFSxPV731xvE66S2dNpW/uTd3s6VhNahwZaA3/B5VN5gy3
pGiCoZ9XAVDJj/GDwDsMveuAAGvI0IXgENiQI1v+RNrBZUgoLJjtnycP3I2FuJ2J
qa1vMMKVGQwsNQKBwH9rhj9bNG2Sk56vJZ2RAWsoTQyFqL0ksDfk6WEiTes79/BQ
AHUrWYapZAkb4PUuK43Mph3ArksOcpswtrKzELVsbkDVMepk/ci3D2I7irQkleyU
WTZkZe0Y+LAQNVkuid5/4n6F+I0OzwSXJb0tjpiUZiVLXxiZhQ7Am2CoDKGO4hKV
3ifKk/vZ5F24vJaf9ASup7QCvFQ5DvUHPWdUIKgOljefxqpNbkBUoaLTIScT4X7z
4PLfAnHidy8e8jHJawKBwQDTlnpXvTZpgNYExkF7G2zirASIWTOUD2jcNxvlD4jA
YzUQbMyBA64D5NNgtpfZfTNSzoJJK+AXsS6LEOdLGlGbDnUHYipQ+RugRljMhkPd
GVzudGe4qD1kNF4Qm402ki4HYp4ar2plZUawH6Pjig/2X/3GVDQe7Z1VVZcjCDTz
bZMCnOO8LEd5lSArEPwafZ8y+d+ZKh+SU0cgHEXYMGZEA/GauWMn26OgutOEVfgZ
oAeiNPE9YN4OScw9sjVbFfw=
-----END PRIVATE KEY-----
"""

# --- imports after the sys.path set-up (the script runs from anywhere) ----------------------------
from nacl import bindings as sodium  # noqa: E402
from nacl.public import PrivateKey  # noqa: E402
from nacl.signing import SigningKey  # noqa: E402

from ballot.crypto import blind_rsa as br  # noqa: E402
from ballot.crypto.ballots import (  # noqa: E402
    BallotShape,
    ballot_from_json,
    encrypt_ballot,
    tracking_code,
    unit_context,
    verify_ballot,
)
from ballot.crypto.elgamal import encrypt  # noqa: E402
from ballot.crypto.encoding import (  # noqa: E402
    b64decode,
    b64encode,
    canonical_json,
    hash_parts,
    parse_json,
    uint32,
    uint64,
)
from ballot.crypto.group import (  # noqa: E402
    GENERATOR,
    IDENTITY,
    L,
    Point,
    base_mul,
    decode_point,
    decode_scalar,
    encode_scalar,
    hash_to_scalar,
)
from ballot.crypto.proofs import (  # noqa: E402
    prove_disjunctive,
    prove_dleq,
    prove_schnorr,
    verify_disjunctive,
    verify_dleq,
    verify_schnorr,
)
from ballot.crypto.threshold import TrusteePublic, coefficient_context  # noqa: E402
from ballot.crypto.token import Token, token_message  # noqa: E402
from ballot.election.manifest import Manifest  # noqa: E402
from ballot.election.presets import branch_qd366  # noqa: E402
from ballot.election.roll import RollEntry  # noqa: E402
from ballot.election.trustees import Trustees  # noqa: E402
from ballot.election.units import Unit  # noqa: E402
from ballot.tally.board import GENESIS, Receipt, entry_hash, sign_receipt, verify_receipt  # noqa: E402
from ballot.tally.context import ElectionContext  # noqa: E402

P25519 = 2**255 - 19
ORDER_8 = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")


# --- deterministic randomness ----------------------------------------------------------------------


class Sequence:
    """A labelled deterministic source of scalars in [1, L) that records what it gave."""

    def __init__(self, label: str):
        self.label = label
        self.counter = 0
        self.drawn: list[int] = []

    def __call__(self) -> int:
        self.counter += 1
        digest = hashlib.sha512(f"ballot-vectors/{self.label}/{self.counter}".encode()).digest()
        value = int.from_bytes(digest, "little") % (L - 1) + 1
        self.drawn.append(value)
        return value

    def take(self) -> list[str]:
        """The values drawn since the last take, as decimal strings; then forget them."""
        out, self.drawn = [str(v) for v in self.drawn], []
        return out


def fixed_bytes(label: str, n: int) -> bytes:
    out = b""
    i = 0
    while len(out) < n:
        i += 1
        out += hashlib.sha512(f"ballot-vectors/{label}/{i}".encode()).digest()
    return out[:n]


def hx(data: bytes) -> str:
    return data.hex()


def scalar(k: int) -> str:
    return str(k)


# --- 1. encodings ----------------------------------------------------------------------------------

CANONICAL_VALUES = [
    ("empty object", {}),
    ("empty array", []),
    ("scalars", [None, True, False, 0, -1, 1, 9007199254740991, -9007199254740991, ""]),
    ("key order by code point", {"b": 1, "a": 2, "B": 3, "aa": 4, "": 5, "é": 6, "z": 7, "_": 8, "-": 9}),
    ("astral key after U+FFFF (code point, not UTF-16 order)",
     {"\U0001F600": "astral", "\uffff": "bmp", "\ue000": "private use", "~": "ascii"}),
    ("vietnamese", {
        "HTXSNV": "Hoàn thành xuất sắc nhiệm vụ",
        "KHTNV": "Không hoàn thành nhiệm vụ",
        "tên": "Nguyễn Thị Ánh Dương",
        "tổ chức": "Chi bộ Khối Văn phòng — Đảng ủy",
    }),
    ("combining marks kept as given (no normalisation)", ["Tiếng Việt", "Tie\u0302\u0301ng Vie\u0323\u0302t"]),
    ("all control characters", "".join(chr(c) for c in range(0x20))),
    ("escapes and non-escapes", "quote\" backslash\\ slash/ del\x7f nbsp\u00a0 ls\u2028 ps\u2029 bom\ufeff"),
    ("nested", {"z": [{"b": [1, [2, [3, {}]]], "a": None}], "a": {"c": {"b": {"a": []}}}}),
    ("ballot-like", {"version": "ballot/v1/ballot", "units": ["AAAA", "BBBB"],
                     "token": {"signature": "s", "message": "m"}, "election": "00" * 32}),
]

CANONICAL_REFUSED = [
    ("float", {"a": 1.5}),
    ("integer 2^53", 2**53),
    ("integer -2^53", [-(2**53)]),
]

PARSE_TEXTS = [
    ("whitespace", ' { "b" : [ true , false , null ] ,\n\t"a" : -0 }\r\n'),
    ("escapes", '["\\u00e9\\u1ec7\\ud83d\\ude00\\n\\/\\"\\\\\\b\\f\\r\\t\\u0000"]'),
    ("raw utf-8", '{"tên":"Nguyễn"}'),
    ("duplicate key", '{"a":1,"a":2}'),
    ("nested duplicate key", '{"a":{"b":1,"b":1}}'),
    ("float", "1.0"),
    ("exponent", "1e2"),
    ("big exponent", "1E400"),
    ("NaN", "NaN"),
    ("Infinity", "[Infinity]"),
    ("-Infinity", "-Infinity"),
    ("integer beyond 2^53", "123456789012345678901234567890"),
    ("lone surrogate escape", '"\\ud800"'),
    ("leading zero", "01"),
    ("trailing comma", "[1,]"),
    ("single quotes", "{'a':1}"),
    ("raw control character", '"a\tb"'),
    ("byte order mark", "\ufeff{}"),
    ("extra data", "{} {}"),
    ("empty", ""),
]

B64_CASES = [
    ("", None), ("AA", None), ("AAA", None), ("AAAA", None), ("QUJD", None), ("QUJDRA", None),
    ("QUJDREU", None), ("-_-_", None), ("_w", None), ("__8", None), ("QUJD", 3), ("QUJD", 4),
    ("A", None), ("AAAAA", None), ("AB", None), ("AAB", None), ("QUJDRB", None), ("_x", None),
    ("AA==", None), ("AAA=", None), ("A+", None), ("A/", None), ("QU JD", None), ("QUJD\n", None),
    ("abc\n", None), ("AAAAAAA\n", None), ("Ã", None),
]


def encoding_vectors() -> dict:
    canonical = [{"name": n, "value": v, "canonical_hex": hx(canonical_json(v))} for n, v in CANONICAL_VALUES]
    refused = []
    for n, v in CANONICAL_REFUSED:
        try:
            canonical_json(v)
        except Exception as exc:  # noqa: BLE001 — the vector records that Python refuses it
            refused.append({"name": n, "value": v, "python_error": type(exc).__name__})
        else:
            raise AssertionError(f"canonical_json accepted {n}")
    parse = []
    for n, text in PARSE_TEXTS:
        entry = {"name": n, "text": text}
        try:
            value = parse_json(text)
        except Exception as exc:  # noqa: BLE001
            entry.update(parse_ok=False, canonical_hex=None, python_error=type(exc).__name__)
        else:
            entry["parse_ok"] = True
            try:
                entry["canonical_hex"] = hx(canonical_json(value))
            except Exception as exc:  # noqa: BLE001
                entry.update(canonical_hex=None, python_error=type(exc).__name__)
        parse.append(entry)
    b64 = []
    for text, length in B64_CASES:
        entry = {"text": text, "length": length}
        try:
            entry.update(ok=True, hex=hx(b64decode(text, length)))
            assert b64encode(b64decode(text)) == text
        except Exception as exc:  # noqa: BLE001
            entry.update(ok=False, python_error=type(exc).__name__)
        b64.append(entry)
    encode = [{"hex": hx(data), "b64": b64encode(data)}
              for data in (b"", b"\x00", b"\xff\xfe", b"\xfb\xef\xff", fixed_bytes("b64", 97))]
    parts_cases = [
        ("ballot/v1/manifest", [], "sha256"),
        ("ballot/v1/token-id", [b""], "sha256"),
        ("ballot/v1/board-entry", [bytes(32), uint32(1), fixed_bytes("ballot-hash", 32)], "sha256"),
        ("ballot/v1/ctx/unit", [fixed_bytes("base", 32), fixed_bytes("voter", 32), uint32(4)], "sha256"),
        ("ballot/v1/proof/schnorr", [b"a", b"bc", b""], "sha512"),
        ("", [fixed_bytes("long", 1000)], "sha512"),
    ]
    hashes = [{"tag": t, "parts_hex": [hx(p) for p in parts], "digest": d,
               "hex": hx(hash_parts(t, parts, digest=d))} for t, parts, d in parts_cases]
    to_scalar = [{"tag": t, "parts_hex": [hx(p) for p in parts],
                  "scalar": scalar(hash_to_scalar(t, parts)),
                  "scalar_hex": hx(encode_scalar(hash_to_scalar(t, parts)))}
                 for t, parts, _ in parts_cases]
    u32 = [{"n": n, "hex": hx(uint32(n))} for n in (0, 1, 255, 256, 65536, 2**32 - 1)]
    u64 = [{"n": str(n), "hex": hx(uint64(n))} for n in (0, 1, 2**32, 4000**3, 2**48 - 1, 2**64 - 1)]
    return {
        "canonical_json": canonical, "canonical_json_refused": refused, "parse_json": parse,
        "b64decode": b64, "b64encode": encode, "hash_parts": hashes, "hash_to_scalar": to_scalar,
        "uint32": u32, "uint32_refused": [-1, 2**32],
        "uint64": u64, "uint64_refused": [str(-1), str(2**64)],
    }


# --- 2. the group ----------------------------------------------------------------------------------


def group_vectors(rng: Sequence) -> dict:
    P = base_mul(rng())
    Q = base_mul(rng())
    rng.take()
    mixed = Point(sodium.crypto_core_ed25519_add(P.data, ORDER_8))
    candidates = [
        ("generator", GENERATOR.data),
        ("random point P", P.data),
        ("random point Q", Q.data),
        ("-P", (-P).data),
        ("identity", IDENTITY.data),
        ("identity with the sign bit set", bytes([1]) + bytes(30) + b"\x80"),
        ("order 8", ORDER_8),
        ("order 2 (y = -1)", (P25519 - 1).to_bytes(32, "little")),
        ("order 4 (y = 0)", bytes(32)),
        ("P + order-8 point (not in the subgroup)", mixed.data),
        ("y = p (non-canonical)", P25519.to_bytes(32, "little")),
        ("y = p + 1 (non-canonical identity)", (P25519 + 1).to_bytes(32, "little")),
        ("y = 2 (not on the curve)", (2).to_bytes(32, "little")),
        ("all ones", b"\xff" * 32),
        ("31 bytes", GENERATOR.data[:31]),
        ("33 bytes", GENERATOR.data + b"\x00"),
    ]
    points = []
    for name, data in candidates:
        entry = {"name": name, "hex": hx(data)}
        try:
            decode_point(data)
            entry["valid"] = True
        except Exception as exc:  # noqa: BLE001
            entry.update(valid=False, python_error=type(exc).__name__)
        try:
            decode_point(data, allow_identity=True)
            entry["valid_allowing_identity"] = True
        except Exception:  # noqa: BLE001
            entry["valid_allowing_identity"] = False
        points.append(entry)
    scalars = []
    for name, data in [("zero", bytes(32)), ("one", encode_scalar(1)), ("L - 1", (L - 1).to_bytes(32, "little")),
                       ("L", L.to_bytes(32, "little")), ("L + 1", (L + 1).to_bytes(32, "little")),
                       ("2^256 - 1", b"\xff" * 32), ("31 bytes", bytes(31))]:
        entry = {"name": name, "hex": hx(data)}
        try:
            entry.update(valid=True, value=scalar(decode_scalar(data)))
        except Exception as exc:  # noqa: BLE001
            entry.update(valid=False, python_error=type(exc).__name__)
        scalars.append(entry)
    ks = [0, 1, 2, 7, L - 1, L, L + 1, 2 * L + 5, rng(), rng()]
    rng.take()
    mult = []
    for base_name, base in [("generator", GENERATOR), ("P", P), ("identity", IDENTITY)]:
        for k in ks:
            mult.append({"point": hx(base.data), "point_name": base_name, "k": scalar(k),
                         "result": hx((base * k).data)})
    adds = []
    for a, b in [(P, Q), (P, -P), (P, IDENTITY), (IDENTITY, Q), (IDENTITY, IDENTITY), (P, P), (GENERATOR, P)]:
        adds.append({"a": hx(a.data), "b": hx(b.data), "sum": hx((a + b).data),
                     "difference": hx((a - b).data), "neg_b": hx((-b).data)})
    return {"L": str(L), "generator": hx(GENERATOR.data), "identity": hx(IDENTITY.data),
            "decode_point": points, "decode_scalar": scalars, "mul": mult, "add": adds}


# --- 3, 4. ElGamal and proofs ----------------------------------------------------------------------


def elgamal_vectors(rng: Sequence) -> tuple[list, Point]:
    s = rng()
    h = base_mul(s)
    rng.take()
    out = []
    for m in (0, 1, 11, 121, 1331, 2**47):
        r = rng()
        ct, _ = encrypt(h, m, r)
        out.append({"public_key": hx(h.data), "m": m, "r": scalar(r), "ciphertext": hx(ct.to_bytes())})
        rng.take()
    return out, h


def proof_vectors(rng: Sequence, h: Point) -> dict:
    schnorr = []
    for i in range(3):
        context = fixed_bytes(f"schnorr-context/{i}", 32)
        x = rng()
        rng.take()
        proof = prove_schnorr(context, x, rng=rng)
        X = base_mul(x)
        verify_schnorr(context, X, proof)
        schnorr.append({"context": hx(context), "x": scalar(x), "X": hx(X.data), "rng": rng.take(),
                        "proof": hx(proof.to_bytes())})
    dleq = []
    for i in range(3):
        context = fixed_bytes(f"dleq-context/{i}", 32)
        x, a = rng(), rng()
        rng.take()
        A = base_mul(a)
        M, proof = prove_dleq(context, x, A, rng=rng)
        X = base_mul(x)
        verify_dleq(context, X, A, M, proof)
        dleq.append({"context": hx(context), "x": scalar(x), "X": hx(X.data), "A": hx(A.data),
                     "M": hx(M.data), "rng": rng.take(), "proof": hx(proof.to_bytes())})
    disjunctive = []
    with_abstain = [0, 1, 11, 121, 1331]
    without = [1, 11, 121, 1331]
    big = [0, 1, 4000, 4000**2, 4000**3]  # radix 4000, 4 levels: values beyond 2^32 (u64 in the challenge)
    cases = [(with_abstain, m) for m in with_abstain] + [(without, 1), (without, 1331), ([0, 1], 0), ([0, 1], 1),
                                                         (big, 4000**3), (big, 0)]
    for i, (values, m) in enumerate(cases):
        context = fixed_bytes(f"disjunctive-context/{i}", 32)
        ct, r = encrypt(h, m, rng())
        nonce = rng.take()
        proof = prove_disjunctive(context, h, ct, r, m, values, rng=rng)
        verify_disjunctive(context, h, ct, values, proof)
        disjunctive.append({"context": hx(context), "public_key": hx(h.data), "values": values, "m": m,
                            "r": nonce[0], "ciphertext": hx(ct.to_bytes()), "rng": rng.take(),
                            "proof": hx(proof.to_bytes())})
    return {"schnorr": schnorr, "dleq": dleq, "disjunctive": disjunctive}


# --- 6. blind RSA ------------------------------------------------------------------------------------


def rsa_vectors(issuer: br.IssuerPrivateKey) -> dict:
    pk = issuer.public_key()
    pss = []
    for i, msg in enumerate([b"", b"ballot", fixed_bytes("pss-msg", 111)]):
        salt = fixed_bytes(f"pss-salt/{i}", 48)
        pss.append({"msg": hx(msg), "salt": hx(salt), "em_bits": pk.modulus_bits - 1,
                    "encoded": hx(br.emsa_pss_encode(msg, pk.modulus_bits - 1, salt=salt))})
    blinds = []
    for i in range(2):
        prepared = fixed_bytes(f"blind-prefix/{i}", 32) + fixed_bytes(f"blind-msg/{i}", 40 + i)
        salt = fixed_bytes(f"blind-salt/{i}", 48)
        inv = int.from_bytes(fixed_bytes(f"blind-inv/{i}", 384), "big") % pk.n
        blinded, state = br.blind(pk, prepared, salt=salt, inv=inv)
        blind_sig = br.blind_sign(issuer, blinded)
        sig = br.finalize(pk, prepared, blind_sig, state)
        assert br.verify(pk, prepared, sig)
        blinds.append({"prepared": hx(prepared), "salt": hx(salt), "inv": format(inv, "x"),
                       "encoded": hx(br.emsa_pss_encode(prepared, pk.modulus_bits - 1, salt=salt)),
                       "blinded_msg": hx(blinded), "blind_sig": hx(blind_sig), "sig": hx(sig)})
    der = pk.to_der()
    return {
        "private_key_pem": ISSUER_PRIVATE_KEY_PEM,
        "public_key_b64": b64encode(der),
        "public_key_pem": pk.to_pem().decode(),
        "n": format(pk.n, "x"), "e": format(pk.e, "x"), "modulus_bits": pk.modulus_bits,
        "fingerprint": hx(pk.fingerprint()),
        "emsa_pss_encode": pss, "blind": blinds,
    }


def issue_token(issuer: br.IssuerPrivateKey, base_hash: bytes, voter: SigningKey, label: str) -> dict:
    """The RFC 9474 exchange with fixed prefix, salt and inv: deterministic end to end."""
    pk = issuer.public_key()
    msg = token_message(base_hash, bytes(voter.verify_key))
    prefix = fixed_bytes(f"{label}/prefix", 32)
    prepared = prefix + msg
    salt = fixed_bytes(f"{label}/salt", 48)
    inv = int.from_bytes(fixed_bytes(f"{label}/inv", 384), "big") % pk.n
    blinded, state = br.blind(pk, prepared, salt=salt, inv=inv)
    blind_sig = br.blind_sign(issuer, blinded)
    sig = br.finalize(pk, prepared, blind_sig, state)
    token = Token(prepared, sig)
    return {
        "base_hash": hx(base_hash), "voter_seed": hx(bytes(voter)),
        "voter_public_key": hx(bytes(voter.verify_key)), "message": hx(msg), "prefix": hx(prefix),
        "prepared": hx(prepared), "salt": hx(salt), "inv": format(inv, "x"), "blinded_msg": hx(blinded),
        "blind_sig": hx(blind_sig), "signature": hx(sig), "token_id": hx(token.token_id),
        "json": {"message": b64encode(prepared), "signature": b64encode(sig)},
    }


# --- 5, 8, 9. a whole election ------------------------------------------------------------------------

ROLL = [
    ("dv01", "Nguyễn Văn An"), ("dv02", "Trần Thị Bình"), ("dv03", "Lê Hoàng Cường"),
    ("dv04", "Phạm Thị Dung"), ("dv05", "Hoàng Văn Em"), ("dv06", "Vũ Thị Phương"),
    ("dv07", "Đặng Quốc Giang"), ("dv08", "Bùi Thị Hạnh"), ("dv09", "Đỗ Minh Khôi"),
    ("dv10", "Ngô Thị Lan"),
]


def election_vectors(issuer: br.IssuerPrivateKey, rng: Sequence) -> dict:
    levels, rules = branch_qd366()
    roll = [RollEntry(rid, name) for rid, name in ROLL]
    roll += [RollEntry("dv11", "Dương Văn Mạnh", "probationary"),
             RollEntry("dv12", "Lý Thị Ngọc", "excluded", "chuyển sinh hoạt tạm thời")]
    units = [Unit(rid, name, self_level="HTTNV") for rid, name in ROLL[:5]]
    manifest = Manifest(
        title="Đánh giá, xếp loại chất lượng đảng viên năm 2025",
        organisation="Chi bộ Khối Văn phòng",
        date="2025-12-15",
        meeting_kind="branch_members",
        roll=tuple(roll), units=tuple(units), levels=levels, rules=rules,
        trustees=Trustees(("Tổ kiểm phiếu 1", "Tổ kiểm phiếu 2", "Tổ kiểm phiếu 3"), 2),
        issuer_public_key=b64encode(issuer.public_key().to_der()),
    )
    mh = manifest.manifest_hash()
    k = manifest.trustees.threshold
    trustees = []
    for i in range(1, manifest.trustees.n + 1):
        coefficients = [rng() for _ in range(k)]
        commitments = tuple(base_mul(a) for a in coefficients)
        proofs = tuple(prove_schnorr(coefficient_context(mh, i, j), a, K, rng=rng)
                       for j, (a, K) in enumerate(zip(coefficients, commitments)))
        box = PrivateKey(fixed_bytes(f"trustee-box/{i}", 32))
        trustees.append(TrusteePublic(i, commitments, proofs, bytes(box.public_key)))
    rng.take()
    ctx = ElectionContext(manifest, tuple(trustees))
    ctx.validate()
    receipt_key = SigningKey(fixed_bytes("receipt-key", 32))
    info = {
        "slug": "chi-bo-van-phong-2025",
        "status": "open",
        "manifest": manifest.to_json(),
        "context": ctx.to_json(),
        "base_hash": ctx.base_hash.hex(),
        "receipt_key": b64encode(bytes(receipt_key.verify_key)),
    }
    assert ctx.shape == BallotShape(5, 4, True, 11)

    voter = SigningKey(fixed_bytes("voter-seed", 32))
    token_vec = issue_token(issuer, ctx.base_hash, voter, "ballot-token")
    token = Token(bytes.fromhex(token_vec["prepared"]), bytes.fromhex(token_vec["signature"]))
    choices = [0, 1, 2, 3, None]
    ballot, nonces = encrypt_ballot(ctx.shape, ctx.base_hash, ctx.public_key, token, voter, choices, rng=rng)
    ballot_json = ballot.to_json()
    verify_ballot(ballot_from_json(ballot_json, ctx.shape), ctx.shape, ctx.base_hash, ctx.public_key, ctx.issuer)
    body = ballot.body_json()
    ballot_vec = {
        "choices": choices,
        "voter_seed": hx(bytes(voter)),
        "token": token_vec["json"],
        "rng": rng.take(),
        "nonces": [scalar(r) for r in nonces],
        "audit_nonces": [b64encode(encode_scalar(r)) for r in nonces],
        "unit_contexts": [hx(unit_context(ctx.base_hash, bytes(voter.verify_key), u)) for u in range(5)],
        "ballot": ballot_json,
        "body_canonical_hex": hx(canonical_json(body)),
        "ballot_canonical_hex": hx(canonical_json(ballot_json)),
        "ballot_hash": hx(ballot.ballot_hash),
        "tracking_code": ballot.tracking_code,
        "token_id": hx(token.token_id),
    }
    assert tracking_code(ballot.ballot_hash) == ballot.tracking_code

    position = 1
    ehash = entry_hash(GENESIS, position, ballot.ballot_hash)
    receipt = sign_receipt(receipt_key, Receipt(ctx.base_hash.hex(), position, ballot.tracking_code,
                                                 ehash.hex(), "2025-12-15T08:30:00Z"))
    verify_receipt(bytes(receipt_key.verify_key), receipt)
    receipt_vec = {
        "receipt": receipt.to_json(),
        "signed_hex": hx(receipt.signed_bytes()),
        "board": [{"position": position, "prev_hash": hx(GENESIS), "ballot_hash": hx(ballot.ballot_hash),
                   "entry_hash": hx(ehash)}],
    }
    return {
        "info": info,
        "manifest_hash": mh.hex(),
        "public_key": hx(ctx.public_key.data),
        "shape": {"num_units": 5, "num_levels": 4, "abstain_allowed": True, "radix": 11,
                  "values": list(ctx.shape.values), "unit_bytes": ctx.shape.unit_bytes},
        "token": token_vec,
        "ballot": ballot_vec,
        "receipt": receipt_vec,
    }


# --- the file ------------------------------------------------------------------------------------------


def build() -> dict:
    issuer = br.IssuerPrivateKey.from_pem(ISSUER_PRIVATE_KEY_PEM.encode())
    group_rng = Sequence("group")
    elgamal, h = elgamal_vectors(Sequence("elgamal"))
    return {
        "version": "ballot/vectors/protocol/v1",
        "generated_by": "tests/vectors/make_protocol_vectors.py (do not edit by hand)",
        "encoding": encoding_vectors(),
        "group": group_vectors(group_rng),
        "elgamal": elgamal,
        "proofs": proof_vectors(Sequence("proofs"), h),
        "rsa": rsa_vectors(issuer),
        "election": election_vectors(issuer, Sequence("election")),
    }


def render(vectors: dict) -> str:
    return json.dumps(vectors, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def vector_file_main(build_vectors, output: Path, script: Path, argv: list[str] | None) -> int:
    """The command line of every vector generator: write ``output``, or ``--check`` it."""
    parser = argparse.ArgumentParser(description=sys.modules["__main__"].__doc__.splitlines()[0]
                                     if sys.modules["__main__"].__doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is not up to date")
    args = parser.parse_args(argv)
    text = render(build_vectors())
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            print(f"{output} is stale: run python {script.resolve().relative_to(ROOT)}",
                  file=sys.stderr)
            return 1
        print(f"{output} is up to date")
        return 0
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output.relative_to(ROOT)} ({len(text)} bytes)")
    return 0


def main(argv: list[str] | None = None) -> int:
    return vector_file_main(build, OUTPUT, Path(__file__), argv)


if __name__ == "__main__":
    sys.exit(main())
