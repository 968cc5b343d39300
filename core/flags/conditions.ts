/**
 * Conditions compiled to tests on an evaluation context. Attribute types are strict and never
 * coerced, and no context value makes a test throw:
 *   equals / in     compare with === (1 is not "1"); the attribute must be a string, a boolean or
 *                   a finite number of a type the condition names
 *   lt lte gt gte   need a finite number
 *   startsWith …    need a string (case-sensitive; "" is a string like any other)
 *   semver…         need a string that is a semantic version (semver.ts), compared by precedence
 * A missing attribute or one of the wrong type makes every test false, the negated ones
 * (notEquals, notIn, notStartsWith, notEndsWith, notContains, semverNe, notInSegment) included:
 * a user nothing is known about is never targeted by a negative test. Otherwise a negated test is
 * exactly the negation of its positive one.
 * Segment membership: not excluded AND (targetingKey included OR the conditions hold, when there
 * are any). A segment missing from the lookup makes inSegment and notInSegment both false, so a
 * deleted segment never widens a rule.
 */
import type { AttributeCondition, Condition, MatchMode, Scalar } from "./model";
import { compareSemver, MAX_SEMVER_LENGTH, parseSemver, type Semver } from "./semver";

/** OpenFeature-style evaluation context: targetingKey plus flat attributes. */
export type EvaluationContext = Readonly<Record<string, unknown>> & { readonly targetingKey?: string };

/** A segment ready to test users against. */
export interface CompiledSegment {
  readonly name: string;
  readonly contains: (ctx: EvaluationContext) => boolean;
}

/** The segments rules may refer to, by name. */
export type SegmentLookup = ReadonlyMap<string, CompiledSegment>;

export type ConditionTest = (ctx: EvaluationContext, segments: SegmentLookup | undefined) => boolean;

const NEVER: ConditionTest = () => false;

/** Strings, booleans and finite numbers: what equals and in can hold. */
function scalarType(v: unknown): "string" | "number" | "boolean" | undefined {
  const t = typeof v;
  if (t === "string" || t === "boolean") return t;
  return t === "number" && Number.isFinite(v) ? "number" : undefined;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/**
 * Context versions already parsed, by text (null: not a version). An app reports few distinct
 * versions, so most semver tests skip the parse; bounded, and emptied when full.
 */
const parsedVersions = new Map<string, Semver | null>();
const PARSED_VERSIONS_MAX = 1024;

/** The version an attribute holds: undefined when it is not a string or not a valid version. */
function versionOf(v: unknown): Semver | undefined {
  if (typeof v !== "string" || v.length > MAX_SEMVER_LENGTH) return undefined;
  let parsed = parsedVersions.get(v);
  if (parsed === undefined) {
    if (parsedVersions.size >= PARSED_VERSIONS_MAX) parsedVersions.clear();
    parsed = parseSemver(v) ?? null;
    parsedVersions.set(v, parsed);
  }
  return parsed ?? undefined;
}

function equality(attribute: string, expected: Scalar, negated: boolean): ConditionTest {
  const type = typeof expected;
  if (!negated) return (ctx) => ctx[attribute] === expected;
  return (ctx) => {
    const v = ctx[attribute];
    return scalarType(v) === type && v !== expected;
  };
}

function membership(attribute: string, values: readonly Scalar[], negated: boolean): ConditionTest {
  const set = new Set<unknown>(values);
  const types = new Set<string>(values.map((v) => typeof v));
  if (!negated) return (ctx) => set.has(ctx[attribute]);
  return (ctx) => {
    const v = ctx[attribute];
    const type = scalarType(v);
    return type !== undefined && types.has(type) && !set.has(v);
  };
}

function numeric(attribute: string, op: "lt" | "lte" | "gt" | "gte", n: number): ConditionTest {
  switch (op) {
    case "lt":
      return (ctx) => isFiniteNumber(ctx[attribute]) && (ctx[attribute] as number) < n;
    case "lte":
      return (ctx) => isFiniteNumber(ctx[attribute]) && (ctx[attribute] as number) <= n;
    case "gt":
      return (ctx) => isFiniteNumber(ctx[attribute]) && (ctx[attribute] as number) > n;
    case "gte":
      return (ctx) => isFiniteNumber(ctx[attribute]) && (ctx[attribute] as number) >= n;
  }
}

function text(attribute: string, holds: (s: string) => boolean, negated: boolean): ConditionTest {
  return (ctx) => {
    const v = ctx[attribute];
    return typeof v === "string" && holds(v) !== negated;
  };
}

const SEMVER_HOLDS: Record<"semverEq" | "semverNe" | "semverLt" | "semverLte" | "semverGt" | "semverGte", (c: -1 | 0 | 1) => boolean> = {
  semverEq: (c) => c === 0,
  semverNe: (c) => c !== 0,
  semverLt: (c) => c < 0,
  semverLte: (c) => c <= 0,
  semverGt: (c) => c > 0,
  semverGte: (c) => c >= 0,
};

function version(attribute: string, op: keyof typeof SEMVER_HOLDS, value: string): ConditionTest {
  const expected = parseSemver(value);
  // A value the schema refuses (e.g. a number beyond 2^53, which cannot be ordered exactly): never holds.
  if (expected === undefined) return NEVER;
  const holds = SEMVER_HOLDS[op];
  return (ctx) => {
    const v = versionOf(ctx[attribute]);
    return v !== undefined && holds(compareSemver(v, expected));
  };
}

function attributeTest(c: AttributeCondition): ConditionTest {
  switch (c.op) {
    case "equals":
    case "notEquals":
      return equality(c.attribute, c.value, c.op === "notEquals");
    case "in":
    case "notIn":
      return membership(c.attribute, c.values, c.op === "notIn");
    case "lt":
    case "lte":
    case "gt":
    case "gte":
      return numeric(c.attribute, c.op, c.value);
    case "startsWith":
    case "notStartsWith": {
      const prefix = c.value;
      return text(c.attribute, (s) => s.startsWith(prefix), c.op === "notStartsWith");
    }
    case "endsWith":
    case "notEndsWith": {
      const suffix = c.value;
      return text(c.attribute, (s) => s.endsWith(suffix), c.op === "notEndsWith");
    }
    case "contains":
    case "notContains": {
      const part = c.value;
      return text(c.attribute, (s) => s.includes(part), c.op === "notContains");
    }
    case "semverEq":
    case "semverNe":
    case "semverLt":
    case "semverLte":
    case "semverGt":
    case "semverGte":
      return version(c.attribute, c.op, c.value);
  }
}

/** One condition as a test; segments are looked up by name at evaluation time. */
export function compileCondition(c: Condition): ConditionTest {
  if (!("segment" in c)) return attributeTest(c);
  const name = c.segment;
  if (c.op === "inSegment") return (ctx, segments) => segments?.get(name)?.contains(ctx) === true;
  return (ctx, segments) => segments?.get(name)?.contains(ctx) === false;
}

/** Several conditions combined: all must hold, or any one (an empty list: none holds). */
export function compileConditions(match: MatchMode, conditions: readonly Condition[]): ConditionTest {
  const tests = conditions.map(compileCondition);
  if (tests.length === 0) return NEVER;
  if (tests.length === 1) return tests[0];
  if (match === "all") {
    return (ctx, segments) => {
      for (let i = 0; i < tests.length; i++) if (!tests[i](ctx, segments)) return false;
      return true;
    };
  }
  return (ctx, segments) => {
    for (let i = 0; i < tests.length; i++) if (tests[i](ctx, segments)) return true;
    return false;
  };
}
