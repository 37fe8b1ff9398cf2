// The manifest, strictly as ballot/election/manifest.py reads it: every key required, unknown
// keys refused, every value checked, and the same normalised JSON (Manifest.to_json) whose
// canonical bytes give the manifest hash. Messages name the field as the Python ones do.

import { canonicalJson, sha256Tag } from "../encoding.js";
import { b64decode } from "../encoding.js";
import { toHex } from "../bytes.js";
import { Fraction, HALF, ONE, ZERO, formatFraction } from "./fraction.js";
import { isInt, isObject, pyRepr, sortStrings } from "./pyfmt.js";

export const MANIFEST_VERSION = "ballot/manifest/v1";
export const MANIFEST_HASH_TAG = "ballot/v1/manifest";
export const MEETING_KINDS = ["branch_members", "committee_units", "custom"];
export const UNIT_KINDS = ["member", "organisation", "leader"];
export const ROLL_STATUSES = ["official", "probationary", "excluded"];
export const BASES = ["convened_minus_excluded", "present", "valid_ballots"];
export const QUOTA_BASES = ["against_only", "against_and_above"];
export const THRESHOLD_KINDS = ["more_than", "at_least"];
const RESERVED_CODES = new Set(["unit_id", "name", "abstain", "blank", "group", "score", "votes"]);

export class ManifestError extends Error {
  constructor(message) {
    super(message);
    this.name = "ManifestError";
  }
}

// -- strict readers (_fields.py) -----------------------------------------------------------------

const IDENT_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const FRACTION_RE = /^(0|[1-9][0-9]{0,8})\/([1-9][0-9]{0,8})$/;
const CODE_RE = /^[A-Za-z][A-Za-z0-9_]{0,15}$/;

function kind(v) {
  if (v === null || v === undefined) return "null";
  if (typeof v === "boolean") return "a boolean";
  if (isInt(v)) return `the integer ${v}`;
  if (typeof v === "string") return `the string ${pyRepr(v)}`;
  if (Array.isArray(v)) return "a list";
  if (isObject(v)) return "an object";
  return "float";
}

function join(where, key) {
  return where ? `${where}.${key}` : key;
}

/** Prefix a ManifestError raised inside fn with `where.` (F.context). */
function inContext(where, fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ManifestError) throw new ManifestError(where ? `${where}.${e.message}` : e.message);
    throw e;
  }
}

function obj(v, where) {
  if (!isObject(v)) throw new ManifestError(`${where || "document"}: expected an object, got ${kind(v)}`);
  return v;
}

function keys(d, where, required = [], optional = []) {
  const allowed = new Set([...required, ...optional]);
  const unknown = sortStrings(Object.keys(d).filter((k) => !allowed.has(k)));
  if (unknown.length) {
    throw new ManifestError(`${join(where, unknown[0])}: unknown key (allowed: ${sortStrings([...allowed]).join(", ")})`);
  }
  for (const k of required) if (!(k in d)) throw new ManifestError(`${join(where, k)}: missing`);
}

const pyStrip = (s) => s.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/gu, "");

function string(v, name, { empty = false, none = false } = {}) {
  if (v === null && none) return null;
  if (typeof v !== "string") throw new ManifestError(`${name}: expected a string, got ${kind(v)}`);
  if (!empty && !pyStrip(v)) throw new ManifestError(`${name}: must not be empty`);
  if (v !== pyStrip(v)) throw new ManifestError(`${name}: leading or trailing white space in ${pyRepr(v)}`);
  const bad = /[\p{Cc}\p{Zl}\p{Zp}]/u.exec(v);
  if (bad) {
    const code = bad[0].codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
    throw new ManifestError(`${name}: control character U+${code} in ${pyRepr(v)}; a name is one line of printable text`);
  }
  return v;
}

/** string(), and in Unicode NFC (ballot/election/_fields.py nfc_string). */
function nfcString(v, name, { none = false } = {}) {
  const out = string(v, name, { none });
  if (out !== null && out.normalize("NFC") !== out) {
    throw new ManifestError(`${name}: ${pyRepr(out)} is not in Unicode NFC form (normalise it: the same letters typed as base + combining marks must not make a different name or group)`);
  }
  return out;
}

