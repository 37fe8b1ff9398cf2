// Threshold trustees (k of n), the same bytes as ballot/crypto/threshold.py and
// ballot/tally/decryption.py (docs/protocol.md §5.2 and §9): the Feldman key ceremony, the
// shares Box-encrypted from trustee to trustee, their checks, the secret share, and the partial
// decryption of an aggregate with its Chaum–Pedersen proof.
//
// Secrets: {index, coefficients: [BigInt…], boxSecret: Uint8Array(32)}. Publics:
// {index, commitments: [point…], proofs: [{c, v}…], boxPublic: Uint8Array(32)}. Every point
// received is validated by group.decodePoint (subgroup, no identity), as Python does.

import { EncodingError, bytesEqual, concatBytes, mod, randomBytes } from "./bytes.js";
import { b64decode, b64encode, sha256Tag, uint32 } from "./encoding.js";
import { IDENTITY, L, add, baseMul, decodePoint, decodeScalar, encodeScalar, mul, randomScalar } from "./group.js";
import { pairsFromBytes, pairsToBytes, proveDleq, proveSchnorr, verifyDleq, verifySchnorr } from "./proofs.js";
import { sodium } from "./sodium.js";

/** A malformed or inconsistent key-ceremony message (Python's CeremonyError). */
export class CeremonyError extends Error {
  constructor(message) {
    super(message);
    this.name = "CeremonyError";
  }
}

/** A share that does not decrypt or does not match its sender's commitments (ShareError). */
export class ShareError extends CeremonyError {
  constructor(sender, recipient, reason) {
    super(`share from trustee ${sender} to trustee ${recipient}: ${reason}`);
    this.name = "ShareError";
    this.sender = sender;
    this.recipient = recipient;
    this.reason = reason;
  }
}

/** A partial decryption that is malformed or does not verify (DecryptionError). */
export class DecryptionError extends Error {
  constructor(message) {
    super(message);
    this.name = "DecryptionError";
  }
}

export const BOX_NONCE_BYTES = 24;
export const BOX_MAC_BYTES = 16;
export const SHARE_CIPHERTEXT_BYTES = BOX_NONCE_BYTES + BOX_MAC_BYTES + 64;

export function coefficientContext(manifestHash, index, j) {
  return sha256Tag("ballot/v1/ctx/ceremony-coefficient", manifestHash, uint32(index), uint32(j));
}

export function shareHeader(manifestHash, sender, recipient) {
  return sha256Tag("ballot/v1/ctx/ceremony-share", manifestHash, uint32(sender), uint32(recipient));
}

export function partialContext(baseHash, trustee, unit) {
  return sha256Tag("ballot/v1/ctx/partial-decryption", baseHash, uint32(trustee), uint32(unit));
}

/** The Curve25519 public key of a Box secret key (PyNaCl's PrivateKey(sk).public_key). */
export function boxPublicKey(boxSecret) {
  if (!(boxSecret instanceof Uint8Array) || boxSecret.length !== 32) throw new CeremonyError("a Box secret key is 32 bytes");
  return sodium().crypto_scalarmult_base(boxSecret);
}

/** P(x) = Σ_j a_j x^j mod L (Horner, as TrusteeSecret.evaluate). */
export function evaluate(coefficients, x) {
  const X = BigInt(x);
  let y = 0n;
  for (let j = coefficients.length - 1; j >= 0; j--) y = mod(y * X + coefficients[j], L);
  return y;
}

/**
 * Trustee `index`'s secret and public for threshold k. Randomness, for the cross-language
 * vectors: `coefficients` (k BigInt) or `rng` (draws the k coefficients, then one proof nonce
 * per coefficient, in Python's order), `boxSecret` (32 bytes) or 32 random bytes.
 */
