// What the phone keeps between page loads while a member votes (docs/web.md "Storage"), sealed
// so that browser storage alone holds nothing castable: the voter key seed, the blinding state
// and the token are encrypted (XSalsa20-Poly1305, libsodium secretbox) under a key derived from
// the slip's code, which is never stored:
//
//   key  = SHA256_ballot/web/v1/vault(utf8(slug), utf8(normalize(code)))
//   text = b64(nonce (24 random bytes) ‖ secretbox(utf8(JSON), nonce, key))
//
// Whoever reads the storage without the slip cannot cast; the member reopens the slip's link
// (or types the code) and the page carries on.

import { concatBytes, randomBytes } from "./bytes.js";
import { b64decode, b64encode, sha256Tag, utf8, utf8Decode } from "./encoding.js";
import { normalizeCode } from "./credential.js";
import { sodium } from "./sodium.js";

export const VAULT_TAG = "ballot/web/v1/vault";

export class VaultError extends Error {
  constructor(message) {
    super(message);
    this.name = "VaultError";
  }
}

/** The 32-byte key of the state kept for `code` in election `slug`. */
export function vaultKey(slug, code) {
  return sha256Tag(VAULT_TAG, utf8(slug, "slug"), utf8(normalizeCode(code), "code"));
}

/** Seal a JSON value under `key` (from vaultKey): a base64url text to store. */
export function sealState(key, value) {
  const nonce = randomBytes(24);
  const box = sodium().crypto_secretbox_easy(utf8(JSON.stringify(value)), nonce, key);
  return b64encode(concatBytes(nonce, box));
}

/** Open a text from sealState; throws VaultError if it was not sealed under `key`. */
export function openState(key, text) {
  let raw;
  try {
    raw = b64decode(text, undefined, "vault");
  } catch (e) {
    throw new VaultError("not a sealed state");
  }
  if (raw.length < 24 + 16) throw new VaultError("not a sealed state");
  let plain;
  try {
    plain = sodium().crypto_secretbox_open_easy(raw.subarray(24), raw.subarray(0, 24), key);
  } catch (e) {
    throw new VaultError("this state was sealed under another code");
  }
  return JSON.parse(utf8Decode(plain));
}