function ident(v, name, { none = false } = {}) {
  if (v === null && none) return null;
  if (typeof v !== "string" || !IDENT_RE.test(v)) {
    throw new ManifestError(`${name}: expected an identifier (letters, digits, '_', '.', '-', at most 64), got ${pyRepr(v)}`);
  }
  return v;
}

function integer(v, name, { lo = null, hi = null, none = false } = {}) {
  if (v === null && none) return null;
  if (!isInt(v)) throw new ManifestError(`${name}: expected an integer, got ${kind(v)}`);
  if (lo !== null && v < lo) throw new ManifestError(`${name}: must be at least ${lo}, got ${v}`);
  if (hi !== null && v > hi) throw new ManifestError(`${name}: must be at most ${hi}, got ${v}`);
  return v;
}

function boolean(v, name) {
  if (typeof v !== "boolean") throw new ManifestError(`${name}: expected true or false, got ${kind(v)}`);
  return v;
}

function choice(v, name, options) {
  if (typeof v !== "string" || !options.includes(v)) {
    throw new ManifestError(`${name}: expected one of ${options.join(", ")}, got ${pyRepr(v)}`);
  }
  return v;
}

function fraction(v, name, { lo = ZERO, hi = ONE, loOpen = false } = {}) {
  let f;
  if (v instanceof Fraction) f = v;
  else {
    const m = typeof v === "string" ? FRACTION_RE.exec(v) : null;
    if (!m) throw new ManifestError(`${name}: expected a fraction written "p/q", got ${pyRepr(v)}`);
    f = new Fraction(BigInt(m[1]), BigInt(m[2]));
    if (formatFraction(f) !== v) throw new ManifestError(`${name}: write ${pyRepr(v)} in lowest terms, as ${pyRepr(formatFraction(f))}`);
  }
  if (f.cmp(lo) < 0 || f.cmp(hi) > 0 || (loOpen && f.eq(lo))) {
    throw new ManifestError(`${name}: must be in ${loOpen ? "(" : "["}${formatFraction(lo)}, ${formatFraction(hi)}], got ${formatFraction(f)}`);
  }
  return f;
}

function items(v, where) {
  if (!Array.isArray(v)) throw new ManifestError(`${where}: expected a list, got ${kind(v)}`);
  return v;
}

// -- levels ----------------------------------------------------------------------------------------

function levelFromJson(v, where) {
  const d = obj(v, where);
  keys(d, where, ["code", "name_vi", "name_en"], ["short"]);
  return inContext(where, () => {
    const code = d.code;
    if (typeof code !== "string" || !CODE_RE.test(code)) {
      throw new ManifestError(`code: expected a letter then letters, digits or '_' (at most 16), got ${pyRepr(code)}`);
    }
    if (RESERVED_CODES.has(code.toLowerCase())) throw new ManifestError(`code: ${pyRepr(code)} is reserved for a counts column`);
    nfcString(d.name_vi, "name_vi");
    nfcString(d.name_en, "name_en");
    const short = "short" in d ? d.short : code;
    nfcString(short, "short");
    return { code, name_vi: d.name_vi, name_en: d.name_en, short };
  });
}

function levelsFromJson(v, where = "levels") {
  const levels = items(v, where).map((x, i) => levelFromJson(x, `${where}[${i}]`));
  if (levels.length < 2) throw new ManifestError(`levels: at least 2 levels are needed, got ${levels.length}`);
  const seen = new Set();
  levels.forEach((lv, i) => {
    if (seen.has(lv.code.toLowerCase())) throw new ManifestError(`levels[${i}].code: ${pyRepr(lv.code)} appears twice`);
    seen.add(lv.code.toLowerCase());
  });
  return levels;
}

function checkCode(codes, code, name, { none = false } = {}) {
  if (code === null && none) return null;
  if (!codes.includes(code)) throw new ManifestError(`${name}: ${pyRepr(code)} is not a level (levels: ${codes.join(", ")})`);
  return code;
}

// -- roll, units, trustees ---------------------------------------------------------------------

function rollEntryFromJson(v, where) {
  const d = obj(v, where);
  keys(d, where, ["roll_id", "name"], ["status", "reason"]);
  return inContext(where, () => {
    const e = { roll_id: d.roll_id, name: d.name, status: "status" in d ? d.status : "official", reason: "reason" in d ? d.reason : null };
    ident(e.roll_id, "roll_id");
    nfcString(e.name, "name");
    choice(e.status, "status", ROLL_STATUSES);
    string(e.reason, "reason", { none: true });
    if (e.status === "excluded" && e.reason === null) throw new ManifestError("reason: an excluded member needs the reason for the exclusion");
    return e;
  });
}

