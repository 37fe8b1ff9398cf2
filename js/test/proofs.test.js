import test, { before } from "node:test";
import assert from "node:assert/strict";
import { BC, VECTORS, hex, sequence, unhex } from "./helpers.js";

const { proofs, elgamal, group } = BC;
const P = VECTORS.proofs;

before(async () => {
  await BC.ready();
});

const pair = (h) => {
  const [[c, v]] = proofs.pairsFromBytes(unhex(h), 1);
  return { c, v };
};
const flip = (h, i) => {
  const b = unhex(h);
  b[i] ^= 1;
  return hex(b);
};

test("Schnorr: Python's proofs reproduced with the injected rng, verified, tampering refused", () => {
  for (const c of P.schnorr) {
    const rng = sequence(c.rng);
    const proof = proofs.proveSchnorr(unhex(c.context), BigInt(c.x), null, { rng });
    assert.equal(rng.used(), c.rng.length);
    assert.equal(hex(proofs.pairsToBytes([[proof.c, proof.v]])), c.proof);
    proofs.verifySchnorr(unhex(c.context), unhex(c.X), pair(c.proof));
    const bad = pair(c.proof);
    assert.throws(() => proofs.verifySchnorr(unhex(c.context), unhex(c.X), { c: bad.c, v: bad.v + 1n }), proofs.ProofError);
    assert.throws(() => proofs.verifySchnorr(unhex(flip(c.context, 0)), unhex(c.X), bad), proofs.ProofError);
    assert.throws(() => proofs.verifySchnorr(unhex(c.context), group.baseMul(5n), bad), proofs.ProofError);
  }
});

test("Chaum–Pedersen: reproduced, verified, tampering refused", () => {
  for (const c of P.dleq) {
    const rng = sequence(c.rng);
    const { M, proof } = proofs.proveDleq(unhex(c.context), BigInt(c.x), unhex(c.A), null, { rng });
    assert.equal(hex(M), c.M);
    assert.equal(hex(proofs.pairsToBytes([[proof.c, proof.v]])), c.proof);
    proofs.verifyDleq(unhex(c.context), unhex(c.X), unhex(c.A), unhex(c.M), pair(c.proof));
    assert.throws(() => proofs.verifyDleq(unhex(c.context), unhex(c.X), unhex(c.A), group.baseMul(9n), pair(c.proof)), proofs.ProofError);
  }
});

test("disjunctive: Python's proofs reproduced byte for byte with the injected rng", () => {
  for (const c of P.disjunctive) {
    const h = unhex(c.public_key);
    const { ciphertext, r } = elgamal.encrypt(h, BigInt(c.m), BigInt(c.r));
    assert.equal(hex(elgamal.ciphertextToBytes(ciphertext)), c.ciphertext);
    const rng = sequence(c.rng);
    const branches = proofs.proveDisjunctive(unhex(c.context), h, ciphertext, r, c.m, c.values, { rng });
    assert.equal(rng.used(), 1 + 2 * (c.values.length - 1));
    assert.equal(hex(proofs.pairsToBytes(branches)), c.proof, `values ${c.values}, m = ${c.m}`);
  }
});

test("disjunctive: Python's proofs verify in JS; tampered ones do not", () => {
  for (const c of P.disjunctive) {
    const h = unhex(c.public_key);
    const ct = elgamal.ciphertextFromBytes(unhex(c.ciphertext));
    const values = c.values.map(BigInt);
    const branches = proofs.pairsFromBytes(unhex(c.proof), values.length);
    proofs.verifyDisjunctive(unhex(c.context), h, ct, values, branches);
    // another context, another key, another ciphertext, other values, any changed scalar
    assert.throws(() => proofs.verifyDisjunctive(unhex(flip(c.context, 31)), h, ct, values, branches), proofs.ProofError);
    assert.throws(() => proofs.verifyDisjunctive(unhex(c.context), group.baseMul(3n), ct, values, branches), proofs.ProofError);
    const other = elgamal.encrypt(h, values[0], 5n).ciphertext;
    assert.throws(() => proofs.verifyDisjunctive(unhex(c.context), h, other, values, branches), proofs.ProofError);
    assert.throws(() => proofs.verifyDisjunctive(unhex(c.context), h, ct, values.map((v) => v + 1n), branches), proofs.ProofError);
    assert.throws(() => proofs.verifyDisjunctive(unhex(c.context), h, ct, values.slice(1), branches), proofs.ProofError);
    for (let j = 0; j < branches.length; j++) {
      for (const which of [0, 1]) {
        const t = branches.map((b) => [...b]);
        t[j][which] = (t[j][which] + 1n) % group.L;
        assert.throws(() => proofs.verifyDisjunctive(unhex(c.context), h, ct, values, t), proofs.ProofError);
      }
    }
  }
});

test("disjunctive: JS proofs with fresh randomness verify; a value outside the set cannot be proven", () => {
  const h = group.baseMul(group.randomScalar());
  const values = [0n, 1n, 101n, 10201n, 1030301n];
  const ctx = new Uint8Array(32).fill(7);
  for (const m of values) {
    const { ciphertext, r } = elgamal.encrypt(h, m);
    const branches = proofs.proveDisjunctive(ctx, h, ciphertext, r, m, values);
    proofs.verifyDisjunctive(ctx, h, ciphertext, values, proofs.pairsFromBytes(proofs.pairsToBytes(branches), 5));
  }
  const { ciphertext, r } = elgamal.encrypt(h, 2n);
  assert.throws(() => proofs.proveDisjunctive(ctx, h, ciphertext, r, 2n, values), RangeError);
  // a false statement: claim m = 1 for an encryption of 2 (the proof is made but cannot verify)
  const forged = proofs.proveDisjunctive(ctx, h, ciphertext, r, 1n, values);
  assert.throws(() => proofs.verifyDisjunctive(ctx, h, ciphertext, values, forged), proofs.ProofError);
});

test("proof scalars must be canonical", () => {
  const c = P.disjunctive[0];
  const raw = unhex(c.proof);
  raw.set(BC.bytes.bigToBytesLE(group.L, 32), 0);
  assert.throws(() => proofs.pairsFromBytes(raw, c.values.length), BC.errors.EncodingError);
  assert.throws(() => proofs.pairsFromBytes(unhex(c.proof).subarray(1), c.values.length), BC.errors.EncodingError);
});
