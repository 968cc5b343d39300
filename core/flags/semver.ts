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
import { SEMVER_PATTERN } from "./model";

export interface Semver {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Numeric identifiers as numbers, the others as strings; empty for a release. */
  readonly prerelease: readonly (number | string)[];
}

/** Longer text is never a version (also keeps a huge context value from reaching the pattern). */
const MAX_LENGTH = 256;
const RELEASE: readonly (number | string)[] = Object.freeze([]);
const NUMERIC = /^\d+$/;

/** A number that stays exact, or undefined (a version beyond 2^53 cannot be ordered reliably). */
function exact(digits: string): number | undefined {
  const n = Number(digits);
  return n <= Number.MAX_SAFE_INTEGER ? n : undefined;
}

/**
 * The version `text` names (`2.1.0`, `v3.0.0-beta.1+build.5`), or undefined when it is not a
 * strict semantic version (no spaces, no `=` prefix, no missing parts) or a number in it exceeds
 * Number.MAX_SAFE_INTEGER.
 */
export function parseSemver(text: string): Semver | undefined {
  if (typeof text !== "string" || text.length > MAX_LENGTH) return undefined;
  const m = SEMVER_PATTERN.exec(text);
  if (m === null) return undefined;
  const major = exact(m[1]);
  const minor = exact(m[2]);
  const patch = exact(m[3]);
  if (major === undefined || minor === undefined || patch === undefined) return undefined;
  if (m[4] === undefined) return { major, minor, patch, prerelease: RELEASE };
  const prerelease: (number | string)[] = [];
  for (const id of m[4].split(".")) {
    if (!NUMERIC.test(id)) {
      prerelease.push(id);
      continue;
    }
    const n = exact(id);
    if (n === undefined) return undefined;
    prerelease.push(n);
  }
  return { major, minor, patch, prerelease };
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
