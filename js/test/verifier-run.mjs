// Run the JS verifier under Node and print the results as one JSON document:
//   node test/verifier-run.mjs RECORD [RECORD ...]     each record verified on its own
//   node test/verifier-run.mjs --jobs JOBS.json        a list of jobs:
//     {"record": PATH, "first": PATH?}                 as `ballot verify RECORD [--first-round FIRST]`
//     {"link": PATH, "first": PATH}                    the link checks only (verify_link)
// Used by tests/web/test_verifier_agreement.py to compare with the Python verifier.

import { readFileSync } from "node:fs";
import { ready, verifyFiles, verifyLink, loadRecord, checklist, resultsTable, RecordError, parseManifest, countManifest } from "../src/verifier/index.js";
import { CountError, meetingFigures, unitCounts } from "../src/verifier/counting.js";
import { ManifestError } from "../src/verifier/manifest.js";

const args = process.argv.slice(2);
const jobs = args[0] === "--jobs" ? JSON.parse(readFileSync(args[1], "utf8")) : args.map((p) => ({ record: p }));
await ready();
const out = [];
for (const job of jobs) {
  const t0 = Date.now();
  try {
    if (job.count) {
      // {"count": {manifest, counts: [{unit_id, votes, abstain, blank}], figures}}: the rules
      // alone (count_manifest), for the election layer's cases no record of the suite has.
      const { manifest, counts, figures: f } = job.count;
      try {
        const m = parseManifest(manifest);
        const figures = meetingFigures(f.convened, f.excluded, f.present, f.ballots_valid, f.ballots_invalid, f.ballots_issued);
        const results = countManifest(m, new Map(counts.map((c) => [c.unit_id, unitCounts(c.votes, c.abstain, c.blank)])), figures);
        out.push({ results, manifest_hash: m.hashHex });
      } catch (e) {
        if (!(e instanceof ManifestError || e instanceof CountError)) throw e;
        out.push({ error: e.message });
      }
      continue;
    }
    if (job.link) {
      const first = readFileSync(job.first);
      const report = verifyLink(loadRecord(readFileSync(job.link)), loadRecord(first), first);
      const f = report.firstFailure;
      out.push({ ok: report.ok, first_failure: f ? f.key : null, checklist: checklist(report), ms: Date.now() - t0 });
      continue;
    }
    const { record, report } = await verifyFiles(readFileSync(job.record), { firstBytes: job.first ? readFileSync(job.first) : null,
      requireApprovals: !!job.require_approvals });
    const f = report.firstFailure;
    let table = null;
    let tableVi = null;
    try {
      table = resultsTable(record, { lang: "en" });
      tableVi = resultsTable(record, { lang: "vi" });
    } catch {
      table = null;
    }
    out.push({ ok: report.ok, first_failure: f ? f.key : null, checklist: checklist(report), table, table_vi: tableVi, ms: Date.now() - t0 });
  } catch (e) {
    if (!(e instanceof RecordError)) throw e;
    out.push({ error: e.message });
  }
}
console.log(JSON.stringify(out));
