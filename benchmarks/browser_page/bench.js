// Driven by benchmarks/_browser.py, one call at a time so that the suite can read the CPU time
// of Chromium's renderer process around each call: the real bundle (window.BallotCrypto) on a
// page served over plain HTTP, timed with performance.now().
// job.json: {info (GET /api/v1/elections/<slug>), token {message, signature}, seed (b64url),
//            choices}
"use strict";

(() => {
  const now = () => performance.now();
  const S = {};

  window.benchPrepare = async function benchPrepare() {
    S.job = await (await fetch("job.json", { cache: "no-store" })).json();
    const BC = (S.BC = window.BallotCrypto);
    let t = now();
    await BC.ready();
    const readyMs = now() - t;
    S.key = BC.voterKeyFromSeed(S.job.seed);
    const G = BC.group;
    const k = G.randomScalar();
    const P = G.baseMul(G.randomScalar());
    const Q = G.baseMul(G.randomScalar());
    // One group operation through BallotCrypto.group (libsodium.js, BigInt scalars).
    S.ops = { var: () => G.mul(P, k), base: () => G.baseMul(k), add: () => G.add(P, Q) };
    return {
      isSecureContext: window.isSecureContext,
      subtle: !!(window.crypto && window.crypto.subtle),
      crossOriginIsolated: !!window.crossOriginIsolated,
      userAgent: navigator.userAgent,
      hardwareConcurrency: navigator.hardwareConcurrency,
      readyMs,
    };
  };

  // The first encryption on the page also runs loadElection (every ceremony proof checked,
  // then cached per info object), with V8 not yet warmed up: what a phone does once.
  window.benchFirst = function benchFirst() {
    const t = now();
    S.sealed = S.BC.encryptBallot(S.job.info, S.job.token, S.key, S.job.choices);
    return now() - t;
  };

  window.benchEncrypt = function benchEncrypt() {
    const t = now();
    S.sealed = S.BC.encryptBallot(S.job.info, S.job.token, S.key, S.job.choices);
    return now() - t;
  };

  window.benchVerify = function benchVerify() {
    const t = now();
    S.BC.verifyBallot(S.job.info, S.sealed.ballot);
    return now() - t;
  };

  window.benchPrimitive = function benchPrimitive([name, calls]) {
    const fn = S.ops[name];
    const t = now();
    for (let i = 0; i < calls; i++) fn();
    return now() - t;
  };

  window.benchBallot = function benchBallot() {
    return {
      ballot: S.sealed.ballot,
      ballotBytes: S.BC.encoding.canonicalJson(S.sealed.ballot).length,
      trackingCode: S.sealed.trackingCode,
    };
  };
})();
