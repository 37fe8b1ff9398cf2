// Run the JS verifier under Node on record files and print one JSON line per record:
//   node test/verifier-run.mjs RECORD [RECORD ...]          (each verified on its own)
//   node test/verifier-run.mjs --first FIRST RECORD          (a second round with its first)
// Used by tests/web/test_verifier_page.py to compare with `ballot verify`.

import { readFileSync } from "node:fs";
import { verifyFiles, checklist, resultsTable, RecordError } from "../src/verifier/index.js";

const args = process.argv.slice(2);
let first = null;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--first") first = args[++i];
  else files.push(args[i]);
}
for (const path of files) {
  const t0 = Date.now();
  try {
    const { record, report } = await verifyFiles(readFileSync(path), { firstBytes: first ? readFileSync(first) : null });
    const failure = report.firstFailure;
    let table = null;
    try {
      table = report.ok ? resultsTable(record) : null;
    } catch {
      table = null;
    }
    console.log(JSON.stringify({ path, ok: report.ok, first_failure: failure ? failure.key : null, checklist: checklist(report), table, ms: Date.now() - t0 }));
  } catch (e) {
    if (!(e instanceof RecordError)) throw e;
    console.log(JSON.stringify({ path, error: e.message }));
  }
}
