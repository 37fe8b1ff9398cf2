// Canonical encodings and domain-separated hashing (docs/protocol.md §1), the same bytes as
// ballot/crypto/encoding.py.

import { sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import { EncodingError, concatBytes, requireBytes } from "./bytes.js";

export { EncodingError };
export { sha256 as sha256Plain, sha384, sha512 };

const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53 - 1

// -- UTF-8 -------------------------------------------------------------------------------------

/** True unless the string holds a lone UTF-16 surrogate (which has no UTF-8 encoding). */
export function isWellFormed(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string; a lone surrogate is refused (Python refuses it too). */
export function utf8(s, what = "string") {
  if (typeof s !== "string") throw new TypeError(`${what}: expected a string`);
  if (!isWellFormed(s)) throw new EncodingError(`${what}: a lone surrogate is not valid UTF-8`);
  return encoder.encode(s);
}

export function utf8Decode(bytes, what = "text") {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new EncodingError(`${what}: not UTF-8`);
  }
}

// -- canonical JSON (§1.2) ----------------------------------------------------------------------

/** Compare two strings by Unicode code point (Python's str order), not by UTF-16 unit. */
export function compareCodePoints(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i);
    const y = b.codePointAt(i);
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

const SHORT_ESCAPES = { 0x08: "\\b", 0x09: "\\t", 0x0a: "\\n", 0x0c: "\\f", 0x0d: "\\r" };

function quote(s, path) {
  if (!isWellFormed(s)) throw new EncodingError(`${path}: a lone surrogate is not valid UTF-8`);
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c < 0x20) out += SHORT_ESCAPES[c] || "\\u" + c.toString(16).padStart(4, "0");
    else out += s[i];
  }
  return out + '"';
}

function isPlainObject(v) {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function serialize(value, path) {
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "string") return quote(value, path);
  if (typeof value === "number") {
    if (!Number.isFinite(value) || !Number.isInteger(value)) {
      throw new EncodingError(`${path}: floats are not allowed in canonical JSON`);
    }
    if (Math.abs(value) > MAX_SAFE) {
      throw new EncodingError(`${path}: integer ${value} is outside the JSON-safe range`);
    }
    return Object.is(value, -0) ? "0" : String(value);
  }
  if (Array.isArray(value)) {
    return "[" + value.map((item, i) => serialize(item, `${path}[${i}]`)).join(",") + "]";
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort(compareCodePoints);
    return (
      "{" +
      keys.map((k) => quote(k, `${path}: key`) + ":" + serialize(value[k], `${path}.${k}`)).join(",") +
      "}"
    );
  }
  throw new EncodingError(`${path}: ${value === undefined ? "undefined" : typeof value} is not a JSON value`);
}

/** The canonical JSON text of a value: sorted keys, no white space, integers only. */
export function canonicalJsonText(value) {
  return serialize(value, "$");
}

/** The canonical UTF-8 bytes of a JSON value (docs/protocol.md §1.2). */
export function canonicalJson(value) {
  return encoder.encode(serialize(value, "$"));
}

/**
 * Strict JSON parsing (§1.2): no floats, no NaN/Infinity, no duplicate keys, integers within
 * ±(2^53 − 1), no lone surrogates; accepts a string or UTF-8 bytes.
 */
