// Exact fractions with BigInt, as Python's fractions.Fraction in ballot/election (only what
// the verifier needs: compare, format "p/q", build from p and q).

function gcd(a, b) {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}

export class Fraction {
  constructor(p, q = 1n) {
    p = BigInt(p);
    q = BigInt(q);
    if (q === 0n) throw new RangeError("Fraction: zero denominator");
    if (q < 0n) [p, q] = [-p, -q];
    const g = gcd(p, q) || 1n;
    this.n = p / g;
    this.d = q / g;
    Object.freeze(this);
  }

  cmp(o) {
    const a = this.n * o.d;
    const b = o.n * this.d;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  eq(o) {
    return this.cmp(o) === 0;
  }

  toString() {
    return `${this.n}/${this.d}`;
  }
}

export const HALF = new Fraction(1n, 2n);
export const ZERO = new Fraction(0n);
export const ONE = new Fraction(1n);

/** "p/q" always (Fraction(1) is "1/1"), as _fields.format_fraction. */
export function formatFraction(f) {
  return `${f.n}/${f.d}`;
}

/** percent(Fraction(2, 3)) → "66.7%", rounded half up with integers only (text.percent). */
export function percent(value, places = 1) {
  if (value === null || value === undefined) return "—";
  const scale = 10n ** BigInt(places);
  const num = value.n * 100n * scale;
  const den = value.d;
  let q = num / den;
  let r = num % den;
  if (r < 0n) {
    q -= 1n;
    r += den;
  }
  if (2n * r >= den) q += 1n;
  if (!places) return `${q}%`;
  const whole = q / scale;
  const frac = (q % scale).toString().padStart(places, "0");
  return `${whole}.${frac}%`;
}

/** Parse the JSON form "p/q" (any form, not checked for lowest terms) or null. */
export function parseFractionText(text) {
  if (text === null || text === undefined) return null;
  const m = /^(-?\d+)\/(\d+)$/.exec(text);
  if (!m) throw new RangeError(`not a fraction: ${text}`);
  return new Fraction(BigInt(m[1]), BigInt(m[2]));
}
