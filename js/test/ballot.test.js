import test, { before } from "node:test";
import assert from "node:assert/strict";
import { BC, VECTORS, freshToken, hex, makeElection, rawSign, sequence, unhex } from "./helpers.js";

const { encoding, ballot: B } = BC;
const E = VECTORS.election;
const INFO = E.info;
const BV = E.ballot;

before(async () => {
  await BC.ready();
});

const clone = (x) => JSON.parse(JSON.stringify(x));

test("the election info: manifest hash, context, joint key, shape, issuer and receipt keys", () => {
  const el = BC.loadElection(INFO);
  assert.equal(hex(el.manifestHash), E.manifest_hash);
  assert.equal(el.baseHashHex, INFO.base_hash);
  assert.equal(hex(el.publicKey), E.public_key);
  assert.equal(el.shape.numUnits, E.shape.num_units);
  assert.equal(el.shape.numLevels, E.shape.num_levels);
  assert.equal(el.shape.abstainAllowed, E.shape.abstain_allowed);
  assert.equal(el.shape.radix, E.shape.radix);
  assert.deepEqual(el.shape.values.map(Number), E.shape.values);
  assert.equal(el.shape.unitBytes, E.shape.unit_bytes);
  assert.equal(el.issuer.bits, 3072);
  assert.equal(encoding.b64encode(el.receiptKey), INFO.receipt_key);
  assert.equal(BC.loadElection(INFO), el, "cached per info object");
  assert.equal(BC.loadElection(el), el);
});

test("the election info: inconsistencies are refused", () => {
  const cases = [
    ["base hash", (i) => { i.base_hash = "0".repeat(64); }],
    ["manifest changed", (i) => { i.manifest.title += "!"; }],
    ["radix", (i) => { i.context.radix += 1; }],
    ["roll changes eligibility", (i) => { i.manifest.roll[0].status = "probationary"; }],
    ["joint key", (i) => { i.context.joint_public_key = i.context.trustees[0].commitments[0]; }],
    ["trustee proof", (i) => { i.context.trustees[1].proofs[0] = i.context.trustees[1].proofs[1]; }],
    ["trustee order", (i) => { i.context.trustees.reverse(); }],
    ["threshold", (i) => { i.context.threshold = 3; }],
    ["extra context field", (i) => { i.context.extra = 1; }],
    ["issuer key", (i) => { i.manifest.issuer_public_key = i.manifest.issuer_public_key.slice(0, -4); }],
    ["receipt key", (i) => { i.receipt_key = "AAAA"; }],
    ["missing context", (i) => { delete i.context; }],
  ];
  for (const [name, mutate] of cases) {
    const info = clone(INFO);
    mutate(info);
    assert.throws(() => BC.loadElection(info), B.BallotError, name);
  }
});

test("the receipt key bound in the manifest: the server's answer must name that key", () => {
  const key = encoding.b64encode(BC.voterKeyFromSeed(new Uint8Array(32).fill(7)).publicKey);
  const info = makeElection({ voters: 3, units: 2, receiptKey: key });
  assert.equal(encoding.b64encode(BC.loadElection(info).receiptKey), key);
  const other = clone(info);
  other.receipt_key = encoding.b64encode(BC.voterKeyFromSeed(new Uint8Array(32).fill(8)).publicKey);
  assert.throws(() => BC.loadElection(other), B.BallotError, /not the one in the manifest/);
});

test("token vector: message, prepared, blinding, finalize, token id", () => {
  const t = E.token;
  const el = BC.loadElection(INFO);
  const key = BC.voterKeyFromSeed(unhex(t.voter_seed));
  assert.equal(hex(key.publicKey), t.voter_public_key);
  const msg = BC.token.tokenMessage(el.baseHash, key.publicKey);
  assert.equal(hex(msg), t.message);
  const prepared = BC.blindrsa.prepare(msg, { prefix: unhex(t.prefix) });
  assert.equal(hex(prepared), t.prepared);
  const { blindedMsg, state } = BC.blindrsa.blind(el.issuer, prepared, { salt: unhex(t.salt), inv: BigInt("0x" + t.inv) });
  assert.equal(hex(blindedMsg), t.blinded_msg);
  assert.equal(hex(BC.blindrsa.finalize(el.issuer, prepared, unhex(t.blind_sig), state)), t.signature);
  assert.equal(hex(BC.token.tokenId(prepared)), t.token_id);
  assert.equal(BC.tokenId(t.json), t.token_id);
  const parsed = BC.token.parseTokenMessage(prepared);
  assert.equal(hex(parsed.baseHash), INFO.base_hash);
  assert.equal(hex(parsed.voterPublicKey), t.voter_public_key);
  assert.deepEqual(hex(BC.token.checkToken(el.issuer, el.baseHash, t.json)), t.voter_public_key);
});