export function parseJson(data) {
  const text = typeof data === "string" ? data : utf8Decode(requireBytes(data, "JSON"), "JSON");
  let i = 0;
  const fail = (msg) => {
    throw new EncodingError(`malformed JSON: ${msg} at character ${i}`);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text[i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") i++;
      else break;
    }
  };
  const parseString = () => {
    i++; // opening quote
    let out = "";
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        break;
      }
      if (c < 0x20) fail("control character in a string");
      if (c === 0x5c) {
        const e = text[i + 1];
        const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === "u") {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape");
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else {
          fail("bad escape");
        }
      } else {
        out += text[i];
        i++;
      }
    }
    if (!isWellFormed(out)) fail("lone surrogate in a string");
    return out;
  };
  const parseValue = (depth) => {
    if (depth > 200) fail("nested too deeply");
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj = {};
      const seen = new Set();
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a key");
        const key = parseString();
        if (seen.has(key)) throw new EncodingError(`duplicate key ${JSON.stringify(key)}`);
        seen.add(key);
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        const value = parseValue(depth + 1);
        Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const arr = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith("true", i)) {
      i += 4;
      return true;
    }
    if (text.startsWith("false", i)) {
      i += 5;
      return false;
    }
    if (text.startsWith("null", i)) {
      i += 4;
      return null;
    }
    for (const name of ["NaN", "Infinity", "-Infinity"]) {
      if (text.startsWith(name, i)) throw new EncodingError(`${name} is not valid JSON`);
    }
    const m = /^-?(0|[1-9][0-9]*)([.eE][-+0-9.eE]*)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === "-") fail("unexpected character");
    if (m[2]) throw new EncodingError(`floats are not allowed (${m[0]})`);
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n)) throw new EncodingError(`integer ${m[0]} is outside the JSON-safe range`);
    i += m[0].length;
    return n === 0 ? 0 : n;
  };
  const value = parseValue(0);
  ws();
  if (i !== text.length) fail("extra data");
  return value;
}

// -- base64url (§1.3) ---------------------------------------------------------------------------

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

/** base64url without padding (RFC 4648 §5). */
export function b64encode(bytes) {
  requireBytes(bytes, "bytes");
  let out = "";
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i] << 16;
    out += B64[n >> 18] + B64[(n >> 12) & 63];
  } else if (rest === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63];
  }
  return out;
}

/**
 * Strict base64url-without-padding decoding: refuses padding, other characters, a length ≡ 1
 * (mod 4) and non-canonical trailing bits; optionally checks the exact byte length.
 */
export function b64decode(text, length, what = "value") {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new EncodingError(`${what}: not base64url without padding`);
  }
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let pos = 0;
  for (const c of text) {
    acc = (acc << 6) | B64_INDEX.get(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[pos++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  if (acc !== 0) throw new EncodingError(`${what}: non-canonical base64url`);
  if (length !== undefined && length !== null && out.length !== length) {
    throw new EncodingError(`${what}: expected ${length} bytes, got ${out.length}`);
  }
  return out;
}

// -- domain-separated hashing (§1.1) -------------------------------------------------------------

export function uint32(n) {
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32) {
    throw new EncodingError(`${n} does not fit in 32 bits`);
  }
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

/** u64(n): 8-byte big-endian unsigned integer (n a BigInt or a safe integer). */
export function uint64(n) {
  const v = typeof n === "bigint" ? n : Number.isSafeInteger(n) ? BigInt(n) : -1n;
  if (v < 0n || v >= 1n << 64n) throw new EncodingError(`${n} does not fit in 64 bits`);
  const out = new Uint8Array(8);
  for (let i = 7, x = v; i >= 0; i--, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

function asciiTag(tag) {
  if (typeof tag !== "string" || !/^[\x00-\x7f]*$/.test(tag)) throw new TypeError("tag must be ASCII");
  return encoder.encode(tag);
}

/** HASH( u32(len(tag)) ‖ tag ‖ for each part: u32(len(part)) ‖ part ), SHA-512 or SHA-256. */
export function hashParts(tag, parts, digest = "sha512") {
  const hash = digest === "sha512" ? sha512 : digest === "sha256" ? sha256 : null;
  if (!hash) throw new TypeError(`unknown digest ${digest}`);
  const h = hash.create();
  const t = asciiTag(tag);
  h.update(uint32(t.length));
  h.update(t);
  for (const part of parts) {
    if (!(part instanceof Uint8Array)) throw new TypeError("hash parts must be bytes");
    h.update(uint32(part.length));
    h.update(part);
  }
  return h.digest();
}

/** SHA256_tag(parts...): the 32-byte domain-separated hash for fingerprints and chains. */
export function sha256Tag(tag, ...parts) {
  return hashParts(tag, parts, "sha256");
}

export { concatBytes };
