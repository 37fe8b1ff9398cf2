// The verifier's own pieces (js/src/verifier): the manifest reader against the Python
// vectors, exact fractions and percentages, the quota cut, Python-style repr and equality,
// the report's need/must semantics. The whole verifier is compared with `ballot verify` on
// honest and tampered records by tests/web/test_verifier_agreement.py (through
// test/verifier-run.mjs).

import test from "node:test";
import assert from "node:assert/strict";
import { VECTORS } from "./helpers.js";
import { ready } from "../src/sodium.js";
import { ManifestError, parseManifest } from "../src/verifier/manifest.js";
import { contextFromJson, Report, StopChecks, STEPS, TITLES } from "../src/verifier/checks.js";
import { Fraction, percent } from "../src/verifier/fraction.js";
import { splitAtCut } from "../src/verifier/counting.js";
import { pyEqual, pyRepr } from "../src/verifier/pyfmt.js";
import { loadRecord, RecordError } from "../src/verifier/record.js";
import { checkReceiptIn, parseReceiptInput } from "../src/verifier/receipt.js";
import { ApprovalError, verifyApprovals } from "../src/verifier/close.js";
import { signApproval } from "../src/trustee.js";
import * as group from "../src/group.js";

const E = VECTORS.election;

test("manifest: the Python vector's hash, and the same hash with defaults left out", async () => {
  await ready();
  const m = parseManifest(E.info.manifest);
  assert.equal(m.hashHex, E.manifest_hash);
  const sparse = structuredClone(E.info.manifest);
  for (const lv of sparse.levels) if (lv.short === lv.code) delete lv.short;
  for (const u of sparse.units) for (const k of ["kind", "group", "score"]) if (u[k] === { kind: "member", group: null, score: null }[k]) delete u[k];
  assert.equal(parseManifest(sparse).hashHex, E.manifest_hash);
  const ctx = contextFromJson(m, E.info.context);
  assert.equal(ctx.baseHashHex, E.info.base_hash);
});

test("manifest: strict, every problem named by its field", () => {
  const bad = (edit, message) => {
    const m = structuredClone(E.info.manifest);
    edit(m);
    assert.throws(() => parseManifest(m), (e) => e instanceof ManifestError && e.message.includes(message), message);
  };
  bad((m) => { m.extra = 1; }, "extra: unknown key");
  bad((m) => { m.date = "2025-02-30"; }, "date: expected an ISO date");
  bad((m) => { m.levels[0].code = "votes"; }, "levels[0].code: 'votes' is reserved");
  bad((m) => { m.units.push(structuredClone(m.units[0])); }, "appears twice");
  bad((m) => { m.rules.quorum = "2/4"; }, "rules.quorum: write '2/4' in lowest terms");
  bad((m) => { m.trustees.threshold = 9; }, "trustees.threshold: must be at most");
});

test("fractions and percentages as Python's", () => {
  assert.equal(percent(new Fraction(2n, 3n)), "66.7%");
  assert.equal(percent(new Fraction(1n, 8n)), "12.5%");
  assert.equal(percent(new Fraction(1n, 2000n)), "0.1%"); // half up
  assert.equal(percent(null), "—");
  assert.equal(String(new Fraction(4n, 8n)), "1/2");
});

test("the quota cut: kept, tied across the cut, cut", () => {
  const r = [["a", [5]], ["b", [4]], ["c", [4]], ["d", [3]]];
  assert.deepEqual(splitAtCut(r, 2), [["a"], ["b", "c"], ["d"]]);
  assert.deepEqual(splitAtCut(r, 3), [["a", "b", "c"], [], ["d"]]);
  assert.deepEqual(splitAtCut(r, 0), [[], [], ["a", "b", "c", "d"]]);
});

test("Python repr and equality", () => {
  assert.equal(pyRepr(["a", null, true, 3]), "['a', None, True, 3]");
  assert.equal(pyRepr("it's"), '"it\'s"');
  assert.ok(pyEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }));
  assert.ok(pyEqual(1, true) && !pyEqual("1", 1) && !pyEqual({ a: 1 }, { a: 1, b: 2 }));
});

