// A trustee's device in the browser: the same steps as ballot/clients/trustee.py
// (TrusteeDevice), as pure functions over the JSON the API returns. The page does the HTTP:
//   GET  /api/v1/elections/<slug>/ceremony                → `state`
//   POST …/trustees/<i>/public      {public}              ← keygen(state, i).request
//   POST …/trustees/<i>/shares      {shares}              ← sendShares(state, keys)
//   GET  …/trustees/<i>/shares      → {shares: inbox}
//   POST …/trustees/<i>/accept      {complaints}          ← receiveShares(state, keys, inbox)
//   GET  …/aggregate                → `agg`
//   POST …/trustees/<i>/decryption  {decryption}          ← decrypt(agg, keys)
// and, for a key file saved before the shares were checked, after they were accepted:
//   rebuildShare(state, agg, keys, inbox) → keys with the secret share (nothing to POST)
// The page does not decrypt the server's "aggregate": it downloads the whole board
//   GET /api/v1/elections/<slug>               → `info` (manifest, context, fingerprint)
//   GET …/counters                             → `counters` (tokens issued)
//   GET …/board/ballots                        → `board`
// checks it (checkBoardAsync: chain, tokens, signatures, proofs, no token twice, ballots ≤
// tokens), shows its head for the committee to compare with the projector, and decrypts only
// the aggregate it recomputed (decryptChecked: one ciphertext per unit).
// Secrets never appear in what these functions return for the server (only commitments, proofs,
// Box public keys, Box ciphertexts and partial decryptions).

import { expectedRadix, loadElection, verifyBallot } from "./ballot.js";
import { EncodingError, bytesEqual, toHex } from "./bytes.js";
import { b64decode, b64encode, canonicalJson, sha256Tag, uint32 } from "./encoding.js";
import { pairsToBytes, proveSchnorr } from "./proofs.js";
import { addCiphertexts, ciphertextFromBytes, ciphertextToBytes } from "./elgamal.js";
import { IDENTITY, baseMul, decodePoint, pointsEqual, randomScalar } from "./group.js";
import { GENESIS, entryHash } from "./receipt.js";
import {
  CeremonyError,
  DecryptionError,
  ShareError,
  boxPublicKey,
  jointCommitments,
  makeShares,
  partialContext,
  partialDecrypt,
  partialToB64,
  publicShare,
  receiveShare,
  secretShare,
  trusteePublicFromJson,
  trusteePublicToJson,
  verifyTrusteePublic,
  newTrustee,
} from "./threshold.js";

export const CONTEXT_VERSION = "ballot/v1/context";

