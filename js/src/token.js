// The voting token (docs/protocol.md §7), the same bytes as ballot/crypto/token.py:
//
//   msg       = "ballot/v1/token" (15 bytes) ‖ base_hash (32) ‖ voter_key (32)
//   prepared  = prefix (32 random bytes) ‖ msg                  (111 bytes)
//   token_id  = SHA256_token-id(prepared)

import {
  EncodingError,
  bigFromBytesBE,
  bigToBytesBE,
  bytesEqual,
  concatBytes,
  randomBytes,
  requireBytes,
} from "./bytes.js";
import * as blindrsa from "./blindrsa.js";
import { b64decode, b64encode, sha256Tag, utf8 } from "./encoding.js";
import { sodium } from "./sodium.js";

export const TOKEN_TAG = utf8("ballot/v1/token");
export const PREPARED_LENGTH = 32 + TOKEN_TAG.length + 32 + 32;

/** A token that is malformed, for another election, or not signed by the issuer. */
export class TokenError extends Error {
  constructor(message) {
    super(message);
    this.name = "TokenError";
  }
}

export function tokenMessage(baseHash, voterPublicKey) {
  if (!(baseHash instanceof Uint8Array) || !(voterPublicKey instanceof Uint8Array) ||
      baseHash.length !== 32 || voterPublicKey.length !== 32) {
    throw new EncodingError("the base hash and the voter key are 32 bytes each");
  }
  return concatBytes(TOKEN_TAG, baseHash, voterPublicKey);
}

/** {baseHash, voterPublicKey} from a prepared token message (111 bytes). */
export function parseTokenMessage(prepared) {
  requireBytes(prepared, "token message");
  if (prepared.length !== PREPARED_LENGTH) {
    throw new TokenError(`a token message is ${PREPARED_LENGTH} bytes, got ${prepared.length}`);
  }
  const body = prepared.subarray(32);
  if (!bytesEqual(body.subarray(0, TOKEN_TAG.length), TOKEN_TAG)) throw new TokenError("not a ballot token message");
  return {
    baseHash: body.slice(TOKEN_TAG.length, TOKEN_TAG.length + 32),
    voterPublicKey: body.slice(TOKEN_TAG.length + 32),
  };
}

/** SHA256_token-id(prepared), 32 bytes. */
export function tokenId(prepared) {
  return sha256Tag("ballot/v1/token-id", requireBytes(prepared, "token message"));
}

// -- the voter's Ed25519 key -----------------------------------------------------------------------

/** An Ed25519 key pair from a 32-byte seed (RFC 8032; PyNaCl's SigningKey(seed)). */
export function voterKeyFromSeed(seed) {
  if (typeof seed === "string") seed = b64decode(seed, 32, "voter key seed");
  requireBytes(seed, "voter key seed", 32);
  const kp = sodium().crypto_sign_seed_keypair(seed);
  return Object.freeze({ seed: Uint8Array.from(seed), publicKey: kp.publicKey, secretKey: kp.privateKey });
}

/** A fresh voter key from crypto.getRandomValues. */
export function newVoterKey() {
  return voterKeyFromSeed(randomBytes(32));
}

export function signDetached(voterKey, message) {
  return sodium().crypto_sign_detached(message, voterKey.secretKey);
}

export function verifyDetached(publicKey, message, signature) {
  try {
    return sodium().crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
}

// -- obtaining a token (the blind-signature exchange) ---------------------------------------------

/**
 * Step 1: the prepared token message for this election and voter key, blinded for the issuer.
 * Returns {blindedMsg: b64 (send as "blinded_msg"), pending} where `pending` is a plain JSON
 * object of strings (it may be kept in sessionStorage; it holds the secret unblinding factor).
 */
export function startToken(issuer, baseHash, voterKey, { prefix = null, salt = null, r = null } = {}) {
  const prepared = blindrsa.prepare(tokenMessage(baseHash, voterKey.publicKey), { prefix });
  const { blindedMsg, state } = blindrsa.blind(issuer, prepared, { salt, r });
  return {
    blindedMsg: b64encode(blindedMsg),
    pending: {
      prepared: b64encode(prepared),
      inv: b64encode(bigToBytesBE(state.inv, issuer.kLen)),
      issuer: b64encode(blindrsa.fingerprint(issuer)),
    },
  };
}

/**
 * Step 2: unblind the issuer's answer ("blind_sig", b64) into the token {message, signature}
 * (both b64, exactly the ballot's "token" object). The RSASSA-PSS signature is verified first.
 */
export function finishToken(issuer, pending, blindSig) {
  if (pending.issuer !== b64encode(blindrsa.fingerprint(issuer))) {
    throw new blindrsa.BlindSignatureError("blinding state belongs to a different issuer key");
  }
  const prepared = b64decode(pending.prepared, PREPARED_LENGTH, "pending.prepared");
  const inv = bigFromBytesBE(b64decode(pending.inv, issuer.kLen, "pending.inv"));
  const raw = typeof blindSig === "string" ? b64decode(blindSig, issuer.kLen, "blind_sig") : blindSig;
  const sig = blindrsa.finalize(issuer, prepared, raw, { inv, n: issuer.n, variant: blindrsa.DEFAULT_VARIANT });
  return { message: b64encode(prepared), signature: b64encode(sig) };
}

/** Check a token {message, signature} (b64 or bytes) against the issuer and election. */
export function checkToken(issuer, baseHash, token) {
  const message = typeof token.message === "string" ? b64decode(token.message, undefined, "token.message") : token.message;
  const signature = typeof token.signature === "string" ? b64decode(token.signature, undefined, "token.signature") : token.signature;
  const { baseHash: election, voterPublicKey } = parseTokenMessage(message);
  if (!bytesEqual(election, baseHash)) throw new TokenError("the token is for another election");
  try {
    blindrsa.checkSignature(issuer, message, signature);
  } catch (e) {
    if (e instanceof blindrsa.BlindSignatureError) {
      throw new TokenError(`the token's signature is not the issuer's: ${e.message}`);
    }
    throw e;
  }
  return voterPublicKey;
}
