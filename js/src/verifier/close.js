// Record version 2 (ballot/tally/close.py, verify_close.py, approval.py): the close (attendance,
// paper figures, board head fixed at the close), the audit entries that order it before the
// decryptions, and the trustees' approvals of the fingerprint — the same checks and messages.
// The checks' ids and titles are in checks.js (T), which calls these.

import { toHex } from "../bytes.js";
import { EncodingError } from "../bytes.js";
import { b64decode, canonicalJson, sha256Plain, sha256Tag, uint32 } from "../encoding.js";
import { ProofError, pairsFromBytes, verifySchnorr } from "../proofs.js";
import { isInt, isObject, pyEqual, pyRepr, sortStrings } from "./pyfmt.js";

export const PAPER_FIGURES = ["voters", "ballots_issued", "ballots_valid", "ballots_invalid"];
export const AUDIT_ENTRY_KEYS = ["seq", "election_id", "actor", "action", "detail", "at", "prev_hash", "entry_hash"];
export const GENESIS_HEX = "0".repeat(64);

export class CloseError extends Error {}
export class ApprovalError extends Error {}

const sameKeys = (d, keys) => isObject(d) && sortStrings(Object.keys(d)).join("\u0000") === sortStrings(keys).join("\u0000");

function count(value, what) {
  if (!isInt(value) || value < 0) throw new CloseError(`${what}: a whole number of 0 or more`);
  return value;
}

function hex64(value, what) {
  if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) throw new CloseError(`${what}: 64 lowercase hex digits`);
  return value;
}

/** check_close_detail: the checks made when the figures are entered, and again here. */
export function checkCloseDetail(detail, { eligible }) {
  if (!sameKeys(detail, ["present", "tokens", "set_aside", "paper", "board"])) {
    throw new CloseError("close: the fields present, tokens, set_aside, paper, board");
  }
  const present = count(detail.present, "close.present");
  const tokens = count(detail.tokens, "close.tokens");
  const setAside = count(detail.set_aside, "close.set_aside");
  const paper = detail.paper;
  if (!sameKeys(paper, PAPER_FIGURES)) throw new CloseError(`close.paper: the fields ${PAPER_FIGURES.join(", ")}`);
  const p = {};
  for (const k of PAPER_FIGURES) p[k] = count(paper[k], `close.paper.${k}`);
  const board = detail.board;
  if (!sameKeys(board, ["ballots", "head"])) throw new CloseError("close.board: the fields ballots and head");
  const ballots = count(board.ballots, "close.board.ballots");
  hex64(board.head, "close.board.head");
  if (setAside > tokens) throw new CloseError(`${setAside} tokens set aside but ${tokens} issued`);
  const valid = tokens - setAside;
  if (p.ballots_valid + p.ballots_invalid > p.ballots_issued) throw new CloseError("paper: valid + invalid ballots exceed the paper ballots issued");
  if (p.ballots_issued > p.voters) throw new CloseError("paper: more paper ballots issued than members voting on paper");
  if (valid + p.voters > eligible) {
    throw new CloseError(`paper: ${p.voters} paper voters + ${valid} valid tokens exceed the ${eligible} eligible members`);
  }
  if (present > eligible) throw new CloseError(`present: ${present} exceeds the ${eligible} members entitled to vote`);
  if (present < valid + p.voters) {
    throw new CloseError(`present: ${present} is fewer than the ${valid} members who received a valid token + ${p.voters} who voted on paper`);
  }
  if (ballots > tokens) throw new CloseError(`${ballots} ballots on the board but ${tokens} tokens issued`);
  return detail;
}

/** paper_counts_sha256: hex SHA-256 of the canonical JSON of the per-unit paper counts. */
export function paperCountsSha256(counts) {
  return toHex(sha256Plain(canonicalJson(counts)));
}

/** audit_entry_hash: SHA-256 tag "ballot/v1/audit-entry" over prev_hash ‖ canonical JSON. */
export function auditEntryHash(entry) {
  const body = {};
  for (const k of ["seq", "election_id", "actor", "action", "detail", "at"]) body[k] = entry[k];
  const prev = Uint8Array.from(entry.prev_hash.match(/../g).map((h) => parseInt(h, 16)));
  return toHex(sha256Tag("ballot/v1/audit-entry", prev, canonicalJson(body)));
}