const UNIT_FIELDS = ["unit_id", "name", "kind", "group", "self_level", "proposed_level", "score", "collective", "disciplined", "outstanding"];
const UNIT_DEFAULTS = { kind: "member", group: null, self_level: null, proposed_level: null, score: null, collective: null, disciplined: false, outstanding: false };

/**
 * Unit.from_json(manifest=True): `head` (the unit heads its collective) is written only for a
 * unit with a collective; a collective without a `head` key is a manifest written before heads
 * were marked (head null: every member or leader with a collective is bound, as then).
 */
function unitFromJson(v, where) {
  const d = obj(v, where);
  keys(d, where, ["unit_id", "name"], [...UNIT_FIELDS.slice(2), "head"]);
  return inContext(where, () => {
    const u = {};
    for (const f of UNIT_FIELDS) u[f] = f in d ? d[f] : UNIT_DEFAULTS[f];
    let head;
    if (!("head" in d) && d.collective !== undefined && d.collective !== null) head = null;
    else if (d.head === null) throw new ManifestError("head: expected true or false, got null");
    else head = "head" in d ? d.head : null;
    ident(u.unit_id, "unit_id");
    nfcString(u.name, "name");
    choice(u.kind, "kind", UNIT_KINDS);
    nfcString(u.group, "group", { none: true });
    string(u.self_level, "self_level", { none: true });
    string(u.proposed_level, "proposed_level", { none: true });
    integer(u.score, "score", { lo: 0, hi: 100, none: true });
    ident(u.collective, "collective", { none: true });
    if (u.collective === u.unit_id) throw new ManifestError(`collective: unit ${pyRepr(u.unit_id)} cannot be its own collective`);
    boolean(u.disciplined, "disciplined");
    boolean(u.outstanding, "outstanding");
    if (head !== null) boolean(head, "head");
    else if (u.collective === null) head = false; // nothing to head: not a head
    if (head && u.collective === null) {
      throw new ManifestError(`head: unit ${pyRepr(u.unit_id)} is marked as a head but names no collective (give the collective it heads)`);
    }
    if (head && u.kind === "organisation") {
      throw new ManifestError(`head: unit ${pyRepr(u.unit_id)} is an organisation; only a person (a member or a leader) heads a collective`);
    }
    // Not a JSON field of its own: unitJson writes it back only where Unit.to_json does.
    Object.defineProperty(u, "head", { value: head, enumerable: false });
    // Whether "not above the collective" applies (Unit.bound_by_collective).
    Object.defineProperty(u, "boundByCollective", {
      value: u.collective === null ? false : head !== null ? head : u.kind !== "organisation", enumerable: false });
    return u;
  });
}

/** Unit.to_json: `head` only for a unit that names a collective and says whether it heads it. */
function unitJson(u) {
  const out = { ...u };
  if (u.collective !== null && u.head !== null) out.head = u.head;
  return out;
}

function trusteesFromJson(v, where = "trustees") {
  const d = obj(v, where);
  keys(d, where, ["members", "threshold"]);
  return inContext(where, () => {
    const members = items(d.members, "members");
    if (!members.length) throw new ManifestError("members: at least one trustee is needed");
    const seen = new Set();
    members.forEach((m, i) => {
      string(m, `members[${i}]`);
      if (seen.has(m)) throw new ManifestError(`members[${i}]: ${pyRepr(m)} appears twice`);
      seen.add(m);
    });
    integer(d.threshold, "threshold", { lo: 1, hi: members.length });
    return { members: [...members], threshold: d.threshold };
  });
}

// -- rules -------------------------------------------------------------------------------------------

