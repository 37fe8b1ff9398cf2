// Timing only (no assertion on time): one 100-unit ballot, radix 101, 4 levels + abstain.
import test, { before } from "node:test";
import assert from "node:assert/strict";
import { BC, freshToken, makeElection } from "./helpers.js";

before(async () => {
  await BC.ready();
});

test("benchmark: encrypt a 100-unit ballot (radix 101, 4 levels + abstain)", (t) => {
  const info = makeElection({ voters: 100, units: 100, levels: 4, abstain: true });
  const el = BC.loadElection(info);
  assert.equal(el.shape.radix, 101);
  const key = BC.newVoterKey();
  const token = freshToken(info, key);
  const choices = Array.from({ length: 100 }, (_, i) => (i % 5 === 4 ? null : i % 4));
  const t0 = performance.now();
  const out = BC.encryptBallot(info, token, key, choices);
  const t1 = performance.now();
  BC.verifyBallot(info, out.ballot);
  const t2 = performance.now();
  const size = BC.encoding.canonicalJson(out.ballot).length;
  const line = `100-unit ballot: encrypt ${(t1 - t0).toFixed(0)} ms, verify ${(t2 - t1).toFixed(0)} ms, ${size} bytes of JSON (node ${process.version})`;
  t.diagnostic(line);
  console.log(line);
});
