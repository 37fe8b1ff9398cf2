// The per-round invitation credential (docs/protocol.md §7.1), the same bytes as
// ballot/crypto/credential.py. The slip's code never leaves the phone: the phone sends
//
//   credential = SHA256_invitation-credential(utf8(slug), utf8(normalize(code)))   (32 bytes)
//
// as 64 lowercase hex digits, and the server stores only
// SHA256_invitation-credential-hash(credential). A listener who captured round one's
// credential cannot compute round two's (another slug), nor the code.

import { toHex } from "./bytes.js";
import { sha256Tag, utf8 } from "./encoding.js";

export const CREDENTIAL_TAG = "ballot/v1/invitation-credential";
export const CREDENTIAL_HASH_TAG = "ballot/v1/invitation-credential-hash";

const READ_AS = { O: "0", I: "1", L: "1" };

/**
 * The code as printed, from what was typed or scanned: ASCII space, tab, CR, LF and "-"
 * removed, ASCII letters upper-cased, O read as 0, I and L as 1 (Crockford). Anything else is
 * kept, so a wrong code stays wrong.
 */
export function normalizeCode(code) {
  if (typeof code !== "string") throw new TypeError("an invitation code is a string");
  return code
    .replace(/[ \t\r\n-]/g, "")
    .replace(/[a-z]/g, (c) => c.toUpperCase())
    .replace(/[OIL]/g, (c) => READ_AS[c]);
}

/** The 32-byte credential of `code` for the election (round) `slug`. */
export function credentialBytes(slug, code) {
  const normalized = normalizeCode(code);
  if (!normalized) throw new RangeError("empty invitation code");
  return sha256Tag(CREDENTIAL_TAG, utf8(slug, "slug"), utf8(normalized, "code"));
}

/** The credential as sent in POST …/tokens ("credential": 64 lowercase hex digits). */
export function credential(slug, code) {
  return toHex(credentialBytes(slug, code));
}

/** What the server stores for a credential (hex): SHA256_invitation-credential-hash(credential). */
export function credentialHash(credentialHex) {
  const raw = Uint8Array.from(credentialHex.match(/../g).map((h) => parseInt(h, 16)));
  return toHex(sha256Tag(CREDENTIAL_HASH_TAG, raw));
}
