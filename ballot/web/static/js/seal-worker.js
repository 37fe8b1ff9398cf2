// Encrypts a ballot off the page's thread and reports progress (docs/js-client.md: the bundle
// works in a worker). Messages in: {info, token, seed, choices, perUnit}; out: {progress} …,
// then {result: {ballot, trackingCode, ballotHash, audit}} or {error}.
"use strict";
importScripts("ballot-crypto.js");
const loading = self.BallotCrypto.ready();
self.onmessage = async (event) => {
  const { info, token, seed, choices, perUnit } = event.data;
  try {
    await loading;
    const BC = self.BallotCrypto;
    const total = choices.length * perUnit;
    let calls = 0;
    // The same randomness as the default (uniform scalars from crypto.getRandomValues), counted:
    // each unit draws its nonce, then the proof's w, then two scalars per other branch.
    const rng = () => {
      calls += 1;
      if (calls % perUnit === 0) self.postMessage({ progress: calls / total });
      return BC.group.randomScalar();
    };
    const out = BC.encryptBallot(info, token, seed, choices, { rng });
    self.postMessage({ result: { ballot: out.ballot, trackingCode: out.trackingCode, ballotHash: out.ballotHash, audit: out.audit } });
  } catch (e) {
    self.postMessage({ error: String((e && e.message) || e) });
  }
};