export function newTrustee(manifestHash, index, k, { rng = randomScalar, coefficients = null, boxSecret = null } = {}) {
  if (!Number.isInteger(index) || !Number.isInteger(k) || index < 1 || k < 1) {
    throw new CeremonyError("trustee indices and the threshold start at 1");
  }
  const coeffs = coefficients ? coefficients.map((a) => mod(BigInt(a), L)) : Array.from({ length: k }, () => mod(rng(), L));
  if (coeffs.length !== k) throw new CeremonyError(`expected ${k} coefficients`);
  const commitments = coeffs.map((a) => baseMul(a));
  const proofs = coeffs.map((a, j) => proveSchnorr(coefficientContext(manifestHash, index, j), a, commitments[j], { rng }));
  const sk = boxSecret ? Uint8Array.from(boxSecret) : randomBytes(32);
  return {
    secret: { index, coefficients: coeffs, boxSecret: sk },
    public: { index, commitments, proofs, boxPublic: boxPublicKey(sk) },
  };
}

/** The JSON of a trustee's public (ballot.tally.context.trustee_public_to_json). */
export function trusteePublicToJson(pub) {
  return {
    index: pub.index,
    commitments: pub.commitments.map((K) => b64encode(K)),
    proofs: pub.proofs.map((p) => b64encode(pairsToBytes([[p.c, p.v]]))),
    box_public: b64encode(pub.boxPublic),
  };
}

