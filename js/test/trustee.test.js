// The trustee's code in JS (threshold.js, keyfile.js, trustee.js) reproduces the Python vectors
// of tests/vectors/trustee_v1.json byte for byte (tests/vectors/trustee_make_vectors.py), opens
// Python's key files, and refuses what Python refuses with the same complaint texts.

import test, { before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BC, ROOT, hex, sequence, unhex } from "./helpers.js";

const V = JSON.parse(readFileSync(join(ROOT, "tests", "vectors", "trustee_v1.json"), "utf8"));
const { threshold: T, keyfile: KF } = BC.trustee;
const { encoding, group } = BC;
const MH = unhex(V.manifest_hash);

before(async () => {
  await BC.ready();
});

const secretOf = (t) => ({ index: t.index, coefficients: t.coefficients.map(BigInt), boxSecret: unhex(t.box_secret) });
const publicOf = (t) => T.trusteePublicFromJson(t.public);
const state = () => ({
  status: "key_ceremony",
  manifest: V.manifest,
  manifest_hash: V.manifest_hash,
  threshold: V.threshold,
  trustees: V.trustees.map((t) => ({ index: t.index, name: `T${t.index}`, public: t.public, shares_sent: true, accepted: false })),
});
const inboxFor = (l) => V.shares.filter((s) => s.recipient === l).map(({ sender, recipient, ciphertext }) => ({ sender, recipient, ciphertext }));

test("trustee publics: Python's commitments, Schnorr proofs and Box keys reproduced from the same randomness", () => {
  for (const t of V.trustees) {
    const rng = sequence(t.rng);
    const { secret, public: pub } = T.newTrustee(MH, t.index, V.threshold, { rng, boxSecret: unhex(t.box_secret) });
    assert.equal(rng.used(), t.rng.length);
    assert.deepEqual(secret.coefficients.map(String), t.coefficients);
    assert.deepEqual(T.trusteePublicToJson(pub), t.public);
    T.verifyTrusteePublic(MH, publicOf(t), V.threshold);
    for (const [x, y] of Object.entries(t.evaluations)) assert.equal(T.evaluate(secret.coefficients, Number(x)).toString(), y);
    // and the high-level keygen gives the same request
    const kg = BC.trustee.keygen(state(), t.index, { rng: sequence(t.rng), boxSecret: unhex(t.box_secret) });
    assert.deepEqual(kg.request, { public: t.public });
  }
});

test("trustee publics: a bad proof, an identity or invalid commitment, a wrong count are refused", () => {
  const t = V.trustees[0];
  const wrongProof = { ...t.public, proofs: [t.public.proofs[1], t.public.proofs[0]] };
  assert.throws(() => T.verifyTrusteePublic(MH, T.trusteePublicFromJson(wrongProof), 2), /proof of knowledge for coefficient 0 does not verify/);
  const identity = { ...t.public, commitments: [encoding.b64encode(group.IDENTITY), t.public.commitments[1]] };
  assert.throws(() => T.trusteePublicFromJson(identity), T.CeremonyError);
  const offCurve = { ...t.public, commitments: [encoding.b64encode(unhex("02" + "00".repeat(31))), t.public.commitments[1]] };
  assert.throws(() => T.trusteePublicFromJson(offCurve), T.CeremonyError);
  assert.throws(() => T.verifyTrusteePublic(MH, publicOf(t), 3), /expected 3 commitments/);
  assert.throws(() => T.verifyTrusteePublic(unhex("00".repeat(32)), publicOf(t), 2), T.CeremonyError);
  assert.throws(() => T.trusteePublicFromJson({ ...t.public, extra: 1 }), T.CeremonyError);
});

test("shares: the Box ciphertexts are Python's, byte for byte, with the same nonces", () => {
  const publics = V.trustees.map(publicOf);
  for (const t of V.trustees) {
    const mine = V.shares.filter((s) => s.sender === t.index);
    const made = T.makeShares(MH, secretOf(t), publics, { nonce: (l) => unhex(mine.find((s) => s.recipient === l).nonce) });
    assert.deepEqual(made.map((s) => [s.sender, s.recipient, encoding.b64encode(s.ciphertext)]), mine.map((s) => [s.sender, s.recipient, s.ciphertext]));
    assert.ok(made.every((s) => s.ciphertext.length === T.SHARE_CIPHERTEXT_BYTES));
    // the high-level step with the same nonces
    const keys = { manifestHash: MH, secret: secretOf(t), share: null };
    const req = BC.trustee.sendShares(state(), keys, { nonce: (l) => unhex(mine.find((s) => s.recipient === l).nonce) });
    assert.deepEqual(req, { shares: mine.map((s) => ({ recipient: s.recipient, ciphertext: s.ciphertext })) });
  }
});

