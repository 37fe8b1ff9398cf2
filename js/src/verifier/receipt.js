// The receipt check (docs/protocol.md §9): a tracking code, or the phone's saved receipt file
// ("Lưu biên nhận": {version: ballot/v1/receipt-file, slug, receipt, receipt_key, ...} or a bare
// ballot/v1/receipt), looked up in a record: the server's signature, the position, the entry
// hash, and whether the ballot was counted (on the board of a record that verifies).

import { isObject } from "./pyfmt.js";
import { verifyReceipt, ReceiptError } from "../receipt.js";

/** A typed tracking code (verify.py normalise_code): case, spaces and dashes ignored; 0 read
 * as O and 1 as I (base32 has neither digit). */
export function normaliseCode(code) {
  return String(code).toUpperCase().replace(/[^A-Z0-9]/g, "").replace(/0/g, "O").replace(/1/g, "I");
}

/** Parse what the observer gave: a tracking code (text) or a receipt file's JSON text. */
export function parseReceiptInput(text) {
  const t = String(text).trim();
  if (t.startsWith("{")) {
    let doc;
    try {
      doc = JSON.parse(t);
    } catch {
      throw new ReceiptError("not a receipt file (not JSON)");
    }
    const receipt = isObject(doc) && isObject(doc.receipt) ? doc.receipt : doc;
    if (!isObject(receipt) || receipt.version !== "ballot/v1/receipt") throw new ReceiptError("not a ballot/v1/receipt document");
    return { code: receipt.tracking_code, receipt };
  }
  const code = normaliseCode(t);
  if (code.length !== 16) throw new ReceiptError("a tracking code has 16 letters and digits (XXXX-XXXX-XXXX-XXXX)");
  return { code, receipt: null };
}

/**
 * Look the receipt up. `positions` maps a normalised tracking code to {position, entry_hash}
 * (built while the ballots were checked); `verified`: did the whole record verify.
 * Returns {found, position, code, checks: [{key, ok, detail}], counted}.
 */
export function checkReceiptIn(record, positions, input, verified) {
  const { code, receipt } = typeof input === "string" ? parseReceiptInput(input) : input;
  const checks = [];
  const hit = positions.get(normaliseCode(code || ""));
  if (receipt) {
    let ok = true;
    let detail = "signed by the meeting's receipt key";
    if (receipt.signature === null && receipt.accepted_at === null) {
      // Recovered from the board after a lost answer (verify_receipt.py): position and entry
      // hash only.
      detail = "unsigned (recovered from the board after a lost answer): position and entry hash only";
    } else if (receipt.signature === null) {
      ok = false;
      detail = "the receipt has no signature";
    } else {
      try {
        verifyReceipt(record.receipt_key, receipt);
      } catch (e) {
        ok = false;
        detail = e.message;
      }
    }
    checks.push({ key: "signature", ok, detail });
    const same = receipt.election === record.base_hash;
    checks.push({ key: "election", ok: same, detail: same ? "for this election" : "for another election" });
  }
  checks.push({ key: "on_board", ok: !!hit, detail: hit ? `on the board at position ${hit.position}` : "NOT on the board" });
  if (receipt && hit) {
    checks.push({ key: "position", ok: receipt.position === hit.position, detail: `receipt says position ${receipt.position}, board ${hit.position}` });
    checks.push({ key: "entry_hash", ok: receipt.entry_hash === hit.entry_hash, detail: receipt.entry_hash === hit.entry_hash ? "entry hash matches the board" : "the entry hash differs from the board's" });
  }
  if (hit && hit.status === "invalid") {
    // Received, then found invalid (its proofs fail): on the board, not counted.
    checks.push({ key: "status", ok: false, detail: `marked invalid (${hit.reason}): not counted` });
  }
  const allOk = checks.every((c) => c.ok);
  return { found: !!hit, position: hit ? hit.position : null, code: hit ? hit.code : code, checks, ok: allOk, counted: allOk && !!hit && verified };
}
