// The prime-order subgroup of Ed25519 through libsodium (docs/protocol.md §2), handling the
// identity exactly as ballot/crypto/group.py does.
//
// Elements are Uint8Array(32) canonical encodings (never mutated in place); scalars are BigInt modulo L. libsodium
// refuses the identity in crypto_core_ed25519_is_valid_point and in the noclamp scalar
// multiplications, so `x * 0`, `identity * x` and additions with the identity are computed
// here without calling it; sums that cancel come back from libsodium as the identity.

import { EncodingError, bigFromBytesLE, bigToBytesLE, bytesEqual, mod, randomBytes } from "./bytes.js";
import { hashParts } from "./encoding.js";
import { sodium } from "./sodium.js";

/** The order of the prime-order subgroup (and of the base point). */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** The neutral element (0, 1): 0x01 followed by 31 zero bytes. */
export const IDENTITY = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0));

/** The Ed25519 base point B (5866…66), generator of the group. */
export const GENERATOR = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 0x58 : 0x66));

/** A byte string that is not the canonical encoding of an element of the group. */
export class PointError extends EncodingError {
  constructor(message) {
    super(message);
    this.name = "PointError";
  }
}

export function isIdentity(p) {
  return bytesEqual(p, IDENTITY);
}

export function pointsEqual(p, q) {
  return bytesEqual(p, q);
}

/** A scalar in [0, L) as 32 bytes little-endian (reduced mod L first). */
export function encodeScalar(k) {
  if (typeof k !== "bigint") throw new TypeError("a scalar is a BigInt");
  return bigToBytesLE(mod(k, L), 32);
}

/** Decode a canonical scalar: exactly 32 bytes, little-endian, less than L. */
export function decodeScalar(bytes, what = "scalar") {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
    throw new EncodingError(`${what}: a scalar is 32 bytes`);
  }
  const k = bigFromBytesLE(bytes);
  if (k >= L) throw new EncodingError(`${what}: non-canonical scalar (not less than the group order)`);
  return k;
}

/**
 * Decode and validate a received group element: 32 bytes, canonical, on the curve, not of
 * small order, in the prime-order subgroup (crypto_core_ed25519_is_valid_point); the identity
 * is refused unless allowIdentity.
 */
export function decodePoint(bytes, what = "point", { allowIdentity = false } = {}) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) {
    throw new PointError(`${what}: a group element is 32 bytes`);
  }
  const data = Uint8Array.from(bytes);
  if (isIdentity(data)) {
    if (allowIdentity) return data;
    throw new PointError(`${what}: the identity element is not allowed here`);
  }
  if (!sodium().crypto_core_ed25519_is_valid_point(data)) {
    throw new PointError(`${what}: not a valid element of the prime-order subgroup`);
  }
  return data;
}

export function add(p, q) {
  if (isIdentity(p)) return Uint8Array.from(q);
  if (isIdentity(q)) return Uint8Array.from(p);
  return sodium().crypto_core_ed25519_add(p, q);
}

/** −P: flips the sign bit of x (bit 255); the identity is its own negation. */
export function neg(p) {
  if (isIdentity(p)) return Uint8Array.from(p);
  const out = Uint8Array.from(p);
  out[31] ^= 0x80;
  return out;
}

export function sub(p, q) {
  return add(p, neg(q));
}

/** P^k (k·P on the curve); the identity for k ≡ 0 or P the identity. */
export function mul(p, k) {
  k = mod(k, L);
  if (k === 0n || isIdentity(p)) return Uint8Array.from(IDENTITY);
  if (bytesEqual(p, GENERATOR)) return sodium().crypto_scalarmult_ed25519_base_noclamp(encodeScalar(k));
  return sodium().crypto_scalarmult_ed25519_noclamp(encodeScalar(k), p);
}

/** g^k. */
export function baseMul(k) {
  return mul(GENERATOR, k);
}

export function sumPoints(points) {
  let total = Uint8Array.from(IDENTITY);
  for (const p of points) total = add(total, p);
  return total;
}

/** A uniformly random non-zero scalar in [1, L) from crypto.getRandomValues. */
export function randomScalar() {
  for (;;) {
    const buf = randomBytes(32);
    buf[31] &= 0x1f; // 253 bits; L < 2^253
    const k = bigFromBytesLE(buf);
    if (k < L - 1n) return k + 1n;
  }
}

/** Hs_tag(parts) = int_le(SHA512_tag(parts)) mod L. */
export function hashToScalar(tag, parts) {
  return bigFromBytesLE(hashParts(tag, parts, "sha512")) % L;
}
