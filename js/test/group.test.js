import test, { before } from "node:test";
import assert from "node:assert/strict";
import { BC, VECTORS, hex, unhex } from "./helpers.js";

const { group, elgamal } = BC;
const V = VECTORS.group;

before(async () => {
  await BC.ready();
});

test("constants", () => {
  assert.equal(group.L.toString(), V.L);
  assert.equal(hex(group.GENERATOR), V.generator);
  assert.equal(hex(group.IDENTITY), V.identity);
  assert.equal(hex(group.baseMul(1n)), V.generator);
});

test("decode_point: valid, invalid, small-order, non-canonical, identity — as Python", () => {
  for (const c of V.decode_point) {
    const data = unhex(c.hex);
    if (c.valid) assert.equal(hex(group.decodePoint(data)), c.hex, c.name);
    else assert.throws(() => group.decodePoint(data), group.PointError, c.name);
    if (c.valid_allowing_identity) assert.equal(hex(group.decodePoint(data, "p", { allowIdentity: true })), c.hex, c.name);
    else assert.throws(() => group.decodePoint(data, "p", { allowIdentity: true }), group.PointError, c.name);
  }
  assert.ok(V.decode_point.some((c) => c.name === "identity" && !c.valid && c.valid_allowing_identity));
});

test("decode_scalar", () => {
  for (const c of V.decode_scalar) {
    if (c.valid) assert.equal(group.decodeScalar(unhex(c.hex)).toString(), c.value, c.name);
    else assert.throws(() => group.decodeScalar(unhex(c.hex)), BC.errors.EncodingError, c.name);
  }
});

test("scalar multiplication, including k ≡ 0 and the identity", () => {
  for (const c of V.mul) {
    assert.equal(hex(group.mul(unhex(c.point), BigInt(c.k))), c.result, `${c.point_name} * ${c.k}`);
  }
  assert.ok(V.mul.length >= 30);
});

test("addition, subtraction, negation, including sums that cancel", () => {
  for (const c of V.add) {
    const a = unhex(c.a);
    const b = unhex(c.b);
    assert.equal(hex(group.add(a, b)), c.sum);
    assert.equal(hex(group.sub(a, b)), c.difference);
    assert.equal(hex(group.neg(b)), c.neg_b);
  }
});

test("random scalars are in [1, L) and distinct", () => {
  const seen = new Set();
  for (let i = 0; i < 200; i++) {
    const k = group.randomScalar();
    assert.ok(k >= 1n && k < group.L);
    seen.add(k);
  }
  assert.equal(seen.size, 200);
});

test("inputs are never mutated", () => {
  const p = group.baseMul(7n);
  const copy = Uint8Array.from(p);
  group.neg(p);
  group.add(p, group.IDENTITY);
  group.mul(p, 0n);
  assert.deepEqual(p, copy);
  assert.equal(hex(group.IDENTITY), V.identity);
});

test("ElGamal ciphertexts with given r", () => {
  for (const c of VECTORS.elgamal) {
    const { ciphertext, r } = elgamal.encrypt(unhex(c.public_key), BigInt(c.m), BigInt(c.r));
    assert.equal(r.toString(), c.r);
    assert.equal(hex(elgamal.ciphertextToBytes(ciphertext)), c.ciphertext, `m = ${c.m}`);
    const back = elgamal.ciphertextFromBytes(unhex(c.ciphertext));
    assert.equal(hex(elgamal.ciphertextToBytes(back)), c.ciphertext);
  }
});

test("ElGamal is additively homomorphic", () => {
  const h = group.baseMul(12345n);
  const a = elgamal.encrypt(h, 3, 11n).ciphertext;
  const b = elgamal.encrypt(h, 4, 22n).ciphertext;
  const sum = elgamal.addCiphertexts(a, b);
  assert.deepEqual(sum, elgamal.encrypt(h, 7, 33n).ciphertext);
});
