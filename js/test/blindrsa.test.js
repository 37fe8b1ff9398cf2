import test, { before } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, verify as nodeVerify, constants } from "node:crypto";
import { RSABSSA } from "@cloudflare/blindrsa-ts";
import { BC, ISSUER_PEM, RFC9474, VECTORS, hex, issuerPublicKey, rawSign, unhex } from "./helpers.js";

const { blindrsa, encoding } = BC;
const R = VECTORS.rsa;
const big = (h) => BigInt("0x" + h);

before(async () => {
  await BC.ready();
});

function pemToDer(pem) {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return new Uint8Array(Buffer.from(b64, "base64"));
}

async function webKeys() {
  const pub = await crypto.subtle.importKey("spki", encoding.b64decode(R.public_key_b64), { name: "RSA-PSS", hash: "SHA-384" }, true, ["verify"]);
  const priv = await crypto.subtle.importKey("pkcs8", pemToDer(ISSUER_PEM), { name: "RSA-PSS", hash: "SHA-384" }, true, ["sign"]);
  return { pub, priv };
}

test("issuer key: SPKI DER parsed, fingerprint, canonical re-encoding", () => {
  const pk = issuerPublicKey();
  assert.equal(pk.n.toString(16), R.n);
  assert.equal(pk.e.toString(16), R.e);
  assert.equal(pk.bits, R.modulus_bits);
  assert.equal(pk.kLen, 384);
  assert.equal(hex(blindrsa.fingerprint(pk)), R.fingerprint);
  assert.equal(encoding.b64encode(blindrsa.encodeSpki(pk.n, pk.e)), R.public_key_b64);
  assert.equal(encoding.b64encode(pemToDer(R.public_key_pem)), R.public_key_b64);
});

test("issuer key: non-canonical, non-RSA, truncated and small keys are refused", () => {
  const der = encoding.b64decode(R.public_key_b64);
  const bad = [];
  bad.push(der.subarray(0, der.length - 1)); // truncated
  bad.push(BC.bytes.concatBytes(der, new Uint8Array([0]))); // trailing byte
  const noNull = Uint8Array.from(der);
  noNull[17] = 0x04; // NULL parameters changed to an OCTET STRING tag
  bad.push(noNull);
  const pss = Uint8Array.from(der);
  pss[16] = 0x0a; // 1.2.840.113549.1.1.10 id-RSASSA-PSS
  bad.push(pss);
  const longLen = BC.bytes.concatBytes(new Uint8Array([0x30, 0x83, 0x00]), der.subarray(2)); // non-minimal length
  bad.push(longLen);
  for (const b of bad) assert.throws(() => blindrsa.parseSpki(b), blindrsa.BlindSignatureError);
  // a 2048-bit key: valid DER but too small for the product
  const n2048 = (1n << 2047n) + 12345n * 2n + 1n;
  const small = blindrsa.encodeSpki(n2048, 65537n);
  assert.throws(() => blindrsa.parseSpki(small), /at least 3072/);
  assert.equal(blindrsa.parseSpki(small, { minBits: 2048 }).bits, 2048);
});

test("EMSA-PSS-ENCODE with a given salt, as Python", () => {
  for (const c of R.emsa_pss_encode) {
    assert.equal(hex(blindrsa.emsaPssEncode(unhex(c.msg), c.em_bits, { salt: unhex(c.salt) })), c.encoded);
  }
});

test("blinding with a given inv, finalize, verify — as Python", () => {
  const pk = issuerPublicKey();
  for (const c of R.blind) {
    const { blindedMsg, state } = blindrsa.blind(pk, unhex(c.prepared), { salt: unhex(c.salt), inv: big(c.inv) });
    assert.equal(hex(blindedMsg), c.blinded_msg);
    assert.equal(state.inv, big(c.inv));
    assert.equal(hex(rawSign(blindedMsg)), c.blind_sig);
    assert.equal(hex(blindrsa.finalize(pk, unhex(c.prepared), unhex(c.blind_sig), state)), c.sig);
    assert.ok(blindrsa.verify(pk, unhex(c.prepared), unhex(c.sig)));
    assert.ok(!blindrsa.verify(pk, unhex(c.prepared).subarray(1), unhex(c.sig)));
    const wrong = unhex(c.blind_sig);
    wrong[200] ^= 1;
    assert.throws(() => blindrsa.finalize(pk, unhex(c.prepared), wrong, state), /does not give a valid signature/);
    assert.throws(() => blindrsa.finalize(pk, unhex(c.prepared), unhex(c.blind_sig).subarray(1), state), /must be 384 bytes/);
    const tooBig = BC.bytes.bigToBytesBE(pk.n, pk.kLen);
    assert.throws(() => blindrsa.finalize(pk, unhex(c.prepared), tooBig, state), /out of range/);
  }
});

