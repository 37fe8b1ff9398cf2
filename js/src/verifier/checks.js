// The independent verifier in JavaScript: the second implementation of docs/protocol.md §12,
// check for check as ballot/tally/verify.py, with the same check ids, titles and details, so
// that the page and `ballot verify` print the same lines and the same verdict.
//
// The checks are a list of steps (STEPS) run in order on one shared state; each records its
// checks in the Report (add / need / must as in Python) and a failing `need` stops the run.
// To follow a new check of verify.py, add a step (or a line inside one) at the same place.

import { bytesEqual, toHex } from "../bytes.js";
import { b64decode, b64encode, canonicalJson, sha256Tag, uint32 } from "../encoding.js";
import { IDENTITY, L, add, baseMul, decodePoint, mul, pointsEqual, sub } from "../group.js";
import { ciphertextFromBytes } from "../elgamal.js";
import { EncodingError, modInverse } from "../bytes.js";
import { ProofError, pairsFromBytes, verifyDleq } from "../proofs.js";
import * as blindrsa from "../blindrsa.js";
import { CeremonyError, commitmentAt, jointCommitments, trusteePublicFromJson, verifyTrusteePublic } from "../threshold.js";
import { ManifestError, parseManifest } from "./manifest.js";
import { CountError, countManifest, meetingFigures } from "./counting.js";
import { RECORD_FIELDS, RECORD_VERSION_1, countsFromJson, paperFromJson } from "./record.js";
import { ApprovalError, checkClose, verifyApprovals } from "./close.js";
import { compareCodePoints } from "../encoding.js";
import { ballotParams, ballotState, checkChunk } from "./ballots.js";
import { makeShape, trackingCode } from "../ballot.js";
import { isInt, isObject, pyEqual, pyRepr, sortStrings } from "./pyfmt.js";

export const GENESIS_HEX = "0".repeat(64);
export const CONTEXT_VERSION = "ballot/v1/context";
const CHUNK = 4;

export class StopChecks extends Error {
  constructor() {
    super("stop");
    this.name = "StopChecks";
  }
}

/** The verifier's report, as ballot/tally/verify.py's Report. */
export class Report {
  constructor() {
    this.checks = [];
    this.figures = {};
  }

  get ok() {
    return this.checks.length > 0 && this.checks.every((c) => c.ok);
  }

  get firstFailure() {
    return this.checks.find((c) => !c.ok) || null;
  }

  add(key, title, ok, detail) {
    this.checks.push({ key, title, ok: !!ok, detail });
    return !!ok;
  }

  /** Record the check, passed or failed; stop at a failure. */
  need(ok, key, title, detail) {
    if (!this.add(key, title, ok, detail)) throw new StopChecks();
  }

  /** One item of a check recorded once for all items: only a failure shows. */
  must(ok, key, title, detail) {
    if (!ok) this.need(false, key, title, detail);
  }

  toJson() {
    return { ok: this.ok, first_failure: this.firstFailure ? this.firstFailure.key : null, checks: this.checks, figures: this.figures };
  }
}

class ContextError extends Error {}
class DecryptionError extends Error {}

// -- the election context (ballot/tally/context.py) ---------------------------------------------

function publicKeyB64(p) {
  return b64encode(p);
}