export function makeThreshold(f = HALF, k = "more_than") {
  choice(k, "kind", THRESHOLD_KINDS);
  if (k === "more_than" && !(HALF.cmp(f) <= 0 && f.cmp(ONE) < 0)) {
    throw new ManifestError(`fraction: 'more_than' needs 1/2 <= fraction < 1, got ${formatFraction(f)}`);
  }
  if (k === "at_least" && !(HALF.cmp(f) < 0 && f.cmp(ONE) <= 0)) {
    throw new ManifestError(`fraction: 'at_least' needs 1/2 < fraction <= 1 (a strict majority), got ${formatFraction(f)}`);
  }
  const symbol = k === "more_than" ? ">" : "≥";
  return Object.freeze({
    fraction: f,
    kind: k,
    symbol,
    negatedSymbol: k === "more_than" ? "≤" : "<",
    passes(votes, n) {
      if (n <= 0) return false;
      const lhs = BigInt(votes) * f.d;
      const rhs = f.n * BigInt(n);
      return k === "more_than" ? lhs > rhs : lhs >= rhs;
    },
    describe() {
      return `${symbol} ${formatFraction(f)} N`;
    },
    toJson() {
      return { fraction: formatFraction(f), kind: k };
    },
  });
}

function thresholdFromJson(v, where) {
  const d = obj(v, where);
  keys(d, where, ["fraction", "kind"]);
  return inContext(where, () => makeThreshold(fraction(d.fraction, "fraction"), d.kind));
}

function quotaFromJson(v, where) {
  const d = obj(v, where);
  keys(d, where, ["top", "against"], ["ratio", "group_ratios", "base"]);
  return inContext(where, () => {
    const ratio = fraction("ratio" in d ? d.ratio : "1/5", "ratio", { loOpen: true });
    const groups = obj("group_ratios" in d ? d.group_ratios : {}, "group_ratios");
    const pairs = Object.keys(groups).map((g) => [g, fraction(groups[g], `group_ratios.${g}`, { loOpen: true })]);
    const base = "base" in d ? d.base : "against_only";
    string(d.top, "top");
    string(d.against, "against");
    choice(base, "base", QUOTA_BASES);
    if (d.top === d.against) throw new ManifestError(`against: must be a level below top, got ${pyRepr(d.against)} twice`);
    for (const [g] of pairs) nfcString(g, "group_ratios");
    const sorted = sortStrings(pairs.map(([g]) => g)).map((g) => pairs.find((p) => p[0] === g));
    return {
      top: d.top,
      against: d.against,
      ratio,
      groupRatios: sorted,
      base,
      /** QuotaRule.x_max: against_only ⌊p·n/(p+q)⌋; against_and_above ⌊p·n/q⌋. */
      xMax(r, n) {
        return base === "against_and_above" ? Number((r.n * BigInt(n)) / r.d) : Number((r.n * BigInt(n)) / (r.n + r.d));
      },
      /** QuotaRule.formula: "⌊1/5·50/(1+1/5)⌋ = 8", or "⌊1/5·50⌋ = 10" counting the excellent. */
      formula(r, n) {
        const f = formatFraction(r);
        return base === "against_and_above" ? `⌊${f}·${n}⌋ = ${this.xMax(r, n)}` : `⌊${f}·${n}/(1+${f})⌋ = ${this.xMax(r, n)}`;
      },
      ratioFor(group) {
        if (group === null) return ratio;
        const hit = sorted.find(([g]) => g === group);
        return hit ? hit[1] : ratio;
      },
      toJson() {
        const gr = {};
        for (const [g, r] of sorted) gr[g] = formatFraction(r);
        const out = { top: d.top, against: d.against, ratio: formatFraction(ratio), group_ratios: gr };
        if (base !== "against_only") out.base = base; // the default is left out: older manifests' bytes
        return out;
      },
    };
  });
}

const CONSTRAINT_FIELDS = ["head_not_above_collective", "disciplined_not_completed", "collective_top_needs_clean_record"];

