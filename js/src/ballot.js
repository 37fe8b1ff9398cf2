// Encrypted ballots (docs/protocol.md §5.3, §8), the same bytes as ballot/crypto/ballots.py,
// built from the election info the server returns at GET /api/v1/elections/<slug>
// (Meeting.public_info: slug, status, manifest, context, base_hash, receipt_key).

import { EncodingError, bytesEqual, concatBytes, fromHex, mod, toHex } from "./bytes.js";
import { b64decode, b64encode, canonicalJson, sha256Tag, uint32 } from "./encoding.js";
import { L, add, decodePoint, decodeScalar, encodeScalar, pointsEqual, randomScalar } from "./group.js";
import { addCiphertexts, ciphertextFromBytes, ciphertextToBytes, encrypt } from "./elgamal.js";
import { ProofError, pairsFromBytes, pairsToBytes, proveDisjunctive, verifyDisjunctive, verifySchnorr } from "./proofs.js";
import * as blindrsa from "./blindrsa.js";
import { TokenError, checkToken, parseTokenMessage, signDetached, tokenId, verifyDetached, voterKeyFromSeed } from "./token.js";

export const BALLOT_VERSION = "ballot/v1/ballot";
export const CONTEXT_VERSION = "ballot/v1/context";

/** A ballot or election document that is malformed or does not verify; names the first problem. */
export class BallotError extends Error {
  constructor(message) {
    super(message);
    this.name = "BallotError";
  }
}

const TWO_48 = 2n ** 48n;

/**
 * What every ballot of one election looks like: {numUnits, numLevels, abstainAllowed, radix,
 * values (BigInt allowed plaintexts in proof-branch order), unitBytes, limits}.
 *
 * `limits` (ballot B of a second round, §8.5): per group {units: [0-based indices], max: K,
 * values: the allowed sums a + d·R (a ≤ K agree, a + d ≤ n), bytes}; only with two levels.
 */
export function makeShape({ numUnits, numLevels, abstainAllowed, radix, limits = [] }) {
  if (!(numUnits >= 1 && numLevels >= 2 && radix >= 2)) {
    throw new RangeError("a ballot needs units, at least two levels and a radix of 2 or more");
  }
  const R = BigInt(radix);
  if (R ** BigInt(numLevels) >= TWO_48) {
    throw new RangeError("too many levels for this roll size (radix^levels must be < 2^48)");
  }
  const levels = Array.from({ length: numLevels }, (_, i) => R ** BigInt(i));
  const values = Object.freeze(abstainAllowed ? [0n, ...levels] : levels);
  if (!Array.isArray(limits)) throw new RangeError("limits: expected a list of groups");
  if (limits.length && numLevels !== 2) {
    throw new RangeError("limits ('at most K agree') need exactly two levels (agree, disagree)");
  }
  const seen = new Set();
  const groups = limits.map((g, j) => {
    const units = g && Array.isArray(g.units) ? g.units : null;
    const k = g && g.max;
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`limits[${j}]: K must be an integer ≥ 0, got ${k}`);
    if (!units || units.length === 0) throw new RangeError(`limits[${j}]: a group needs at least one unit`);
    units.forEach((i, pos) => {
      if (!Number.isInteger(i) || i < 0 || i >= numUnits) throw new RangeError(`limits[${j}]: unit index ${i} is out of range`);
      if (seen.has(i)) throw new RangeError(`limits[${j}]: unit index ${i} is in two groups`);
      if (pos > 0 && units[pos - 1] > i) throw new RangeError(`limits[${j}]: unit indices must be increasing`);
      seen.add(i);
    });
    if (radix <= units.length) {
      throw new RangeError(`limits[${j}]: the radix ${radix} must exceed the group size ${units.length} (more voters than candidates in a group)`);
    }
    const sums = new Set();
    for (let a = 0; a <= k; a++) for (let d = 0; d <= units.length - a; d++) sums.add(BigInt(a) + BigInt(d) * R);
    const allowed = Object.freeze([...sums].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    return Object.freeze({ units: Object.freeze([...units]), max: k, values: allowed, bytes: 64 * allowed.length });
  });
  return Object.freeze({
    numUnits, numLevels, abstainAllowed: !!abstainAllowed, radix, values,
    unitBytes: 64 + 64 * values.length, limits: Object.freeze(groups),
  });
}