/** ElectionContext.from_json: the ceremony's proofs, the joint key, the radix, the issuer. */
export function contextFromJson(manifest, data) {
  const want = ["joint_public_key", "manifest_hash", "radix", "threshold", "trustees", "version"];
  if (!isObject(data) || sortStrings(Object.keys(data)).join() !== want.join()) {
    throw new ContextError(`context: expected exactly the fields ${pyRepr(want)}`);
  }
  if (data.version !== CONTEXT_VERSION) throw new ContextError(`context: unsupported version ${pyRepr(data.version)}`);
  if (!Array.isArray(data.trustees)) throw new ContextError("context.trustees: a list");
  const trustees = data.trustees.map((t, i) => {
    try {
      return trusteePublicFromJson(t, `context.trustees[${i}]`);
    } catch (e) {
      if (e instanceof CeremonyError || e instanceof EncodingError) throw new ContextError(e.message);
      throw e;
    }
  });
  const n = manifest.trustees.members.length;
  const k = manifest.trustees.threshold;
  if (trustees.length !== n || trustees.some((t, i) => t.index !== i + 1)) {
    throw new ContextError(`expected the public keys of trustees 1..${n} in order`);
  }
  for (const t of trustees) {
    try {
      verifyTrusteePublic(manifest.hash, t, k);
    } catch (e) {
      if (e instanceof CeremonyError) throw new ContextError(e.message);
      throw e;
    }
  }
  let issuer;
  try {
    issuer = blindrsa.parseSpki(b64decode(manifest.json.issuer_public_key, undefined, "issuer_public_key"));
  } catch (e) {
    throw new ContextError(`manifest issuer_public_key: ${e.message}`);
  }
  const shapeArgs = {
    numUnits: manifest.units.length,
    numLevels: manifest.levels.length,
    abstainAllowed: manifest.rules.abstainAllowed,
    radix: manifest.radix,
    limits: manifest.limits,
  };
  try {
    makeShape(shapeArgs);
  } catch (e) {
    throw new ContextError(e.message);
  }
  const joint = jointCommitments(trustees);
  const json = {
    version: CONTEXT_VERSION,
    manifest_hash: manifest.hashHex,
    threshold: k,
    trustees: data.trustees.map((t) => ({ index: t.index, commitments: t.commitments, proofs: t.proofs, box_public: t.box_public })),
    joint_public_key: publicKeyB64(joint[0]),
    radix: manifest.radix,
  };
  if (!pyEqual(json, data)) {
    const mismatch = want.filter((key) => !pyEqual(json[key], data[key]));
    throw new ContextError(`context: ${mismatch.join(", ")} do not match the manifest and keys`);
  }
  const baseHash = sha256Tag("ballot/v1/base-hash", canonicalJson(json));
  const params = ballotParams(shapeArgs, toHex(baseHash), publicKeyB64(joint[0]), manifest.json.issuer_public_key);
  return { trustees, joint, publicKey: joint[0], threshold: k, n, issuer, baseHash, baseHashHex: toHex(baseHash), shapeArgs, params };
}

// -- decryption (ballot/tally/decryption.py) ------------------------------------------------------

function partialContext(baseHash, trustee, unit) {
  return sha256Tag("ballot/v1/ctx/partial-decryption", baseHash, uint32(trustee), uint32(unit));
}

function decryptionFromJson(data, numUnits, where) {
  if (!isObject(data) || sortStrings(Object.keys(data)).join() !== "trustee,units") {
    throw new DecryptionError(`${where}: expected the fields trustee and units`);
  }
  const t = data.trustee;
  if (!isInt(t) || t < 1) throw new DecryptionError(`${where}.trustee: a positive integer`);
  if (!Array.isArray(data.units) || data.units.length !== numUnits) throw new DecryptionError(`${where}.units: expected ${numUnits} entries`);
  try {
    return {
      trustee: t,
      partials: data.units.map((text, u) => {
        const raw = b64decode(text, 96, `${where}.units[${u}]`);
        const share = decodePoint(raw.slice(0, 32), `${where}.units[${u}].share`);
        const [[c, v]] = pairsFromBytes(raw.slice(32), 1, `${where}.units[${u}].proof`);
        return { share, proof: { c, v } };
      }),
    };
  } catch (e) {
    if (e instanceof EncodingError) throw new DecryptionError(e.message);
    throw e;
  }
}

function verifyDecryption(ctx, totals, dec) {
  if (!(dec.trustee >= 1 && dec.trustee <= ctx.n)) throw new DecryptionError(`trustee ${dec.trustee} is not one of the election's trustees`);
  const S = commitmentAt(ctx.joint, dec.trustee);
  totals.forEach((ct, u) => {
    try {
      verifyDleq(partialContext(ctx.baseHash, dec.trustee, u), S, ct.alpha, dec.partials[u].share, dec.partials[u].proof);
    } catch (e) {
      if (e instanceof ProofError) throw new DecryptionError(`trustee ${dec.trustee}: the decryption proof for unit ${u + 1} does not verify`);
      throw e;
    }
  });
}

function lagrangeAtZero(indices, i) {
  let num = 1n;
  let den = 1n;
  for (const m of indices) {
    if (m !== i) {
      num = (num * BigInt(m)) % L;
      den = (((den * BigInt(m - i)) % L) + L) % L;
    }
  }
  return (num * modInverse(den, L)) % L;
}

