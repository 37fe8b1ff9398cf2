// A trustee's key file, exactly as ballot/tally/trustee_keyfile.py writes and reads it
// (docs/protocol.md §10): canonical JSON
//   {"version": "ballot/v1/trustee-key", "manifest_hash": hex, "index": i,
//    "kdf": {"alg": "argon2id13", "opslimit": 2, "memlimit": 67108864, "salt": b64(16)},
//    "secretbox": b64(nonce 24 ‖ XSalsa20-Poly1305 of canonical_json({"coefficients": [b64…],
//                     "box_secret": b64(32), "share": b64(32) | null}))}
// with key = argon2id(passphrase UTF-8, salt, opslimit, memlimit) (libsodium crypto_pwhash,
// 32 bytes), the passphrase in Unicode NFC (opening also tries it as typed and in NFD, as
// Python does). A file made here opens with `ballot trustee …` and the reverse.

import { EncodingError, concatBytes, fromHex, randomBytes, toHex } from "./bytes.js";
import { b64decode, b64encode, canonicalJson, parseJson, utf8 } from "./encoding.js";
import { decodeScalar, encodeScalar } from "./group.js";
import { sodium } from "./sodium.js";

export const VERSION = "ballot/v1/trustee-key";
/** PyNaCl's argon2id OPSLIMIT_INTERACTIVE and MEMLIMIT_INTERACTIVE (libsodium's). */
export const OPSLIMIT = 2;
export const MEMLIMIT = 67108864;
export const SALT_BYTES = 16;
export const NONCE_BYTES = 24;
/** The most memory a key file may ask argon2id for here (a browser tab has little). */
export const MAX_MEMLIMIT = 1024 * 1024 * 1024;
export const MIN_PASSPHRASE = 8;

/** A key file that is malformed, or a wrong passphrase (Python's KeyFileError). */
export class KeyFileError extends Error {
  constructor(message) {
    super(message);
    this.name = "KeyFileError";
  }
}

/**
 * The SecretBox key for a passphrase: {salt, opslimit, memlimit, key}. Slow on purpose
 * (argon2id, 64 MiB): about a second in a browser.
 */
export function deriveKey(passphrase, { salt = null, opslimit = OPSLIMIT, memlimit = MEMLIMIT } = {}) {
  if (typeof passphrase !== "string") throw new KeyFileError("the passphrase is text");
  const s = salt ? Uint8Array.from(salt) : randomBytes(SALT_BYTES);
  if (s.length !== SALT_BYTES) throw new KeyFileError("kdf.salt: expected 16 bytes");
  if (!Number.isSafeInteger(opslimit) || !Number.isSafeInteger(memlimit) || opslimit < 1 || memlimit < 8192) {
    throw new KeyFileError("malformed trustee key file: bad argon2id limits");
  }
  if (memlimit > MAX_MEMLIMIT) throw new KeyFileError("this key file asks for more memory than a browser can give");
  const na = sodium();
  const key = na.crypto_pwhash(32, utf8(passphrase, "passphrase"), s, opslimit, memlimit, na.crypto_pwhash_ALG_ARGON2ID13);
  return { salt: s, opslimit, memlimit, key };
}

function secretsJson(keys) {
  const out = {
    coefficients: keys.secret.coefficients.map((a) => b64encode(encodeScalar(a))),
    box_secret: b64encode(keys.secret.boxSecret),
    share: keys.share === null || keys.share === undefined ? null : b64encode(encodeScalar(keys.share)),
  };
  // the digest of the trustees' keys the shares were checked against (approvals; absent
  // from files sealed before they existed), as Python's _secrets_json
  if (keys.publics) out.publics = toHex(keys.publics);
  return out;
}

/**
 * Seal `keys` = {manifestHash: Uint8Array(32), secret: {index, coefficients, boxSecret},
 * share: BigInt | null} with an already derived key (deriveKey): the key file document.
 * `nonce` fixes the SecretBox nonce (vectors); random otherwise.
 */
export function sealWithKey(keys, derived, { nonce = null } = {}) {
  const n = nonce ? Uint8Array.from(nonce) : randomBytes(NONCE_BYTES);
  if (n.length !== NONCE_BYTES) throw new RangeError("a SecretBox nonce is 24 bytes");
  const boxed = sodium().crypto_secretbox_easy(canonicalJson(secretsJson(keys)), n, derived.key);
  return {
    version: VERSION,
    manifest_hash: toHex(keys.manifestHash),
    index: keys.secret.index,
    kdf: { alg: "argon2id13", opslimit: derived.opslimit, memlimit: derived.memlimit, salt: b64encode(derived.salt) },
    secretbox: b64encode(concatBytes(n, boxed)),
  };
}

