// Every condition operator, positive and negated, on good values and on every kind of bad one:
// a test never throws, a wrong type or a missing attribute makes it false, and a negated test is
// otherwise exactly the negation of the positive one.
import { compileCondition, compileConditions, type EvaluationContext, type SegmentLookup } from "../../../core/flags/conditions";
import { compileSegment } from "../../../core/flags/evaluate";
import { conditionSchema, segmentDefinitionSchema, type Condition } from "../../../core/flags/model";
import { compareSemver, parseSemver } from "../../../core/flags/semver";

const MISSING = Symbol("missing");
const HUGE = `${"x".repeat(1_000_000)}@example.com`;

/** The context `{a: value}`, or one without `a`. */
const ctxWith = (value: unknown): EvaluationContext => (value === MISSING ? { targetingKey: "u1" } : { targetingKey: "u1", a: value });
const holds = (c: unknown, ctx: EvaluationContext, segments?: SegmentLookup): boolean => compileCondition(conditionSchema.parse(c))(ctx, segments);

/** Values of no type any operator accepts. */
const NO_TYPE: [string, unknown][] = [
  ["missing", MISSING],
  ["undefined", undefined],
  ["null", null],
  ["an object", { a: 1 }],
  ["an empty object", {}],
  ["an array", ["NL", 5, "2.1.0"]],
  ["a function", () => "NL"],
  ["a symbol", Symbol("NL")],
  ["a bigint", 5n],
  ["a Date", new Date(0)],
  ["a String object", new String("NL")],
  ["a null-prototype object", Object.create(null) as object],
];

describe.each<[string, string, unknown, [string, unknown, boolean, boolean][]]>([
  [
    "equals",
    "notEquals",
    "NL",
    [
      ["the same string", "NL", true, false],
      ["another case", "nl", false, true],
      ["the empty string", "", false, true],
      ["a huge string", HUGE, false, true],
      ["a number (wrong type)", 1, false, false],
      ["a boolean (wrong type)", true, false, false],
      ["NaN (wrong type)", NaN, false, false],
    ],
  ],
  [
    "equals",
    "notEquals",
    1,
    [
      ["the same number", 1, true, false],
      ["1.0", 1.0, true, false],
      ["another number", 2, false, true],
      ["the string \"1\" (wrong type, never coerced)", "1", false, false],
      ["true (wrong type, never coerced)", true, false, false],
      ["NaN", NaN, false, false],
      ["Infinity", Infinity, false, false],
    ],
  ],
  [
    "equals",
    "notEquals",
    true,
    [
      ["true", true, true, false],
      ["false", false, false, true],
      ["the string \"true\" (wrong type)", "true", false, false],
      ["1 (wrong type)", 1, false, false],
    ],
  ],
])("%s / %s %j", (positive, negated, value, rows) => {
  test.each([...rows, ...NO_TYPE.map(([name, v]): [string, unknown, boolean, boolean] => [name, v, false, false])])("%s → %s, %s", (_name, v, pos, neg) => {
    expect(holds({ attribute: "a", op: positive, value }, ctxWith(v))).toBe(pos);
    expect(holds({ attribute: "a", op: negated, value }, ctxWith(v))).toBe(neg);
  });
});

describe("in / notIn [pro, team, 3]", () => {
  const values = ["pro", "team", 3];
  test.each<[string, unknown, boolean, boolean]>([
    ["a listed string", "pro", true, false],
    ["another listed string", "team", true, false],
    ["a listed number", 3, true, false],
    ["an unlisted string", "free", false, true],
    ["the empty string", "", false, true],
    ["an unlisted number", 4, false, true],
    ["the string \"3\" (a string, not listed)", "3", false, true],
    ["a boolean (no boolean is listed: wrong type)", true, false, false],
    ["NaN", NaN, false, false],
    ["Infinity", Infinity, false, false],
    ["an array holding a listed value", ["pro"], false, false],
    ...NO_TYPE.map(([name, v]): [string, unknown, boolean, boolean] => [name, v, false, false]),
  ])("%s → %s, %s", (_name, v, pos, neg) => {
    expect(holds({ attribute: "a", op: "in", values }, ctxWith(v))).toBe(pos);
    expect(holds({ attribute: "a", op: "notIn", values }, ctxWith(v))).toBe(neg);
  });
});