/** check_audit_entry: the fields and types of a record's audit entry, and its hash. */
export function checkAuditEntry(entry, what) {
  if (!sameKeys(entry, AUDIT_ENTRY_KEYS)) throw new CloseError(`${what}: the fields ${AUDIT_ENTRY_KEYS.join(", ")}`);
  if (!isInt(entry.seq) || entry.seq < 1) throw new CloseError(`${what}.seq: a whole number ≥ 1`);
  if (entry.election_id !== null && !isInt(entry.election_id)) throw new CloseError(`${what}.election_id: a whole number or null`);
  for (const key of ["actor", "action", "at"]) {
    if (typeof entry[key] !== "string" || !entry[key]) throw new CloseError(`${what}.${key}: a string`);
  }
  hex64(entry.prev_hash, `${what}.prev_hash`);
  hex64(entry.entry_hash, `${what}.entry_hash`);
  let recomputed;
  try {
    recomputed = auditEntryHash(entry);
  } catch (e) {
    if (e instanceof EncodingError || e instanceof RangeError) throw new CloseError(`${what}: ${e.message}`);
    throw e;
  }
  if (recomputed !== entry.entry_hash) throw new CloseError(`${what} (seq ${entry.seq}): the entry hash does not match the entry (altered)`);
  return entry;
}

/** check_close (verify_close.py): checks 15 (close) and 16 (audit order) into the report. */
export function checkClose(record, r, { eligible, issued, figures, trustees, T }) {
  const close = record.close;
  const board = record.board;
  const paper = record.paper;

  let title = T.close;
  try {
    checkCloseDetail(close, { eligible });
  } catch (e) {
    if (e instanceof CloseError) r.need(false, "close", title, e.message);
    throw e;
  }
  const head = board.length ? board[board.length - 1].entry_hash : GENESIS_HEX;
  r.must(pyEqual(close.board, { ballots: board.length, head }), "close", title,
    `the board closed had ${close.board.ballots} ballots, head ${close.board.head.slice(0, 16)}…; the record's board has ${board.length}, head ${String(head).slice(0, 16)}…`);
  r.must(close.tokens === issued, "close", title, `${close.tokens} tokens at the close, ${issued} in the issuance log`);
  const aside = record.paper_instead.length;
  r.must(close.set_aside === aside, "close", title, `${close.set_aside} tokens set aside at the close, ${aside} in paper_instead`);
  r.must(close.present === figures.present, "close", title, `present ${close.present} at the close, ${figures.present} in the figures`);
  const p = close.paper;
  let same;
  if (PAPER_FIGURES.some((k) => p[k])) {
    same = isObject(paper) && PAPER_FIGURES.every((k) => pyEqual(k in paper ? paper[k] : null, p[k]));
  } else {
    same = paper === null;
  }
  r.must(same, "close", title, "the paper figures are not the ones fixed at the close");
  r.need(true, "close", title,
    `present ${close.present}, ${close.tokens} tokens (${close.set_aside} set aside), paper: ${p.voters} voters, ` +
    `${p.ballots_issued} issued, ${p.ballots_valid} valid, ${p.ballots_invalid} invalid; board ${board.length} ballots, head ${head}`);

  title = T.audit_order;
  let entries = record.audit;
  if (!Array.isArray(entries) || !entries.length) r.need(false, "audit_order", title, "audit: a non-empty list of audit entries");
  try {
    entries = entries.map((e, i) => checkAuditEntry(e, `audit[${i}]`));
  } catch (e) {
    if (e instanceof CloseError) r.need(false, "audit_order", title, e.message);
    throw e;
  }
  const seqs = entries.map((e) => e.seq);
  r.must(seqs.every((s, i) => i === 0 || seqs[i - 1] < s), "audit_order", title, "audit: entries in increasing seq");
  r.must(new Set(entries.map((e) => e.election_id)).size === 1, "audit_order", title, "audit: entries of more than one election");
  const first = entries[0];
  r.must(first.action === "close" && first.actor === "secretary" && pyEqual(first.detail, close), "audit_order", title,
    "audit[0] is not the close entry holding the record's close");
  const rest = entries.slice(1);
  const paperEntries = rest.filter((e) => e.action === "paper_counts");
  if (p.ballots_valid) {
    const want = { counts_sha256: paperCountsSha256(paper.counts) };
    r.must(paperEntries.length === 1 && pyEqual(paperEntries[0].detail, want) && paperEntries[0].actor === "committee", "audit_order", title,
      "the paper counts' audit entry is missing or holds other counts");
  } else {
    r.must(!paperEntries.length, "audit_order", title, "a paper counts entry, but no valid paper ballot");
  }
  const decs = rest.filter((e) => e.action === "decryption");
  r.must(decs.length + paperEntries.length === rest.length, "audit_order", title, "audit: only the close, paper counts and decryption entries");
  const actors = sortStrings(decs.map((e) => e.actor));
  const wantActors = sortStrings(trustees.map((i) => `trustee ${i}`));
  r.must(pyEqual(actors, wantActors) && new Set(actors).size === actors.length, "audit_order", title,
    `the decryption entries are by ${pyRepr(actors)}, the record's decryptions by trustees ${pyRepr([...trustees].sort((a, b) => a - b))}`);
  const lastFixed = Math.max(first.seq, ...paperEntries.map((e) => e.seq));
  const early = decs.map((e) => e.seq).filter((s) => s <= lastFixed);
  r.must(!early.length, "audit_order", title,
    `decryption entries ${pyRepr(early)} come before the figures were fixed (entry #${lastFixed}): the attendance or paper counts were entered after a decryption`);
  r.need(true, "audit_order", title,
    `close entry #${first.seq} ${first.entry_hash}` +
    (paperEntries.length ? `, paper counts #${paperEntries[0].seq}` : "") +
    (decs.length ? `, then decryptions #${decs.map((e) => String(e.seq)).join(", #")}` : ", no decryption (an empty board)"));
}