function rulesFromJson(v, where = "rules") {
  const d = obj(v, where);
  keys(d, where, [], ["thresholds", "base", "quorum", "cumulative", "abstain_allowed", "quota", "second_round", "constraints"]);
  let defaultThreshold = null;
  let levelThresholds = [];
  if ("thresholds" in d) {
    const tw = join(where, "thresholds");
    const t = obj(d.thresholds, tw);
    keys(t, tw, [], ["default", "levels"]);
    if ("default" in t) defaultThreshold = thresholdFromJson(t.default, join(tw, "default"));
    const lw = join(tw, "levels");
    const per = obj("levels" in t ? t.levels : {}, lw);
    levelThresholds = Object.keys(per).map((code) => [code, thresholdFromJson(per[code], join(lw, code))]);
  }
  let quota = null;
  if (d.quota !== undefined && d.quota !== null) quota = quotaFromJson(d.quota, join(where, "quota"));
  let second = { enabled: false, max_k: null };
  if ("second_round" in d) {
    const sw = join(where, "second_round");
    const s = obj(d.second_round, sw);
    keys(s, sw, ["enabled"], ["max_k"]);
    second = inContext(sw, () => {
      const out = { enabled: s.enabled, max_k: "max_k" in s ? s.max_k : null };
      boolean(out.enabled, "enabled");
      integer(out.max_k, "max_k", { lo: 1, none: true });
      return out;
    });
  }
  let constraints = { head_not_above_collective: true, disciplined_not_completed: true, collective_top_needs_clean_record: true };
  if ("constraints" in d) {
    const cw = join(where, "constraints");
    const c = obj(d.constraints, cw);
    keys(c, cw, [], CONSTRAINT_FIELDS);
    constraints = inContext(cw, () => {
      const out = { ...constraints, ...c };
      for (const f of CONSTRAINT_FIELDS) boolean(out[f], f);
      return out;
    });
  }
  return inContext(where, () => {
    const quorum = "quorum" in d ? fraction(d.quorum, "quorum") : new Fraction(2n, 3n);
    const base = "base" in d ? d.base : "convened_minus_excluded";
    const cumulative = "cumulative" in d ? d.cumulative : false;
    const abstainAllowed = "abstain_allowed" in d ? d.abstain_allowed : true;
    const dflt = defaultThreshold || makeThreshold();
    const seen = new Set();
    for (const [code] of levelThresholds) {
      string(code, "thresholds.levels");
      if (seen.has(code)) throw new ManifestError(`thresholds.levels.${code}: appears twice`);
      seen.add(code);
    }
    const sortedLT = sortStrings(levelThresholds.map(([c]) => c)).map((c) => levelThresholds.find((p) => p[0] === c));
    choice(base, "base", BASES);
    fraction(quorum, "quorum");
    boolean(cumulative, "cumulative");
    boolean(abstainAllowed, "abstain_allowed");
    return {
      defaultThreshold: dflt,
      levelThresholds: sortedLT,
      base,
      quorum,
      cumulative,
      abstainAllowed,
      quota,
      secondRound: second,
      constraints,
      thresholdFor(code) {
        const hit = sortedLT.find(([c]) => c === code);
        return hit ? hit[1] : dflt;
      },
      toJson() {
        const lv = {};
        for (const [c, t] of sortedLT) lv[c] = t.toJson();
        return {
          thresholds: { default: dflt.toJson(), levels: lv },
          base,
          quorum: formatFraction(quorum),
          cumulative,
          abstain_allowed: abstainAllowed,
          quota: quota === null ? null : quota.toJson(),
          second_round: { enabled: second.enabled, max_k: second.max_k },
          constraints: { ...constraints },
        };
      },
    };
  });
}

export function checkRuleLevels(rules, codes, where = "rules") {
  inContext(where, () => {
    for (const [code] of rules.levelThresholds) checkCode(codes, code, `thresholds.levels.${code}`);
    if (rules.quota !== null) {
      checkCode(codes, rules.quota.top, "quota.top");
      checkCode(codes, rules.quota.against, "quota.against");
      if (codes.indexOf(rules.quota.against) <= codes.indexOf(rules.quota.top)) {
        throw new ManifestError(`quota.against: ${pyRepr(rules.quota.against)} must be a level below ${pyRepr(rules.quota.top)}`);
      }
    }
  });
}

// -- ballot B (second round) -----------------------------------------------------------------------

const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const HEX64_RE = /^[0-9a-f]{64}$/;