describe("lt / lte / gt / gte 18", () => {
  test.each<[string, unknown, [boolean, boolean, boolean, boolean]]>([
    ["below", 17, [true, true, false, false]],
    ["just below", 17.999, [true, true, false, false]],
    ["equal", 18, [false, true, false, true]],
    ["above", 19, [false, false, true, true]],
    ["negative", -5, [true, true, false, false]],
    ["-0", -0, [true, true, false, false]],
    ["the string \"17\" (never coerced)", "17", [false, false, false, false]],
    ["the string \"19\"", "19", [false, false, false, false]],
    ["a boolean", true, [false, false, false, false]],
    ["NaN", NaN, [false, false, false, false]],
    ["Infinity", Infinity, [false, false, false, false]],
    ["-Infinity", -Infinity, [false, false, false, false]],
    ["an array of a number", [17], [false, false, false, false]],
    ...NO_TYPE.map(([name, v]): [string, unknown, [boolean, boolean, boolean, boolean]] => [name, v, [false, false, false, false]]),
  ])("%s → lt, lte, gt, gte = %j", (_name, v, expected) => {
    expect((["lt", "lte", "gt", "gte"] as const).map((op) => holds({ attribute: "a", op, value: 18 }, ctxWith(v)))).toEqual(expected);
  });
});

describe.each<[string, string, string, [string, unknown, boolean][]]>([
  ["startsWith", "notStartsWith", "Dr ", [["a prefix match", "Dr Who", true], ["exactly the prefix", "Dr ", true], ["another case (case-sensitive)", "dr who", false], ["shorter than the prefix", "Dr", false], ["the prefix elsewhere", "Mr Dr Who", false], ["the empty string", "", false]]],
  ["endsWith", "notEndsWith", "@example.com", [["a suffix match", "ann@example.com", true], ["a huge string with the suffix", HUGE, true], ["another domain", "ann@example.org", false], ["another case", "ann@EXAMPLE.com", false], ["the empty string", "", false]]],
  ["contains", "notContains", "beta", [["in the middle", "my-beta-tester", true], ["the whole string", "beta", true], ["another case", "BETA", false], ["the empty string", "", false]]],
])("%s / %s %j", (positive, negated, value, rows) => {
  test.each<[string, unknown, boolean, boolean]>([
    ...rows.map(([name, v, pos]): [string, unknown, boolean, boolean] => [name, v, pos, !pos]),
    ["a number (wrong type)", 5, false, false],
    ["a boolean (wrong type)", false, false, false],
    ["NaN", NaN, false, false],
    ...NO_TYPE.map(([name, v]): [string, unknown, boolean, boolean] => [name, v, false, false]),
  ])("%s → %s, %s", (_name, v, pos, neg) => {
    expect(holds({ attribute: "a", op: positive, value }, ctxWith(v))).toBe(pos);
    expect(holds({ attribute: "a", op: negated, value }, ctxWith(v))).toBe(neg);
  });
});

const NOT_VERSIONS: [string, unknown][] = [
  ...(["2.1", "latest", "02.1.0", " 2.1.0", "2.1.0-", "v 2.1.0", ""].map((v) => [`the text ${JSON.stringify(v)} (not a version)`, v]) as [string, unknown][]),
  ["a huge string", HUGE], ["a number", 2.1], ["NaN", NaN], ["a boolean", true],
];