/**
 * R of the ballot encoding (protocol §5.1): official roll entries + 1; for a second round
 * (`ballot_b`) at least the largest group's number of candidates + 1.
 */
export function expectedRadix(manifest) {
  const roll = manifest && Array.isArray(manifest.roll) ? manifest.roll : [];
  const eligible = roll.filter((e) => isObject(e) && (e.status === undefined ? "official" : e.status) === "official").length;
  const bb = manifest && manifest.ballot_b;
  const largest = isObject(bb) && Array.isArray(bb.ballots)
    ? Math.max(0, ...bb.ballots.map((b) => (isObject(b) && Array.isArray(b.candidates) ? b.candidates.length : 0)))
    : 0;
  return Math.max(eligible, largest) + 1;
}

/**
 * The "at most K agree" groups of a second-round manifest (its `ballot_b` field): the
 * candidates, group after group, are the units in order. [] for a first-round manifest.
 */
export function limitsFromManifest(manifest) {
  const bb = manifest && manifest.ballot_b;
  if (bb === undefined) return [];
  if (!isObject(bb) || !Array.isArray(bb.ballots)) throw new BallotError("manifest.ballot_b: expected ballots");
  let start = 0;
  return bb.ballots.map((b, j) => {
    if (!isObject(b) || !Array.isArray(b.candidates) || !Number.isInteger(b.k)) {
      throw new BallotError(`manifest.ballot_b.ballots[${j}]: expected candidates and k`);
    }
    const units = b.candidates.map((_, i) => start + i);
    start += b.candidates.length;
    return { units, max: b.k };
  });
}

/** The plaintext of a choice: R^level for a level index (0 = highest), 0 for null (abstain). */
export function valueOf(shape, choice) {
  if (choice === null || choice === undefined) {
    if (!shape.abstainAllowed) throw new RangeError("this election does not allow abstaining");
    return 0n;
  }
  if (!Number.isInteger(choice) || choice < 0 || choice >= shape.numLevels) {
    throw new RangeError(`level index ${choice} is out of range`);
  }
  return BigInt(shape.radix) ** BigInt(choice);
}

export function unitContext(baseHash, voterKey, unit) {
  return sha256Tag("ballot/v1/ctx/unit", baseHash, voterKey, uint32(unit));
}

/** The context of limit group j's proof: SHA256_ctx/limit(base_hash, voter key, u32(j)). */
export function limitContext(baseHash, voterKey, group) {
  return sha256Tag("ballot/v1/ctx/limit", baseHash, voterKey, uint32(group));
}

function groupCiphertext(cts, units) {
  let total = cts[units[0]];
  for (const i of units.slice(1)) total = addCiphertexts(total, cts[i]);
  return total;
}

// -- the election: manifest + context + keys, checked -------------------------------------------