function ballotBFromJson(v, where = "ballot_b") {
  const d = obj(v, where);
  keys(d, where, ["first_round", "base", "ballots"]);
  const fw = join(where, "first_round");
  const f = obj(d.first_round, fw);
  keys(f, fw, ["slug", "manifest_hash", "record_sha256"]);
  inContext(fw, () => {
    if (typeof f.slug !== "string" || !SLUG_RE.test(f.slug)) {
      throw new ManifestError(`slug: expected a meeting short name (a-z, 0-9, '-'), got ${pyRepr(f.slug)}`);
    }
    for (const k of ["manifest_hash", "record_sha256"]) {
      if (typeof f[k] !== "string" || !HEX64_RE.test(f[k])) throw new ManifestError(`${k}: expected 64 lowercase hex digits, got ${pyRepr(f[k])}`);
    }
  });
  const ballots = items(d.ballots, join(where, "ballots")).map((item, j) => {
    const bw = `${where}.ballots[${j}]`;
    const b = obj(item, bw);
    keys(b, bw, ["group", "candidates", "k"]);
    const cands = items(b.candidates, `${bw}.candidates`);
    return { group: b.group, candidates: [...cands], k: b.k };
  });
  return inContext(where, () => {
    integer(d.base, "base", { lo: 0 });
    if (!ballots.length) throw new ManifestError("ballots: at least one group of candidates");
    const seenGroups = new Set();
    const seen = new Set();
    ballots.forEach((b, j) => {
      inContext(`ballots[${j}]`, () => {
        string(b.group, "group", { none: true });
        if (!b.candidates.length) throw new ManifestError("candidates: at least one candidate");
        b.candidates.forEach((c, i) => {
          ident(c, `candidates[${i}]`);
          if (seen.has(c)) throw new ManifestError(`candidates[${i}]: ${pyRepr(c)} appears twice`);
          seen.add(c);
        });
        integer(b.k, "k", { lo: 1 });
      });
      const key = b.group === null ? "\u0000null" : b.group;
      if (seenGroups.has(key)) throw new ManifestError(`ballots[${j}].group: ${pyRepr(b.group)} appears twice`);
      seenGroups.add(key);
    });
    return {
      firstRound: { slug: f.slug, manifest_hash: f.manifest_hash, record_sha256: f.record_sha256 },
      base: d.base,
      ballots,
      candidates: ballots.flatMap((b) => b.candidates),
      toJson() {
        return {
          first_round: { slug: f.slug, manifest_hash: f.manifest_hash, record_sha256: f.record_sha256 },
          base: d.base,
          ballots: ballots.map((b) => ({ group: b.group, candidates: [...b.candidates], k: b.k })),
        };
      },
    };
  });
}

// -- the manifest ------------------------------------------------------------------------------------

const KEYS = ["version", "title", "organisation", "date", "meeting_kind", "roll", "units", "levels", "rules", "trustees", "issuer_public_key"];

function checkDate(v) {
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const [y, m, d] = v.split("-").map(Number);
    const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if (y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= days[m - 1]) return v;
  }
  throw new ManifestError(`date: expected an ISO date YYYY-MM-DD, got ${pyRepr(v)}`);
}

/** check_units: unit ids unique, level codes known, collectives existing organisations, no cycles. */
export function checkUnits(units, codes) {
  if (!units.length) throw new ManifestError("units: at least one unit to classify is needed");
  const byId = new Map();
  units.forEach((u, i) => {
    if (byId.has(u.unit_id)) throw new ManifestError(`units[${i}].unit_id: ${pyRepr(u.unit_id)} appears twice`);
    byId.set(u.unit_id, u);
    checkCode(codes, u.self_level, `units[${i}].self_level`, { none: true });
    checkCode(codes, u.proposed_level, `units[${i}].proposed_level`, { none: true });
  });
  units.forEach((u, i) => {
    if (u.collective === null) return;
    let parent = byId.get(u.collective);
    if (!parent) throw new ManifestError(`units[${i}].collective: no unit ${pyRepr(u.collective)}`);
    if (parent.kind !== "organisation") {
      throw new ManifestError(`units[${i}].collective: ${pyRepr(u.collective)} is a ${parent.kind}, not an organisation`);
    }
    const seen = new Set([u.unit_id]);
    while (parent) {
      if (seen.has(parent.unit_id)) throw new ManifestError(`units[${i}].collective: a cycle through ${pyRepr(parent.unit_id)}`);
      seen.add(parent.unit_id);
      parent = parent.collective ? byId.get(parent.collective) : undefined;
    }
  });
}