describe("semver operators against 2.1.0", () => {
  const OPS = ["semverEq", "semverNe", "semverLt", "semverLte", "semverGt", "semverGte"] as const;
  const none = [false, false, false, false, false, false];
  test.each<[string, unknown, boolean[]]>([
    ["equal", "2.1.0", [true, false, false, true, false, true]],
    ["equal with a leading v", "v2.1.0", [true, false, false, true, false, true]],
    ["equal but for build metadata", "2.1.0+build.7", [true, false, false, true, false, true]],
    ["its prerelease (lower)", "2.1.0-rc.1", [false, true, true, true, false, false]],
    ["lower patch", "2.0.9", [false, true, true, true, false, false]],
    ["higher minor, numerically (10 > 1)", "2.10.0", [false, true, false, false, true, true]],
    ["higher major", "10.0.0", [false, true, false, false, true, true]],
    ...NOT_VERSIONS.map(([name, v]): [string, unknown, boolean[]] => [name, v, none]),
    ...NO_TYPE.map(([name, v]): [string, unknown, boolean[]] => [name, v, none]),
  ])("%s → eq, ne, lt, lte, gt, gte = %j", (_name, v, expected) => {
    expect(OPS.map((op) => holds({ attribute: "a", op, value: "2.1.0" }, ctxWith(v)))).toEqual(expected);
  });

  test("a rule value with a prerelease compares by precedence", () => {
    expect(holds({ attribute: "a", op: "semverGt", value: "3.0.0-beta.2" }, ctxWith("3.0.0-beta.11"))).toBe(true);
    expect(holds({ attribute: "a", op: "semverLt", value: "3.0.0-beta.2" }, ctxWith("3.0.0-alpha.99"))).toBe(true);
    expect(holds({ attribute: "a", op: "semverGte", value: "v3.0.0-beta.2" }, ctxWith("3.0.0"))).toBe(true);
  });

  test("a rule value beyond 2^53 (refused by the schema, compiled here without it; not orderable) never holds", () => {
    for (const op of OPS) {
      const c = { attribute: "a", op, value: "9007199254740993.0.0" } as const;
      expect(conditionSchema.safeParse(c).success).toBe(false);
      expect(compileCondition(c)(ctxWith("1.0.0"), undefined)).toBe(false);
    }
  });
});

test("an attribute named like an Object property is missing from a context without it", () => {
  for (const attribute of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
    expect(holds({ attribute, op: "notStartsWith", value: "x" }, {})).toBe(false);
    expect(holds({ attribute, op: "notEquals", value: "x" }, {})).toBe(false);
    expect(holds({ attribute, op: "notIn", values: ["x"] }, {})).toBe(false);
    expect(holds({ attribute, op: "semverNe", value: "1.0.0" }, {})).toBe(false);
  }
});

test("attribute names with spaces and the targetingKey are attributes like any other", () => {
  expect(holds({ attribute: "account tier", op: "equals", value: "gold" }, { "account tier": "gold" })).toBe(true);
  expect(holds({ attribute: "targetingKey", op: "endsWith", value: "@example.com" }, { targetingKey: "ann@example.com" })).toBe(true);
});

describe("all / any", () => {
  const conditions: Condition[] = [
    { attribute: "plan", op: "in", values: ["pro", "team"] },
    { attribute: "age", op: "gte", value: 18 },
  ];
  test.each<[string, EvaluationContext, boolean, boolean]>([
    ["both hold", { plan: "pro", age: 30 }, true, true],
    ["only the first", { plan: "pro", age: 12 }, false, true],
    ["only the second", { plan: "free", age: 30 }, false, true],
    ["neither", { plan: "free", age: 12 }, false, false],
    ["nothing known", {}, false, false],
    ["wrong types", { plan: ["pro"], age: "30" }, false, false],
  ])("%s → all %s, any %s", (_name, ctx, all, any) => {
    expect(compileConditions("all", conditions)(ctx, undefined)).toBe(all);
    expect(compileConditions("any", conditions)(ctx, undefined)).toBe(any);
  });

  test("a single condition is that condition, whatever the mode", () => {
    for (const match of ["all", "any"] as const) {
      expect(compileConditions(match, [conditions[1]])({ age: 18 }, undefined)).toBe(true);
      expect(compileConditions(match, [conditions[1]])({ age: 17 }, undefined)).toBe(false);
    }
  });
});

