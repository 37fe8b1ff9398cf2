// RSA blind signatures, client side of RFC 9474 RSABSSA-SHA384-PSS-Randomized
// (docs/protocol.md §6), with BigInt arithmetic and SHA-384 from @noble/hashes: no
// crypto.subtle, so it runs on a page served over plain HTTP.
//
//   prepared = prepare(msg); {blindedMsg, state} = blind(pk, prepared)
//   (issuer) blindSig = blindedMsg^d mod n
//   sig = finalize(pk, prepared, blindSig, state)   // RSASSA-PSS-verified before it is returned

import { sha256, sha384 } from "@noble/hashes/sha2.js";
import {
  EncodingError,
  bigFromBytesBE,
  bigToBytesBE,
  bitLength,
  bytesEqual,
  concatBytes,
  gcd,
  modInverse,
  modPow,
  randomBelowFromOne,
  randomBytes,
  requireBytes,
} from "./bytes.js";

export const MIN_MODULUS_BITS = 3072;
export const PREFIX_BYTES = 32;
const HLEN = 48;

export const VARIANTS = Object.freeze({
  "RSABSSA-SHA384-PSS-Randomized": Object.freeze({ name: "RSABSSA-SHA384-PSS-Randomized", saltLength: 48, randomized: true }),
  "RSABSSA-SHA384-PSSZERO-Randomized": Object.freeze({ name: "RSABSSA-SHA384-PSSZERO-Randomized", saltLength: 0, randomized: true }),
  "RSABSSA-SHA384-PSS-Deterministic": Object.freeze({ name: "RSABSSA-SHA384-PSS-Deterministic", saltLength: 48, randomized: false }),
  "RSABSSA-SHA384-PSSZERO-Deterministic": Object.freeze({ name: "RSABSSA-SHA384-PSSZERO-Deterministic", saltLength: 0, randomized: false }),
});
export const DEFAULT_VARIANT = VARIANTS["RSABSSA-SHA384-PSS-Randomized"];

/** A malformed key, message, blinded message or signature, or a failed check. */
export class BlindSignatureError extends Error {
  constructor(message) {
    super(message);
    this.name = "BlindSignatureError";
  }
}

// -- the issuer's key: SubjectPublicKeyInfo DER --------------------------------------------------

const RSA_ALGORITHM_ID = Uint8Array.from([
  0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
]); // SEQUENCE { OID 1.2.840.113549.1.1.1 rsaEncryption, NULL }

function derLength(n) {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function derTlv(tag, content) {
  return concatBytes(Uint8Array.of(tag), derLength(content.length), content);
}

function derInteger(n) {
  let len = Math.ceil(bitLength(n) / 8) || 1;
  let bytes = bigToBytesBE(n, len);
  if (bytes[0] & 0x80) bytes = concatBytes(Uint8Array.of(0), bytes);
  return derTlv(0x02, bytes);
}

/** The canonical SPKI DER of an RSA public key, as `cryptography` writes it. */
export function encodeSpki(n, e) {
  const rsaKey = derTlv(0x30, concatBytes(derInteger(n), derInteger(e)));
  return derTlv(0x30, concatBytes(RSA_ALGORITHM_ID, derTlv(0x03, concatBytes(Uint8Array.of(0), rsaKey))));
}

/** A strict DER reader: one TLV at `pos`, definite minimal lengths only. */
function readTlv(buf, pos, expectedTag, what) {
  if (pos + 2 > buf.length) throw new BlindSignatureError(`${what}: truncated DER`);
  const tag = buf[pos];
  if (tag !== expectedTag) throw new BlindSignatureError(`${what}: unexpected DER tag 0x${tag.toString(16)}`);
  let len = buf[pos + 1];
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > buf.length) throw new BlindSignatureError(`${what}: bad DER length`);
    if (buf[start] === 0) throw new BlindSignatureError(`${what}: non-minimal DER length`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i];
    if (len < 0x80) throw new BlindSignatureError(`${what}: non-minimal DER length`);
    start += n;
  }
  const end = start + len;
  if (end > buf.length) throw new BlindSignatureError(`${what}: truncated DER`);
  return { start, end };
}

function readPositiveInteger(buf, pos, what) {
  const { start, end } = readTlv(buf, pos, 0x02, what);
  if (end === start) throw new BlindSignatureError(`${what}: empty INTEGER`);
  if (buf[start] & 0x80) throw new BlindSignatureError(`${what}: negative INTEGER`);
  if (buf[start] === 0 && (end - start === 1 || !(buf[start + 1] & 0x80))) {
    if (end - start > 1) throw new BlindSignatureError(`${what}: non-minimal INTEGER`);
  }
  return { value: bigFromBytesBE(buf.subarray(start, end)), end };
}

