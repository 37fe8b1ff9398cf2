"""A trustee's key file: the trustee's secrets, encrypted under the trustee's passphrase.

File format (JSON, docs/protocol.md, "Trustee key file"):
    {"version": "ballot/v1/trustee-key", "manifest_hash": hex, "index": i,
     "kdf": {"alg": "argon2id13", "opslimit": n, "memlimit": n, "salt": b64},
     "secretbox": b64(XSalsa20-Poly1305 of the canonical JSON of the secrets)}
The secrets are the polynomial's coefficients, the Box private key and, once the ceremony
is over, the secret share s_i and ``publics``: the digest (hex, ``ballot/tally/approval.py``
``publics_digest``) of every trustee's public keys that the shares were checked against, so
that the trustee can later check that the election key is made of exactly those (key
substitution, issue 11). The server never holds this file's key.

The passphrase is taken in Unicode NFC before argon2id: Vietnamese keyboards type the same
"mật khẩu" as precomposed letters or as letters and combining marks, and the browser and the
command line must derive the same key from either. Opening also tries the text as typed and
its NFD form (files sealed before this rule, or by other tools).
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.pwhash
import nacl.secret
import nacl.utils
from nacl.exceptions import CryptoError

from ballot.crypto.encoding import EncodingError, b64decode, b64encode, canonical_json, parse_json
from ballot.crypto.group import decode_scalar, encode_scalar
from ballot.crypto.threshold import TrusteeSecret

__all__ = ["KeyFileError", "TrusteeKeys", "seal_keys", "open_keys", "passphrase_forms",
           "write_keyfile", "read_keyfile"]

VERSION = "ballot/v1/trustee-key"
OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE


class KeyFileError(ValueError):
    pass


@dataclass(frozen=True)
class TrusteeKeys:
    manifest_hash: bytes
    secret: TrusteeSecret
    share: int | None = None  # s_i, once every other trustee's share is received and checked
    publics: bytes | None = None  # digest of the trustees' keys the shares were checked against


def _secrets_json(keys: TrusteeKeys) -> dict[str, Any]:
    out = {
        "coefficients": [b64encode(encode_scalar(a)) for a in keys.secret.coefficients],
        "box_secret": b64encode(keys.secret.box_secret),
        "share": b64encode(encode_scalar(keys.share)) if keys.share is not None else None,
    }
    if keys.publics is not None:  # absent from files sealed before approvals existed
        out["publics"] = keys.publics.hex()
    return out


def seal_keys(keys: TrusteeKeys, passphrase: str, *, opslimit: int = OPSLIMIT,
              memlimit: int = MEMLIMIT) -> dict[str, Any]:
    passphrase = unicodedata.normalize("NFC", passphrase)
    if len(passphrase) < 8:
        raise KeyFileError("the passphrase must have at least 8 characters")
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    key = nacl.pwhash.argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"),
                                   salt, opslimit=opslimit, memlimit=memlimit)
    box = nacl.secret.SecretBox(key)
    return {
        "version": VERSION,
        "manifest_hash": keys.manifest_hash.hex(),
        "index": keys.secret.index,
        "kdf": {"alg": "argon2id13", "opslimit": opslimit, "memlimit": memlimit,
                "salt": b64encode(salt)},
        "secretbox": b64encode(bytes(box.encrypt(canonical_json(_secrets_json(keys))))),
    }


def passphrase_forms(passphrase: str) -> list[str]:
    """The texts to try when opening: NFC (how files are sealed), as typed, NFD; no repeats."""
    out: list[str] = []
    for form in (unicodedata.normalize("NFC", passphrase), passphrase,
                 unicodedata.normalize("NFD", passphrase)):
        if form not in out:
            out.append(form)
    return out


def open_keys(doc: Any, passphrase: str) -> TrusteeKeys:
    try:
        if not isinstance(doc, dict) or doc.get("version") != VERSION:
            raise KeyFileError("not a ballot trustee key file")
        kdf = doc["kdf"]
        if kdf.get("alg") != "argon2id13":
            raise KeyFileError(f"unknown key derivation {kdf.get('alg')!r}")
        salt = b64decode(kdf["salt"], nacl.pwhash.argon2id.SALTBYTES, "kdf.salt")
        box = b64decode(doc["secretbox"], what="secretbox")
        plain = None
        for form in passphrase_forms(passphrase):
            key = nacl.pwhash.argon2id.kdf(
                nacl.secret.SecretBox.KEY_SIZE, form.encode("utf-8"), salt,
                opslimit=int(kdf["opslimit"]), memlimit=int(kdf["memlimit"]))
            try:
                plain = nacl.secret.SecretBox(key).decrypt(box)
                break
            except CryptoError:
                continue
        if plain is None:
            raise KeyFileError("wrong passphrase, or the key file was altered")
        s = parse_json(plain)
        secret = TrusteeSecret(
            int(doc["index"]),
            tuple(decode_scalar(b64decode(a, 32)) for a in s["coefficients"]),
            b64decode(s["box_secret"], 32, "box_secret"))
        share = decode_scalar(b64decode(s["share"], 32)) if s["share"] is not None else None
        publics = bytes.fromhex(s["publics"]) if s.get("publics") is not None else None
        if publics is not None and len(publics) != 32:
            raise KeyFileError("malformed trustee key file: publics")
        return TrusteeKeys(bytes.fromhex(doc["manifest_hash"]), secret, share, publics)
    except KeyFileError:
        raise
    except (KeyError, TypeError, ValueError, EncodingError) as exc:
        raise KeyFileError(f"malformed trustee key file: {exc}") from None


def write_keyfile(path: str | Path, doc: dict[str, Any]) -> Path:
    """Write with mode 0600 (created so, never widened), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(canonical_json(doc))
    os.replace(tmp, path)
    return path


def read_keyfile(path: str | Path) -> dict[str, Any]:
    try:
        return parse_json(Path(path).read_bytes())
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc.strerror}") from None
    except EncodingError as exc:
        raise KeyFileError(f"{path}: {exc}") from None