describe("segments", () => {
  const segment = (s: Record<string, unknown>) => compileSegment(segmentDefinitionSchema.parse(s));
  const lookup: SegmentLookup = new Map(
    [
      segment({ name: "beta", conditions: [{ attribute: "plan", op: "equals", value: "pro" }], included: ["u1", "u2"], excluded: ["u2", "u9"] }),
      segment({ name: "staff", included: ["alice"] }),
      segment({ name: "eu-or-adult", match: "any", conditions: [{ attribute: "country", op: "in", values: ["NL", "BE"] }, { attribute: "age", op: "gte", value: 18 }] }),
    ].map((s) => [s.name, s]),
  );
  const inSeg = (name: string, ctx: EvaluationContext, segs: SegmentLookup | undefined): [boolean, boolean] => [
    holds({ op: "inSegment", segment: name }, ctx, segs),
    holds({ op: "notInSegment", segment: name }, ctx, segs),
  ];

  test.each<[string, string, EvaluationContext, [boolean, boolean]]>([
    ["included", "beta", { targetingKey: "u1" }, [true, false]],
    ["included and excluded: excluded wins", "beta", { targetingKey: "u2" }, [false, true]],
    ["excluded wins over the conditions", "beta", { targetingKey: "u9", plan: "pro" }, [false, true]],
    ["by its conditions", "beta", { targetingKey: "u3", plan: "pro" }, [true, false]],
    ["by its conditions, without a targetingKey", "beta", { plan: "pro" }, [true, false]],
    ["neither included nor matching", "beta", { targetingKey: "u4", plan: "free" }, [false, true]],
    ["a targetingKey of the wrong type is not a listed key", "staff", { targetingKey: 5 as unknown as string }, [false, true]],
    ["a segment without conditions holds only its included keys", "staff", { targetingKey: "bob", plan: "pro" }, [false, true]],
    ["included in a segment without conditions", "staff", { targetingKey: "alice" }, [true, false]],
    ["match any: one condition holds", "eu-or-adult", { country: "NL", age: 12 }, [true, false]],
    ["match any: the other holds", "eu-or-adult", { country: "US", age: 40 }, [true, false]],
    ["match any: none holds", "eu-or-adult", { country: "US", age: 12 }, [false, true]],
  ])("%s → inSegment %s", (_name, name, ctx, expected) => {
    expect(inSeg(name, ctx, lookup)).toEqual(expected);
  });

  test("an unknown segment makes inSegment and notInSegment both false", () => {
    expect(inSeg("deleted", { targetingKey: "u1", plan: "pro" }, lookup)).toEqual([false, false]);
    expect(inSeg("beta", { targetingKey: "u1" }, undefined)).toEqual([false, false]);
    expect(inSeg("beta", { targetingKey: "u1" }, new Map())).toEqual([false, false]);
  });
});

test("a semver test answers the same for a version seen before, past any number of distinct versions", () => {
  const gte = compileCondition({ attribute: "a", op: "semverGte", value: "2.1.0" });
  const texts = Array.from({ length: 5_000 }, (_, i) => `${i % 4}.${(i * 7) % 13}.${i}${i % 3 === 0 ? `-rc.${i % 5}` : ""}`);
  const expected = texts.map((t) => compareSemver(parseSemver(t)!, parseSemver("2.1.0")!) >= 0);
  expect(new Set(expected).size).toBe(2);
  for (let pass = 0; pass < 3; pass++) expect(texts.map((t) => gte(ctxWith(t), undefined))).toEqual(expected);
});
