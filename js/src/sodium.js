// libsodium (wasm, sumo build): loaded once; every group operation needs ready() first.

import sodiumModule from "libsodium-wrappers-sumo";

let lib = null;
let loading = null;

/** Resolves when libsodium is loaded; call (and await) once before any other function. */
export function ready() {
  if (!loading) {
    loading = sodiumModule.ready.then(() => {
      lib = sodiumModule;
      return lib;
    });
  }
  return loading;
}

export function sodium() {
  if (!lib) throw new Error("ballot-crypto: await BallotCrypto.ready() before using it");
  return lib;
}
