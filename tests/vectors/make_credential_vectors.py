"""Write tests/vectors/credential_v1.json: the per-round invitation credential
(docs/protocol.md §7.1) from the Python implementation, for js/test/phone.test.js.

    python tests/vectors/make_credential_vectors.py
"""

from __future__ import annotations

import json
from pathlib import Path

from ballot.crypto.credential import credential, credential_hash, normalize_code

OUT = Path(__file__).with_name("credential_v1.json")

CASES = [
    ("chi-bo-tn", "7KQ2M-9XH4T-0A1BC-DEFGH"),
    ("chi-bo-tn", "7kq2m 9xh4t oalbc defgh"),  # typed: lower case, spaces, O and L
    ("chi-bo-tn-v2", "7KQ2M-9XH4T-0A1BC-DEFGH"),  # the same slip in the second round
    ("cb-2025", "\t00000-11111\r\n-ZZZZZ-YYYYY "),
    ("cb-2025", "ÄB-ß"),  # not a code: kept as typed (only ASCII letters are folded)
]


def build() -> dict:
    cases = []
    for slug, typed in CASES:
        cred = credential(slug, typed)
        cases.append({"slug": slug, "typed": typed, "normalized": normalize_code(typed),
                      "credential": cred.hex(), "credential_hash": credential_hash(cred)})
    return {"version": "ballot/v1/credential-vectors",
            "tags": {"credential": "ballot/v1/invitation-credential",
                     "credential_hash": "ballot/v1/invitation-credential-hash"},
            "cases": cases}


def render(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


if __name__ == "__main__":
    OUT.write_text(render(build()), encoding="utf-8")
    print(f"wrote {OUT}")
