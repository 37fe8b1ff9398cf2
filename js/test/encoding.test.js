import test from "node:test";
import assert from "node:assert/strict";
import { BC, VECTORS, hex, unhex } from "./helpers.js";

const { encoding } = BC;
const V = VECTORS.encoding;

test("canonical JSON: every Python vector byte for byte", () => {
  for (const c of V.canonical_json) {
    assert.equal(hex(encoding.canonicalJson(c.value)), c.canonical_hex, c.name);
  }
  assert.ok(V.canonical_json.length >= 10);
});

test("canonical JSON: JS text equals the UTF-8 decoding of Python's bytes", () => {
  for (const c of V.canonical_json) {
    assert.equal(encoding.canonicalJsonText(c.value), new TextDecoder().decode(unhex(c.canonical_hex)), c.name);
  }
});

test("canonical JSON: what Python refuses is refused", () => {
  for (const c of V.canonical_json_refused) {
    assert.throws(() => encoding.canonicalJson(c.value), encoding.EncodingError, c.name);
  }
  for (const bad of [NaN, Infinity, -Infinity, 0.5, undefined, () => 1, 1n, new Uint8Array(2), new Date(0), { a: undefined }, ["\ud800"], { "\udc00": 1 }]) {
    assert.throws(() => encoding.canonicalJson(bad), Error, String(bad));
  }
});

test("canonical JSON: keys sorted by code point, not UTF-16 unit", () => {
  const text = encoding.canonicalJsonText({ "\u{1F600}": 1, "\uffff": 2 });
  assert.equal(text, '{"\uffff":2,"\u{1F600}":1}');
  assert.equal(encoding.compareCodePoints("a", "aa"), -1);
  assert.equal(encoding.compareCodePoints("\u{10000}", "\uffff"), 1);
});

test("strict JSON parsing agrees with Python on what is accepted, and on the canonical bytes", () => {
  for (const c of V.parse_json) {
    if (c.canonical_hex !== null) {
      assert.equal(hex(encoding.canonicalJson(encoding.parseJson(c.text))), c.canonical_hex, c.name);
      assert.equal(hex(encoding.canonicalJson(encoding.parseJson(new TextEncoder().encode(c.text)))), c.canonical_hex, c.name);
    } else {
      assert.throws(() => encoding.canonicalJson(encoding.parseJson(c.text)), encoding.EncodingError, c.name);
    }
  }
});

test("parseJson: __proto__ is an ordinary key", () => {
  const v = encoding.parseJson('{"__proto__":{"x":1},"a":2}');
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v).sort(), ["__proto__", "a"]);
  assert.equal(encoding.canonicalJsonText(v), '{"__proto__":{"x":1},"a":2}');
});

test("b64decode: valid and invalid exactly as Python", () => {
  for (const c of V.b64decode) {
    const length = c.length === null ? undefined : c.length;
    if (c.ok) assert.equal(hex(encoding.b64decode(c.text, length)), c.hex, JSON.stringify(c.text));
    else assert.throws(() => encoding.b64decode(c.text, length), encoding.EncodingError, JSON.stringify(c.text));
  }
});

test("b64encode", () => {
  for (const c of V.b64encode) {
    assert.equal(encoding.b64encode(unhex(c.hex)), c.b64);
    assert.equal(hex(encoding.b64decode(c.b64)), c.hex);
  }
});

test("u32", () => {
  for (const c of V.uint32) assert.equal(hex(encoding.uint32(c.n)), c.hex);
  for (const n of V.uint32_refused) assert.throws(() => encoding.uint32(n), encoding.EncodingError);
});

test("u64", () => {
  for (const c of V.uint64) assert.equal(hex(encoding.uint64(BigInt(c.n))), c.hex);
  for (const n of V.uint64_refused) assert.throws(() => encoding.uint64(BigInt(n)), encoding.EncodingError);
  assert.throws(() => encoding.uint64(2 ** 64), encoding.EncodingError);
  assert.throws(() => encoding.uint64(0.5), encoding.EncodingError);
});

test("hash_parts and the tag hashes", () => {
  for (const c of V.hash_parts) {
    const parts = c.parts_hex.map(unhex);
    assert.equal(hex(encoding.hashParts(c.tag, parts, c.digest)), c.hex, c.tag);
    if (c.digest === "sha256") assert.equal(hex(encoding.sha256Tag(c.tag, ...parts)), c.hex);
  }
});

test("hash_to_scalar", () => {
  for (const c of V.hash_to_scalar) {
    const k = BC.group.hashToScalar(c.tag, c.parts_hex.map(unhex));
    assert.equal(k.toString(), c.scalar, c.tag);
    assert.equal(hex(BC.group.encodeScalar(k)), c.scalar_hex);
  }
});
