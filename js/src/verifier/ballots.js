// The ballot checks of the verifier (docs/protocol.md §12 step 3), shared by the page's Web
// Workers and Node: each ballot checked as ballot/crypto/ballots.py verify_ballot does, and a
// chunk's own aggregate (the sum of its valid ballots' ciphertexts per unit), so that the
// caller only adds one partial sum per chunk (as verify.py's worker processes).

import { bytesEqual, toHex } from "../bytes.js";
import { b64decode, b64encode, sha256Tag, uint32 } from "../encoding.js";
import { decodePoint } from "../group.js";
import { addCiphertexts, ciphertextToBytes } from "../elgamal.js";
import { ProofError, verifyDisjunctive } from "../proofs.js";
import * as blindrsa from "../blindrsa.js";
import { BallotError, ballotHashBytes, decodeBallot, makeShape } from "../ballot.js";
import { TokenError, checkToken, tokenId, verifyDetached } from "../token.js";
import { EncodingError } from "../bytes.js";

/**
 * What a worker needs to check ballots, as plain JSON (postMessage-able): the shape, the
 * base hash (hex), the joint key and the issuer's key (base64url DER).
 */
export function ballotParams(shapeArgs, baseHashHex, publicKeyB64, issuerDerB64) {
  return { shape: shapeArgs, baseHash: baseHashHex, publicKey: publicKeyB64, issuer: issuerDerB64 };
}

/** The checking state of a worker, from ballotParams. */
export function ballotState(params) {
  const shape = makeShape(params.shape);
  return {
    shape,
    baseHash: Uint8Array.from(params.baseHash.match(/../g).map((h) => parseInt(h, 16))),
    publicKey: decodePoint(b64decode(params.publicKey, 32, "joint key"), "joint key"),
    issuer: blindrsa.parseSpki(b64decode(params.issuer, undefined, "issuer_public_key")),
  };
}

function groupCiphertext(cts, units) {
  let total = cts[units[0]];
  for (const i of units.slice(1)) total = addCiphertexts(total, cts[i]);
  return total;
}

/**
 * verify_ballot, in its two parts (ballot/crypto/ballots.py check_envelope, then check_proofs):
 * shape and encodings, this election, the token's RSA signature, the voter's signature over
 * the ballot hash (throws BallotError naming the first problem: never receivable); then every
 * unit's proof and every limit group's proof (a failure is returned as `proofError`: a
 * received ballot that is invalid, docs/protocol.md "Received, then checked"). Returns
 * {ballotHash, tokenId (hex), ciphertexts, proofError}.
 */
export function checkBallot(state, ballot) {
  const { shape, baseHash, publicKey, issuer } = state;
  const decoded = decodeBallot(ballot, shape);
  if (!bytesEqual(decoded.election, baseHash)) throw new BallotError("the ballot is for another election");
  let voterKey;
  try {
    voterKey = checkToken(issuer, baseHash, decoded.token);
  } catch (e) {
    if (e instanceof TokenError || e instanceof EncodingError) throw new BallotError(e.message);
    throw e;
  }
  const hash = ballotHashBytes(ballot);
  if (!verifyDetached(voterKey, hash, decoded.signature)) {
    throw new BallotError("the ballot's signature does not verify with the token's key");
  }
  const cts = decoded.units.map((x) => x.ciphertext);
  let proofError = null;
  try {
    decoded.units.forEach(({ ciphertext, proof }, u) => {
      try {
        verifyDisjunctive(sha256Tag("ballot/v1/ctx/unit", baseHash, voterKey, uint32(u)), publicKey, ciphertext, shape.values, proof);
      } catch (e) {
        if (e instanceof ProofError) throw new BallotError(`unit ${u + 1}: the proof that it holds one allowed choice fails`);
        throw e;
      }
    });
    shape.limits.forEach((g, j) => {
      try {
        verifyDisjunctive(sha256Tag("ballot/v1/ctx/limit", baseHash, voterKey, uint32(j)), publicKey, groupCiphertext(cts, g.units), g.values, decoded.limits[j]);
      } catch (e) {
        if (e instanceof ProofError) throw new BallotError(`group ${j + 1}: more than ${g.max} agree, or the proof fails`);
        throw e;
      }
    });
  } catch (e) {
    if (!(e instanceof BallotError)) throw e;
    proofError = e.message;
  }
  return { ballotHash: toHex(hash), tokenId: toHex(tokenId(decoded.token.message)), ciphertexts: cts, proofError };
}

/**
 * Check a chunk of [position, ballot JSON]: rows [position, error | null, proofError | null,
 * tokenId, ballotHash] (as verify.py's workers) and the chunk's partial aggregate of the
 * ballots whose proofs verify (base64url of α ‖ β per unit; [] if none).
 */
export function checkChunk(state, chunk) {
  const rows = [];
  let totals = null;
  for (const [position, ballot] of chunk) {
    let res;
    try {
      res = checkBallot(state, ballot);
    } catch (e) {
      if (e instanceof BallotError || e instanceof EncodingError) {
        rows.push([position, e.message, null, null, null]);
        continue;
      }
      rows.push([position, `${e.name || "Error"}: ${e.message}`, null, null, null]);
      continue;
    }
    if (res.proofError !== null) {
      rows.push([position, null, res.proofError, res.tokenId, res.ballotHash]);
      continue;
    }
    rows.push([position, null, null, res.tokenId, res.ballotHash]);
    totals = totals ? totals.map((t, u) => addCiphertexts(t, res.ciphertexts[u])) : res.ciphertexts;
  }
  return { rows, partial: totals ? totals.map((c) => b64encode(ciphertextToBytes(c))) : [] };
}
