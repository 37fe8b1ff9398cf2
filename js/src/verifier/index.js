// BallotVerifier: the observer's verifier (docs/web.md, "Observers"), the second
// implementation of docs/protocol.md §12. One bundle for the page and its Web Workers: loaded
// in a worker, it answers ballot-checking jobs; loaded in a page, it exports the verifier and
// the page's code (page.js) runs on the verifier page.

import { ready } from "../sodium.js";
import { sha256Plain } from "../encoding.js";
import { toHex } from "../bytes.js";
import { Report, STEPS, PHASES, TITLES, verifyRecord, runBallotsHere } from "./checks.js";
import { verifyLink, isSecondRound, NotSecondRound } from "./link.js";
import { checklist, resultsTable } from "./report.js";
import { loadRecord, RecordError } from "./record.js";
import { parseManifest } from "./manifest.js";
import { countManifest } from "./counting.js";
import { checkReceiptIn, parseReceiptInput, normaliseCode } from "./receipt.js";
import { ballotState, checkChunk } from "./ballots.js";
import { runBallotsInWorkers } from "./pool.js";
import { startPage } from "./page.js";

export { ready, Report, STEPS, PHASES, TITLES, verifyRecord, runBallotsHere, runBallotsInWorkers, verifyLink, isSecondRound, NotSecondRound };
export { checklist, resultsTable, loadRecord, RecordError, parseManifest, countManifest };
export { checkReceiptIn, parseReceiptInput, normaliseCode };

/** The group operations, for measuring the floor (benchmarks/browser_verify.py). */
export * as group from "../group.js";

export const sha256Hex = (bytes) => toHex(sha256Plain(bytes));

/**
 * `ballot verify RECORD [--first-round FIRST]` in JavaScript: the record's checks, then (for a
 * second round given its first) the link checks and the first round's own verification, as
 * ballot/cli.py's verify does. `bytes`: the record file; `firstBytes`: the first round's.
 */
export async function verifyFiles(bytes, { firstBytes = null, runBallots, progress, onPhase, requireApprovals = false } = {}) {
  await ready();
  const record = loadRecord(bytes, "the record");
  // The record file's bytes: they must be its canonical JSON (check "format", as the CLI).
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const report = await verifyRecord(record, { runBallots, progress, onPhase, data, requireApprovals });
  if (firstBytes !== null) {
    if (!isSecondRound(record)) throw new RecordError("the first round was given, but the record is not a second-round election (its manifest has no ballot_b)");
    const first = loadRecord(firstBytes, "the first-round record");
    report.checks.push(...verifyLink(record, first, firstBytes).checks);
    const report1 = await verifyRecord(first, { runBallots, progress, onPhase });
    const f1 = report1.firstFailure;
    report.add("first_round_record", "First-round record verifies", report1.ok, report1.ok ? `all ${report1.checks.length} checks passed`
      : f1 ? `first failing check: ${f1.title}: ${f1.detail}` : "no check run");
  }
  return { record, report };
}

// -- in a Web Worker: check chunks of ballots -----------------------------------------------------

const inWorker = typeof self !== "undefined" && typeof self.postMessage === "function" && typeof document === "undefined" &&
  typeof self.importScripts === "function";

if (inWorker) {
  let state = null;
  self.onmessage = async (ev) => {
    const msg = ev.data;
    try {
      await ready();
      if (msg.type === "init") {
        state = ballotState(msg.params);
        self.postMessage({ type: "ready" });
      } else if (msg.type === "chunk") {
        const out = checkChunk(state, msg.chunk);
        self.postMessage({ type: "done", id: msg.id, rows: out.rows, partial: out.partial });
      }
    } catch (e) {
      self.postMessage({ type: "error", id: msg.id, message: `${e.name}: ${e.message}` });
    }
  };
} else if (typeof document !== "undefined") {
  startPage();
}