test("startToken/finishToken: JSON-only pending state, issuer key checked, bad blind signature refused", () => {
  const key = BC.newVoterKey();
  const { request, pending } = BC.startToken(INFO, key);
  const roundTripped = JSON.parse(JSON.stringify(pending));
  assert.equal(encoding.b64decode(request.blinded_msg).length, 384);
  const blindSig = encoding.b64encode(rawSign(encoding.b64decode(request.blinded_msg)));
  const token = BC.finishToken(INFO, roundTripped, blindSig);
  const el = BC.loadElection(INFO);
  assert.equal(hex(BC.token.checkToken(el.issuer, el.baseHash, token)), hex(key.publicKey));
  const wrong = encoding.b64decode(blindSig);
  wrong[10] ^= 1;
  assert.throws(() => BC.finishToken(INFO, pending, encoding.b64encode(wrong)), /does not give a valid signature/);
  assert.throws(() => BC.finishToken(INFO, { ...pending, issuer: encoding.b64encode(new Uint8Array(32)) }, blindSig), /different issuer key/);
});

test("the complete 5-unit ballot: every byte as Python, hash, tracking code, signature", () => {
  const rng = sequence(BV.rng);
  const key = BC.voterKeyFromSeed(unhex(BV.voter_seed));
  const out = BC.encryptBallot(INFO, BV.token, key, BV.choices, { rng });
  assert.equal(rng.used(), BV.rng.length);
  assert.equal(hex(encoding.canonicalJson(out.ballot)), BV.ballot_canonical_hex);
  assert.deepEqual(out.ballot, BV.ballot);
  assert.equal(out.ballotHash, BV.ballot_hash);
  assert.equal(BC.ballotHash(out.ballot), BV.ballot_hash);
  assert.equal(out.trackingCode, BV.tracking_code);
  assert.equal(BC.trackingCode(BV.ballot_hash), BV.tracking_code);
  assert.equal(BC.trackingCode(out.ballot), BV.tracking_code);
  assert.equal(out.tokenId, BV.token_id);
  assert.deepEqual(out.nonces.map(String), BV.nonces);
  assert.deepEqual(out.audit.nonces, BV.audit_nonces);
  assert.deepEqual(out.audit.choices, BV.choices);
  const body = { ...out.ballot };
  delete body.signature;
  assert.equal(hex(encoding.canonicalJson(body)), BV.body_canonical_hex);
  for (let u = 0; u < 5; u++) {
    assert.equal(hex(B.unitContext(unhex(INFO.base_hash), key.publicKey, u)), BV.unit_contexts[u]);
  }
  // the voter key may also be given as its seed (bytes or base64url)
  const again = BC.encryptBallot(INFO, BV.token, encoding.b64encode(unhex(BV.voter_seed)), BV.choices, { rng: sequence(BV.rng) });
  assert.deepEqual(again.ballot, BV.ballot);
});

test("the Python ballot verifies in JS", () => {
  const r = BC.verifyBallot(INFO, BV.ballot);
  assert.equal(r.ballotHash, BV.ballot_hash);
  assert.equal(r.trackingCode, BV.tracking_code);
  assert.equal(r.tokenId, BV.token_id);
});

