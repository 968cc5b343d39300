// The rule text language: what each piece of text means, what errors say, the round trip, the words.
import { InvalidInputError } from "../../../core/errors";
import { conditionSchema, type Condition, type FlagRule, type Scalar, type SegmentDefinition } from "../../../core/flags/model";
import { parseRuleText, RuleSyntaxError, ruleInWords, ruleText, segmentInWords } from "../../../core/flags/ruleText";
import { prng } from "../../../harness/judgeStreams";

describe("every operator parses to its condition", () => {
  test.each<[string, Condition]>([
    ["country = NL", { attribute: "country", op: "equals", value: "NL" }],
    ["country == NL", { attribute: "country", op: "equals", value: "NL" }],
    ["country != NL", { attribute: "country", op: "notEquals", value: "NL" }],
    ["age = 18", { attribute: "age", op: "equals", value: 18 }],
    ['age = "18"', { attribute: "age", op: "equals", value: "18" }],
    ["beta = true", { attribute: "beta", op: "equals", value: true }],
    ["beta != FALSE", { attribute: "beta", op: "notEquals", value: false }],
    ['beta = "true"', { attribute: "beta", op: "equals", value: "true" }],
    ["plan in [pro, team]", { attribute: "plan", op: "in", values: ["pro", "team"] }],
    ["plan not in [free]", { attribute: "plan", op: "notIn", values: ["free"] }],
    ['id in [1, "1", true, "a, b"]', { attribute: "id", op: "in", values: [1, "1", true, "a, b"] }],
    ["age < 18", { attribute: "age", op: "lt", value: 18 }],
    ["age <= -1.5", { attribute: "age", op: "lte", value: -1.5 }],
    ["score > 1e3", { attribute: "score", op: "gt", value: 1000 }],
    ["age >= 18", { attribute: "age", op: "gte", value: 18 }],
    ["email ends with @example.com", { attribute: "email", op: "endsWith", value: "@example.com" }],
    ['name starts with "Dr "', { attribute: "name", op: "startsWith", value: "Dr " }],
    ["phone starts with 0049", { attribute: "phone", op: "startsWith", value: "0049" }],
    ["title contains beta", { attribute: "title", op: "contains", value: "beta" }],
    ["title not starts with x", { attribute: "title", op: "notStartsWith", value: "x" }],
    ["title not ends with x", { attribute: "title", op: "notEndsWith", value: "x" }],
    ["title not contains x", { attribute: "title", op: "notContains", value: "x" }],
    ["version = 2.1.0", { attribute: "version", op: "semverEq", value: "2.1.0" }],
    ['version = "2.1.0"', { attribute: "version", op: "equals", value: "2.1.0" }],
    ["version != v2.1.0", { attribute: "version", op: "semverNe", value: "v2.1.0" }],
    ["version < 3.0.0-beta.1", { attribute: "version", op: "semverLt", value: "3.0.0-beta.1" }],
    ["version <= 2.1.0+build.7", { attribute: "version", op: "semverLte", value: "2.1.0+build.7" }],
    ["version > 1.0.0", { attribute: "version", op: "semverGt", value: "1.0.0" }],
    ['version >= "2.1.0"', { attribute: "version", op: "semverGte", value: "2.1.0" }],
    ["in segment beta-testers", { op: "inSegment", segment: "beta-testers" }],
    ["not in segment staff", { op: "notInSegment", segment: "staff" }],
    ['"account tier" = gold', { attribute: "account tier", op: "equals", value: "gold" }],
    ['"in" = 1', { attribute: "in", op: "equals", value: 1 }],
    ["Plan IN [pro]", { attribute: "Plan", op: "in", values: ["pro"] }],
    ["title NOT Starts WITH x", { attribute: "title", op: "notStartsWith", value: "x" }],
    ["NOT IN SEGMENT staff", { op: "notInSegment", segment: "staff" }],
    ['note = "say \\"hi\\"\\n"', { attribute: "note", op: "equals", value: 'say "hi"\n' }],
    ["country=NL", { attribute: "country", op: "equals", value: "NL" }],
  ])("%s", (text, condition) => {
    expect(parseRuleText(text)).toEqual({ match: "all", conditions: [condition] });
  });
});