/** seal_keys: a passphrase of at least 8 characters, a fresh salt; returns {doc, derived}. */
export function sealKeys(keys, passphrase, { salt = null, nonce = null, opslimit = OPSLIMIT, memlimit = MEMLIMIT } = {}) {
  if (typeof passphrase === "string") passphrase = passphrase.normalize("NFC");
  if (typeof passphrase !== "string" || [...passphrase].length < MIN_PASSPHRASE) {
    throw new KeyFileError("the passphrase must have at least 8 characters");
  }
  const derived = deriveKey(passphrase, { salt, opslimit, memlimit });
  return { doc: sealWithKey(keys, derived, { nonce }), derived };
}

/** The bytes of the file, as write_keyfile writes them (canonical JSON, UTF-8). */
export function keyFileBytes(doc) {
  return canonicalJson(doc);
}

function isObject(x) {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

/** The texts to try when opening (Python's passphrase_forms): NFC, as typed, NFD; no repeats. */
export function passphraseForms(passphrase) {
  const out = [];
  for (const form of [passphrase.normalize("NFC"), passphrase, passphrase.normalize("NFD")]) {
    if (!out.includes(form)) out.push(form);
  }
  return out;
}

/**
 * open_keys: the key file (its text, bytes or parsed document) and the passphrase →
 * {keys: {manifestHash, secret, share}, derived}. Throws KeyFileError ("wrong passphrase, or the
 * key file was altered" when the SecretBox does not open).
 */
export function openKeyFile(file, passphrase) {
  let doc = file;
  try {
    if (typeof file === "string") doc = parseJson(utf8(file));
    else if (file instanceof Uint8Array) doc = parseJson(file);
  } catch (e) {
    throw new KeyFileError(`not a ballot trustee key file (${e.message})`);
  }
  if (!isObject(doc) || doc.version !== VERSION) throw new KeyFileError("not a ballot trustee key file");
  try {
    const kdf = doc.kdf;
    if (!isObject(kdf)) throw new KeyFileError("malformed trustee key file: kdf");
    if (kdf.alg !== "argon2id13") throw new KeyFileError(`unknown key derivation ${JSON.stringify(kdf.alg)}`);
    if (typeof passphrase !== "string") throw new KeyFileError("the passphrase is text");
    const salt = b64decode(kdf.salt, SALT_BYTES, "kdf.salt");
    const box = b64decode(doc.secretbox, undefined, "secretbox");
    let plain = null;
    let derived = null;
    for (const form of passphraseForms(passphrase)) {
      derived = deriveKey(form, { salt, opslimit: kdf.opslimit, memlimit: kdf.memlimit });
      try {
        if (box.length < NONCE_BYTES + 16) throw new Error("short");
        plain = sodium().crypto_secretbox_open_easy(box.subarray(NONCE_BYTES), box.subarray(0, NONCE_BYTES), derived.key);
        break;
      } catch {
        plain = null;
      }
    }
    if (plain === null) throw new KeyFileError("wrong passphrase, or the key file was altered");
    const s = parseJson(plain);
    if (!isObject(s) || !Array.isArray(s.coefficients) || !("share" in s)) throw new KeyFileError("malformed trustee key file: secrets");
    if (!Number.isInteger(doc.index) || doc.index < 1) throw new KeyFileError("malformed trustee key file: index");
    const secret = {
      index: doc.index,
      coefficients: s.coefficients.map((a, j) => decodeScalar(b64decode(a, 32, `coefficients[${j}]`), `coefficients[${j}]`)),
      boxSecret: b64decode(s.box_secret, 32, "box_secret"),
    };
    const share = s.share === null ? null : decodeScalar(b64decode(s.share, 32, "share"), "share");
    const publics = s.publics === undefined || s.publics === null ? null : fromHex(s.publics, 32, "publics");
    return { keys: { manifestHash: fromHex(doc.manifest_hash, 32, "manifest_hash"), secret, share, publics }, derived };
  } catch (e) {
    if (e instanceof EncodingError || e instanceof TypeError) throw new KeyFileError(`malformed trustee key file: ${e.message}`);
    throw e;
  }
}