test("tampered ballots are refused with a reason", () => {
  const mutations = [
    ["extra field", (b) => { b.extra = 1; }],
    ["missing signature", (b) => { delete b.signature; }],
    ["version", (b) => { b.version = "ballot/v2/ballot"; }],
    ["election upper-case", (b) => { b.election = b.election.toUpperCase(); }],
    ["another election", (b) => { b.election = "ab".repeat(32); }],
    ["token extra field", (b) => { b.token.x = ""; }],
    ["token message", (b) => { b.token.message = b.token.message.slice(0, -2) + "AA"; }],
    ["token signature", (b) => { const s = encoding.b64decode(b.token.signature); s[5] ^= 1; b.token.signature = encoding.b64encode(s); }],
    ["too few units", (b) => { b.units.pop(); }],
    ["units swapped", (b) => { [b.units[0], b.units[1]] = [b.units[1], b.units[0]]; }],
    ["unit padded", (b) => { b.units[0] += "=="; }],
    ["ballot signature", (b) => { const s = encoding.b64decode(b.signature); s[0] ^= 1; b.signature = encoding.b64encode(s); }],
    ["signature length", (b) => { b.signature = b.signature.slice(0, -4); }],
  ];
  for (const [name, mutate] of mutations) {
    const b = clone(BV.ballot);
    mutate(b);
    assert.throws(() => BC.verifyBallot(INFO, b), B.BallotError, name);
  }
  // every byte of a unit matters: the point, or the scalars, or the proof
  const el = BC.loadElection(INFO);
  for (const pos of [0, 31, 32, 63, 64, 100, 127, 200, 383]) {
    const b = clone(BV.ballot);
    const raw = encoding.b64decode(b.units[2]);
    raw[pos] ^= 0x04;
    b.units[2] = encoding.b64encode(raw);
    assert.equal(raw.length, el.shape.unitBytes);
    assert.throws(() => BC.verifyBallot(INFO, b), B.BallotError, `unit byte ${pos}`);
  }
  // re-signing a changed ballot with the right key still fails on the proof's context
  const key = BC.voterKeyFromSeed(unhex(BV.voter_seed));
  const b = clone(BV.ballot);
  [b.units[0], b.units[1]] = [b.units[1], b.units[0]];
  b.signature = encoding.b64encode(BC.token.signDetached(key, B.ballotHashBytes(b)));
  assert.throws(() => BC.verifyBallot(INFO, b), /unit 1: the proof/);
});

test("Benaloh audit: the revealed choices and nonces reproduce the ballot; anything else does not", () => {
  BC.checkAudit(INFO, BV.ballot, { choices: BV.choices, nonces: BV.audit_nonces });
  BC.checkAudit(INFO, BV.ballot, { choices: BV.choices, nonces: BV.nonces.map(BigInt) });
  const wrongChoice = [...BV.choices];
  wrongChoice[0] = 1;
  assert.throws(() => BC.checkAudit(INFO, BV.ballot, { choices: wrongChoice, nonces: BV.audit_nonces }), /unit 1: the ciphertext/);
  const swapped = [BV.audit_nonces[1], BV.audit_nonces[0], ...BV.audit_nonces.slice(2)];
  assert.throws(() => BC.checkAudit(INFO, BV.ballot, { choices: BV.choices, nonces: swapped }), B.BallotError);
  assert.throws(() => BC.checkAudit(INFO, BV.ballot, { choices: BV.choices.slice(1), nonces: BV.audit_nonces }), /every unit/);
  assert.throws(() => BC.checkAudit(INFO, BV.ballot, { choices: BV.choices, nonces: [...BV.nonces.slice(0, 4).map(BigInt), BC.group.L] }), /out of range/);
});