test("the report: need stops at a failure, must shows only failures", () => {
  const r = new Report();
  r.must(true, "x", "X", "not shown");
  r.need(true, "y", "Y", "shown");
  assert.throws(() => r.must(false, "z", "Z", "failed"), StopChecks);
  assert.deepEqual(r.checks.map((c) => [c.key, c.ok]), [["y", true], ["z", false]]);
  assert.equal(r.firstFailure.key, "z");
  assert.equal(r.ok, false);
});

test("the steps cover every check id of ballot/tally/verify.py, in its order", () => {
  assert.deepEqual(STEPS.map((s) => s.name), ["format", "manifest", "ceremony", "receipt_key", "approvals", "issuance", "board",
    "aggregate", "decryption", "electronic_counts", "counts", "figures", "close", "results"]);
  assert.equal(TITLES.board_count, "Ballots ≤ tokens issued");
  assert.equal(TITLES.audit_order, "Audit order: figures fixed before the decryptions");
});

test("trustees' approvals: signed by js/src/trustee.js, checked by the verifier (approval.py)", async () => {
  await ready();
  const a0 = [5n, 7n];
  const trustees = a0.map((a) => ({ commitments: [group.baseMul(a)] }));
  const baseHash = new Uint8Array(32).fill(9);
  const hex = Array.from(baseHash, (b) => b.toString(16).padStart(2, "0")).join("");
  const signer = { publics: trustees, baseHash };
  const approvals = [1, 2].map((i) => signApproval(signer, i, a0[i - 1]));
  const ctx = { trustees, baseHash, baseHashHex: hex };
  assert.deepEqual(verifyApprovals(ctx, approvals), [1, 2]);
  assert.throws(() => verifyApprovals(ctx, [approvals[1], approvals[0]]), /one per trustee, in trustee order/);
  assert.throws(() => verifyApprovals(ctx, [approvals[0]]), /no approval by trustees \[2\]/);
  assert.throws(() => verifyApprovals(ctx, [approvals[0], { ...approvals[1], trustee: 1 }]), /signature does not verify/);
  assert.throws(() => verifyApprovals(ctx, [approvals[0], { ...approvals[1], base_hash: "ab".repeat(32) }]), /approved another fingerprint/);
  assert.throws(() => verifyApprovals(ctx, {}), ApprovalError);
});

test("record and receipt input: clear errors", () => {
  assert.throws(() => loadRecord("{not json"), (e) => e instanceof RecordError && /not a ballot record/.test(e.message));
  assert.throws(() => loadRecord('{"version":"x"}'), RecordError);
  assert.deepEqual(parseReceiptInput(" abcd-efgh-ijkl-mnop "), { code: "ABCDEFGHIJKLMNOP", receipt: null });
  assert.equal(parseReceiptInput("0bcd-efgh-ijkl-mn1p").code, "OBCDEFGHIJKLMNIP"); // 0 read as O, 1 as I (verify.py)
  assert.throws(() => parseReceiptInput("ABC"), /16 letters/);
  const rc = { version: "ballot/v1/receipt", tracking_code: "X" };
  assert.equal(parseReceiptInput(JSON.stringify(rc)).receipt.tracking_code, "X");
});

test("a tracking code of a ballot received, then found invalid: on the board, not counted", () => {
  const positions = new Map([["ABCDEFGHIJKLMNOP", { position: 4, entry_hash: "00", code: "ABCD-EFGH-IJKL-MNOP", status: "invalid", reason: "unit 1: the proof that it holds one allowed choice fails" }],
    ["QRSTUVWXYZ234567", { position: 1, entry_hash: "11", code: "QRST-UVWX-YZ23-4567", status: "valid", reason: null }]]);
  const bad = checkReceiptIn({}, positions, "abcd-efgh-ijkl-mnop", true);
  assert.equal(bad.found, true);
  assert.equal(bad.counted, false);
  assert.ok(bad.checks.some((c) => c.key === "status" && !c.ok && /marked invalid/.test(c.detail)));
  const good = checkReceiptIn({}, positions, "QRST-UVWX-YZ23-4567", true);
  assert.equal(good.counted, true);
});