test("shares: Python's shares decrypt and check; the secret shares and public shares agree", () => {
  const publics = V.trustees.map(publicOf);
  const joint = T.jointCommitments(publics);
  assert.equal(encoding.b64encode(joint[0]), V.context.joint_public_key);
  for (const t of V.trustees) {
    const received = new Map();
    for (const s of V.shares.filter((x) => x.recipient === t.index)) {
      const v = T.receiveShare(MH, secretOf(t), publics[s.sender - 1], { sender: s.sender, recipient: s.recipient, ciphertext: encoding.b64decode(s.ciphertext) });
      assert.equal(v.toString(), s.value);
      received.set(s.sender, v);
    }
    const s = T.secretShare(secretOf(t), received);
    assert.equal(s.toString(), V.secret_shares[t.index]);
    assert.equal(hex(T.publicShare(joint, t.index)), V.public_shares[t.index]);
    // the whole step as the page runs it: no complaint, the same secret share
    const keys = { manifestHash: MH, secret: secretOf(t), share: null };
    const out = BC.trustee.receiveShares(state(), keys, inboxFor(t.index));
    assert.deepEqual(out.request, { complaints: [] });
    assert.equal(out.keys.share.toString(), V.secret_shares[t.index]);
  }
});

test("shares: bad shares give Python's complaint texts; a missing share is a complaint", () => {
  const t1 = V.trustees[0];
  for (const bad of V.bad_shares) {
    assert.throws(
      () => T.receiveShare(MH, secretOf(t1), publicOf(V.trustees[1]), { sender: bad.sender, recipient: bad.recipient, ciphertext: encoding.b64decode(bad.ciphertext) }),
      (e) => e instanceof T.ShareError && e.message === bad.complaint && e.sender === 2,
      bad.name,
    );
    const inbox = inboxFor(1).map((s) => (s.sender === 2 ? { ...s, ciphertext: bad.ciphertext } : s));
    const out = BC.trustee.receiveShares(state(), { manifestHash: MH, secret: secretOf(t1), share: null }, inbox);
    assert.deepEqual(out.request, { complaints: [{ sender: 2, reason: bad.complaint }] });
    assert.equal(out.keys, null);
  }
  const out = BC.trustee.receiveShares(state(), { manifestHash: MH, secret: secretOf(t1), share: null }, inboxFor(1).filter((s) => s.sender !== 3));
  assert.deepEqual(out.request, { complaints: [{ sender: 3, reason: "no share received" }] });
  // a share addressed to someone else
  const s = V.shares.find((x) => x.sender === 2 && x.recipient === 3);
  assert.throws(() => T.receiveShare(MH, secretOf(t1), publicOf(V.trustees[1]), { sender: 2, recipient: 3, ciphertext: encoding.b64decode(s.ciphertext) }), /addressed to someone else/);
});

test("shares: a server that replaced my published keys, or another election, is refused", () => {
  const keys = { manifestHash: MH, secret: secretOf(V.trustees[0]), share: null };
  const st = state();
  st.trustees[0].public = V.trustees[1].public && { ...V.trustees[0].public, box_public: V.trustees[1].public.box_public };
  assert.throws(() => BC.trustee.sendShares(st, keys), /not the ones in this key file/);
  assert.throws(() => BC.trustee.sendShares(state(), { ...keys, manifestHash: unhex("11".repeat(32)) }), /another election/);
  assert.throws(() => BC.trustee.sendShares({ ...state(), manifest_hash: "00".repeat(32) }, keys), /manifest hash does not match/);
});

test("key files: seal_keys's exact bytes from the same salt and nonce; Python's files open", () => {
  for (const kf of V.keyfiles) {
    const t = V.trustees[kf.index - 1];
    const keys = { manifestHash: MH, secret: secretOf(t), share: kf.share === null ? null : BigInt(kf.share) };
    const { doc } = KF.sealKeys(keys, kf.passphrase, { salt: unhex(kf.salt), nonce: unhex(kf.nonce) });
    assert.deepEqual(doc, kf.doc);
    assert.equal(new TextDecoder().decode(KF.keyFileBytes(doc)), kf.bytes);
    const opened = KF.openKeyFile(kf.bytes, kf.passphrase);
    assert.equal(opened.keys.secret.index, kf.index);
    assert.deepEqual(opened.keys.secret.coefficients.map(String), t.coefficients);
    assert.equal(hex(opened.keys.secret.boxSecret), t.box_secret);
    assert.equal(hex(opened.keys.manifestHash), V.manifest_hash);
    assert.equal(opened.keys.share === null ? null : opened.keys.share.toString(), kf.share);
    // re-sealing with the derived key (same salt, fresh nonce) still opens
    const again = KF.sealWithKey(opened.keys, opened.derived);
    assert.equal(again.kdf.salt, kf.doc.kdf.salt);
    assert.notEqual(again.secretbox, kf.doc.secretbox);
    assert.equal(KF.openKeyFile(again, kf.passphrase).keys.share, opened.keys.share);
  }
});