// -- the trustees' approvals of the fingerprint (ballot/tally/approval.py) -----------------------

export function approvalContext(baseHash, index) {
  return sha256Tag("ballot/v1/ctx/trustee-approval", baseHash, uint32(index));
}

/** verify_approval: one approval against the context; returns the trustee's index. */
export function verifyApproval(ctx, data, where = "approval") {
  if (!sameKeys(data, ["trustee", "base_hash", "signature"])) throw new ApprovalError(`${where}: expected the fields trustee, base_hash, signature`);
  const n = ctx.trustees.length;
  const t = data.trustee;
  if (!isInt(t) || t < 1 || t > n) throw new ApprovalError(`${where}.trustee: one of the trustees 1..${n}`);
  if (data.base_hash !== ctx.baseHashHex) throw new ApprovalError(`${where}: trustee ${t} approved another fingerprint`);
  try {
    if (typeof data.signature !== "string") throw new TypeError("signature");
    const [[c, v]] = pairsFromBytes(b64decode(data.signature, 64, `${where}.signature`), 1, `${where}.signature`);
    verifySchnorr(approvalContext(ctx.baseHash, t), ctx.trustees[t - 1].commitments[0], { c, v });
  } catch (e) {
    if (e instanceof EncodingError || e instanceof ProofError || e instanceof TypeError || e instanceof RangeError) {
      throw new ApprovalError(`${where}: trustee ${t}'s signature does not verify`);
    }
    throw e;
  }
  return t;
}

/** verify_approvals: exactly one valid approval by each trustee 1..n, in order. */
export function verifyApprovals(ctx, items) {
  if (!Array.isArray(items)) throw new ApprovalError("approvals: a list");
  const seen = items.map((a, i) => verifyApproval(ctx, a, `approvals[${i}]`));
  const n = ctx.trustees.length;
  const missing = [];
  for (let i = 1; i <= n; i++) if (!seen.includes(i)) missing.push(i);
  if (missing.length) throw new ApprovalError(`no approval by trustees ${pyRepr(missing)}`);
  if (seen.length !== n || seen.some((t, i) => t !== i + 1)) throw new ApprovalError("approvals: one per trustee, in trustee order");
  return seen;
}