/**
 * Parse the issuer's public key from its SPKI DER (bytes, or the base64url text of the
 * manifest's issuer_public_key via b64decode first). Only the canonical encoding with
 * rsaEncryption and NULL parameters is accepted; the modulus must have at least `minBits` bits.
 */
export function parseSpki(der, { minBits = MIN_MODULUS_BITS } = {}) {
  requireBytes(der, "public key");
  const outer = readTlv(der, 0, 0x30, "public key");
  if (outer.end !== der.length) throw new BlindSignatureError("public key: trailing bytes after the DER");
  const alg = der.subarray(outer.start, outer.start + RSA_ALGORITHM_ID.length);
  if (!bytesEqual(alg, RSA_ALGORITHM_ID)) {
    throw new BlindSignatureError("public key: not rsaEncryption with NULL parameters");
  }
  const bits = readTlv(der, outer.start + RSA_ALGORITHM_ID.length, 0x03, "public key");
  if (bits.end !== outer.end) throw new BlindSignatureError("public key: trailing bytes in the SPKI");
  if (der[bits.start] !== 0) throw new BlindSignatureError("public key: BIT STRING with unused bits");
  const seq = readTlv(der, bits.start + 1, 0x30, "public key");
  if (seq.end !== bits.end) throw new BlindSignatureError("public key: trailing bytes in the key");
  const n = readPositiveInteger(der, seq.start, "public key modulus");
  const e = readPositiveInteger(der, n.end, "public key exponent");
  if (e.end !== seq.end) throw new BlindSignatureError("public key: trailing bytes after the exponent");
  if (!bytesEqual(encodeSpki(n.value, e.value), der)) {
    throw new BlindSignatureError("public key: non-canonical DER encoding");
  }
  return publicKey(n.value, e.value, { minBits, der });
}

/** An RSA public key {n, e, bits, kLen, der}; checks as `cryptography` does (n odd, 3 ≤ e < n, e odd). */
export function publicKey(n, e, { minBits = MIN_MODULUS_BITS, der = null } = {}) {
  const bits = bitLength(n);
  if (bits < minBits) {
    throw new BlindSignatureError(`RSA modulus has ${bits} bits; at least ${minBits} required`);
  }
  if ((n & 1n) === 0n || e < 3n || e >= n || (e & 1n) === 0n) {
    throw new BlindSignatureError("invalid RSA public key");
  }
  return Object.freeze({ n, e, bits, kLen: Math.ceil(bits / 8), der: der || encodeSpki(n, e) });
}

/** SHA-256 of the SPKI DER (32 bytes, no domain tag). */
export function fingerprint(pk) {
  return sha256(pk.der);
}

// -- EMSA-PSS (RFC 8017 §9.1) with SHA-384 and MGF1-SHA-384 -----------------------------------

function mgf1(seed, length) {
  const chunks = [];
  for (let i = 0; i < Math.ceil(length / HLEN); i++) {
    chunks.push(sha384(concatBytes(seed, Uint8Array.of(i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff))));
  }
  return concatBytes(...chunks).subarray(0, length);
}

export function emsaPssEncode(msg, emBits, { variant = DEFAULT_VARIANT, salt = null } = {}) {
  requireBytes(msg, "message");
  const emLen = Math.ceil(emBits / 8);
  const sLen = variant.saltLength;
  if (salt === null || salt === undefined) salt = randomBytes(sLen);
  else if (requireBytes(salt, "salt").length !== sLen) {
    throw new BlindSignatureError(`salt must be ${sLen} bytes for ${variant.name}, got ${salt.length}`);
  }
  if (emLen < HLEN + sLen + 2) {
    throw new BlindSignatureError("encoding error: modulus too small for SHA-384 and this salt");
  }
  const h = sha384(concatBytes(new Uint8Array(8), sha384(msg), salt));
  const db = concatBytes(new Uint8Array(emLen - sLen - HLEN - 2), Uint8Array.of(1), salt);
  const mask = mgf1(h, emLen - HLEN - 1);
  const masked = db.map((b, i) => b ^ mask[i]);
  masked[0] &= 0xff >> (8 * emLen - emBits);
  return concatBytes(masked, h, Uint8Array.of(0xbc));
}