function isObject(x) {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

/** SHA256_manifest(canonical_json(manifest)). */
export function manifestHash(manifest) {
  return sha256Tag("ballot/v1/manifest", canonicalJson(manifest));
}

/** The manifest hash of a ceremony state, checked against its manifest (and the key file's). */
function stateHash(state, keys = null) {
  if (!isObject(state) || !isObject(state.manifest)) throw new CeremonyError("the server's answer has no manifest");
  const mh = manifestHash(state.manifest);
  if (toHex(mh) !== state.manifest_hash) throw new CeremonyError("the server's manifest hash does not match its manifest");
  if (keys && !bytesEqual(keys.manifestHash, mh)) throw new CeremonyError("this key file is for another election");
  return mh;
}

function threshold(state) {
  const t = state.manifest.trustees;
  const k = isObject(t) ? t.threshold : undefined;
  if (!Number.isInteger(k) || k < 1 || (state.threshold !== undefined && state.threshold !== k)) {
    throw new CeremonyError("the threshold does not match the manifest");
  }
  return k;
}

/** keygen: fresh secrets for trustee `index`; {keys, request: {public}} (POST the request). */
export function keygen(state, index, options = {}) {
  const mh = stateHash(state);
  const { secret, public: pub } = newTrustee(mh, index, threshold(state), options);
  return { keys: { manifestHash: mh, secret, share: null }, request: { public: trusteePublicToJson(pub) } };
}

/** The published publics of the state, every proof verified; my own must be mine. */
export function publicsOf(state, keys) {
  const mh = stateHash(state, keys);
  const k = threshold(state);
  if (!Array.isArray(state.trustees)) throw new CeremonyError("the server's answer has no trustees");
  const publics = state.trustees.map((t, pos) => {
    if (!isObject(t) || !t.public) throw new CeremonyError(`trustee ${t && t.index} has not published keys yet`);
    const pub = trusteePublicFromJson(t.public, `trustees[${pos}].public`);
    if (pub.index !== t.index) throw new CeremonyError(`trustee ${t.index}: keys published for trustee ${pub.index}`);
    verifyTrusteePublic(mh, pub, k);
    return pub;
  });
  const me = publics.find((p) => p.index === keys.secret.index);
  if (!me) throw new CeremonyError(`trustee ${keys.secret.index} is not in this election`);
  if (!keysMatch(keys.secret, me)) throw new CeremonyError("the keys published for this trustee are not the ones in this key file");
  return publics;
}

/** Whether a trustee's secret (coefficients, Box key) is the one behind a published public. */
function keysMatch(secret, pub) {
  const mine = secret.coefficients.map((a) => baseMul(a));
  return mine.length === pub.commitments.length && mine.every((K, j) => pointsEqual(K, pub.commitments[j]))
    && bytesEqual(boxPublicKey(secret.boxSecret), pub.boxPublic);
}

/** send_shares: {shares: [{recipient, ciphertext}]} (POST it). */
export function sendShares(state, keys, options = {}) {
  const publics = publicsOf(state, keys);
  return {
    shares: makeShares(keys.manifestHash, keys.secret, publics, options).map((sh) => ({
      recipient: sh.recipient,
      ciphertext: b64encode(sh.ciphertext),
    })),
  };
}

/**
 * receive_shares: check every share in `inbox` (GET …/shares → shares). Returns
 * {request: {complaints}, keys, received} where `keys` carries the secret share s_i when there
 * is no complaint (null otherwise). POST the request either way.
 */
export function receiveShares(state, keys, inbox) {
  const publics = new Map(publicsOf(state, keys).map((p) => [p.index, p]));
  const me = keys.secret.index;
  const received = new Map();
  const complaints = [];
  for (const sh of Array.isArray(inbox) ? inbox : []) {
    const sender = isObject(sh) ? sh.sender : undefined;
    if (!publics.has(sender) || sender === me || received.has(sender)) continue;
    try {
      let ciphertext;
      try {
        ciphertext = b64decode(sh.ciphertext, undefined, "share.ciphertext");
      } catch (e) {
        throw new ShareError(sender, me, "does not decrypt");
      }
      received.set(sender, receiveShare(keys.manifestHash, keys.secret, publics.get(sender), { sender, recipient: sh.recipient, ciphertext }));
    } catch (e) {
      if (!(e instanceof ShareError)) throw e;
      complaints.push({ sender: e.sender, reason: e.message });
    }
  }
  const complained = new Set(complaints.map((c) => c.sender));
  for (const i of [...publics.keys()].sort((a, b) => a - b)) {
    if (i !== me && !received.has(i) && !complained.has(i)) complaints.push({ sender: i, reason: "no share received" });
  }
  const share = complaints.length ? null : secretShare(keys.secret, received);
  // remember the keys the shares were checked against: the election key must be made of
  // exactly these (approve)
  const digest = publicsDigest([...publics.values()].sort((a, b) => a.index - b.index));
  return {
    request: { complaints },
    keys: share === null ? null : { ...keys, share, publics: digest },
    received,
  };
}

/**
 * rebuild_share, for a trustee who accepted its shares during the ceremony but opened the key
 * file saved before (no share): the secret share s_i recomputed from the shares addressed to me
 * (GET …/trustees/<i>/shares → `inbox`), each checked against its sender's commitments in
 * `state` (GET …/ceremony) exactly as receiveShares does, then g^(s_i) checked against my public
 * share in the election context of `agg` (GET …/aggregate, see checkContext). Nothing to POST.
 * Returns {keys, problem, complaints}: `keys` carries the share when `problem` is null;
 * otherwise `keys` is null and `problem` is "keys" (this key file does not hold the keys of the
 * context: a wrong file), "shares" (`complaints` as receiveShares names them: missing, altered
 * or not matching their commitments) or "public_share" (the shares do not give my public share).
 */
export function rebuildShare(state, agg, keys, inbox) {
  const ctx = checkContext(agg);
  if (!bytesEqual(ctx.manifestHash, keys.manifestHash)) throw new DecryptionError("this key file is for another election");
  const index = keys.secret.index;
  const mine = ctx.publics.find((p) => p.index === index);
  if (!mine) throw new DecryptionError(`trustee ${index} is not in this election`);
  if (!keysMatch(keys.secret, mine)) return { keys: null, problem: "keys", complaints: [] };
  const out = receiveShares(state, { ...keys, share: null }, inbox);
  if (out.keys === null) return { keys: null, problem: "shares", complaints: out.request.complaints };
  if (!pointsEqual(baseMul(out.keys.share), publicShare(ctx.joint, index))) return { keys: null, problem: "public_share", complaints: [] };
  return { keys: out.keys, problem: null, complaints: [] };
}

/**
 * Check the election context of GET …/aggregate (or of the election info) as the verifier does:
 * manifest hash, every trustee's proofs, joint key, radix, base hash. Returns
 * {manifestHash, baseHash, joint, publics}.
 */
export function checkContext(agg) {
  if (!isObject(agg) || !isObject(agg.manifest) || !isObject(agg.context)) throw new DecryptionError("the server's answer has no manifest or context");
  const { manifest, context } = agg;
  const mh = manifestHash(manifest);
  const keys = ["joint_public_key", "manifest_hash", "radix", "threshold", "trustees", "version"];
  if (Object.keys(context).sort().join() !== keys.join()) throw new DecryptionError(`context: expected exactly the fields ${keys.join(", ")}`);
  if (context.version !== CONTEXT_VERSION) throw new DecryptionError("context: unsupported version");
  if (context.manifest_hash !== toHex(mh)) throw new DecryptionError("context: manifest_hash does not match the manifest");
  const k = threshold({ manifest, threshold: context.threshold });
  const n = Array.isArray(manifest.trustees.members) ? manifest.trustees.members.length : -1;
  if (!Array.isArray(context.trustees) || context.trustees.length !== n) throw new DecryptionError(`context: expected the public keys of trustees 1..${n} in order`);
  const publics = context.trustees.map((t, pos) => {
    const pub = trusteePublicFromJson(t, `context.trustees[${pos}]`);
    if (pub.index !== pos + 1) throw new DecryptionError(`context: expected the public keys of trustees 1..${n} in order`);
    verifyTrusteePublic(mh, pub, k);
    return pub;
  });
  const joint = jointCommitments(publics);
  let H;
  try {
    H = decodePoint(b64decode(context.joint_public_key, 32, "context.joint_public_key"), "context.joint_public_key");
  } catch (e) {
    throw new DecryptionError(e.message);
  }
  if (!pointsEqual(H, joint[0])) throw new DecryptionError("context: joint_public_key does not match the trustees' commitments");
  if (context.radix !== expectedRadix(manifest)) throw new DecryptionError("context: radix does not match the roll (eligible voters + 1; for a second round at least the largest group + 1)");
  const baseHash = sha256Tag("ballot/v1/base-hash", canonicalJson(context));
  if (agg.base_hash !== undefined && agg.base_hash !== toHex(baseHash)) throw new DecryptionError("the server's base hash does not match its manifest and keys");
  return { manifestHash: mh, baseHash, joint, publics };
}

function prepareDecryption(agg, keys) {
  const ctx = checkContext(agg);
  if (!bytesEqual(ctx.manifestHash, keys.manifestHash)) throw new DecryptionError("this key file is for another election");
  if (keys.share === null || keys.share === undefined) throw new DecryptionError("this key file has no secret share: check the shares you received first");
  const index = keys.secret.index;
  const S = publicShare(ctx.joint, index);
  if (!pointsEqual(baseMul(keys.share), S)) throw new DecryptionError(`trustee ${index}: this secret share does not match the election`);
  if (!Array.isArray(agg.aggregate)) throw new DecryptionError("the server's answer has no aggregate");
  let totals;
  try {
    totals = agg.aggregate.map((u, i) => ciphertextFromBytes(b64decode(u, 64, `aggregate[${i}]`), `aggregate[${i}]`));
  } catch (e) {
    if (e instanceof EncodingError) throw new DecryptionError(e.message);
    throw e;
  }
  return { index, S, baseHash: ctx.baseHash, totals };
}

function unitPartial(p, u, rng) {
  return partialToB64(partialDecrypt(partialContext(p.baseHash, p.index, u), p.share, p.S, p.totals[u].alpha, { rng }));
}

/**
 * decrypt_aggregate: the partial decryption of every unit's aggregate with its proof, as
 * {decryption: {trustee, units: [b64(M ‖ c ‖ v)…]}} (POST it). `rng` draws each proof's nonce
 * (vectors); `onProgress(done, total)` is called after each unit.
 */
export function decrypt(agg, keys, { rng = randomScalar, onProgress = null } = {}) {
  const p = { ...prepareDecryption(agg, keys), share: keys.share };
  const units = [];
  for (let u = 0; u < p.totals.length; u++) {
    units.push(unitPartial(p, u, rng));
    if (onProgress) onProgress(u + 1, p.totals.length);
  }
  return { decryption: { trustee: p.index, units } };
}

/** decrypt, giving the page a chance to paint every `every` units (await it). */
export async function decryptAsync(agg, keys, { rng = randomScalar, onProgress = null, every = 5 } = {}) {
  const p = { ...prepareDecryption(agg, keys), share: keys.share };
  const units = [];
  for (let u = 0; u < p.totals.length; u++) {
    units.push(unitPartial(p, u, rng));
    if (onProgress) onProgress(u + 1, p.totals.length);
    if ((u + 1) % every === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return { decryption: { trustee: p.index, units } };
}

// -- approval of the election fingerprint (ballot/tally/approval.py) -------------------------------

export const APPROVAL_TAG = "ballot/v1/ctx/trustee-approval";

/** SHA256_trustee-publics(canonical_json([every trustee's public, in index order])). */
export function publicsDigest(publics) {
  return sha256Tag("ballot/v1/trustee-publics", canonicalJson(publics.map(trusteePublicToJson)));
}

/** SHA256_ctx/trustee-approval(base_hash ‖ u32(index)): the Schnorr context of an approval. */
export function approvalContext(baseHash, index) {
  return sha256Tag(APPROVAL_TAG, baseHash, uint32(index));
}

/** The approval {trustee, base_hash, signature} of a checked context (checkContext) by `index`. */
export function signApproval(ctx, index, a0, { rng = randomScalar } = {}) {
  const K0 = ctx.publics[index - 1].commitments[0];
  const { c, v } = proveSchnorr(approvalContext(ctx.baseHash, index), a0, K0, { rng });
  return { trustee: index, base_hash: toHex(ctx.baseHash), signature: b64encode(pairsToBytes([[c, v]])) };
}

/**
 * approve: after "Finish", `info` (GET /api/v1/elections/<slug>) checked as the verifier does;
 * its trustees' keys must be exactly the ones this trustee checked its shares against
 * (keys.publics, remembered by receiveShares and the key file), so that the joint key is the
 * product of those constant-term commitments, and my public share must be g^share. Returns
 * {baseHashHex, request: {approval}}: show the fingerprint, POST the request once confirmed.
 */
export function approve(info, keys, { rng = randomScalar } = {}) {
  const ctx = checkContext(info);
  if (!bytesEqual(ctx.manifestHash, keys.manifestHash)) throw new CeremonyError("this key file is for another election");
  if (keys.share === null || keys.share === undefined) throw new CeremonyError("this key file has no secret share: check your shares first");
  if (!keys.publics) throw new CeremonyError("this key file does not remember the trustees' keys the shares were checked against: open the key file saved after the check");
  if (!bytesEqual(publicsDigest(ctx.publics), keys.publics)) {
    throw new CeremonyError("the election key is NOT made of the trustees' keys your shares were checked against: do not approve, tell the committee");
  }
  const index = keys.secret.index;
  const mine = ctx.publics[index - 1];
  if (!mine || !keysMatch(keys.secret, mine) || !pointsEqual(baseMul(keys.share), publicShare(ctx.joint, index))) {
    throw new CeremonyError("your own keys in the election context are not yours");
  }
  return { baseHashHex: toHex(ctx.baseHash), request: { approval: signApproval(ctx, index, keys.secret.coefficients[0], { rng }) } };
}

/** A board that does not check: nothing is decrypted for it. */
export class BoardError extends Error {
  constructor(message) {
    super(message);
    this.name = "BoardError";
  }
}

const ENTRY_KEYS = ["ballot", "entry_hash", "position", "prev_hash"];

/**
 * check_board (ballot/tally/board_check.py): every entry of `board` (GET …/board/ballots) in
 * order, the hash chain, every ballot as the server must have checked it (token signed by the
 * election's issuer key, voter signature, every proof), no token twice, ballots ≤ the tokens
 * issued in `counters` (GET …/counters); the aggregate recomputed here. `info`: GET
 * /api/v1/elections/<slug> (checked by loadElection). `onProgress(done, total)` after each
 * ballot; the page paints every `every` ballots. Returns {ballots, head, tokens, aggregate,
 * baseHashHex}; throws BoardError.
 */
export async function checkBoardAsync(info, board, counters, { onProgress = null, every = 1 } = {}) {
  let election;
  try {
    election = loadElection(info);
  } catch (e) {
    throw new BoardError(`the election does not check: ${e.message}`);
  }
  const tokens = isObject(counters) ? counters.tokens : undefined;
  if (!Number.isInteger(tokens) || tokens < 0) throw new BoardError("the server's counters give no number of tokens issued");
  const entries = isObject(board) ? board.board : undefined;
  if (!Array.isArray(entries)) throw new BoardError("the server's board is not a list of entries");
  if (entries.length > tokens) throw new BoardError(`the board holds ${entries.length} ballots but only ${tokens} tokens were issued`);
  const n = election.shape.numUnits;
  const totals = Array.from({ length: n }, () => ({ alpha: Uint8Array.from(IDENTITY), beta: Uint8Array.from(IDENTITY) }));
  const seen = new Map();
  let prev = GENESIS;
  for (let i = 0; i < entries.length; i++) {
    const position = i + 1;
    const e = entries[i];
    if (!isObject(e) || Object.keys(e).sort().join() !== ENTRY_KEYS.join() || e.position !== position) {
      throw new BoardError(`board entry ${position}: malformed or out of order`);
    }
    let checked;
    try {
      checked = verifyBallot(election, e.ballot);
    } catch (err) {
      throw new BoardError(`board position ${position}: ${err.message}`);
    }
    if (seen.has(checked.tokenId)) throw new BoardError(`board position ${position} reuses the token of position ${seen.get(checked.tokenId)}`);
    seen.set(checked.tokenId, position);
    const expect = entryHash(prev, position, checked.ballotHash);
    if (e.prev_hash !== prev || e.entry_hash !== expect) throw new BoardError(`board position ${position}: the hash chain is broken`);
    prev = expect;
    e.ballot.units.forEach((text, u) => {
      totals[u] = addCiphertexts(totals[u], ciphertextFromBytes(b64decode(text).subarray(0, 64), `units[${u}]`));
    });
    if (onProgress) onProgress(position, entries.length);
    if (position % every === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return { ballots: entries.length, head: prev, tokens, aggregate: totals, baseHashHex: election.baseHashHex };
}

/**
 * The partial decryption of the aggregate that checkBoardAsync recomputed (`checked`), never of
 * anything the server calls an aggregate: exactly one ciphertext per unit of the manifest.
 */
export async function decryptChecked(info, checked, keys, options = {}) {
  const units = isObject(info) && isObject(info.manifest) && Array.isArray(info.manifest.units) ? info.manifest.units.length : -1;
  if (!checked || !Array.isArray(checked.aggregate) || checked.aggregate.length !== units) {
    throw new DecryptionError("the aggregate is not one ciphertext per unit");
  }
  if (info.base_hash !== checked.baseHashHex) throw new DecryptionError("the board was checked for another election");
  const agg = {
    manifest: info.manifest,
    context: info.context,
    base_hash: info.base_hash,
    aggregate: checked.aggregate.map((ct) => b64encode(ciphertextToBytes(ct))),
  };
  return decryptAsync(agg, keys, options);
}

export { CeremonyError, DecryptionError, ShareError };
