// Python's repr() and equality of JSON values, so that messages and comparisons read as the
// Python verifier's (ballot/tally/verify.py).

/** repr() of a JSON value as Python prints it ('text', 12, True, None, [...], {...}). */
export function pyRepr(v) {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (typeof v === "string") {
    const q = v.includes("'") && !v.includes('"') ? '"' : "'";
    let out = "";
    for (const ch of v) {
      const c = ch.codePointAt(0);
      if (ch === "\\") out += "\\\\";
      else if (ch === q) out += "\\" + q;
      else if (ch === "\n") out += "\\n";
      else if (ch === "\r") out += "\\r";
      else if (ch === "\t") out += "\\t";
      else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
      else out += ch;
    }
    return q + out + q;
  }
  if (Array.isArray(v)) return "[" + v.map(pyRepr).join(", ") + "]";
  if (typeof v === "object") return "{" + Object.keys(v).map((k) => `${pyRepr(k)}: ${pyRepr(v[k])}`).join(", ") + "}";
  return String(v);
}

/** Python's == on parsed JSON (dicts compare without order; True == 1, False == 0). */
export function pyEqual(a, b) {
  if (a === b) return true;
  const num = (x) => (x === true ? 1 : x === false ? 0 : x);
  if ((typeof a === "boolean" || typeof a === "number") && (typeof b === "boolean" || typeof b === "number")) {
    return num(a) === num(b);
  }
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!pyEqual(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !pyEqual(a[k], b[k])) return false;
  }
  return true;
}

export function isObject(x) {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

/** Python isinstance(x, int) and not bool, for a parsed JSON value. */
export function isInt(x) {
  return typeof x === "number" && Number.isInteger(x);
}

/** Python sorted() on strings: by code point. */
export function sortStrings(list) {
  return [...list].sort((a, b) => {
    const x = [...a].map((c) => c.codePointAt(0));
    const y = [...b].map((c) => c.codePointAt(0));
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  });
}
