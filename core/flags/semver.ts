/**
 * Semantic versions (semver.org 2.0.0): parsing, and ordering by the precedence of §11. Written
 * here rather than taken from the `semver` package so a flag's semver condition stays within the
 * evaluation budget (the bench compares both) and core/ stays free of extra dependencies.
 *
 * Precedence: MAJOR, MINOR, PATCH compare numerically; a version with a prerelease is lower than
 * the same version without one; prerelease identifiers compare left to right, numeric ones
 * numerically, alphanumeric ones lexically in ASCII, a numeric one below an alphanumeric one, and
 * a shorter list below a longer one it is a prefix of. Build metadata never counts.
 */
export interface Semver {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Numeric identifiers as numbers, the others as strings; empty for a release. */
  readonly prerelease: readonly (number | string)[];
}

/** Longer text is never a version (also keeps a huge context value from being scanned). */
export const MAX_SEMVER_LENGTH = 256;
const RELEASE: readonly (number | string)[] = Object.freeze([]);
const INVALID = -1;
const [DOT, HYPHEN, PLUS, ZERO, NINE, V] = [".", "-", "+", "0", "9", "v"].map((c) => c.charCodeAt(0));

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;
/** [0-9A-Za-z-]: the characters of a prerelease or build identifier. */
const isIdentifierChar = (c: number): boolean => isDigit(c) || c === HYPHEN || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);

/**
 * A scan of one version text: a position and what was read. Hand-written rather than a regular
 * expression, since evaluation parses the context's version on every call (the bench shows the
 * difference); the tests hold it to the `semver` package on generated strings.
 */
class Scanner {
  at = 0;
  constructor(readonly text: string) {}

  /** 0 or [1-9][0-9]* at the position, up to 2^53 - 1; INVALID otherwise. */
  number(): number {
    const { text } = this;
    const start = this.at;
    let n = 0;
    while (this.at < text.length && isDigit(text.charCodeAt(this.at))) {
      n = n * 10 + (text.charCodeAt(this.at) - ZERO);
      this.at++;
    }
    const digits = this.at - start;
    if (digits === 0 || (digits > 1 && text.charCodeAt(start) === ZERO) || n > Number.MAX_SAFE_INTEGER) return INVALID;
    return n;
  }

  /** Whether the character at the position is `c` (consumed when it is). */
  take(c: number): boolean {
    if (this.text.charCodeAt(this.at) !== c) return false;
    this.at++;
    return true;
  }

  /** The length of the identifier at the position (consumed). */
  identifier(): number {
    const start = this.at;
    while (this.at < this.text.length && isIdentifierChar(this.text.charCodeAt(this.at))) this.at++;
    return this.at - start;
  }
}

/** A prerelease identifier from start to end: a number when all digits (no leading zero), else its text. */
function prereleaseIdentifier(text: string, start: number, end: number): number | string | undefined {
  for (let i = start; i < end; i++) {
    if (!isDigit(text.charCodeAt(i))) return text.slice(start, end);
  }
  if (end - start > 1 && text.charCodeAt(start) === ZERO) return undefined;
  const n = Number(text.slice(start, end));
  return n <= Number.MAX_SAFE_INTEGER ? n : undefined;
}

/**
 * The version `text` names (`2.1.0`, `v3.0.0-beta.1+build.5`), or undefined when it is not a
 * strict semantic version (no spaces, no `=` prefix, no missing parts) or a number in it exceeds
 * Number.MAX_SAFE_INTEGER (it could not be ordered exactly).
 */
export function parseSemver(text: string): Semver | undefined {
  if (typeof text !== "string" || text.length > MAX_SEMVER_LENGTH) return undefined;
  const s = new Scanner(text);
  s.take(V);
  const major = s.number();
  if (major === INVALID || !s.take(DOT)) return undefined;
  const minor = s.number();
  if (minor === INVALID || !s.take(DOT)) return undefined;
  const patch = s.number();
  if (patch === INVALID) return undefined;
  let prerelease = RELEASE;
  if (s.take(HYPHEN)) {
    const ids: (number | string)[] = [];
    do {
      const start = s.at;
      if (s.identifier() === 0) return undefined;
      const id = prereleaseIdentifier(text, start, s.at);
      if (id === undefined) return undefined;
      ids.push(id);
    } while (s.take(DOT));
    prerelease = ids;
  }
  if (s.take(PLUS)) {
    do {
      if (s.identifier() === 0) return undefined;
    } while (s.take(DOT));
  }
  return s.at === text.length ? { major, minor, patch, prerelease } : undefined;
}

function order<T extends number | string>(a: T, b: T): -1 | 0 | 1 {
  return a === b ? 0 : a < b ? -1 : 1;
}

function compareIdentifiers(a: number | string, b: number | string): -1 | 0 | 1 {
  const aNumeric = typeof a === "number";
  if (aNumeric !== (typeof b === "number")) return aNumeric ? -1 : 1;
  return order(a, b);
}

/** -1 when `a` has lower precedence than `b`, 1 when higher, 0 when equal (build metadata aside). */
export function compareSemver(a: Semver, b: Semver): -1 | 0 | 1 {
  const core = order(a.major, b.major) || order(a.minor, b.minor) || order(a.patch, b.patch);
  if (core !== 0) return core;
  const pa = a.prerelease;
  const pb = b.prerelease;
  if (pa.length === 0 || pb.length === 0) return order(pb.length, pa.length);
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const c = compareIdentifiers(pa[i], pb[i]);
    if (c !== 0) return c;
  }
  return order(pa.length, pb.length);
}
