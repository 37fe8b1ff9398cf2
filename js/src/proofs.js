// Non-interactive zero-knowledge proofs in challenge–response form (docs/protocol.md §4), the
// same bytes as ballot/crypto/proofs.py. A proof is a list of [c, v] BigInt pairs, 64 bytes
// each on the wire. `rng` is a function returning a BigInt scalar; tests inject fixed
// sequences to reproduce the Python vectors.

import { EncodingError, concatBytes, mod } from "./bytes.js";
import { uint32, uint64 } from "./encoding.js";
import { gTo } from "./elgamal.js";
import { L, add, baseMul, decodeScalar, encodeScalar, hashToScalar, mul, randomScalar, sub } from "./group.js";

export const TAG_SCHNORR = "ballot/v1/proof/schnorr";
export const TAG_DLEQ = "ballot/v1/proof/dleq";
export const TAG_DISJUNCTIVE = "ballot/v1/proof/disjunctive";

/** A proof that does not verify, or is malformed. */
export class ProofError extends Error {
  constructor(message) {
    super(message);
    this.name = "ProofError";
  }
}

function draw(rng) {
  const k = rng();
  if (typeof k !== "bigint") throw new TypeError("rng must return a BigInt scalar");
  return mod(k, L);
}

export function pairsToBytes(pairs) {
  return concatBytes(...pairs.flatMap(([c, v]) => [encodeScalar(c), encodeScalar(v)]));
}

export function pairsFromBytes(bytes, count, what = "proof") {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 64 * count) {
    throw new EncodingError(`${what}: expected ${64 * count} bytes, got ${bytes ? bytes.length : 0}`);
  }
  const out = [];
  for (let i = 0; i < count; i++) {
    out.push([
      decodeScalar(bytes.subarray(64 * i, 64 * i + 32), `${what}[${i}].c`),
      decodeScalar(bytes.subarray(64 * i + 32, 64 * i + 64), `${what}[${i}].v`),
    ]);
  }
  return out;
}

// -- Schnorr: knowledge of x with X = g^x ---------------------------------------------------

function schnorrChallenge(context, X, a) {
  return hashToScalar(TAG_SCHNORR, [context, X, a]);
}

export function proveSchnorr(context, x, X = null, { rng = randomScalar } = {}) {
  X = X || baseMul(x);
  const w = draw(rng);
  const c = schnorrChallenge(context, X, baseMul(w));
  return { c, v: mod(w + c * x, L) };
}

export function verifySchnorr(context, X, proof) {
  const a = sub(baseMul(proof.v), mul(X, proof.c));
  if (schnorrChallenge(context, X, a) !== proof.c) {
    throw new ProofError("Schnorr proof of knowledge does not verify");
  }
}

// -- Chaum–Pedersen: log_g X = log_A M -------------------------------------------------------

function dleqChallenge(context, X, A, M, a, b) {
  return hashToScalar(TAG_DLEQ, [context, X, A, M, a, b]);
}

/** M = A^x with a proof that log_g X = log_A M: {M, proof: {c, v}}. */
export function proveDleq(context, x, A, X = null, { rng = randomScalar } = {}) {
  X = X || baseMul(x);
  const M = mul(A, x);
  const w = draw(rng);
  const c = dleqChallenge(context, X, A, M, baseMul(w), mul(A, w));
  return { M, proof: { c, v: mod(w + c * x, L) } };
}

export function verifyDleq(context, X, A, M, proof) {
  const a = sub(baseMul(proof.v), mul(X, proof.c));
  const b = sub(mul(A, proof.v), mul(M, proof.c));
  if (dleqChallenge(context, X, A, M, a, b) !== proof.c) {
    throw new ProofError("Chaum–Pedersen proof does not verify");
  }
}

// -- Disjunctive: (α, β) encrypts one of the values under h ---------------------------------

function disjunctiveChallenge(context, h, ct, values, commitments) {
  const parts = [context, h, ct.alpha, ct.beta, uint32(values.length)];
  for (const m of values) parts.push(uint64(BigInt(m)));
  for (const p of commitments) parts.push(p);
  return hashToScalar(TAG_DISJUNCTIVE, parts);
}

function simulated(h, ct, mj, cj, vj) {
  return [sub(baseMul(vj), mul(ct.alpha, cj)), sub(mul(h, vj), mul(sub(ct.beta, gTo(mj)), cj))];
}

/**
 * Prove that ct = Enc_h(m; r) with m one of `values` (without telling which). Returns the
 * branches [[c_1, v_1], …, [c_k, v_k]]. Randomness is drawn in Python's order: w, then
 * (c_j, v_j) for each j ≠ t in increasing j.
 */
export function proveDisjunctive(context, h, ct, r, m, values, { rng = randomScalar } = {}) {
  const vals = values.map((x) => BigInt(x));
  const t = vals.indexOf(BigInt(m));
  if (t < 0) throw new RangeError("the encrypted value is not one of the allowed values");
  const commitments = [];
  const sims = new Map();
  const rr = mod(BigInt(r), L);
  const mm = vals[t];
  const w = draw(rng);
  vals.forEach((mj, j) => {
    if (j === t) {
      commitments.push(baseMul(w), mul(h, w));
    } else {
      const cj = draw(rng);
      const vj = draw(rng);
      sims.set(j, [cj, vj]);
      // The prover knows r, so the simulated commitments g^v·α^(−c) and h^v·(β/g^(m_j))^(−c)
      // are the same group elements as g^(v − r·c) and h^(v − r·c)·g^((m_j − m)·c): one
      // variable-base multiplication instead of three (the verifier computes them as written).
      const e = mod(vj - rr * cj, L);
      commitments.push(baseMul(e), add(mul(h, e), baseMul(mod((mj - mm) * cj, L))));
    }
  });
  const c = disjunctiveChallenge(context, h, ct, vals, commitments);
  let others = 0n;
  for (const [cj] of sims.values()) others += cj;
  const cT = mod(c - others, L);
  const vT = mod(w + cT * mod(BigInt(r), L), L);
  return vals.map((_, j) => (j === t ? [cT, vT] : sims.get(j)));
}

export function verifyDisjunctive(context, h, ct, values, branches) {
  if (branches.length !== values.length) throw new ProofError("range proof has the wrong number of branches");
  const commitments = [];
  let total = 0n;
  values.forEach((mj, j) => {
    const [cj, vj] = branches[j];
    commitments.push(...simulated(h, ct, BigInt(mj), cj, vj));
    total += cj;
  });
  if (disjunctiveChallenge(context, h, ct, values, commitments) !== mod(total, L)) {
    throw new ProofError("range proof does not verify");
  }
}