test("key files: a wrong passphrase, an altered file, a short passphrase are refused clearly", () => {
  const kf = V.keyfiles[0];
  assert.throws(() => KF.openKeyFile(kf.bytes, kf.passphrase + "x"), (e) => e instanceof KF.KeyFileError && e.message === "wrong passphrase, or the key file was altered");
  const altered = { ...kf.doc, secretbox: kf.doc.secretbox.slice(0, 40) + (kf.doc.secretbox[40] === "A" ? "B" : "A") + kf.doc.secretbox.slice(41) };
  assert.throws(() => KF.openKeyFile(altered, kf.passphrase), /wrong passphrase, or the key file was altered/);
  assert.throws(() => KF.openKeyFile({ ...kf.doc, version: "x" }, kf.passphrase), /not a ballot trustee key file/);
  assert.throws(() => KF.openKeyFile("{not json", kf.passphrase), KF.KeyFileError);
  assert.throws(() => KF.openKeyFile({ ...kf.doc, kdf: { ...kf.doc.kdf, alg: "scrypt" } }, kf.passphrase), /unknown key derivation/);
  assert.throws(() => KF.sealKeys({ manifestHash: MH, secret: secretOf(V.trustees[0]), share: null }, "1234567"), /at least 8 characters/);
});

test("partial decryptions: Python's bytes reproduced with the same nonces, through the page's whole step", async () => {
  const ctx = BC.trustee.checkContext(V.aggregate);
  assert.equal(hex(ctx.baseHash), V.base_hash);
  for (const d of V.decryptions) {
    const t = V.trustees[d.trustee - 1];
    const keys = { manifestHash: MH, secret: secretOf(t), share: BigInt(d.share) };
    const seen = [];
    const rng = sequence(d.rng);
    const out = BC.trustee.decrypt(V.aggregate, keys, { rng, onProgress: (done, total) => seen.push([done, total]) });
    assert.equal(rng.used(), d.rng.length);
    assert.deepEqual(out, { decryption: d.decryption });
    assert.deepEqual(seen.at(-1), [5, 5]);
    const outAsync = await BC.trustee.decryptAsync(V.aggregate, keys, { rng: sequence(d.rng), every: 2 });
    assert.deepEqual(outAsync, out);
    // each unit's proof verifies in JS against the public share
    const S = unhex(V.public_shares[d.trustee]);
    d.decryption.units.forEach((u, i) => {
      const p = T.partialFromB64(u);
      const A = BC.elgamal.ciphertextFromBytes(encoding.b64decode(V.aggregate.aggregate[i])).alpha;
      T.verifyPartial(T.partialContext(ctx.baseHash, d.trustee, i), S, A, p);
      assert.throws(() => T.verifyPartial(T.partialContext(ctx.baseHash, d.trustee, (i + 1) % 5), S, A, p), BC.proofs.ProofError);
    });
  }
});

test("partial decryptions: a wrong share, a key file without share, a doctored context are refused", () => {
  const d = V.decryptions[0];
  const keys = { manifestHash: MH, secret: secretOf(V.trustees[0]), share: BigInt(d.share) };
  assert.throws(() => BC.trustee.decrypt(V.aggregate, { ...keys, share: keys.share + 1n }), /does not match the election/);
  assert.throws(() => BC.trustee.decrypt(V.aggregate, { ...keys, share: null }), /no secret share/);
  assert.throws(() => BC.trustee.decrypt({ ...V.aggregate, base_hash: "00".repeat(32) }, keys), /base hash does not match/);
  assert.throws(() => BC.trustee.decrypt({ ...V.aggregate, context: { ...V.aggregate.context, radix: 99 } }, keys), /radix/);
  const swapped = { ...V.aggregate.context, trustees: [V.aggregate.context.trustees[1], V.aggregate.context.trustees[0], V.aggregate.context.trustees[2]] };
  assert.throws(() => BC.trustee.decrypt({ ...V.aggregate, context: swapped }, keys), /in order/);
  assert.throws(() => BC.trustee.decrypt({ ...V.aggregate, aggregate: [encoding.b64encode(new Uint8Array(64))] }, keys), BC.trustee.DecryptionError);
  assert.throws(() => BC.trustee.decrypt(V.aggregate, { ...keys, manifestHash: unhex("22".repeat(32)) }), /another election/);
});

