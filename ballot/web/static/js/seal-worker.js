// Encrypts a ballot off the page's thread and reports progress (docs/js-client.md: the bundle
// works in a worker). Messages in: {info, token, choices}; out: {progress} …, then
// {result: {body, trackingCode, ballotHash, audit}} or {error}. The body is NOT signed (no
// voter key here): the page signs it when the member presses Cast (docs/protocol.md §8.4).
"use strict";
importScripts("ballot-crypto.js");
const loading = self.BallotCrypto.ready();

// How many scalars sealBallot draws (js/src/ballot.js): each unit its nonce, the proof's w
// and two per other branch (2 × |values|); then, for ballot B, each limit group's proof its w
// and two per other allowed sum (2 × |allowed values| − 1), after every unit.
function scalarsToDraw(shape) {
  const perUnit = 2 * shape.values.length;
  const groups = (shape.limits || []).reduce((n, g) => n + 2 * g.values.length - 1, 0);
  return shape.numUnits * perUnit + groups;
}

self.onmessage = async (event) => {
  const { info, token, choices } = event.data;
  try {
    await loading;
    const BC = self.BallotCrypto;
    const total = scalarsToDraw(BC.loadElection(info).shape);
    const step = Math.max(1, Math.floor(total / 100)); // about a hundred updates
    let calls = 0;
    // The same randomness as the default (uniform scalars from crypto.getRandomValues), counted.
    const rng = () => {
      calls += 1;
      if (calls % step === 0 || calls === total) self.postMessage({ progress: Math.min(1, calls / total) });
      return BC.group.randomScalar();
    };
    const out = BC.sealBallot(info, token, choices, { rng });
    self.postMessage({ result: { body: out.body, trackingCode: out.trackingCode, ballotHash: out.ballotHash, audit: out.audit } });
  } catch (e) {
    self.postMessage({ error: String((e && e.message) || e) });
  }
};