function combinedPoints(ctx, totals, decs) {
  const chosen = [...decs.keys()].sort((a, b) => a - b).slice(0, ctx.threshold);
  return totals.map((ct, u) => {
    let M = Uint8Array.from(IDENTITY);
    for (const t of chosen) M = add(M, mul(decs.get(t).partials[u].share, lagrangeAtZero(chosen, t)));
    return sub(ct.beta, M);
  });
}

function valueOfCounts(c, radix, codes) {
  let v = 0n;
  codes.forEach((code, i) => {
    v += BigInt(c.vote(code)) * BigInt(radix) ** BigInt(i);
  });
  return v;
}

// -- running the ballot checks ----------------------------------------------------------------------

/** In this thread (Node, or a page without workers): chunks of 4 ballots, as verify.py. */
export async function runBallotsHere(params, entries, progress) {
  const state = ballotState(params);
  const rows = [];
  const partials = [];
  for (let i = 0; i < entries.length; i += CHUNK) {
    const part = checkChunk(state, entries.slice(i, i + CHUNK));
    rows.push(...part.rows);
    partials.push(part.partial);
    if (progress) progress(rows.length, entries.length);
    if (i % (CHUNK * 4) === 0) await new Promise((r) => setTimeout(r, 0));
  }
  return { rows, partials };
}

function sumPartials(partials, numUnits) {
  const totals = Array.from({ length: numUnits }, () => ({ alpha: Uint8Array.from(IDENTITY), beta: Uint8Array.from(IDENTITY) }));
  for (const part of partials) {
    part.forEach((text, u) => {
      const raw = b64decode(text, 64);
      totals[u] = { alpha: add(totals[u].alpha, raw.slice(0, 32)), beta: add(totals[u].beta, raw.slice(32)) };
    });
  }
  return totals;
}

// -- the steps ----------------------------------------------------------------------------------------

const T = {
  format: "Record format (version, fields, canonical form, order)",
  manifest: "Manifest",
  manifest_binding: "Manifest bound to the key ceremony",
  ceremony: "Key ceremony",
  base_hash: "Election fingerprint",
  receipt_key: "Receipt key bound to the election",
  approvals: "Trustees' approvals of the fingerprint",
  issuance: "Token issuance log",
  board: "Bulletin board",
  board_count: "Ballots ≤ tokens issued",
  paper_instead: "Tokens set aside (voted on paper instead)",
  excess: "Ballots ≤ valid tokens (no excess)",
  ballots: "Ballots (token, signature, proofs)",
  board_status: "Ballot statuses re-checked",
  limits: "At most K agree (second round)",
  tokens_unique: "No token used twice",
  chain: "Board hash chain",
  aggregate: "Aggregate of the board",
  decryption: "Partial decryptions",
  electronic_counts: "Electronic counts",
  counts: "Counts (electronic + paper)",
  figures: "Meeting figures",
  close: "Close: attendance, paper figures, board head",
  audit_order: "Audit order: figures fixed before the decryptions",
  results: "Results from the rules",
};
export const TITLES = T;

/** The phases shown with a progress bar on the page, in order. */
export const PHASES = ["setup", "ballots", "tally"];

/** Python's str() of a value in a message: a string as it is, anything else as repr(). */
const pyStr = (v) => (typeof v === "string" ? v : pyRepr(v));
const head16 = (v) => [...pyStr(v)].slice(0, 16).join("");

/** sorted(ts, key=lambda t: (not isinstance(t, int), t)) == ts: integers first, in order. */
function sortedTrustees(ts) {
  const rank = (t) => (isInt(t) || typeof t === "boolean" ? 0 : 1);
  const num = (t) => (t === true ? 1 : t === false ? 0 : t);
  for (let i = 1; i < ts.length; i++) {
    const a = ts[i - 1];
    const b = ts[i];
    if (rank(a) !== rank(b)) {
      if (rank(a) > rank(b)) return false;
      continue;
    }
    if (rank(a) === 0 && num(a) > num(b)) return false;
    if (typeof a === "string" && typeof b === "string" && compareCodePoints(a, b) > 0) return false;
  }
  return true;
}

