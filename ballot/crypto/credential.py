"""The per-round invitation credential (docs/protocol.md §7.1), the same bytes as
``js/src/credential.js``.

A slip's code never travels: the phone sends, for the election (round) ``slug``::

    credential = SHA256_invitation-credential(utf8(slug), utf8(normalize(code)))   # 32 bytes

as 64 lowercase hex digits, and the server stores only
``SHA256_invitation-credential-hash(credential)``. A listener on the meeting's Wi-Fi who
captured round one's credential can compute neither the code nor round two's credential
(another slug), so replaying round one's requests in round two is refused.
"""

from __future__ import annotations

import re

from .encoding import sha256

__all__ = [
    "CREDENTIAL_HASH_TAG",
    "CREDENTIAL_TAG",
    "credential",
    "credential_hash",
    "normalize_code",
    "parse_credential",
]

CREDENTIAL_TAG = "ballot/v1/invitation-credential"
CREDENTIAL_HASH_TAG = "ballot/v1/invitation-credential-hash"

_DROP = str.maketrans("", "", " \t\r\n-")
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_HEX64 = re.compile(r"[0-9a-f]{64}")


def normalize_code(code: str) -> str:
    """The code as printed, from what was typed or scanned: ASCII space, tab, CR, LF and
    ``-`` removed, ASCII letters upper-cased, O read as 0, I and L as 1 (Crockford). Anything
    else is kept, so a wrong code stays wrong."""
    if not isinstance(code, str):
        raise TypeError("an invitation code is a str")
    folded = "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in code.translate(_DROP))
    return folded.translate(_READ_AS)


def credential(slug: str, code: str) -> bytes:
    """The 32-byte credential of ``code`` for the election (round) ``slug``."""
    normalized = normalize_code(code)
    if not normalized:
        raise ValueError("empty invitation code")
    return sha256(CREDENTIAL_TAG, slug.encode("utf-8"), normalized.encode("utf-8"))


def credential_hash(cred: bytes) -> str:
    """What the server stores for a credential: hex SHA256_invitation-credential-hash(cred)."""
    if not isinstance(cred, (bytes, bytearray)) or len(cred) != 32:
        raise ValueError("a credential is 32 bytes")
    return sha256(CREDENTIAL_HASH_TAG, bytes(cred)).hex()


def parse_credential(text: object) -> bytes:
    """The credential as sent in ``POST …/tokens``: exactly 64 lowercase hex digits."""
    if not isinstance(text, str) or not _HEX64.fullmatch(text):
        raise ValueError("credential: 64 lowercase hex digits (docs/protocol.md §7.1)")
    return bytes.fromhex(text)