test("the server's receipt: signature, election, tracking code, board entry hash", () => {
  const R = E.receipt;
  BC.verifyReceipt(INFO.receipt_key, R.receipt);
  BC.checkReceipt(INFO, R.receipt, BV.ballot);
  BC.checkReceipt(INFO, R.receipt, BV.tracking_code);
  assert.equal(hex(BC.receipt.receiptSignedBytes(R.receipt)), R.signed_hex);
  const [entry] = R.board;
  assert.equal(BC.entryHash(entry.prev_hash, entry.position, entry.ballot_hash), entry.entry_hash);
  assert.equal(R.receipt.entry_hash, entry.entry_hash);
  for (const [name, mutate] of [
    ["position", (r) => { r.position = 2; }],
    ["accepted_at", (r) => { r.accepted_at = "2025-12-15T08:30:01Z"; }],
    ["tracking code", (r) => { r.tracking_code = "AAAA-AAAA-AAAA-AAAA"; }],
    ["signature", (r) => { r.signature = r.signature.slice(0, -3) + (r.signature.endsWith("AAA") ? "BAA" : "AAA"); }],
    ["extra field", (r) => { r.note = ""; }],
    ["version", (r) => { r.version = "ballot/v1/receipt2"; }],
  ]) {
    const r = clone(R.receipt);
    mutate(r);
    assert.throws(() => BC.verifyReceipt(INFO.receipt_key, r), BC.errors.ReceiptError, name);
  }
  assert.throws(() => BC.checkReceipt(INFO, R.receipt, "ZZZZ-ZZZZ-ZZZZ-ZZZZ"), /another ballot/);
  const otherKey = encoding.b64encode(BC.voterKeyFromSeed(new Uint8Array(32)).publicKey);
  assert.throws(() => BC.verifyReceipt(otherKey, R.receipt), BC.errors.ReceiptError);
});

test("random ballots made in JS (fresh randomness, fresh tokens) verify in JS and audit", () => {
  for (const abstain of [true, false]) {
    const info = makeElection({ voters: 7, units: 6, levels: 4, abstain });
    for (let i = 0; i < 3; i++) {
      const key = BC.newVoterKey();
      const token = freshToken(info, key);
      const choices = Array.from({ length: 6 }, () => {
        const x = Math.floor(Math.random() * (abstain ? 5 : 4));
        return x === 4 ? null : x;
      });
      const out = BC.encryptBallot(info, token, key, choices);
      const r = BC.verifyBallot(info, JSON.parse(JSON.stringify(out.ballot)));
      assert.equal(r.ballotHash, out.ballotHash);
      assert.match(out.trackingCode, /^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$/);
      BC.checkAudit(info, out.ballot, out.audit);
      // the same choices encrypt differently every time
      const again = BC.encryptBallot(info, token, key, choices);
      assert.notEqual(again.ballot.units[0], out.ballot.units[0]);
      BC.verifyBallot(info, again.ballot);
      // a ballot for one election is refused by another
      assert.throws(() => BC.verifyBallot(INFO, out.ballot), B.BallotError);
    }
    const key = BC.newVoterKey();
    const token = freshToken(info, key);
    if (!abstain) assert.throws(() => BC.encryptBallot(info, token, key, Array(6).fill(null)), /abstaining/);
    assert.throws(() => BC.encryptBallot(info, token, key, Array(6).fill(4)), /out of range/);
    assert.throws(() => BC.encryptBallot(info, token, key, Array(5).fill(0)), /choices for 6 units/);
    assert.throws(() => BC.encryptBallot(info, token, BC.newVoterKey(), Array(6).fill(0)), /voter key/);
  }
});

test("shape limits: R^L < 2^48 as Python; values above 2^32 are proven (u64 in the challenge)", () => {
  assert.throws(() => B.makeShape({ numUnits: 1, numLevels: 4, abstainAllowed: true, radix: 2 ** 12 }), /2\^48/);
  const shape = B.makeShape({ numUnits: 1, numLevels: 4, abstainAllowed: true, radix: 4000 });
  assert.equal(shape.values[4], 4000n ** 3n);
  const h = BC.group.baseMul(BC.group.randomScalar());
  const ctx = new Uint8Array(32);
  const { ciphertext, r } = BC.elgamal.encrypt(h, shape.values[4]);
  const branches = BC.proofs.proveDisjunctive(ctx, h, ciphertext, r, shape.values[4], shape.values);
  BC.proofs.verifyDisjunctive(ctx, h, ciphertext, shape.values, branches);
  assert.throws(() => B.makeShape({ numUnits: 0, numLevels: 4, abstainAllowed: true, radix: 5 }), RangeError);
  assert.throws(() => B.makeShape({ numUnits: 1, numLevels: 1, abstainAllowed: true, radix: 5 }), RangeError);
});
