// Ballot B of a second round (docs/protocol.md §8.5): "at most K agree" per group, proven in
// every ballot. The vectors are made by tests/vectors/make_second_round_vectors.py; the phone
// must reproduce them byte for byte and refuse what Python refuses.
import test, { before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { BC, ROOT, freshToken, hex, sequence, unhex } from "./helpers.js";

const V = JSON.parse(readFileSync(join(ROOT, "tests", "vectors", "second_round_v1.json"), "utf8"));
const INFO = V.info;
const BV = V.ballot;

before(async () => {
  await BC.ready();
});

function copy(x) {
  return JSON.parse(JSON.stringify(x));
}

test("the shape of ballot B: limits from the manifest, allowed sums, contexts", () => {
  const e = BC.loadElection(INFO);
  assert.equal(e.shape.limits.length, 2);
  V.limits.forEach((g, j) => {
    const s = e.shape.limits[j];
    assert.deepEqual(s.units, g.units);
    assert.equal(s.max, g.max);
    assert.deepEqual(s.values.map(String), g.values);
    assert.equal(s.bytes, g.bytes);
    const vk = BC.voterKeyFromSeed(unhex(BV.voter_seed)).publicKey;
    assert.equal(hex(BC.ballot.limitContext(e.baseHash, vk, j)), g.context);
  });
  assert.deepEqual(BC.ballot.limitsFromManifest(INFO.manifest), INFO.limits);
});

test("the JS ballot equals the Python ballot byte for byte, and verifies", () => {
  const rng = sequence(BV.rng);
  const out = BC.encryptBallot(INFO, BV.token, BC.encoding.b64encode(unhex(BV.voter_seed)), BV.choices, { rng });
  assert.equal(rng.used(), BV.rng.length);
  assert.deepEqual(out.ballot, BV.ballot);
  assert.equal(hex(BC.encoding.canonicalJson(out.ballot)), BV.ballot_canonical_hex);
  assert.equal(out.ballotHash, BV.ballot_hash);
  assert.equal(out.trackingCode, BV.tracking_code);
  assert.deepEqual(out.audit.nonces, BV.audit_nonces);
  assert.equal(BC.verifyBallot(INFO, BV.ballot).trackingCode, BV.tracking_code);
  // The group's summed ciphertext is the one Python proved about.
  const cts = BV.ballot.units.map((u) => BC.elgamal.ciphertextFromBytes(BC.encoding.b64decode(u).subarray(0, 64)));
  V.limits.forEach((g) => {
    const sum = BC.elgamal.sumCiphertexts(g.units.map((i) => cts[i]));
    assert.equal(hex(BC.elgamal.ciphertextToBytes(sum)), g.ciphertext);
  });
});

test("more than K agree cannot be sealed", () => {
  const seed = BC.encoding.b64encode(unhex(BV.voter_seed));
  assert.throws(() => BC.encryptBallot(INFO, BV.token, seed, [0, 0, 0, 1, 1]), /group 1: 3 agree, at most 2 allowed/);
  assert.throws(() => BC.encryptBallot(INFO, BV.token, seed, [1, 1, 1, 0, 0]), /group 2: 2 agree, at most 1 allowed/);
});

test("a ballot B without, with extra or with altered limit proofs is refused", () => {
  const without = copy(BV.ballot);
  delete without.limits;
  assert.throws(() => BC.verifyBallot(INFO, without), /missing \[limits\]/);
  const short = copy(BV.ballot);
  short.limits = short.limits.slice(0, 1);
  assert.throws(() => BC.verifyBallot(INFO, short), /limits: expected a list of 2 entries/);
  const bad = copy(BV.ballot);
  const raw = BC.encoding.b64decode(bad.limits[1]);
  raw[0] ^= 1;
  bad.limits[1] = BC.encoding.b64encode(raw);
  assert.throws(() => BC.verifyBallot(INFO, bad), /signature does not verify|group 2/);
  // Re-signed by the voter, the altered proof itself fails.
  const key = BC.voterKeyFromSeed(unhex(BV.voter_seed));
  const body = { ...bad };
  delete body.signature;
  const resigned = { ...body, signature: BC.encoding.b64encode(BC.token.signDetached(key, BC.ballot.ballotHashBytes(body))) };
  assert.throws(() => BC.verifyBallot(INFO, resigned), /group 2: more than 1 agree, or the proof fails/);
});

test("the server's limits must match the manifest's", () => {
  const info = copy(INFO);
  info.limits = [{ units: [0, 1, 2], max: 3 }, { units: [3, 4], max: 1 }];
  assert.throws(() => BC.loadElection(info), /limits do not match the manifest/);
});

test("a fresh JS ballot B with its own token verifies (random nonces)", () => {
  const key = BC.newVoterKey();
  const info = copy(INFO);
  const token = freshToken(info, key);
  const out = BC.encryptBallot(info, token, key, [null, 0, 1, 0, null]);
  assert.equal(out.ballot.limits.length, 2);
  BC.verifyBallot(info, out.ballot);
});

test("shape checks", () => {
  const base = { numUnits: 4, numLevels: 2, abstainAllowed: true, radix: 7 };
  assert.throws(() => BC.ballot.makeShape({ ...base, numLevels: 4, limits: [{ units: [0, 1], max: 1 }] }), /exactly two levels/);
  assert.throws(() => BC.ballot.makeShape({ ...base, radix: 3, limits: [{ units: [0, 1, 2], max: 1 }] }), /radix 3 must exceed/);
  assert.throws(() => BC.ballot.makeShape({ ...base, limits: [{ units: [0, 9], max: 1 }] }), /out of range/);
  assert.throws(() => BC.ballot.makeShape({ ...base, limits: [{ units: [0, 1], max: 1 }, { units: [1], max: 1 }] }), /in two groups/);
  assert.equal(BC.ballot.makeShape(base).limits.length, 0);
});