test("a whole ceremony in JS with fresh randomness: every trustee's share checks, decryptions combine", () => {
  const st = state();
  const made = V.trustees.map((t) => BC.trustee.keygen(st, t.index));
  st.trustees.forEach((t, i) => { t.public = made[i].request.public; });
  const sent = made.map((m) => BC.trustee.sendShares(st, m.keys).shares.map((s) => ({ sender: m.keys.secret.index, ...s })));
  const finals = made.map((m) => {
    const inbox = sent.flat().filter((s) => s.recipient === m.keys.secret.index);
    const out = BC.trustee.receiveShares(st, m.keys, inbox);
    assert.deepEqual(out.request.complaints, []);
    return out.keys;
  });
  const joint = T.jointCommitments(st.trustees.map((t) => T.trusteePublicFromJson(t.public)));
  for (const keys of finals) assert.equal(hex(group.baseMul(keys.share)), hex(T.publicShare(joint, keys.secret.index)));
  // Lagrange at 0 from trustees 1 and 3: s = 3/2·s_1 − 1/2·s_3 = Σ a_i0
  const L = group.L;
  const inv2 = BC.bytes.modInverse(2n, L);
  const s = BC.bytes.mod(3n * inv2 * finals[0].share - inv2 * finals[2].share, L);
  assert.equal(hex(group.baseMul(s)), hex(joint[0]));
});

test("rebuilding the share from a key file saved before the check: the ceremony's share, checked against the context", () => {
  const agg = V.aggregate;
  for (const t of V.trustees) {
    const keys = { manifestHash: MH, secret: secretOf(t), share: null };
    const out = BC.trustee.rebuildShare(state(), agg, keys, inboxFor(t.index));
    assert.equal(out.problem, null);
    assert.deepEqual(out.complaints, []);
    assert.equal(out.keys.share.toString(), V.secret_shares[t.index]);
    assert.equal(keys.share, null); // the opened keys are not changed
    // and the rebuilt keys decrypt
    const d = V.decryptions.find((x) => x.trustee === t.index);
    if (d) assert.deepEqual(BC.trustee.decrypt(agg, out.keys, { rng: sequence(d.rng) }), { decryption: d.decryption });
  }
});

test("rebuilding the share: a wrong key file, altered or missing shares, shares not giving my public share are refused", () => {
  const t1 = V.trustees[0];
  const keys = { manifestHash: MH, secret: secretOf(t1), share: null };
  // another key file of trustee 1 (keys never published)
  const other = BC.trustee.keygen(state(), 1).keys;
  assert.deepEqual(BC.trustee.rebuildShare(state(), V.aggregate, other, inboxFor(1)), { keys: null, problem: "keys", complaints: [] });
  // an altered share, a missing one: named with their senders, as in the ceremony
  const bad = V.bad_shares[0];
  const altered = inboxFor(1).map((s) => (s.sender === 2 ? { ...s, ciphertext: bad.ciphertext } : s));
  assert.deepEqual(BC.trustee.rebuildShare(state(), V.aggregate, keys, altered),
    { keys: null, problem: "shares", complaints: [{ sender: 2, reason: bad.complaint }] });
  assert.deepEqual(BC.trustee.rebuildShare(state(), V.aggregate, keys, inboxFor(1).filter((s) => s.sender !== 3)),
    { keys: null, problem: "shares", complaints: [{ sender: 3, reason: "no share received" }] });
  // a server whose ceremony (other trustees' keys and shares) is not the one of the context:
  // the shares check against those commitments but do not give my public share
  const st = state();
  const fresh = [2, 3].map((i) => BC.trustee.keygen(st, i));
  fresh.forEach((m, n) => { st.trustees[n + 1].public = m.request.public; });
  const inbox = fresh.flatMap((m) => BC.trustee.sendShares(st, m.keys).shares
    .filter((s) => s.recipient === 1).map((s) => ({ sender: m.keys.secret.index, ...s })));
  assert.deepEqual(BC.trustee.receiveShares(st, keys, inbox).request.complaints, []);
  assert.deepEqual(BC.trustee.rebuildShare(st, V.aggregate, keys, inbox), { keys: null, problem: "public_share", complaints: [] });
  // another election
  assert.throws(() => BC.trustee.rebuildShare(state(), V.aggregate, { ...keys, manifestHash: unhex("22".repeat(32)) }, inboxFor(1)), /another election/);
});