function emsaPssVerify(msg, em, emBits, sLen) {
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen || emLen < HLEN + sLen + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const masked = em.subarray(0, emLen - HLEN - 1);
  const h = em.subarray(emLen - HLEN - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if (masked[0] & ~topMask & 0xff) return false;
  const mask = mgf1(h, emLen - HLEN - 1);
  const db = masked.map((b, i) => b ^ mask[i]);
  db[0] &= topMask;
  const psLen = emLen - HLEN - sLen - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 0x01) return false;
  const salt = db.subarray(db.length - sLen);
  const h2 = sha384(concatBytes(new Uint8Array(8), sha384(msg), salt));
  return bytesEqual(h, h2);
}

// -- RFC 9474 -----------------------------------------------------------------------------------

/** RFC 9474 Prepare: 32 random bytes ‖ msg (randomized variants), else msg. */
export function prepare(msg, { variant = DEFAULT_VARIANT, prefix = null } = {}) {
  requireBytes(msg, "message");
  if (!variant.randomized) return Uint8Array.from(msg);
  prefix = prefix ? requireBytes(prefix, "prefix", PREFIX_BYTES) : randomBytes(PREFIX_BYTES);
  return concatBytes(prefix, msg);
}

/**
 * RFC 9474 Blind. Returns {blindedMsg (kLen bytes), state: {inv, n, variant}}. `salt`, `r` or
 * `inv` (r⁻¹ mod n) are for test vectors only; by default both are fresh random values.
 */
export function blind(pk, preparedMsg, { variant = DEFAULT_VARIANT, salt = null, r = null, inv = null } = {}) {
  const n = pk.n;
  if (r !== null && inv !== null) throw new BlindSignatureError("give r or inv, not both");
  const given = r !== null ? r : inv;
  if (given !== null && !(given >= 1n && given < n && gcd(given, n) === 1n)) {
    throw new BlindSignatureError("blinding factor must be in [1, n) and coprime with n");
  }
  if (inv !== null) r = modInverse(inv, n);
  else if (r === null) {
    do r = randomBelowFromOne(n);
    while (gcd(r, n) !== 1n);
  }
  const encoded = emsaPssEncode(preparedMsg, pk.bits - 1, { variant, salt });
  const m = bigFromBytesBE(encoded);
  if (gcd(m, n) !== 1n) throw new BlindSignatureError("invalid input: encoded message is not coprime with n");
  const z = (m * modPow(r, pk.e, n)) % n;
  return { blindedMsg: bigToBytesBE(z, pk.kLen), state: { inv: modInverse(r, n), n, variant } };
}

/** RSASSA-PSS verification (RFC 8017 §8.1.2): throws unless `sig` signs `msg`. */
export function checkSignature(pk, msg, sig, { variant = DEFAULT_VARIANT } = {}) {
  requireBytes(msg, "message");
  requireBytes(sig, "signature");
  if (sig.length !== pk.kLen) {
    throw new BlindSignatureError(`signature must be ${pk.kLen} bytes, got ${sig.length}`);
  }
  const s = bigFromBytesBE(sig);
  let ok = s < pk.n;
  if (ok) {
    const m = modPow(s, pk.e, pk.n);
    const emBits = pk.bits - 1;
    const emLen = Math.ceil(emBits / 8);
    ok = m < 1n << BigInt(8 * emLen) && emsaPssVerify(msg, bigToBytesBE(m, emLen), emBits, variant.saltLength);
  }
  if (!ok) throw new BlindSignatureError(`invalid signature (${variant.name})`);
}

/** True iff `sig` is a valid RSASSA-PSS signature of `msg` (malformed input: false). */
export function verify(pk, msg, sig, { variant = DEFAULT_VARIANT } = {}) {
  try {
    checkSignature(pk, msg, sig, { variant });
    return true;
  } catch (e) {
    if (e instanceof BlindSignatureError || e instanceof TypeError || e instanceof RangeError) return false;
    throw e;
  }
}

/** RFC 9474 Finalize: sig = blindSig · inv mod n, verified before it is returned. */
export function finalize(pk, preparedMsg, blindSig, state) {
  requireBytes(blindSig, "blind signature");
  if (state.n !== pk.n) throw new BlindSignatureError("blinding state belongs to a different issuer key");
  if (blindSig.length !== pk.kLen) {
    throw new BlindSignatureError(`blind signature must be ${pk.kLen} bytes, got ${blindSig.length}`);
  }
  const z = bigFromBytesBE(blindSig);
  if (z >= pk.n) throw new BlindSignatureError("blind signature out of range: its value is not less than n");
  const sig = bigToBytesBE((z * state.inv) % pk.n, pk.kLen);
  if (!verify(pk, preparedMsg, sig, { variant: state.variant || DEFAULT_VARIANT })) {
    throw new BlindSignatureError("finalize: the issuer's blind signature does not give a valid signature");
  }
  return sig;
}

export { EncodingError };