function isObject(x) {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

/** Strict decoding, as trustee_public_from_json: exact fields, valid points, canonical scalars. */
export function trusteePublicFromJson(data, where = "trustee") {
  const keys = ["box_public", "commitments", "index", "proofs"];
  if (!isObject(data) || Object.keys(data).sort().join() !== keys.join()) {
    throw new CeremonyError(`${where}: expected index, commitments, proofs, box_public`);
  }
  if (!Number.isInteger(data.index) || data.index < 1) throw new CeremonyError(`${where}.index: a positive integer`);
  if (!Array.isArray(data.commitments) || !Array.isArray(data.proofs)) {
    throw new CeremonyError(`${where}: commitments and proofs are lists`);
  }
  try {
    return {
      index: data.index,
      commitments: data.commitments.map((c, j) =>
        decodePoint(b64decode(c, 32, `${where}.commitments[${j}]`), `${where}.commitments[${j}]`)),
      proofs: data.proofs.map((p, j) => {
        const [[c, v]] = pairsFromBytes(b64decode(p, 64, `${where}.proofs[${j}]`), 1, `${where}.proofs[${j}]`);
        return { c, v };
      }),
      boxPublic: b64decode(data.box_public, 32, `${where}.box_public`),
    };
  } catch (e) {
    if (e instanceof EncodingError) throw new CeremonyError(e.message);
    throw e;
  }
}

/** k commitments and proofs, no identity, every Schnorr proof (verify_trustee_public). */
export function verifyTrusteePublic(manifestHash, pub, k) {
  if (pub.commitments.length !== k || pub.proofs.length !== k) {
    throw new CeremonyError(`trustee ${pub.index}: expected ${k} commitments and proofs`);
  }
  if (!(pub.boxPublic instanceof Uint8Array) || pub.boxPublic.length !== 32) {
    throw new CeremonyError(`trustee ${pub.index}: a Box public key is 32 bytes`);
  }
  pub.commitments.forEach((K, j) => {
    if (bytesEqual(K, IDENTITY)) throw new CeremonyError(`trustee ${pub.index}: commitment ${j} is the identity`);
    try {
      verifySchnorr(coefficientContext(manifestHash, pub.index, j), K, pub.proofs[j]);
    } catch (e) {
      throw new CeremonyError(`trustee ${pub.index}: proof of knowledge for coefficient ${j} does not verify`);
    }
  });
}

/**
 * P_i(l) for every other trustee l, each Box-encrypted to l: [{sender, recipient, ciphertext}]
 * with ciphertext = nonce (24) ‖ MAC (16) ‖ encrypted (header 32 ‖ scalar 32), as PyNaCl's
 * Box.encrypt. `nonce(recipient)` may fix the nonces (vectors); random otherwise.
 */
export function makeShares(manifestHash, secret, publics, { nonce = null } = {}) {
  const out = [];
  for (const pub of publics) {
    if (pub.index === secret.index) continue;
    const plaintext = concatBytes(shareHeader(manifestHash, secret.index, pub.index), encodeScalar(evaluate(secret.coefficients, pub.index)));
    const n = nonce ? nonce(pub.index) : randomBytes(BOX_NONCE_BYTES);
    if (!(n instanceof Uint8Array) || n.length !== BOX_NONCE_BYTES) throw new RangeError("a Box nonce is 24 bytes");
    const boxed = sodium().crypto_box_easy(plaintext, n, pub.boxPublic, secret.boxSecret);
    out.push({ sender: secret.index, recipient: pub.index, ciphertext: concatBytes(n, boxed) });
  }
  return out;
}

/** Π_j K_j^(x^j) = g^(P(x)). */
export function commitmentAt(commitments, x) {
  const X = BigInt(x);
  let total = Uint8Array.from(IDENTITY);
  let power = 1n;
  for (const K of commitments) {
    total = add(total, mul(K, power));
    power = mod(power * X, L);
  }
  return total;
}

/** Does `value` equal P_sender(recipient), by the sender's public commitments? */
export function checkShare(senderPublic, recipient, value) {
  return bytesEqual(baseMul(value), commitmentAt(senderPublic.commitments, recipient));
}

/** Decrypt and check one share (receive_share); throws ShareError naming the sender. */
export function receiveShare(manifestHash, recipientSecret, senderPublic, share) {
  const { sender, recipient } = share;
  if (recipient !== recipientSecret.index || sender !== senderPublic.index) {
    throw new ShareError(sender, recipient, "addressed to someone else");
  }
  const ct = share.ciphertext;
  let plaintext;
  try {
    if (!(ct instanceof Uint8Array) || ct.length < BOX_NONCE_BYTES + BOX_MAC_BYTES) throw new Error("short");
    plaintext = sodium().crypto_box_open_easy(ct.subarray(BOX_NONCE_BYTES), ct.subarray(0, BOX_NONCE_BYTES), senderPublic.boxPublic, recipientSecret.boxSecret);
  } catch {
    throw new ShareError(sender, recipient, "does not decrypt");
  }
  const header = shareHeader(manifestHash, senderPublic.index, recipientSecret.index);
  if (plaintext.length !== 64 || !bytesEqual(plaintext.subarray(0, 32), header)) {
    throw new ShareError(sender, recipient, "wrong election or wrong addressee");
  }
  let value;
  try {
    value = decodeScalar(plaintext.slice(32), "share");
  } catch {
    throw new ShareError(sender, recipient, "not a canonical scalar");
  }
  if (!checkShare(senderPublic, recipientSecret.index, value)) {
    throw new ShareError(sender, recipient, "does not match the sender's commitments");
  }
  return value;
}

/** s_l = P_l(l) + Σ_(i≠l) P_i(l); `received` a Map or object sender → BigInt. */
export function secretShare(secret, received) {
  const values = received instanceof Map ? [...received.values()] : Object.values(received);
  let s = evaluate(secret.coefficients, secret.index);
  for (const v of values) s = mod(s + v, L);
  return s;
}

/** C_j = Π_i K_ij. */
export function jointCommitments(publics) {
  const k = publics[0].commitments.length;
  return Array.from({ length: k }, (_, j) => publics.reduce((acc, p) => add(acc, p.commitments[j]), Uint8Array.from(IDENTITY)));
}

/** S_l = g^(s_l) from the joint commitments alone. */
export function publicShare(joint, index) {
  return commitmentAt(joint, index);
}

/** M = A^s with its Chaum–Pedersen proof against S: {share: M, proof: {c, v}}. */
export function partialDecrypt(context, s, S, A, { rng = randomScalar } = {}) {
  const { M, proof } = proveDleq(context, s, A, S, { rng });
  return { share: M, proof };
}

/** 96 bytes M ‖ c ‖ v, base64url (one entry of TrusteeDecryption.to_json()["units"]). */
export function partialToB64(partial) {
  return b64encode(concatBytes(partial.share, pairsToBytes([[partial.proof.c, partial.proof.v]])));
}

export function partialFromB64(text, what = "partial decryption") {
  try {
    const raw = b64decode(text, 96, what);
    const [[c, v]] = pairsFromBytes(raw.subarray(32), 1, `${what}.proof`);
    return { share: decodePoint(raw.slice(0, 32), `${what}.share`), proof: { c, v } };
  } catch (e) {
    if (e instanceof EncodingError) throw new DecryptionError(e.message);
    throw e;
  }
}

export function verifyPartial(context, S, A, partial) {
  verifyDleq(context, S, A, partial.share, partial.proof);
}
