// BallotCrypto: the phone-side cryptography of ballot (docs/js-client.md). Pure functions, no
// network: the page fetches /api/v1/elections/<slug>, posts the blinded message and the
// ballot, and passes the JSON it receives to these functions.

import * as bytes from "./bytes.js";
import * as encoding from "./encoding.js";
import * as group from "./group.js";
import * as elgamal from "./elgamal.js";
import * as proofs from "./proofs.js";
import * as blindrsa from "./blindrsa.js";
import * as token from "./token.js";
import * as ballot from "./ballot.js";
import * as receipt from "./receipt.js";
import * as threshold from "./threshold.js";
import * as keyfile from "./keyfile.js";
import * as credentials from "./credential.js";
import * as vault from "./vault.js";
import * as trusteeDevice from "./trustee.js";
import { ready as sodiumReady } from "./sodium.js";

export const PROTOCOL = "ballot/v1";

/** Load libsodium (wasm). Await it once before anything else. */
export async function ready() {
  await sodiumReady();
}

/** Check the election info (GET /api/v1/elections/<slug>) and derive keys and ballot shape. */
export const loadElection = ballot.loadElection;

/** A fresh Ed25519 voter key {seed, publicKey, secretKey}; keep `seed` (b64) if the page may reload. */
export const newVoterKey = token.newVoterKey;
export const voterKeyFromSeed = token.voterKeyFromSeed;

/**
 * Token step 1. Returns {request: {blinded_msg}, pending}: POST `request` (with the invitation)
 * to /api/v1/elections/<slug>/tokens; keep `pending` (plain JSON, secret) for step 2.
 */
export function startToken(info, voterKey, options = {}) {
  const election = ballot.loadElection(info);
  const { blindedMsg, pending } = token.startToken(election.issuer, election.baseHash, voterKey, options);
  return { request: { blinded_msg: blindedMsg }, pending };
}

/** Token step 2: the server's "blind_sig" → the token {message, signature} (verified). */
export function finishToken(info, pending, blindSig) {
  return token.finishToken(ballot.loadElection(info).issuer, pending, blindSig);
}

/** SHA256_token-id of a token (hex). */
export function tokenId(tok) {
  const message = typeof tok.message === "string" ? encoding.b64decode(tok.message) : tok.message;
  return bytes.toHex(token.tokenId(message));
}

export const encryptBallot = ballot.encryptBallot;
/** Encrypt and prove, unsigned: the body a Benaloh audit may open (docs/protocol.md §8.4). */
export const sealBallot = ballot.sealBallot;
/** Sign a sealed body with the voter key: only when the member presses Cast. */
export const signBallot = ballot.signBallot;
export const verifyBallot = ballot.verifyBallot;
export const verifyBody = ballot.verifyBody;

/** The per-round invitation credential sent instead of the slip's code (docs/protocol.md §7.1). */
export const credential = credentials.credential;
export const normalizeCode = credentials.normalizeCode;
export const ballotHash = ballot.ballotHash;
export const trackingCode = ballot.trackingCode;
export const checkAudit = ballot.checkAudit;

/**
 * Check the server's answer to a cast: the receipt is signed by the election's receipt key,
 * names this election, and carries the ballot's tracking code. Throws ReceiptError.
 */
export function checkReceipt(info, rcpt, castBallot) {
  const election = ballot.loadElection(info);
  receipt.verifyReceipt(election.receiptKey, rcpt);
  if (rcpt.election !== election.baseHashHex) throw new receipt.ReceiptError("the receipt is for another election");
  if (castBallot !== undefined) {
    const code = typeof castBallot === "string" ? castBallot : ballot.trackingCode(castBallot.ballot || castBallot);
    if (rcpt.tracking_code !== code) throw new receipt.ReceiptError("the receipt is for another ballot");
  }
  return rcpt;
}

export const verifyReceipt = receipt.verifyReceipt;
export const entryHash = receipt.entryHash;

export const errors = Object.freeze({
  EncodingError: bytes.EncodingError,
  PointError: group.PointError,
  ProofError: proofs.ProofError,
  BlindSignatureError: blindrsa.BlindSignatureError,
  TokenError: token.TokenError,
  BallotError: ballot.BallotError,
  ReceiptError: receipt.ReceiptError,
  CeremonyError: threshold.CeremonyError,
  ShareError: threshold.ShareError,
  DecryptionError: threshold.DecryptionError,
  KeyFileError: keyfile.KeyFileError,
  VaultError: vault.VaultError,
});

/**
 * The trustee's device (docs/js-client.md, "Trustees"): the key ceremony, the key file and the
 * partial decryption, the same bytes as ballot/clients/trustee.py and `ballot trustee …`.
 */
export const trustee = Object.freeze({ ...trusteeDevice, threshold, keyfile });

export { bytes, encoding, group, elgamal, proofs, blindrsa, token, ballot, receipt, threshold, keyfile, credentials, vault };
