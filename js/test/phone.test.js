// The phone's trust (docs/protocol.md §7.1, §8.4): the per-round credential against the
// Python-made vectors, the ballot sealed unsigned and signed only at Cast, the sealed storage.
import test, { before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BC, ROOT, VECTORS, sequence, unhex } from "./helpers.js";

const CRED = JSON.parse(readFileSync(join(ROOT, "tests", "vectors", "credential_v1.json"), "utf8"));
const E = VECTORS.election;
const BV = E.ballot;

before(async () => {
  await BC.ready();
});

test("the credential and its stored hash are the Python bytes (tests/vectors/credential_v1.json)", () => {
  assert.ok(CRED.cases.length >= 5);
  for (const c of CRED.cases) {
    assert.equal(BC.normalizeCode(c.typed), c.normalized, c.typed);
    assert.equal(BC.credential(c.slug, c.typed), c.credential, c.typed);
    assert.equal(BC.credentials.credentialHash(c.credential), c.credential_hash);
  }
  // the same slip, another round: another credential
  const [a, , b] = CRED.cases;
  assert.notEqual(a.credential, b.credential);
  assert.throws(() => BC.credential("x", " - "), /empty/);
});

test("sealBallot gives an unsigned body; signBallot signs it as encryptBallot does", () => {
  const key = BC.voterKeyFromSeed(unhex(BV.voter_seed));
  const sealed = BC.sealBallot(E.info, BV.token, BV.choices, { rng: sequence(BV.rng) });
  assert.equal("signature" in sealed.body, false);
  assert.throws(() => BC.verifyBallot(E.info, sealed.body), /signature/);
  assert.equal(BC.verifyBody(E.info, sealed.body).trackingCode, sealed.trackingCode);
  BC.checkAudit(E.info, sealed.body, sealed.audit);
  const signed = BC.signBallot(sealed.body, key);
  assert.deepEqual(signed, BV.ballot);
  assert.equal(BC.verifyBallot(E.info, signed).trackingCode, sealed.trackingCode);
  assert.throws(() => BC.verifyBody(E.info, signed), /unexpected \[signature\]/);
  assert.throws(() => BC.signBallot(signed, key), /without a signature/);
  assert.throws(() => BC.signBallot(sealed.body, BC.newVoterKey()), /voter key/);
});

test("the vault opens only with the slip's code (as typed or scanned)", () => {
  const key = BC.vault.vaultKey("chi-bo-tn", "7KQ2M-9XH4T-0A1BC-DEFGH");
  const text = BC.vault.sealState(key, { seed: "abc", token: { message: "m" } });
  assert.equal(text.includes("abc"), false);
  assert.deepEqual(BC.vault.openState(BC.vault.vaultKey("chi-bo-tn", "7kq2m 9xh4t oalbc defgh"), text), { seed: "abc", token: { message: "m" } });
  assert.throws(() => BC.vault.openState(BC.vault.vaultKey("chi-bo-tn", "7KQ2M-9XH4T-0A1BC-DEFGJ"), text), BC.errors.VaultError);
  assert.throws(() => BC.vault.openState(BC.vault.vaultKey("chi-bo-tn-v2", "7KQ2M-9XH4T-0A1BC-DEFGH"), text), BC.errors.VaultError);
  assert.throws(() => BC.vault.openState(key, "bm90IGEgdmF1bHQ"), BC.errors.VaultError);
});