test("RFC 9474 Appendix A: all four vectors (blind with inv, finalize with blind_sig, verify)", () => {
  assert.equal(RFC9474.length, 4);
  for (const v of RFC9474) {
    const variant = blindrsa.VARIANTS[v.name];
    assert.ok(variant, v.name);
    assert.equal(variant.saltLength, Number(v.sLen));
    const pk = blindrsa.publicKey(big(v.n), big(v.e), { minBits: 2048 });
    const prepared = unhex(v.prepared_msg);
    assert.equal(hex(prepared), (v.msg_prefix || "") + v.msg);
    const salt = v.salt ? unhex(v.salt) : new Uint8Array(0);
    assert.equal(hex(blindrsa.emsaPssEncode(prepared, pk.bits - 1, { variant, salt })), v.encoded_msg, v.name);
    const { blindedMsg, state } = blindrsa.blind(pk, prepared, { variant, salt, inv: big(v.inv) });
    assert.equal(hex(blindedMsg), v.blinded_msg, v.name);
    const sig = blindrsa.finalize(pk, prepared, unhex(v.blind_sig), state);
    assert.equal(hex(sig), v.sig, v.name);
    assert.ok(blindrsa.verify(pk, prepared, sig, { variant }));
    // the raw signature is blind_sig^... : check blind_sig = blinded^d mod n with the vector's d
    assert.equal(BC.bytes.modPow(big(v.blinded_msg), big(v.d), pk.n), big(v.blind_sig));
  }
});

test("interop: JS-blinded token, raw RSA signature, JS finalize → blindrsa-ts and OpenSSL verify", async () => {
  const { pub } = await webKeys();
  const suite = RSABSSA.SHA384.PSS.Randomized();
  const pk = issuerPublicKey();
  const nodeKey = createPublicKey(R.public_key_pem);
  for (let i = 0; i < 3; i++) {
    const prepared = blindrsa.prepare(BC.bytes.randomBytes(79));
    const { blindedMsg, state } = blindrsa.blind(pk, prepared);
    const sig = blindrsa.finalize(pk, prepared, rawSign(blindedMsg), state);
    assert.equal(await suite.verify(pub, sig, prepared), true);
    assert.equal(nodeVerify("sha384", prepared, { key: nodeKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }, sig), true);
    const other = Uint8Array.from(prepared);
    other[0] ^= 1;
    assert.equal(await suite.verify(pub, sig, other), false);
  }
});

test("interop: JS-blinded message signed by blindrsa-ts blindSign, finalized in JS", async () => {
  const { pub, priv } = await webKeys();
  const suite = RSABSSA.SHA384.PSS.Randomized();
  const pk = issuerPublicKey();
  const prepared = blindrsa.prepare(new TextEncoder().encode("ballot/v1/token interop"));
  const { blindedMsg, state } = blindrsa.blind(pk, prepared);
  const blindSig = await suite.blindSign(priv, blindedMsg);
  const sig = blindrsa.finalize(pk, prepared, blindSig, state);
  assert.equal(await suite.verify(pub, sig, prepared), true);
});

test("interop: blindrsa-ts blinds and finalizes; JS verifies, and JS finalize accepts its inv", async () => {
  const { pub } = await webKeys();
  const suite = RSABSSA.SHA384.PSS.Randomized();
  const pk = issuerPublicKey();
  for (let i = 0; i < 3; i++) {
    const prepared = suite.prepare(BC.bytes.randomBytes(79));
    const { blindedMsg, inv } = await suite.blind(pub, prepared);
    const blindSig = rawSign(blindedMsg);
    const sig = await suite.finalize(pub, prepared, blindSig, inv);
    assert.ok(blindrsa.verify(pk, prepared, sig));
    const ours = blindrsa.finalize(pk, prepared, blindSig, { inv: BC.bytes.bigFromBytesBE(inv), n: pk.n, variant: blindrsa.DEFAULT_VARIANT });
    assert.equal(hex(ours), hex(sig));
    const bad = Uint8Array.from(sig);
    bad[383] ^= 1;
    assert.ok(!blindrsa.verify(pk, prepared, bad));
  }
});

test("verify refuses malformed signatures without throwing", () => {
  const pk = issuerPublicKey();
  const c = R.blind[0];
  assert.equal(blindrsa.verify(pk, unhex(c.prepared), unhex(c.sig).subarray(0, 383)), false);
  assert.equal(blindrsa.verify(pk, unhex(c.prepared), BC.bytes.bigToBytesBE(pk.n - 1n, 384)), false);
  assert.equal(blindrsa.verify(pk, unhex(c.prepared), new Uint8Array(384)), false);
  assert.equal(blindrsa.verify(pk, unhex(c.prepared), unhex(c.sig), { variant: blindrsa.VARIANTS["RSABSSA-SHA384-PSSZERO-Randomized"] }), false);
});
