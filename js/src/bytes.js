// Byte strings, hex and big integers (no dependencies).

export function isBytes(x) {
  return x instanceof Uint8Array;
}

export function requireBytes(x, what, length) {
  if (!isBytes(x)) throw new TypeError(`${what}: expected a Uint8Array`);
  if (length !== undefined && x.length !== length) {
    throw new RangeError(`${what}: expected ${length} bytes, got ${x.length}`);
  }
  return x;
}

export function concatBytes(...arrays) {
  let total = 0;
  for (const a of arrays) total += requireBytes(a, "part").length;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const a of arrays) {
    out.set(a, pos);
    pos += a.length;
  }
  return out;
}

export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(bytes) {
  requireBytes(bytes, "bytes");
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

/** Strict lowercase hex (the protocol's `hex`), optionally of an exact byte length. */
export function fromHex(text, length, what = "hex value") {
  if (typeof text !== "string" || text.length % 2 !== 0 || !/^[0-9a-f]*$/.test(text)) {
    throw new EncodingError(`${what}: expected lowercase hexadecimal digits`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  if (length !== undefined && out.length !== length) {
    throw new EncodingError(`${what}: expected ${2 * length} hex digits, got ${text.length}`);
  }
  return out;
}

/** A byte string or document that does not have the canonical form. */
export class EncodingError extends Error {
  constructor(message) {
    super(message);
    this.name = "EncodingError";
  }
}

export function bigFromBytesBE(bytes) {
  return bytes.length === 0 ? 0n : BigInt("0x" + toHex(bytes));
}

export function bigFromBytesLE(bytes) {
  return bigFromBytesBE(Uint8Array.from(bytes).reverse());
}

/** I2OSP: big-endian, left-padded with zeros to exactly `length` bytes. */
export function bigToBytesBE(n, length) {
  if (n < 0n) throw new RangeError("negative integer");
  let hex = n.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  if (hex.length / 2 > length) throw new RangeError(`integer too large for ${length} bytes`);
  hex = hex.padStart(2 * length, "0");
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bigToBytesLE(n, length) {
  return bigToBytesBE(n, length).reverse();
}

export function bitLength(n) {
  return n === 0n ? 0 : n.toString(2).length;
}

export function mod(a, m) {
  const r = a % m;
  return r < 0n ? r + m : r;
}

export function modPow(base, exponent, modulus) {
  if (modulus === 1n) return 0n;
  let result = 1n;
  let b = mod(base, modulus);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    e >>= 1n;
    if (e > 0n) b = (b * b) % modulus;
  }
  return result;
}

export function gcd(a, b) {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}

/** a⁻¹ mod m (extended Euclid); throws if a is not invertible. */
export function modInverse(a, m) {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new RangeError("not invertible");
  return mod(oldS, m);
}

/** The platform CSPRNG: crypto.getRandomValues (available outside secure contexts too). */
export function randomBytes(n) {
  const c = globalThis.crypto;
  if (!c || typeof c.getRandomValues !== "function") {
    throw new Error("crypto.getRandomValues is not available in this browser");
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) c.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

/** A uniform integer in [1, n) by rejection sampling. */
export function randomBelowFromOne(n) {
  const bits = bitLength(n - 1n);
  const len = Math.ceil(bits / 8);
  const topMask = 0xff >> (8 * len - bits);
  for (;;) {
    const buf = randomBytes(len);
    buf[0] &= topMask;
    const k = bigFromBytesBE(buf);
    if (k < n - 1n) return k + 1n;
  }
}
