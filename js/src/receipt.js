// The server's receipt and the board's hash chain (docs/protocol.md §9), as
// ballot/tally/board.py: the receipt is signed with Ed25519 by the server's receipt key over
// SHA256_receipt(canonical_json(receipt without "signature")).

import { EncodingError, fromHex, requireBytes, toHex } from "./bytes.js";
import { b64decode, canonicalJson, sha256Tag, uint32 } from "./encoding.js";
import { verifyDetached } from "./token.js";

export const RECEIPT_VERSION = "ballot/v1/receipt";
const KEYS = ["version", "election", "position", "tracking_code", "entry_hash", "accepted_at", "signature"];

export class ReceiptError extends Error {
  constructor(message) {
    super(message);
    this.name = "ReceiptError";
  }
}

/** The signed part of a receipt: every field but "signature". */
export function receiptBody(receipt) {
  return {
    version: receipt.version,
    election: receipt.election,
    position: receipt.position,
    tracking_code: receipt.tracking_code,
    entry_hash: receipt.entry_hash,
    accepted_at: receipt.accepted_at,
  };
}

/** SHA256_receipt(canonical_json(body)): the 32 bytes the server signs. */
export function receiptSignedBytes(receipt) {
  return sha256Tag("ballot/v1/receipt", canonicalJson(receiptBody(receipt)));
}

/**
 * Check a receipt document: exactly the receipt fields, version ballot/v1/receipt, and an
 * Ed25519 signature by `receiptKey` (32 bytes, or its base64url text). Throws ReceiptError.
 */
export function verifyReceipt(receiptKey, receipt) {
  const isObj = receipt !== null && typeof receipt === "object" && !Array.isArray(receipt);
  const have = isObj ? Object.keys(receipt).sort() : [];
  if (!isObj || have.join() !== [...KEYS].sort().join() || receipt.version !== RECEIPT_VERSION) {
    throw new ReceiptError("not a ballot/v1/receipt document");
  }
  let key, sig, signed;
  try {
    key = typeof receiptKey === "string" ? b64decode(receiptKey, 32, "receipt_key") : requireBytes(receiptKey, "receipt key", 32);
    sig = b64decode(receipt.signature, 64, "receipt signature");
    signed = receiptSignedBytes(receipt);
  } catch (e) {
    if (e instanceof EncodingError || e instanceof RangeError || e instanceof TypeError) {
      throw new ReceiptError("the receipt's signature is not the server's");
    }
    throw e;
  }
  if (!verifyDetached(key, signed, sig)) throw new ReceiptError("the receipt's signature is not the server's");
}

/** entry_hash_n = SHA256_board-entry(prev_hash, u32(n), ballot_hash); hex in, hex out. */
export function entryHash(prevHash, position, ballotHash) {
  const prev = typeof prevHash === "string" ? fromHex(prevHash, 32, "prev_hash") : requireBytes(prevHash, "prev_hash", 32);
  const bh = typeof ballotHash === "string" ? fromHex(ballotHash, 32, "ballot_hash") : requireBytes(ballotHash, "ballot_hash", 32);
  return toHex(sha256Tag("ballot/v1/board-entry", prev, uint32(position), bh));
}

export const GENESIS = "0".repeat(64);
