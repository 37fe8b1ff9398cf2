"""Runtime key material in ``keys/``: files created with mode 0600, never logged."""

from __future__ import annotations

import os
import re
import secrets
import stat
from pathlib import Path

from nacl.signing import SigningKey

from ballot.crypto import blind_rsa

__all__ = ["KeyStore", "KeyStoreError"]


class KeyStoreError(RuntimeError):
    pass


_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class KeyStore:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._issuers: dict[str, tuple[bytes, blind_rsa.IssuerPrivateKey]] = {}

    def _write(self, name: str, data: bytes, *, replace: bool = True) -> None:
        """Write atomically with mode 0600. With ``replace=False`` an existing file wins (a
        concurrent worker created it first) and this call changes nothing."""
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / name
        tmp = self.path / f".{name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if replace:
                os.replace(tmp, target)
            else:
                try:
                    os.link(tmp, target)
                except FileExistsError:
                    pass
        finally:
            if tmp.exists():
                tmp.unlink()

    def _read(self, name: str) -> bytes | None:
        target = self.path / name
        try:
            mode = target.stat().st_mode
        except FileNotFoundError:
            return None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyStoreError(f"{target} is readable by others: chmod 600 it")
        return target.read_bytes()

    def receipt_key(self) -> SigningKey:
        """The server's Ed25519 receipt-signing key, created on first use."""
        raw = self._read("server-receipt.key")
        if raw is None:
            self._write("server-receipt.key", bytes(SigningKey.generate()), replace=False)
            # Another worker may have won the race: what is on disk is the key.
            raw = self._read("server-receipt.key")
        return SigningKey(raw)

    def save_issuer_key(self, slug: str, key: blind_rsa.IssuerPrivateKey) -> None:
        """Write an election's issuer key; call it only once the slug is reserved in the
        database (inside the transaction that creates the election)."""
        if not _NAME.match(slug):
            raise KeyStoreError(f"bad election slug {slug!r}")
        self._write(f"issuer-{slug}.pem", key.to_pem())

    def issuer_key(self, slug: str) -> blind_rsa.IssuerPrivateKey:
        raw = self._read(f"issuer-{slug}.pem")
        if raw is None:
            raise KeyStoreError(f"no issuer key for election {slug!r} in {self.path}")
        cached = self._issuers.get(slug)  # parsing and checking a 3072-bit key costs ~0.25 s
        if cached is not None and cached[0] == raw:
            return cached[1]
        key = blind_rsa.IssuerPrivateKey.from_pem(raw)
        self._issuers[slug] = (raw, key)
        return key
