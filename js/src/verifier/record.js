// The election record file (ballot/tally/record.py): loading, and the counts it carries.

import { EncodingError } from "../bytes.js";
import { parseJson } from "../encoding.js";
import { CountError, unitCounts } from "./counting.js";
import { isInt, isObject, pyRepr, sortStrings } from "./pyfmt.js";

export const RECORD_VERSION_1 = "ballot/v1/record";
/** Version 2 adds close, audit, paper_instead and approvals (ballot/tally/record.py). */
export const RECORD_VERSION = "ballot/v2/record";
export const RECORD_KEYS = ["version", "manifest", "context", "base_hash", "receipt_key", "issuance_log", "board",
  "aggregate", "decryptions", "electronic_counts", "paper", "figures", "counts", "results"];
/** Each version's fields (RECORD_FIELDS of ballot/tally/record.py). */
export const RECORD_FIELDS = {
  [RECORD_VERSION_1]: RECORD_KEYS,
  [RECORD_VERSION]: [...RECORD_KEYS, "close", "audit", "paper_instead", "approvals"],
};

/** A record file that cannot be read at all (as RecordError: no check is run). */
export class RecordError extends Error {
  constructor(message) {
    super(message);
    this.name = "RecordError";
  }
}

/** load_record on the file's bytes (or text): strict JSON, a known version, exactly its fields. */
export function loadRecord(data, name = "the file") {
  let record;
  try {
    record = parseJson(data);
  } catch (e) {
    if (e instanceof EncodingError) throw new RecordError(`${name} is not a ballot record: ${e.message}`);
    throw e;
  }
  if (!isObject(record) || !Object.prototype.hasOwnProperty.call(RECORD_FIELDS, record.version)) {
    throw new RecordError(`${name} is not a ballot record (versions: ${Object.keys(RECORD_FIELDS).join(", ")})`);
  }
  const fields = RECORD_FIELDS[record.version];
  const missing = fields.filter((k) => !(k in record));
  const extra = sortStrings(Object.keys(record).filter((k) => !fields.includes(k)));
  if (missing.length || extra.length) {
    throw new RecordError(`${name}: missing fields ${pyRepr(missing)}, unexpected fields ${pyRepr(extra)}`);
  }
  return record;
}

export function countsFromJson(itemsJson, unitIds, what) {
  if (!Array.isArray(itemsJson) || itemsJson.length !== unitIds.length) {
    throw new CountError(`${what}: expected one entry per unit (${unitIds.length})`);
  }
  return unitIds.map((uid, i) => {
    const item = itemsJson[i];
    if (!isObject(item) || sortStrings(Object.keys(item)).join() !== "abstain,blank,unit_id,votes") {
      throw new CountError(`${what}: entries have unit_id, votes, abstain, blank`);
    }
    if (item.unit_id !== uid) throw new CountError(`${what}: expected unit ${uid}, found ${pyRepr(item.unit_id)}`);
    if (!isObject(item.votes)) throw new CountError(`${what}.${uid}.votes: an object`);
    return unitCounts(item.votes, item.abstain, item.blank);
  });
}

export function paperFromJson(paper, unitIds) {
  if (paper === null) return unitIds.map(() => unitCounts({}));
  const keys = ["ballots_invalid", "ballots_issued", "ballots_valid", "counts", "voters"];
  if (!isObject(paper) || sortStrings(Object.keys(paper)).join() !== keys.join()) {
    throw new CountError(`paper: expected the fields ${pyRepr(keys)}`);
  }
  for (const key of keys) {
    if (key === "counts") continue;
    if (!isInt(paper[key]) || paper[key] < 0) throw new CountError(`paper.${key}: a count`);
  }
  const counts = countsFromJson(paper.counts, unitIds, "paper.counts");
  unitIds.forEach((uid, i) => {
    if (counts[i].rows !== paper.ballots_valid) {
      throw new CountError(`paper.counts.${uid}: ${counts[i].rows} rows for ${paper.ballots_valid} valid paper ballots`);
    }
  });
  return counts;
}