test("the issue's example: and joins conditions (match all), or joins them as match any", () => {
  expect(parseRuleText("plan in [pro, team] and version >= 2.1.0")).toEqual({
    match: "all",
    conditions: [
      { attribute: "plan", op: "in", values: ["pro", "team"] },
      { attribute: "version", op: "semverGte", value: "2.1.0" },
    ],
  });
  expect(parseRuleText("country = NL OR in segment staff or age >= 65")).toEqual({
    match: "any",
    conditions: [
      { attribute: "country", op: "equals", value: "NL" },
      { op: "inSegment", segment: "staff" },
      { attribute: "age", op: "gte", value: 65 },
    ],
  });
});

/** The RuleSyntaxError that parsing `text` throws. */
function refusalOf(text: string): RuleSyntaxError {
  let thrown: unknown;
  try {
    parseRuleText(text);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(RuleSyntaxError);
  return thrown as RuleSyntaxError;
}

describe("text that does not parse names the column, what was expected and what was found", () => {
  test.each<[string, string]>([
    ["", 'at column 1: expected an attribute name, "in segment" or "not in segment", found end of text'],
    ["plan in", 'at column 8: expected "[" after "in" (a list like [pro, team]), found end of text'],
    ["plan in [", 'at column 10: expected a value after "[", found end of text'],
    ["plan in [pro,]", 'at column 14: expected a value after ",", found "]"'],
    ["plan in [pro team]", 'at column 14: expected "," or "]", found "team"'],
    ["plan in []", 'at column 10: expected a value after "[", found "]"'],
    ["country =", 'at column 10: expected a value after "=", found end of text'],
    ["country = and", 'at column 11: expected a value after "=", found "and"'],
    ["age >= old", 'at column 8: expected a number or a semantic version (like 2.1.0) after ">=", found "old"'],
    ["age >= \"18\"", 'at column 8: expected a number or a semantic version (like 2.1.0) after ">=", found "18"'],
    ["country is NL", 'at column 9: expected an operator after "country" (= != < <= > >= in, not in, starts with, ends with, contains, not …), found "is"'],
    ["name starts Dr", 'at column 13: expected "with" after "starts", found "Dr"'],
    ["name not like x", 'at column 10: expected "in", "starts with", "ends with" or "contains" after "not", found "like"'],
    ["in segment", 'at column 11: expected a value after "segment", found end of text'],
    ["in staff", 'at column 4: expected "segment" after "in", found "staff"'],
    ["not plan = pro", 'at column 5: expected "in" after "not", found "plan"'],
    ["a = 1 b = 2", 'at column 7: expected "and", "or" or the end of the rule, found "b"'],
    ["a = 1 and", 'at column 10: expected an attribute name, "in segment" or "not in segment", found end of text'],
    ["(a = 1)", 'at column 1: expected a condition (there is no grouping: use a segment or a second rule), found "("'],
    ['name = "Dr', 'at column 11: expected a closing " for the string at column 8, found end of text'],
    ["a ! b", 'at column 3: expected a name, a value or an operator, found "!"'],
    [
      "a = 1 and b = 2 or c = 3",
      'at column 17: found "or" after "and": one rule joins all its conditions with "and" or all with "or"; put the other part in a segment (aviary flags segment set) or in a second rule',
    ],
  ])("%j", (text, problem) => {
    const thrown = refusalOf(text);
    expect(thrown).toBeInstanceOf(InvalidInputError);
    expect(thrown.problems).toEqual([problem]);
    expect(thrown.message).toBe(`invalid rule: ${problem}`);
  });
});

test("text that parses is validated like a stored rule: one problem per bad condition, each named", () => {
  const long = "x".repeat(257);
  const problems = refusalOf(`in segment Beta and plan = ok and age >= 1e999 and note = "${long}"`).problems;
  expect(problems).toHaveLength(3);
  expect(problems[0]).toBe("condition 1 (in segment Beta) segment: must be 1-64 chars of a-z 0-9 . _ - (starting with a letter or digit)");
  expect(problems[1]).toMatch(/^condition 3 \(age >= Infinity\) value: .*Infinity/);
  expect(problems[2]).toMatch(/^condition 4 \(note = x{257}\) value: .*256/);
});

// Values and names that need quoting to read back as themselves.
const AWKWARD = ["1", "-2.5", "1e3", "2.1.0", "v1.0.0", "true", "FALSE", "and", "Or", "in", "not", "segment", "with", "contains", "starts", "a b", "a,b", "[x]", 'say "hi"', "x=y", "a!", "(p)", "tab\there", "ünïcode", "@example.com", "back\\slash", ""];
const WORDS = ["pro", "team", "NL", "beta-testers", "x.y_z", "https://a/b?c"];

function randomCondition(r: () => number): Condition {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const str = (): string => (r() < 0.5 ? pick(AWKWARD) : pick(WORDS));
  const num = (): number => pick([0, -0, 1, -7, 2.5, 1e21, 1.5e-7, 123456789, -0.001]);
  const scalar = (): Scalar => pick([str, num, () => r() < 0.5])();
  const attribute = pick([...WORDS, ...AWKWARD.filter((a) => a !== "" && !a.includes("\t"))]);
  const nonEmpty = (): string => pick([...WORDS, ...AWKWARD.filter((a) => a !== "")]);
  const semver = (): string => pick(["2.1.0", "v0.0.1", "3.0.0-beta.1", "1.2.3+build.5", "10.20.30-rc.1+x"]);
  switch (Math.floor(r() * 7)) {
    case 0:
      return { attribute, op: pick(["equals", "notEquals"] as const), value: scalar() };
    case 1:
      return { attribute, op: pick(["in", "notIn"] as const), values: Array.from({ length: 1 + Math.floor(r() * 4) }, scalar) };
    case 2:
      return { attribute, op: pick(["lt", "lte", "gt", "gte"] as const), value: num() };
    case 3:
      return { attribute, op: pick(["startsWith", "endsWith", "contains", "notStartsWith", "notEndsWith", "notContains"] as const), value: nonEmpty() };
    case 4:
      return { attribute, op: pick(["semverEq", "semverNe", "semverLt", "semverLte", "semverGt", "semverGte"] as const), value: semver() };
    default:
      return { op: pick(["inSegment", "notInSegment"] as const), segment: pick(["staff", "beta-testers", "and", "1", "in", "x.y"]) };
  }
}

test("property: random valid condition lists → ruleText → parseRuleText gives the same conditions back", () => {
  let checked = 0;
  for (let seed = 1; seed <= 2000; seed++) {
    const r = prng(seed);
    const conditions = Array.from({ length: 1 + Math.floor(r() * 5) }, () => randomCondition(r));
    conditions.forEach((c) => expect(conditionSchema.safeParse(c).success).toBe(true));
    const match = conditions.length > 1 && r() < 0.5 ? "any" : "all";
    const text = ruleText({ match, conditions });
    const back = parseRuleText(text);
    expect({ text, ...back }).toEqual({ text, match, conditions });
    checked += 1;
  }
  expect(checked).toBe(2000);
});

test("ruleText quotes exactly what would otherwise read differently", () => {
  expect(
    ruleText({
      match: "all",
      conditions: [
        { attribute: "account tier", op: "equals", value: "1" },
        { attribute: "n", op: "equals", value: 1 },
        { attribute: "v", op: "equals", value: "2.1.0" },
        { attribute: "v", op: "semverGte", value: "2.1.0" },
        { attribute: "plan", op: "in", values: ["pro", "a, b", "and", true] },
      ],
    }),
  ).toBe('"account tier" = "1" and n = 1 and v = "2.1.0" and v >= 2.1.0 and plan in [pro, "a, b", "and", true]');
});

describe("ruleInWords: every operator in plain English", () => {
  const rule = (c: Condition, extra: Partial<FlagRule> = {}): FlagRule => ({ match: "all", conditions: [c], variant: "on", ...extra });
  test.each<[Condition, string]>([
    [{ attribute: "country", op: "equals", value: "NL" }, "if country is NL → on"],
    [{ attribute: "country", op: "notEquals", value: "NL" }, "if country is not NL → on"],
    [{ attribute: "id", op: "equals", value: "1" }, 'if id is "1" → on'],
    [{ attribute: "plan", op: "in", values: ["pro", "team"] }, "if plan is one of pro, team → on"],
    [{ attribute: "plan", op: "notIn", values: ["free"] }, "if plan is none of free → on"],
    [{ attribute: "age", op: "lt", value: 18 }, "if age is less than 18 → on"],
    [{ attribute: "age", op: "lte", value: 18 }, "if age is at most 18 → on"],
    [{ attribute: "age", op: "gt", value: 18 }, "if age is more than 18 → on"],
    [{ attribute: "age", op: "gte", value: 18 }, "if age is at least 18 → on"],
    [{ attribute: "name", op: "startsWith", value: "Dr " }, 'if name starts with "Dr " → on'],
    [{ attribute: "email", op: "endsWith", value: "@example.com" }, "if email ends with @example.com → on"],
    [{ attribute: "title", op: "contains", value: "beta" }, "if title contains beta → on"],
    [{ attribute: "name", op: "notStartsWith", value: "x" }, "if name does not start with x → on"],
    [{ attribute: "name", op: "notEndsWith", value: "x" }, "if name does not end with x → on"],
    [{ attribute: "name", op: "notContains", value: "x" }, "if name does not contain x → on"],
    [{ attribute: "version", op: "semverEq", value: "2.1.0" }, "if version is 2.1.0 → on"],
    [{ attribute: "version", op: "semverNe", value: "2.1.0" }, "if version is not 2.1.0 → on"],
    [{ attribute: "version", op: "semverLt", value: "2.1.0" }, "if version is before 2.1.0 → on"],
    [{ attribute: "version", op: "semverLte", value: "2.1.0" }, "if version is at most 2.1.0 → on"],
    [{ attribute: "version", op: "semverGt", value: "2.1.0" }, "if version is after 2.1.0 → on"],
    [{ attribute: "version", op: "semverGte", value: "2.1.0" }, "if version is at least 2.1.0 → on"],
    [{ op: "inSegment", segment: "beta-testers" }, "if in segment beta-testers → on"],
    [{ op: "notInSegment", segment: "staff" }, "if not in segment staff → on"],
    [{ attribute: "account tier", op: "equals", value: "gold" }, 'if "account tier" is gold → on'],
  ])("%j", (c, words) => {
    expect(ruleInWords(rule(c))).toBe(words);
  });

  test("several conditions, a percentage", () => {
    const parsed = parseRuleText("plan in [pro, team] and version >= 2.1.0");
    expect(ruleInWords({ ...parsed, variant: "on", percentage: 20 })).toBe("if plan is one of pro, team and version is at least 2.1.0 → on (20 % of them)");
    expect(ruleInWords({ ...parseRuleText("a = 1 or b = 2"), variant: "off" })).toBe("if a is 1 or b is 2 → off");
  });
});

describe("segmentInWords", () => {
  const seg = (s: Partial<SegmentDefinition>): SegmentDefinition => ({ name: "s", description: "", match: "all", conditions: [], included: [], excluded: [], ...s });
  const conditions = parseRuleText("plan = pro and age >= 18").conditions.filter((c): c is Extract<Condition, { attribute: string }> => "attribute" in c);
  test.each<[string, SegmentDefinition, string]>([
    ["empty", seg({}), "no users"],
    ["keys only", seg({ included: ["alice", "bob smith"] }), 'users alice, "bob smith"'],
    ["conditions only", seg({ conditions }), "users where plan is pro and age is at least 18"],
    ["any", seg({ match: "any", conditions }), "users where plan is pro or age is at least 18"],
    ["both, with exclusions", seg({ included: ["alice"], conditions, excluded: ["carol", "dave"] }), "users alice, and users where plan is pro and age is at least 18; never carol, dave"],
  ])("%s", (_what, s, words) => {
    expect(segmentInWords(s)).toBe(words);
  });
});
