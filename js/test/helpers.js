// Shared test helpers: the Python-made vectors, fixed rng sequences, raw RSA signing, and
// synthetic elections built with the JS code itself.

import { createPrivateKey, privateDecrypt, constants } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import * as BC from "../src/index.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const VECTORS = JSON.parse(readFileSync(join(ROOT, "tests", "vectors", "protocol_v1.json"), "utf8"));
export const RFC9474 = JSON.parse(readFileSync(join(ROOT, "tests", "vectors", "rfc9474.json"), "utf8"));

export const hex = BC.bytes.toHex;
export const unhex = (s) => BC.bytes.fromHex(s);

/** An rng returning the given decimal strings as BigInt, in order; fails if over- or under-used. */
export function sequence(values) {
  let i = 0;
  const rng = () => {
    if (i >= values.length) throw new Error("rng sequence exhausted");
    return BigInt(values[i++]);
  };
  rng.used = () => i;
  return rng;
}

/** The test issuer's private key (from the vectors), and raw RSA: m^d mod n. */
export const ISSUER_PEM = VECTORS.rsa.private_key_pem;
const issuerKeyObject = createPrivateKey(ISSUER_PEM);

export function rawSign(blinded, keyObject = issuerKeyObject) {
  return new Uint8Array(privateDecrypt({ key: keyObject, padding: constants.RSA_NO_PADDING }, blinded));
}

export function issuerPublicKey() {
  return BC.blindrsa.parseSpki(BC.encoding.b64decode(VECTORS.rsa.public_key_b64));
}

/** A fresh token for `info` through the real exchange (JS blinds, raw RSA signs, JS finalizes). */
export function freshToken(info, voterKey) {
  const { request, pending } = BC.startToken(info, voterKey);
  const blindSig = BC.encoding.b64encode(rawSign(BC.encoding.b64decode(request.blinded_msg)));
  return BC.finishToken(info, pending, blindSig);
}

/**
 * A consistent election info document (as GET /api/v1/elections/<slug>) made with the JS code:
 * `voters` official members (radix voters + 1), `units` units, `levels` levels, 3 trustees (k = 2).
 */
export function makeElection({ voters, units, levels = 4, abstain = true, n = 3, k = 2, receiptKey = null }) {
  const { encoding, group, proofs, bytes } = BC;
  const codes = ["HTXSNV", "HTTNV", "HTNV", "KHTNV", "L5", "L6", "L7"].slice(0, levels);
  const manifest = {
    version: "ballot/manifest/v1",
    title: "Thử nghiệm",
    organisation: "Chi bộ thử nghiệm",
    date: "2025-12-15",
    meeting_kind: "branch_members",
    roll: Array.from({ length: voters }, (_, i) => ({ roll_id: `m${i}`, name: `Đảng viên ${i}`, status: "official", reason: null })),
    units: Array.from({ length: units }, (_, i) => ({ unit_id: `u${i}`, name: `Đơn vị ${i}` })),
    levels: codes.map((c) => ({ code: c, name_vi: c, name_en: c, short: c })),
    rules: { abstain_allowed: abstain },
    trustees: { members: Array.from({ length: n }, (_, i) => `T${i + 1}`), threshold: k },
    issuer_public_key: VECTORS.rsa.public_key_b64,
  };
  if (receiptKey) manifest.receipt_key = receiptKey; // bound in the manifest (record v2)
  const mh = encoding.sha256Tag("ballot/v1/manifest", encoding.canonicalJson(manifest));
  const trustees = [];
  let joint = null;
  for (let i = 1; i <= n; i++) {
    const commitments = [];
    const prfs = [];
    for (let j = 0; j < k; j++) {
      const a = group.randomScalar();
      const K = group.baseMul(a);
      const ctx = encoding.sha256Tag("ballot/v1/ctx/ceremony-coefficient", mh, encoding.uint32(i), encoding.uint32(j));
      const p = proofs.proveSchnorr(ctx, a, K);
      commitments.push(encoding.b64encode(K));
      prfs.push(encoding.b64encode(proofs.pairsToBytes([[p.c, p.v]])));
      if (j === 0) joint = joint ? group.add(joint, K) : K;
    }
    trustees.push({ index: i, commitments, proofs: prfs, box_public: encoding.b64encode(bytes.randomBytes(32)) });
  }
  const context = {
    version: "ballot/v1/context",
    manifest_hash: hex(mh),
    threshold: k,
    trustees,
    joint_public_key: encoding.b64encode(joint),
    radix: voters + 1,
  };
  const base = encoding.sha256Tag("ballot/v1/base-hash", encoding.canonicalJson(context));
  return {
    slug: "test",
    status: "open",
    manifest,
    context,
    base_hash: hex(base),
    receipt_key: receiptKey || encoding.b64encode(BC.voterKeyFromSeed(bytes.randomBytes(32)).publicKey),
  };
}

export { BC };
