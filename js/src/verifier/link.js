// The link between a second round and its first (ballot/tally/verify_link.py), check for
// check: the first round's record file by SHA-256, its manifest hash, the second-round ballots
// and base N its results sent, the candidates' names.

import { toHex } from "../bytes.js";
import { EncodingError, parseJson, sha256Plain } from "../encoding.js";
import { ManifestError, parseManifest } from "./manifest.js";
import { Report, StopChecks } from "./checks.js";
import { isObject, pyEqual, pyRepr } from "./pyfmt.js";

export class NotSecondRound extends Error {}

export function isSecondRound(record) {
  return isObject(record) && isObject(record.manifest) && "ballot_b" in record.manifest;
}

function ballotText(b) {
  if (!isObject(b)) return pyRepr(b);
  return `group ${pyRepr(b.group)}, candidates ${pyRepr(b.candidates)}, K = ${pyRepr(b.k)}`;
}

/** verify_link(record, firstRecord, firstBytes) → Report; throws NotSecondRound. */
export function verifyLink(record, firstRecord, firstBytes) {
  if (!isSecondRound(record)) throw new NotSecondRound("the record is not a second-round election (its manifest has no ballot_b)");
  const report = new Report();
  try {
    link(record, firstRecord, firstBytes, report);
  } catch (e) {
    if (!(e instanceof StopChecks)) throw e;
  }
  return report;
}

function link(record, firstRecord, firstBytes, report) {
  const need = report.need.bind(report);
  const must = report.must.bind(report);
  let manifest2;
  try {
    manifest2 = parseManifest(record.manifest);
  } catch (e) {
    if (e instanceof ManifestError) need(false, "link_round_two", "Round-two manifest", e.message);
    throw e;
  }
  const bb = manifest2.ballotB;
  const first = bb.firstRound;

  const digest = toHex(sha256Plain(firstBytes));
  must(digest === first.record_sha256, "link_record_sha256", "First-round record file (SHA-256)",
    `the file's SHA-256 is ${digest.slice(0, 16)}…, round two names ${first.record_sha256.slice(0, 16)}… (a different or altered first-round record)`);
  let same;
  try {
    same = pyEqual(parseJson(firstBytes), firstRecord);
  } catch (e) {
    if (!(e instanceof EncodingError)) throw e;
    same = false;
  }
  need(same, "link_record_sha256", "First-round record file (SHA-256)", same ? `SHA-256 ${digest.slice(0, 16)}…, as named by round two`
    : "the record checked is not the content of the hashed file");

  let manifest1;
  try {
    manifest1 = parseManifest(isObject(firstRecord) ? firstRecord.manifest : undefined);
  } catch (e) {
    if (e instanceof ManifestError) need(false, "link_manifest_hash", "First-round manifest", e.message);
    throw e;
  }
  const h1 = manifest1.hashHex;
  must(h1 === first.manifest_hash, "link_manifest_hash", "First-round manifest",
    `the first round's manifest hash is ${h1.slice(0, 16)}…, round two names ${first.manifest_hash.slice(0, 16)}… (another election)`);
  need(manifest1.ballotB === null, "link_manifest_hash", "First-round manifest", manifest1.ballotB === null
    ? `hash ${h1.slice(0, 16)}…, as named by round two for «${first.slug}» (the record carries no slug: the manifest hash identifies the election)`
    : "the record given as the first round is itself a second round");

  let results = firstRecord.results;
  results = isObject(results) ? results : {};
  let sent = results.second_round;
  sent = Array.isArray(sent) ? sent : [];
  const mine = bb.toJson().ballots;
  const title = "Second-round ballots (groups, candidates, K)";
  must(sent.length > 0, "link_ballots", title, "the first round's results send no candidate to a second round");
  for (let j = 0; j < Math.min(sent.length, mine.length); j++) {
    const a = sent[j];
    const b = mine[j];
    if (!pyEqual(a, b)) {
      const what = !isObject(a) || !pyEqual(a.group, b.group) ? "group" : !pyEqual(a.candidates, b.candidates) ? "candidates" : "K";
      must(false, "link_ballots", title, `ballot ${j + 1}: different ${what} — round one's results: ${ballotText(a)}; round two: ${ballotText(b)}`);
    }
  }
  must(sent.length === mine.length, "link_ballots", title, `round one's results have ${sent.length} second-round ballots, round two has ${mine.length}`);
  need(true, "link_ballots", title, mine.map((b) => `${b.group || "—"}: ${b.candidates.length} candidates, at most ${b.k}`).join("; ") + " — as round one's results");

  const base1 = results.base;
  need(pyEqual(base1, bb.base), "link_base", "Base N of the first round", pyEqual(base1, bb.base) ? `N = ${bb.base}, as round one's results`
    : `round two's ballot_b.base is ${bb.base}, round one's results give N = ${pyRepr(base1)}`);

  const units1 = new Map(manifest1.units.map((u) => [u.unit_id, u]));
  for (const u of manifest2.units) {
    const u1 = units1.get(u.unit_id);
    must(u1 !== undefined, "link_names", "Candidates' names", `${u.unit_id}: not a unit of the first round`);
    must(u1.name === u.name, "link_names", "Candidates' names", `${u.unit_id}: named ${pyRepr(u.name)} in round two, ${pyRepr(u1.name)} in round one`);
  }
  need(true, "link_names", "Candidates' names", `${manifest2.units.length} candidates, the same ids and names as in round one`);

  // 6. What round two inherits (docs/counting.md, "The second round as its own election"): the
  //    roll, the trustees and threshold, the base kind, the quorum, and the threshold of round
  //    one's top level as the threshold of "agree".
  const inherited = "Inherited from round one (roll, trustees, base, quorum, threshold)";
  must(pyEqual(manifest2.json.roll, manifest1.json.roll), "link_inherited", inherited,
    "the roll differs from round one's (a member added, removed or changed)");
  must(pyEqual(manifest2.json.trustees, manifest1.json.trustees), "link_inherited", inherited,
    "the trustees or their threshold differ from round one's");
  const r1 = manifest1.rules;
  const r2 = manifest2.rules;
  must(r2.base === r1.base, "link_inherited", inherited, `base N of kind ${pyRepr(r2.base)}, round one's is ${pyRepr(r1.base)}`);
  must(r2.quorum.eq(r1.quorum), "link_inherited", inherited, `quorum ${pyFraction(r2.quorum)}, round one's is ${pyFraction(r1.quorum)}`);
  const agree = manifest2.codes[0];
  const t1 = r1.thresholdFor(manifest1.codes[0]);
  const t2 = r2.thresholdFor(agree);
  must(pyEqual(t2.toJson(), t1.toJson()), "link_inherited", inherited,
    `“${agree}” needs ${t2.describe()}, round one's top level needed ${t1.describe()}`);
  need(true, "link_inherited", inherited,
    `${manifest2.roll.length} on the roll, ${manifest2.trustees.members.length} trustees (k = ${manifest2.trustees.threshold}), ` +
    `base ${r2.base}, quorum ${pyFraction(r2.quorum)}, “${agree}” ${t2.describe()} — as round one`);
}

/** str(Fraction) in Python: "2/3", or "1" for a whole number. */
function pyFraction(f) {
  return f.d === 1n ? `${f.n}` : `${f.n}/${f.d}`;
}