function isObject(x) {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

function exactKeys(obj, keys, what) {
  if (!isObject(obj)) throw new BallotError(`${what}: expected an object`);
  const have = Object.keys(obj).sort();
  const want = [...keys].sort();
  if (have.length !== want.length || have.some((k, i) => k !== want[i])) {
    throw new BallotError(`${what}: expected exactly the fields ${want.join(", ")}`);
  }
}

const elections = new WeakMap();

/**
 * Check the server's election info and derive everything a ballot needs: the manifest hash,
 * the context (every trustee's Schnorr proofs, the joint key, the radix), the base hash, the
 * issuer's key and the receipt key. Returns a frozen Election; cached per info object.
 */
export function loadElection(info) {
  if (info && info.__ballotElection === true) return info;
  if (isObject(info) && elections.has(info)) return elections.get(info);
  const election = checkElection(info);
  if (isObject(info)) elections.set(info, election);
  return election;
}

function boundReceiptKey(manifest, info) {
  if (manifest.receipt_key === undefined) return info.receipt_key;
  if (info.receipt_key !== manifest.receipt_key) {
    throw new BallotError("election info: the receipt key is not the one in the manifest");
  }
  return manifest.receipt_key;
}

function checkElection(info) {
  if (!isObject(info)) throw new BallotError("election info: expected an object");
  for (const k of ["manifest", "context", "base_hash", "receipt_key"]) {
    if (!(k in info)) throw new BallotError(`election info: missing ${k}`);
  }
  const manifest = info.manifest;
  const context = info.context;
  if (!isObject(manifest)) throw new BallotError("manifest: expected an object");
  try {
    const manifestHash = sha256Tag("ballot/v1/manifest", canonicalJson(manifest));
    exactKeys(context, ["version", "manifest_hash", "threshold", "trustees", "joint_public_key", "radix"], "context");
    if (context.version !== CONTEXT_VERSION) throw new BallotError(`context: unsupported version ${JSON.stringify(context.version)}`);
    if (context.manifest_hash !== toHex(manifestHash)) throw new BallotError("context: manifest_hash does not match the manifest");
    const trusteesCfg = manifest.trustees;
    if (!isObject(trusteesCfg) || !Array.isArray(trusteesCfg.members)) throw new BallotError("manifest.trustees: expected members and threshold");
    const k = trusteesCfg.threshold;
    if (context.threshold !== k || !Number.isInteger(k) || k < 1) throw new BallotError("context: threshold does not match the manifest");
    const n = trusteesCfg.members.length;
    if (!Array.isArray(context.trustees) || context.trustees.length !== n) {
      throw new BallotError(`context: expected the public keys of trustees 1..${n} in order`);
    }
    let joint = null;
    context.trustees.forEach((t, pos) => {
      const where = `context.trustees[${pos}]`;
      exactKeys(t, ["index", "commitments", "proofs", "box_public"], where);
      if (t.index !== pos + 1) throw new BallotError(`context: expected the public keys of trustees 1..${n} in order`);
      if (!Array.isArray(t.commitments) || !Array.isArray(t.proofs) || t.commitments.length !== k || t.proofs.length !== k) {
        throw new BallotError(`trustee ${t.index}: expected ${k} commitments and proofs`);
      }
      b64decode(t.box_public, 32, `${where}.box_public`);
      t.commitments.forEach((c, j) => {
        const K = decodePoint(b64decode(c, 32, `${where}.commitments[${j}]`), `${where}.commitments[${j}]`);
        const [[pc, pv]] = pairsFromBytes(b64decode(t.proofs[j], 64, `${where}.proofs[${j}]`), 1, `${where}.proofs[${j}]`);
        const ctx = sha256Tag("ballot/v1/ctx/ceremony-coefficient", manifestHash, uint32(t.index), uint32(j));
        try {
          verifySchnorr(ctx, K, { c: pc, v: pv });
        } catch (e) {
          if (e instanceof ProofError) throw new BallotError(`trustee ${t.index}: proof of knowledge for coefficient ${j} does not verify`);
          throw e;
        }
        if (j === 0) joint = joint ? add(joint, K) : K;
      });
    });
    const publicKey = decodePoint(b64decode(context.joint_public_key, 32, "context.joint_public_key"), "context.joint_public_key");
    if (!pointsEqual(publicKey, joint)) throw new BallotError("context: joint_public_key does not match the trustees' commitments");
    if (context.radix !== expectedRadix(manifest)) throw new BallotError("context: radix does not match the roll (eligible voters + 1; for a second round at least the largest group + 1)");
    const baseHash = sha256Tag("ballot/v1/base-hash", canonicalJson(context));
    if (info.base_hash !== toHex(baseHash)) throw new BallotError("the server's base hash does not match its manifest and keys");
    let issuer;
    try {
      issuer = blindrsa.parseSpki(b64decode(manifest.issuer_public_key, undefined, "issuer_public_key"));
    } catch (e) {
      throw new BallotError(`manifest issuer_public_key: ${e.message}`);
    }
    if (!Array.isArray(manifest.units) || !Array.isArray(manifest.levels)) throw new BallotError("manifest: units and levels are lists");
    const rules = isObject(manifest.rules) ? manifest.rules : {};
    // The limits come from the manifest (bound to the base hash); the server's "limits" must
    // say the same.
    const limits = limitsFromManifest(manifest);
    if (info.limits !== undefined) {
      const said = JSON.stringify(Array.isArray(info.limits) ? info.limits.map((g) => ({ units: g && g.units, max: g && g.max })) : info.limits);
      if (said !== JSON.stringify(limits)) throw new BallotError("election info: limits do not match the manifest");
    }
    const shape = makeShape({
      numUnits: manifest.units.length,
      numLevels: manifest.levels.length,
      abstainAllowed: rules.abstain_allowed === undefined ? true : rules.abstain_allowed === true,
      radix: context.radix,
      limits,
    });
    return Object.freeze({
      __ballotElection: true,
      slug: info.slug,
      status: info.status,
      manifest,
      context,
      manifestHash,
      baseHash,
      baseHashHex: toHex(baseHash),
      publicKey,
      issuer,
      // The receipt key bound in the manifest (hence the fingerprint), when it is there: the
      // server cannot sign receipts with a key it could later disown (docs/protocol.md §9).
      receiptKey: b64decode(boundReceiptKey(manifest, info), 32, "receipt_key"),
      shape,
    });
  } catch (e) {
    if (e instanceof EncodingError || e instanceof RangeError) throw new BallotError(e.message);
    throw e;
  }
}

// -- hashes and tracking codes ---------------------------------------------------------------------

function bodyOf(ballot) {
  const body = { version: ballot.version, election: ballot.election, token: ballot.token, units: ballot.units };
  if (ballot.limits !== undefined) body.limits = ballot.limits;
  return body;
}

/** SHA256_ballot(canonical_json(body)): the 32 bytes the voter key signs. */
export function ballotHashBytes(ballot) {
  return sha256Tag("ballot/v1/ballot", canonicalJson(bodyOf(ballot)));
}

/** The ballot hash as 64 lowercase hex digits. */
export function ballotHash(ballot) {
  return toHex(ballotHashBytes(ballot));
}

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** base32 (RFC 4648, upper case) of the first 10 bytes of the ballot hash, as XXXX-XXXX-XXXX-XXXX. */
export function trackingCode(hashOrBallot) {
  let h = hashOrBallot;
  if (typeof h === "string") h = fromHex(h, 32, "ballot hash");
  else if (!(h instanceof Uint8Array)) h = ballotHashBytes(h);
  let bits = 0n;
  for (const b of h.subarray(0, 10)) bits = (bits << 8n) | BigInt(b);
  let code = "";
  for (let i = 15; i >= 0; i--) code += B32[Number((bits >> BigInt(5 * i)) & 31n)];
  return code.match(/.{4}/g).join("-");
}

// -- encryption --------------------------------------------------------------------------------------

function tokenBytes(token) {
  const get = (x, what) => (typeof x === "string" ? b64decode(x, undefined, what) : x);
  return { message: get(token.message, "token.message"), signature: get(token.signature, "token.signature") };
}

function asVoterKey(voterKey) {
  if (voterKey instanceof Uint8Array || typeof voterKey === "string") return voterKeyFromSeed(voterKey);
  return voterKey;
}

/**
 * Encrypt and prove every unit's choice, WITHOUT signing: the ballot body (docs/protocol.md
 * §8.4). The voter key is the one inside the token. Sign with signBallot only when the member
 * presses Cast: a body opened for a Benaloh audit then carries no signature and cannot be cast
 * by whoever holds the audit data.
 *
 * `choices[u]`: a level index (0 = highest) or null (abstain). `rng` gives, per unit in order,
 * the encryption nonce r, then the proof's randomness; then each limit group's proof
 * randomness, in group order (as Python's encrypt_ballot).
 * Returns {body (no "signature"), ballotHash (hex), trackingCode, tokenId (hex), nonces (BigInt
 * per unit), audit: {choices, nonces: [b64 32-byte scalars]}}.
 */
export function sealBallot(info, token, choices, { rng = randomScalar } = {}) {
  const election = loadElection(info);
  const { shape, baseHash, publicKey } = election;
  if (!Array.isArray(choices) || choices.length !== shape.numUnits) {
    throw new RangeError(`${choices && choices.length} choices for ${shape.numUnits} units`);
  }
  const tok = tokenBytes(token);
  const parsed = parseTokenMessage(tok.message);
  const voterPublicKey = parsed.voterPublicKey;
  if (!bytesEqual(parsed.baseHash, baseHash)) throw new RangeError("the token is for another election");
  shape.limits.forEach((g, j) => {
    const agree = g.units.filter((i) => choices[i] === 0).length;
    if (agree > g.max) throw new RangeError(`group ${j + 1}: ${agree} agree, at most ${g.max} allowed`);
  });
  const units = [];
  const nonces = [];
  const cts = [];
  const ms = [];
  choices.forEach((choice, u) => {
    const m = valueOf(shape, choice);
    const { ciphertext, r } = encrypt(publicKey, m, rng());
    const proof = proveDisjunctive(unitContext(baseHash, voterPublicKey, u), publicKey, ciphertext, r, m, shape.values, { rng });
    units.push(b64encode(concatBytes(ciphertextToBytes(ciphertext), pairsToBytes(proof))));
    nonces.push(r);
    cts.push(ciphertext);
    ms.push(m);
  });
  const body = {
    version: BALLOT_VERSION,
    election: toHex(baseHash),
    token: { message: b64encode(tok.message), signature: b64encode(tok.signature) },
    units,
  };
  if (shape.limits.length) {
    body.limits = shape.limits.map((g, j) => {
      const m = g.units.reduce((s, i) => s + ms[i], 0n);
      const r = mod(g.units.reduce((s, i) => s + nonces[i], 0n), L);
      const proof = proveDisjunctive(limitContext(baseHash, voterPublicKey, j), publicKey, groupCiphertext(cts, g.units), r, m, g.values, { rng });
      return b64encode(pairsToBytes(proof));
    });
  }
  const hash = ballotHashBytes(body);
  return {
    body,
    ballotHash: toHex(hash),
    trackingCode: trackingCode(hash),
    tokenId: toHex(tokenId(tok.message)),
    nonces,
    audit: { choices: [...choices].map((c) => (c === undefined ? null : c)), nonces: nonces.map((r) => b64encode(encodeScalar(r))) },
  };
}

/**
 * The ballot to POST: the body of sealBallot signed with the token's voter key (Ed25519 over
 * the ballot hash). Refuses a voter key that is not the token's, and a body that already
 * carries a signature.
 */
export function signBallot(body, voterKey) {
  if (!isObject(body) || "signature" in body) throw new BallotError("sign a ballot body (without a signature)");
  const key = asVoterKey(voterKey);
  const parsed = parseTokenMessage(b64decode(body.token && body.token.message, undefined, "token.message"));
  if (!bytesEqual(parsed.voterPublicKey, key.publicKey)) throw new RangeError("the token does not carry this voter key");
  return { ...body, signature: b64encode(signDetached(key, ballotHashBytes(body))) };
}

/**
 * sealBallot then signBallot in one step (tests, benchmarks, scripts). Returns the same object
 * as sealBallot plus {ballot}: the signed ballot to POST.
 */
export function encryptBallot(info, token, voterKey, choices, { rng = randomScalar } = {}) {
  const key = asVoterKey(voterKey);
  const parsed = parseTokenMessage(tokenBytes(token).message);
  if (!bytesEqual(parsed.voterPublicKey, key.publicKey)) throw new RangeError("the token does not carry this voter key");
  const sealed = sealBallot(info, token, choices, { rng });
  return { ...sealed, ballot: signBallot(sealed.body, key) };
}

// -- verification (docs/protocol.md §8.3, 1–5) -----------------------------------------------------

const BODY_KEYS = ["version", "election", "token", "units"];

/**
 * Strict decoding, as Python's ballot_from_json: exact keys, canonical encodings, valid points.
 * `signed: false` decodes a ballot body (an audited ballot, §8.4): exactly the same fields
 * but "signature", which it must not have.
 */
export function decodeBallot(ballot, shape, { signed = true } = {}) {
  if (!isObject(ballot)) throw new BallotError("a ballot is a JSON object");
  const want = [...BODY_KEYS, ...(signed ? ["signature"] : []), ...(shape.limits && shape.limits.length ? ["limits"] : [])];
  const have = new Set(Object.keys(ballot));
  const missing = want.filter((k) => !have.has(k));
  const extra = [...have].filter((k) => !want.includes(k)).sort();
  if (missing.length || extra.length) {
    throw new BallotError(`ballot fields: missing [${missing.sort().join(", ")}], unexpected [${extra.join(", ")}]`);
  }
  if (ballot.version !== BALLOT_VERSION) throw new BallotError(`unsupported ballot version ${JSON.stringify(ballot.version)}`);
  try {
    if (typeof ballot.election !== "string" || !/^[0-9a-f]{64}$/.test(ballot.election)) {
      throw new BallotError("election: 64 lowercase hex digits");
    }
    const tok = ballot.token;
    if (!isObject(tok) || Object.keys(tok).length !== 2 || !("message" in tok) || !("signature" in tok)) {
      throw new BallotError("token: an object with message and signature");
    }
    const token = {
      message: b64decode(tok.message, undefined, "token.message"),
      signature: b64decode(tok.signature, undefined, "token.signature"),
    };
    if (!Array.isArray(ballot.units) || ballot.units.length !== shape.numUnits) {
      throw new BallotError(`units: expected a list of ${shape.numUnits} entries`);
    }
    const units = ballot.units.map((text, u) => {
      const raw = b64decode(text, shape.unitBytes, `units[${u}]`);
      return {
        ciphertext: ciphertextFromBytes(raw.subarray(0, 64), `units[${u}].ciphertext`),
        proof: pairsFromBytes(raw.subarray(64), shape.values.length, `units[${u}].proof`),
      };
    });
    let limits = null;
    if (shape.limits && shape.limits.length) {
      if (!Array.isArray(ballot.limits) || ballot.limits.length !== shape.limits.length) {
        throw new BallotError(`limits: expected a list of ${shape.limits.length} entries`);
      }
      limits = ballot.limits.map((text, j) => pairsFromBytes(b64decode(text, shape.limits[j].bytes, `limits[${j}]`), shape.limits[j].values.length, `limits[${j}]`));
    }
    const signature = signed ? b64decode(ballot.signature, 64, "signature") : null;
    return { election: fromHex(ballot.election, 32, "election"), token, units, limits, signature };
  } catch (e) {
    if (e instanceof EncodingError) throw new BallotError(e.message);
    throw e;
  }
}

/**
 * Every check a ballot must pass before it goes on the board: shape and encodings, the token
 * (this election, the issuer's RSASSA-PSS signature), the voter's Ed25519 signature over the
 * ballot hash, every unit's disjunctive proof. Throws BallotError naming the first problem;
 * returns {ballotHash, trackingCode, tokenId}.
 */
export function verifyBallot(info, ballot) {
  return checkBallot(info, ballot, true);
}

/**
 * The same checks for an unsigned ballot body (an audited ballot, §8.4): everything but the
 * voter's signature, which the body must not carry.
 */
export function verifyBody(info, body) {
  return checkBallot(info, body, false);
}

function checkBallot(info, ballot, signed) {
  const election = loadElection(info);
  const { shape, baseHash, publicKey } = election;
  const decoded = decodeBallot(ballot, shape, { signed });
  if (!bytesEqual(decoded.election, baseHash)) throw new BallotError("the ballot is for another election");
  let voterKey;
  try {
    voterKey = checkToken(election.issuer, baseHash, decoded.token);
  } catch (e) {
    if (e instanceof TokenError) throw new BallotError(e.message);
    throw e;
  }
  const hash = ballotHashBytes(ballot);
  if (signed && !verifyDetached(voterKey, hash, decoded.signature)) {
    throw new BallotError("the ballot's signature does not verify with the token's key");
  }
  decoded.units.forEach(({ ciphertext, proof }, u) => {
    try {
      verifyDisjunctive(unitContext(baseHash, voterKey, u), publicKey, ciphertext, shape.values, proof);
    } catch (e) {
      if (e instanceof ProofError) throw new BallotError(`unit ${u + 1}: the proof that it holds one allowed choice fails`);
      throw e;
    }
  });
  (shape.limits || []).forEach((g, j) => {
    try {
      const ct = groupCiphertext(decoded.units.map((x) => x.ciphertext), g.units);
      verifyDisjunctive(limitContext(baseHash, voterKey, j), publicKey, ct, g.values, decoded.limits[j]);
    } catch (e) {
      if (e instanceof ProofError) throw new BallotError(`group ${j + 1}: more than ${g.max} agree, or the proof fails`);
      throw e;
    }
  });
  return { ballotHash: toHex(hash), trackingCode: trackingCode(hash), tokenId: toHex(tokenId(decoded.token.message)) };
}

// -- Benaloh audit (§8.4) ------------------------------------------------------------------------------

function nonceValue(r, u) {
  if (typeof r === "bigint") return r;
  if (typeof r === "string") return decodeScalar(b64decode(r, 32, `nonces[${u}]`), `nonces[${u}]`);
  throw new BallotError(`unit ${u + 1}: a nonce is a BigInt or a base64url scalar`);
}

/** Does the ballot encrypt exactly the revealed choices with the revealed nonces? Throws if not. */
export function checkAudit(info, ballot, audit) {
  const election = loadElection(info);
  const { shape, publicKey } = election;
  const decoded = decodeBallot(ballot, shape, { signed: isObject(ballot) && "signature" in ballot });
  if (!audit || !Array.isArray(audit.choices) || !Array.isArray(audit.nonces) ||
      audit.choices.length !== shape.numUnits || audit.nonces.length !== shape.numUnits) {
    throw new BallotError("the audit does not cover every unit");
  }
  decoded.units.forEach(({ ciphertext }, u) => {
    let r;
    try {
      r = nonceValue(audit.nonces[u], u);
    } catch (e) {
      throw e instanceof BallotError ? e : new BallotError(e.message);
    }
    if (r < 0n || r >= L) throw new BallotError(`unit ${u + 1}: nonce out of range`);
    let m;
    try {
      m = valueOf(shape, audit.choices[u]);
    } catch (e) {
      throw new BallotError(`unit ${u + 1}: ${e.message}`);
    }
    const expected = encrypt(publicKey, m, r).ciphertext;
    if (!pointsEqual(expected.alpha, ciphertext.alpha) || !pointsEqual(expected.beta, ciphertext.beta)) {
      throw new BallotError(`unit ${u + 1}: the ciphertext does not encrypt the shown choice`);
    }
  });
}