export const STEPS = [
  {
    name: "format",
    phase: "setup",
    run(s, r) {
      // 0. The record's version, fields, canonical form and ordering (docs/protocol.md §11).
      const { record, data } = s;
      const fields = isObject(record) && Object.prototype.hasOwnProperty.call(RECORD_FIELDS, record.version) ? RECORD_FIELDS[record.version] : null;
      r.must(fields !== null && sortStrings(Object.keys(record)).join("\u0000") === sortStrings(fields).join("\u0000"), "format", T.format,
        `not a ballot record: version one of ${Object.keys(RECORD_FIELDS).join(", ")}, with exactly its fields`);
      if (data !== null && data !== undefined) {
        const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
        r.must(bytesEqual(canonicalJson(record), bytes), "format", T.format, "the file is not the record's canonical JSON (docs/protocol.md §1.2)");
      }
      const decs = record.decryptions;
      const ok = Array.isArray(decs) && decs.every((d) => isObject(d)) && sortedTrustees(decs.map((d) => ("trustee" in d ? d.trustee : null)));
      r.must(ok, "format", T.format, "decryptions: sorted by trustee");
      // A version-2 record relabelled version 1 would skip its checks (ballot/tally/verify.py).
      if (record.version === RECORD_VERSION_1) {
        const manifest = record.manifest;
        const board = record.board;
        const newer = (isObject(manifest) && "receipt_key" in manifest) ||
          (Array.isArray(board) && board.some((e) => isObject(e) && "status" in e));
        r.must(!newer, "format", T.format,
          "a version-1 record with a receipt key in its manifest or board statuses: a version-2 record relabelled as version 1");
      }
      r.need(true, "format", T.format, `${record.version}` + (data !== null && data !== undefined ? ", canonical JSON" : "") + ", fields in order");
      s.v2 = record.version !== RECORD_VERSION_1;
    },
  },
  {
    name: "manifest",
    phase: "setup",
    run(s, r) {
      const { record } = s;
      try {
        s.manifest = parseManifest(record.manifest);
      } catch (e) {
        if (e instanceof ManifestError || e instanceof CountError) r.need(false, "manifest", T.manifest, e.message);
        throw e;
      }
      const m = s.manifest;
      r.need(true, "manifest", T.manifest,
        `hash ${m.hashHex.slice(0, 16)}…, ${m.units.length} units, ${m.levels.length} levels, ${m.roll.length} on the roll`);
      const bound = isObject(record.context) && record.context.manifest_hash === m.hashHex;
      r.need(bound, "manifest_binding", T.manifest_binding, bound ? "the ceremony was held for this manifest"
        : "the manifest is not the one the trustees' keys and the fingerprint were made for (was a rule, unit or voter changed?)");
    },
  },
  {
    name: "ceremony",
    phase: "setup",
    run(s, r) {
      try {
        s.ctx = contextFromJson(s.manifest, s.record.context);
      } catch (e) {
        if (e instanceof ContextError || e instanceof EncodingError || e instanceof RangeError) r.need(false, "ceremony", T.ceremony, e.message);
        throw e;
      }
      const { n, threshold: k } = s.ctx;
      r.need(true, "ceremony", T.ceremony,
        `${n} trustees, threshold ${k}, ${n * k} proofs of knowledge verified, joint key ${toHex(s.ctx.publicKey).slice(0, 16)}…`);
      const ok = pyEqual(s.record.base_hash, s.ctx.baseHashHex);
      r.need(ok, "base_hash", T.base_hash, ok ? `base hash ${s.ctx.baseHashHex}`
        : `the record says ${pyRepr(s.record.base_hash)}, recomputed ${s.ctx.baseHashHex}`);
    },
  },
  {
    name: "receipt_key",
    phase: "setup",
    run(s, r) {
      const { record, manifest } = s;
      if (s.v2 || manifest.receiptKey !== null) {
        // The receipt key is in the manifest, hence in the fingerprint (docs/protocol.md §9).
        const ok = manifest.receiptKey !== null && pyEqual(record.receipt_key, manifest.receiptKey);
        r.need(ok, "receipt_key", T.receipt_key, ok ? `receipt key ${head16(record.receipt_key)}…, as in the manifest`
          : `the record's receipt key is not the manifest's: receipts signed by ${head16(manifest.receiptKey)}… would be disowned`);
      }
    },
  },
  {
    name: "approvals",
    phase: "setup",
    run(s, r) {
      // The trustees' approvals of the fingerprint (version 2; docs/protocol.md §9.2).
      if ("approvals" in s.record) {
        let approved;
        try {
          approved = verifyApprovals(s.ctx, s.record.approvals);
        } catch (e) {
          if (e instanceof ApprovalError) r.need(false, "approvals", T.approvals, e.message);
          throw e;
        }
        r.need(true, "approvals", T.approvals,
          `trustees ${pyRepr(approved)} each signed base hash ${s.ctx.baseHashHex.slice(0, 16)}… with their ceremony key`);
      } else {
        r.must(!s.requireApprovals, "approvals", T.approvals,
          "the record carries no approvals, and they are required (--require-approvals)");
        r.add("approvals", T.approvals, true,
          "none in this record (a version-1 record, from before trustees approved the fingerprint: nothing to check)");
      }
    },
  },
  {
    name: "issuance",
    phase: "setup",
    run(s, r) {
      const log = s.record.issuance_log;
      const eligible = s.manifest.eligibleIds;
      if (!Array.isArray(log) || !log.every((x) => typeof x === "string")) r.need(false, "issuance", T.issuance, "not a list of roll ids");
      const counts = new Map();
      for (const x of log) counts.set(x, (counts.get(x) || 0) + 1);
      const dupes = sortStrings([...counts].filter(([, c]) => c > 1).map(([x]) => x));
      const strangers = log.filter((x) => !eligible.has(x));
      const sorted = sortStrings(log);
      const inOrder = sorted.every((x, i) => x === log[i]);
      r.need(!dupes.length && !strangers.length && inOrder && log.length <= eligible.size, "issuance", T.issuance,
        !(dupes.length || strangers.length) ? `${log.length} tokens issued to ${eligible.size} eligible members`
          : `issued twice: ${pyRepr(dupes)}; not eligible: ${pyRepr(strangers.slice(0, 5))}`);
      s.issued = log.length;
    },
  },
  {
    name: "board",
    phase: "ballots",
    async run(s, r) {
      const board = s.record.board;
      const log = s.record.issuance_log;
      r.need(Array.isArray(board), "board", T.board, "a list of entries");
      r.need(board.length <= s.issued, "board_count", T.board_count, `${board.length} ballots, ${s.issued} tokens issued`);
      // Members who received a token and voted on paper instead (a lost phone session): their
      // tokens are set aside, and a ballot cast with one of them shows as an excess.
      const aside = "paper_instead" in s.record ? s.record.paper_instead : [];
      const logSet = new Set(log);
      const ok = Array.isArray(aside) && aside.every((x) => typeof x === "string") &&
        aside.every((x, i) => i === 0 || compareCodePoints(aside[i - 1], x) < 0) && aside.every((x) => logSet.has(x));
      r.need(ok, "paper_instead", T.paper_instead, ok ? `${aside.length} members received a token and voted on paper instead`
        : "not a sorted list of distinct roll ids, each of a member who received a token");
      const valid = s.issued - aside.length;
      s.aside = aside.length;
      s.validTokens = valid;
      r.need(board.length <= valid, "excess", T.excess, board.length <= valid
        ? `${board.length} ballots, ${valid} valid tokens (${s.issued} issued − ${aside.length} set aside)`
        : `excess: ${board.length} ballots for ${valid} valid tokens (${s.issued} issued − ${aside.length} set aside for members who voted on paper): a token set aside was used`);
      // Statuses (docs/protocol.md, "Received, then checked"): every entry has one, or none has
      // (a record of before, whose ballots were all checked before their receipts: all valid).
      const withStatuses = board.some((e) => isObject(e) && "status" in e);
      const want = "ballot,entry_hash,position,prev_hash";
      const statuses = [];
      const entries = board.map((e, i) => {
        const ok = isObject(e) && pyEqual(e.position, i + 1) && (withStatuses || sortStrings(Object.keys(e)).join() === want);
        r.must(ok, "board", T.board, `entry ${i + 1}: malformed or out of order`);
        if (withStatuses) {
          const status = e.status;
          const keys = sortStrings(Object.keys(e)).join();
          const wantKeys = status === "invalid" ? "ballot,entry_hash,position,prev_hash,reason,status" : "ballot,entry_hash,position,prev_hash,status";
          r.must((status === "valid" || status === "invalid") && keys === wantKeys, "board", T.board,
            `board position ${pyStr(e.position)}: a status is 'valid', or 'invalid' with a reason`);
          r.must(status !== "invalid" || (typeof e.reason === "string" && e.reason.length > 0), "board", T.board,
            `board position ${pyStr(e.position)}: an invalid entry states its reason`);
          statuses.push([status, status === "invalid" ? e.reason : null]);
        } else {
          statuses.push(["valid", null]);
        }
        return [i + 1, e.ballot];
      });
      const { rows, partials } = await s.runBallots(s.ctx.params, entries, s.progress);
      rows.sort((a, b) => a[0] - b[0]);
      s.totals = sumPartials(partials, s.manifest.units.length);
      const seen = new Map();
      s.positions = new Map();
      let prev = GENESIS_HEX;
      let invalid = 0;
      rows.forEach(([position, error, proofError, tokenId, bhash], i) => {
        const e = board[i];
        const [status, reason] = statuses[i];
        // Token and signature were checked on receipt: an entry without them was never
        // receivable, whatever its status.
        r.must(error === null, "ballots", T.ballots, `board position ${position}: ${error}`);
        if (status === "valid") {
          r.must(proofError === null, "ballots", T.ballots, `board position ${position}: ${proofError}` + (withStatuses ? " (marked valid)" : ""));
        } else {
          invalid += 1;
          r.must(proofError !== null, "board_status", T.board_status,
            `board position ${position} is marked invalid (${reason}), but its token, signature and proofs verify: a valid ballot left out of the count`);
        }
        if (!seen.has(tokenId)) seen.set(tokenId, position);
        const first = seen.get(tokenId);
        r.must(first === position, "tokens_unique", T.tokens_unique, `board position ${position} reuses the token of position ${first}`);
        const expect = toHex(sha256Tag("ballot/v1/board-entry", hexBytes(prev), uint32(position), hexBytes(bhash)));
        r.must(e.prev_hash === prev && e.entry_hash === expect, "chain", T.chain, `board position ${position}: the hash chain is broken`);
        prev = expect;
        s.positions.set(trackingCode(bhash).replace(/-/g, ""), { position, entry_hash: expect, code: trackingCode(bhash), status, reason });
      });
      const received = board.length;
      const B = received - invalid; // the valid ballots: the ones counted
      const U = s.manifest.units.length;
      s.B = B;
      s.invalid = invalid;
      Object.assign(r.figures, { ballots: B, proofs: B * U, tokens: s.issued, set_aside: aside.length });
      if (invalid) r.figures.invalid_ballots = invalid;
      r.add("ballots", T.ballots, true, !withStatuses
        ? `${B} ballots: ${B} token signatures, ${B} ballot signatures, ${B * U} proofs verified`
        : `${received} ballots received: ${received} token signatures and ballot signatures verified; ${B} valid (${B * U} proofs verified), ${invalid} invalid`);
      if (withStatuses) {
        r.add("board_status", T.board_status, true, `${received} statuses recomputed: ${B} valid, ${invalid} invalid (only valid ballots are counted)`);
      }
      const limits = s.manifest.limits;
      if (limits.length) {
        const groups = limits.map((g, j) => `group ${j + 1}: at most ${g.max} of ${g.units.length}`).join("; ");
        r.figures.limit_proofs = B * limits.length;
        r.add("limits", T.limits, true, `${B} ballots: ${B * limits.length} limit proofs verified (${groups})`);
      }
      r.add("tokens_unique", T.tokens_unique, true, `${received} distinct tokens`);
      r.add("chain", T.chain, true, `${received} entries, head ${prev.slice(0, 16)}…`);
    },
  },
  {
    name: "aggregate",
    phase: "tally",
    run(s, r) {
      const mine = s.totals.map((c) => b64encode(new Uint8Array([...c.alpha, ...c.beta])));
      const ok = pyEqual(s.record.aggregate, mine);
      r.need(ok, "aggregate", T.aggregate, ok ? `${s.manifest.units.length} unit totals recomputed from ${s.B} ballots`
        : "the record's aggregate is not the product of the board's ballots");
    },
  },
  {
    name: "decryption",
    phase: "tally",
    async run(s, r) {
      const U = s.manifest.units.length;
      const B = s.B;
      const decs = new Map();
      if (B === 0) {
        // An empty board (all paper): the aggregate is the identity and nothing is decrypted.
        const ok = Array.isArray(s.record.decryptions) && s.record.decryptions.length === 0;
        r.need(ok, "decryption", T.decryption, ok ? "an empty board: nothing to decrypt, no decryption"
          : "an empty board, yet the record holds decryptions");
      }
      try {
        const itemsJson = B ? s.record.decryptions : [];
        if (!Array.isArray(itemsJson)) throw new DecryptionError("decryptions: a list");
        for (let i = 0; i < itemsJson.length; i++) {
          const dec = decryptionFromJson(itemsJson[i], U, `decryptions[${i}]`);
          if (decs.has(dec.trustee)) throw new DecryptionError(`trustee ${dec.trustee} decrypted twice`);
          verifyDecryption(s.ctx, s.totals, dec);
          decs.set(dec.trustee, dec);
        }
        if (B && decs.size < s.ctx.threshold) throw new DecryptionError(`${decs.size} trustees decrypted, ${s.ctx.threshold} needed`);
      } catch (e) {
        if (e instanceof DecryptionError) r.need(false, "decryption", T.decryption, e.message);
        throw e;
      }
      s.decs = decs;
      const ids = [...decs.keys()].sort((a, b) => a - b);
      s.trustees = ids;
      if (B) r.need(true, "decryption", T.decryption, `trustees [${ids.join(", ")}]: ${decs.size * U} decryption proofs verified`);
    },
  },
  {
    name: "electronic_counts",
    phase: "tally",
    run(s, r) {
      const m = s.manifest;
      const unitIds = m.units.map((u) => u.unit_id);
      try {
        s.electronic = countsFromJson(s.record.electronic_counts, unitIds, "electronic_counts");
      } catch (e) {
        if (e instanceof CountError) r.need(false, "electronic_counts", T.electronic_counts, e.message);
        throw e;
      }
      const points = s.B ? combinedPoints(s.ctx, s.totals, s.decs) : null;
      unitIds.forEach((uid, u) => {
        const c = s.electronic[u];
        const ok = c.rows === s.B && c.blank === 0 && c.codes.every((code) => m.codes.includes(code)) &&
          (s.B ? pointsEqual(baseMul(valueOfCounts(c, m.radix, m.codes)), points[u])
            : c.codes.every((code) => !c.vote(code)) && c.abstain === 0);
        r.must(ok, "electronic_counts", T.electronic_counts, `unit ${uid}: the counts do not match the decrypted total`);
      });
      r.add("electronic_counts", T.electronic_counts, true, `${unitIds.length} units decrypted and matched, ${s.B} ballots each`);
    },
  },
  {
    name: "counts",
    phase: "tally",
    run(s, r) {
      const m = s.manifest;
      const unitIds = m.units.map((u) => u.unit_id);
      const paper = s.record.paper;
      let paperCounts;
      try {
        paperCounts = paperFromJson(paper, unitIds);
        s.totalCounts = countsFromJson(s.record.counts, unitIds, "counts");
      } catch (e) {
        if (e instanceof CountError) r.need(false, "counts", T.counts, e.message);
        throw e;
      }
      unitIds.forEach((uid, u) => {
        const e = s.electronic[u];
        const p = paperCounts[u];
        const t = s.totalCounts[u];
        const ok = m.codes.every((code) => t.vote(code) === e.vote(code) + p.vote(code)) &&
          t.abstain === e.abstain + p.abstain && t.blank === e.blank + p.blank && t.codes.every((code) => m.codes.includes(code));
        r.must(ok, "counts", T.counts, `unit ${uid}: total ≠ electronic + paper`);
      });
      s.paperValid = paper ? paper.ballots_valid : 0;
      if (paper) {
        // The checks the service makes when the paper figures are entered.
        r.must(paper.ballots_valid + paper.ballots_invalid <= paper.ballots_issued, "counts", T.counts,
          "paper: valid + invalid ballots exceed the paper ballots issued");
        r.must(paper.ballots_issued <= paper.voters, "counts", T.counts, "paper: more paper ballots issued than members voting on paper");
        // Members who voted on paper instead of their token are among the paper voters.
        r.must(s.validTokens + paper.voters <= m.eligibleIds.size, "counts", T.counts,
          `paper: ${paper.voters} paper voters + ${s.validTokens} valid tokens exceed the ${m.eligibleIds.size} eligible members`);
        unitIds.forEach((uid, u) => {
          r.must(paperCounts[u].codes.every((code) => m.codes.includes(code)), "counts", T.counts, `paper.counts.${uid}: a level that is not the manifest's`);
        });
      }
      r.add("counts", T.counts, true, paper ? `${s.B} electronic + ${s.paperValid} paper ballots per unit`
        : `${s.B} electronic ballots, no paper ballots`);
    },
  },
  {
    name: "figures",
    phase: "tally",
    run(s, r) {
      const f = s.record.figures;
      let figures;
      try {
        if (!isObject(f)) throw new CountError("figures: an object");
        for (const k of ["convened", "excluded", "present", "ballots_valid", "ballots_invalid", "ballots_issued"]) {
          if (!(k in f)) throw new CountError(`'${k}'`);
        }
        figures = meetingFigures(f.convened, f.excluded, f.present, f.ballots_valid, f.ballots_invalid, f.ballots_issued);
        if (!pyEqual(figures.toJson(), f)) throw new CountError("figures: unexpected fields");
      } catch (e) {
        if (e instanceof CountError) r.need(false, "figures", T.figures, e.message);
        throw e;
      }
      const paper = s.record.paper;
      const pIssued = paper ? paper.ballots_issued : 0;
      const pInvalid = paper ? paper.ballots_invalid : 0;
      // convened and excluded are the roll's (docs/protocol.md §11, "figures").
      const m = s.manifest;
      r.must(figures.convened === m.convened && figures.excluded === m.excluded, "figures", T.figures,
        `convened ${figures.convened}, excluded ${figures.excluded}; the roll has ${m.convened} convened, ${m.excluded} excluded`);
      const ok = figures.ballotsValid === s.B + s.paperValid && figures.ballotsInvalid === s.invalid + pInvalid &&
        figures.ballotsIssued === s.validTokens + pIssued;
      r.need(ok, "figures", T.figures, ok
        ? `valid ${figures.ballotsValid}, invalid ${figures.ballotsInvalid}, issued ${figures.ballotsIssued}, present ${figures.present} of N = ${figures.rollBase}`
        : "the ballot figures do not match the board, the tokens and the paper count");
      s.figures = figures;
    },
  },
  {
    name: "close",
    phase: "tally",
    run(s, r) {
      // Record version 2: the close and the audit order (docs/protocol.md §13.2–§13.3).
      if (s.v2) {
        checkClose(s.record, r, { eligible: s.manifest.eligibleIds.size, issued: s.issued, figures: s.figures, trustees: s.trustees, T });
      }
    },
  },
  {
    name: "results",
    phase: "tally",
    run(s, r) {
      const m = s.manifest;
      let recomputed;
      try {
        recomputed = countManifest(m, new Map(m.units.map((u, i) => [u.unit_id, s.totalCounts[i]])), s.figures);
      } catch (e) {
        if (e instanceof CountError || e instanceof ManifestError) r.need(false, "results", T.results, e.message);
        throw e;
      }
      const results = s.record.results;
      let bad = ["all"];
      if (isObject(results)) {
        const theirs = Array.isArray(results.units) ? results.units : [];
        bad = recomputed.units.filter((u, i) => i < theirs.length && !pyEqual(u, theirs[i])).map((u) => u.unit_id);
      }
      const ok = pyEqual(recomputed, results);
      s.recomputed = recomputed;
      r.need(ok, "results", T.results, ok ? `${m.units.length} results recomputed under the manifest's rules`
        : `results differ from the rules' for units ${bad.length ? pyRepr(bad.slice(0, 5)) : "summary"}`);
    },
  },
];

function hexBytes(hex) {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * verify_record: every step of STEPS in order; the report names the first failing check.
 * `runBallots(params, entries, progress)` checks the ballots (default: in this thread; the
 * page passes its Web Workers); `progress(done, total)` is told the ballots checked;
 * `onPhase(name)` when a phase starts.
 */
export async function verifyRecord(record, { runBallots = runBallotsHere, progress = null, onPhase = null, steps = STEPS, data = null, requireApprovals = false } = {}) {
  const report = new Report();
  const state = { record, runBallots, progress, data, requireApprovals };
  let phase = null;
  let current = null;
  try {
    for (const step of steps) {
      current = step;
      if (step.phase !== phase) {
        phase = step.phase;
        if (onPhase) await onPhase(phase);
      }
      await step.run(state, report);
    }
  } catch (e) {
    if (!(e instanceof StopChecks)) {
      // A record so malformed that the Python verifier would stop with a traceback: the
      // step is named as failing, with the error.
      report.add(current ? current.name : "manifest", "Unreadable record", false, `${e.name || "Error"}: ${e.message}`);
    }
  }
  Object.defineProperty(report, "state", { value: state, enumerable: false });
  return report;
}
