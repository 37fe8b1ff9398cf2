// The committed browser bundle: up to date with js/src, self-contained, and producing the same
// bytes as the sources (it is what the phone page loads).
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import vm from "node:vm";
import { BUNDLE, sourceHash } from "../build.mjs";
import { VECTORS, sequence } from "./helpers.js";

const present = existsSync(BUNDLE);

test("bundle: first line names the hash of js/src and the lock file", { skip: !present && "no bundle: npm run build" }, () => {
  const first = readFileSync(BUNDLE, "utf8").split("\n", 1)[0];
  assert.equal(first, `/* ballot-crypto source-sha256: ${sourceHash()} */`, "stale bundle: run npm run build");
});

test("bundle: a classic script defining window.BallotCrypto, no crypto.subtle, no network", { skip: !present }, async () => {
  const code = readFileSync(BUNDLE, "utf8");
  assert.ok(!/subtle/.test(code), "the bundle must not use crypto.subtle (pages are served over plain HTTP)");
  assert.ok(!/\bimport\s*\(|\bfetch\(|https?:\/\//.test(code), "the bundle must not load anything");
  const sandbox = { crypto: { getRandomValues: (a) => globalThis.crypto.getRandomValues(a) }, TextEncoder, TextDecoder, console };
  sandbox.window = sandbox;
  sandbox.self = sandbox;
  vm.createContext(sandbox);
  vm.runInContext(code, sandbox);
  assert.equal(typeof sandbox.BallotCrypto, "object");
  assert.equal(typeof sandbox.BallotCrypto.encryptBallot, "function");
  await sandbox.BallotCrypto.ready();
});

test("bundle: reproduces the Python ballot vector and verifies it", { skip: !present }, async () => {
  const BCB = new Function(readFileSync(BUNDLE, "utf8") + "\nreturn BallotCrypto;")();
  await BCB.ready();
  const E = VECTORS.election;
  const BV = E.ballot;
  const out = BCB.encryptBallot(E.info, BV.token, BCB.encoding.b64encode(BCB.bytes.fromHex(BV.voter_seed)), BV.choices, { rng: sequence(BV.rng) });
  assert.equal(BCB.bytes.toHex(BCB.encoding.canonicalJson(out.ballot)), BV.ballot_canonical_hex);
  assert.equal(out.trackingCode, BV.tracking_code);
  assert.equal(BCB.verifyBallot(E.info, BV.ballot).ballotHash, BV.ballot_hash);
  BCB.checkReceipt(E.info, E.receipt.receipt, BV.ballot);
});