/** Manifest.from_json: a frozen manifest object with toJson(), hash (bytes) and hashHex. */
export function parseManifest(value) {
  const d = obj(value, "manifest");
  keys(d, "", KEYS, ["ballot_b", "receipt_key"]);
  const roll = items(d.roll, "roll").map((x, i) => rollEntryFromJson(x, `roll[${i}]`));
  const units = items(d.units, "units").map((x, i) => unitFromJson(x, `units[${i}]`));
  const levels = levelsFromJson(d.levels, "levels");
  const rules = rulesFromJson(d.rules, "rules");
  const trustees = trusteesFromJson(d.trustees, "trustees");
  const ballotB = "ballot_b" in d ? ballotBFromJson(d.ballot_b) : null;
  if (d.version !== MANIFEST_VERSION) throw new ManifestError(`version: expected ${pyRepr(MANIFEST_VERSION)}, got ${pyRepr(d.version)}`);
  string(d.title, "title");
  string(d.organisation, "organisation");
  checkDate(d.date);
  choice(d.meeting_kind, "meeting_kind", MEETING_KINDS);
  if (typeof d.issuer_public_key !== "string") throw new ManifestError("issuer_public_key: expected a string");
  if (d.issuer_public_key) {
    try {
      b64decode(d.issuer_public_key, undefined, "issuer_public_key");
    } catch (e) {
      throw new ManifestError(e.message);
    }
  }
  // The receipt key (record version 2): bound to the election through the manifest hash.
  const receiptKey = "receipt_key" in d ? d.receipt_key : null;
  if (receiptKey !== null) {
    if (typeof receiptKey !== "string") throw new ManifestError("receipt_key: expected a string");
    try {
      b64decode(receiptKey, 32, "receipt_key");
    } catch (e) {
      throw new ManifestError(e.message);
    }
  }
  const seen = new Set();
  roll.forEach((e, i) => {
    if (seen.has(e.roll_id)) throw new ManifestError(`roll[${i}].roll_id: ${pyRepr(e.roll_id)} appears twice`);
    seen.add(e.roll_id);
  });
  const codes = levels.map((l) => l.code);
  checkUnits(units, codes);
  checkRuleLevels(rules, codes);
  if (ballotB !== null) {
    if (levels.length !== 2) throw new ManifestError(`ballot_b: a second round has exactly two levels (agree, disagree), not ${levels.length}`);
    if (rules.quota !== null || rules.secondRound.enabled) {
      throw new ManifestError("ballot_b: a second round has no quota and no further round (rules.quota must be null, rules.second_round disabled)");
    }
    const ids = units.map((u) => u.unit_id);
    if (ballotB.candidates.join("\u0000") !== ids.join("\u0000") || ballotB.candidates.length !== ids.length) {
      throw new ManifestError(`ballot_b.ballots: the candidates, group after group, must be exactly the units in order (${ids.join(", ")})`);
    }
    for (const u of units) {
      if (u.collective !== null) throw new ManifestError(`ballot_b: candidate ${pyRepr(u.unit_id)} names a collective; a second round has no constraints between units`);
    }
  }
  const eligible = roll.filter((e) => e.status === "official");
  const json = {
    version: d.version,
    title: d.title,
    organisation: d.organisation,
    date: d.date,
    meeting_kind: d.meeting_kind,
    roll: roll.map((e) => ({ ...e })),
    units: units.map(unitJson),
    levels: levels.map((l) => ({ ...l })),
    rules: rules.toJson(),
    trustees: { members: [...trustees.members], threshold: trustees.threshold },
    issuer_public_key: d.issuer_public_key,
  };
  if (ballotB !== null) json.ballot_b = ballotB.toJson();
  if (receiptKey !== null) json.receipt_key = receiptKey;
  const hash = sha256Tag(MANIFEST_HASH_TAG, canonicalJson(json));
  const largest = ballotB ? Math.max(0, ...ballotB.ballots.map((b) => b.candidates.length)) : 0;
  let start = 0;
  const limits = ballotB
    ? ballotB.ballots.map((b) => {
        const ix = b.candidates.map((_, i) => start + i);
        start += b.candidates.length;
        return { units: ix, max: b.k };
      })
    : [];
  return Object.freeze({
    json,
    hash,
    hashHex: toHex(hash),
    roll,
    units,
    levels,
    codes,
    rules,
    trustees,
    ballotB,
    limits,
    eligible,
    eligibleIds: new Set(eligible.map((e) => e.roll_id)),
    radix: Math.max(eligible.length, largest) + 1,
    convened: roll.filter((e) => e.status === "official" || e.status === "excluded").length,
    excluded: roll.filter((e) => e.status === "excluded").length,
    receiptKey,
  });
}
