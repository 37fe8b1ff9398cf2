// Exponential ElGamal (docs/protocol.md §3): Enc_h(m; r) = (g^r, g^m · h^r), 64 bytes α ‖ β.

import { EncodingError, concatBytes, mod } from "./bytes.js";
import { IDENTITY, L, add, baseMul, decodePoint, mul, randomScalar } from "./group.js";

const gCache = new Map();

/** g^m for a small plaintext m (cached). */
export function gTo(m) {
  const k = BigInt(m);
  const key = k.toString();
  let p = gCache.get(key);
  if (!p) {
    p = baseMul(k);
    if (gCache.size < 256) gCache.set(key, p);
  }
  return p;
}

/** Encrypt the small integer m with nonce r (random when omitted): {ciphertext, r}. */
export function encrypt(publicKey, m, r) {
  if (r === undefined || r === null) r = randomScalar();
  r = mod(BigInt(r), L);
  return { ciphertext: { alpha: baseMul(r), beta: add(gTo(m), mul(publicKey, r)) }, r };
}

export function ciphertextToBytes(ct) {
  return concatBytes(ct.alpha, ct.beta);
}

/** 64 bytes α ‖ β, each a valid non-identity group element. */
export function ciphertextFromBytes(bytes, what = "ciphertext") {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 64) {
    throw new EncodingError(`${what}: a ciphertext is 64 bytes`);
  }
  return {
    alpha: decodePoint(bytes.subarray(0, 32), `${what}.alpha`),
    beta: decodePoint(bytes.subarray(32), `${what}.beta`),
  };
}

export function addCiphertexts(a, b) {
  return { alpha: add(a.alpha, b.alpha), beta: add(a.beta, b.beta) };
}

export function sumCiphertexts(cts) {
  let total = { alpha: Uint8Array.from(IDENTITY), beta: Uint8Array.from(IDENTITY) };
  for (const c of cts) total = addCiphertexts(total, c);
  return total;
}
