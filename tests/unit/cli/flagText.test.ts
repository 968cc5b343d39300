// `aviary flags get`, `flags rule list` and `flags segment get/list` as people read them, and the
// segment command's pure argument helpers.
import { InvalidInputError } from "../../../core/errors";
import { booleanFlag, flagsUsing, type StoredFlag, type StoredSegment } from "../../../core/flags/model";
import { parseRuleText } from "../../../core/flags/ruleText";
import { describeFlag, describeSegment, rulesText, segmentRows } from "../../../cli/flagText";
import { keyList, segmentConditions } from "../../../cli/segments";

const BOOK = { updatedBy: "cli:me@host", updatedAt: "2026-12-01T10:00:00.000Z", version: 3 };
const stored = (over: Partial<StoredFlag>): StoredFlag => ({ ...booleanFlag("new-ui", "web"), ...BOOK, ...over });
const rule = (text: string, variant: string, extra: object = {}) => ({ ...parseRuleText(text), variant, ...extra });

test("a boolean flag with rules: each rule numbered, in words, its expression under the words", () => {
  const f = stored({ rules: [rule("plan in [pro, team] and version >= 2.1.0", "on", { percentage: 20 }), rule("in segment staff", "on", { name: "staff" })] });
  expect(describeFlag(f)).toBe(
    [
      "new-ui (boolean) enabled",
      "  default:   off",
      "  variants:",
      "    on = true",
      "    off = false",
      "  rollout:   -",
      "  rules:     first match wins",
      "             1  if plan is one of pro, team and version is at least 2.1.0 → on (20 % of them)",
      "                plan in [pro, team] and version >= 2.1.0",
      '             2  "staff": if in segment staff → on',
      "                in segment staff",
      "  owner:     web",
      "  changed:   2026-12-01T10:00:00.000Z by cli:me@host (version 3)",
      "",
    ].join("\n"),
  );
  expect(rulesText(f)).toBe(
    "1  if plan is one of pro, team and version is at least 2.1.0 → on (20 % of them)\n   plan in [pro, team] and version >= 2.1.0\n" +
      '2  "staff": if in segment staff → on\n   in segment staff\n',
  );
});

test("an object flag: each value as indented JSON under its name; metadata and description shown", () => {
  const f = stored({
    key: "layout",
    type: "object",
    variants: { a: { cols: [1, 2] }, b: [] },
    defaultVariant: "a",
    description: "page layout",
    metadata: { team: "web", ticket: 42 },
  });
  const text = describeFlag(f);
  expect(text).toContain(["  variants:", "    a = {", '          "cols": [', "            1,", "            2", "          ]", "        }", "    b = []", "  rollout:"].join("\n"));
  expect(text).toContain('  metadata:  team="web", ticket=42\n');
  expect(text).toContain("  rules:     none\n");
  expect(text).toContain("  about:     page layout\n");
  expect(rulesText(f)).toBe('flag "layout" has no rules: every user gets the rollout or the default variant\n');
});

const segment = (over: Partial<StoredSegment>): StoredSegment => ({ name: "beta", description: "", match: "all", conditions: [], included: [], excluded: [], ...BOOK, ...over });

test("a segment: who is in it, its expression, keys and the flags using it", () => {
  const s = segment({ ...segmentConditions("country = NL or age >= 65", false), included: ["alice"] });
  const flags = [stored({ key: "a", rules: [rule("in segment beta", "on")] }), stored({ key: "b", rules: [rule("not in segment beta", "on")] }), stored({ key: "c" })];
  expect(flagsUsing("beta", flags)).toEqual(["a", "b"]);
  expect(describeSegment(s, flagsUsing("beta", flags))).toBe(
    [
      "beta: users alice, and users where country is NL or age is at least 65",
      "  conditions: country = NL or age >= 65",
      "  included:   alice",
      "  excluded:   -",
      "  used by:    a, b",
      "  changed:    2026-12-01T10:00:00.000Z by cli:me@host (version 3)",
      "",
    ].join("\n"),
  );
  expect(segmentRows([s, segment({ name: "empty" })], flags)).toEqual([
    ["NAME", "CONDITIONS", "INCLUDED", "EXCLUDED", "USED BY"],
    ["beta", "country = NL or age >= 65", "1", "0", "a,b"],
    ["empty", "-", "0", "0", "-"],
  ]);
});

test.each<[string, string[]]>([
  ["alice,bob", ["alice", "bob"]],
  [" alice , bob ,", ["alice", "bob"]],
  ["", []],
])("keyList(%j)", (raw, list) => {
  expect(keyList(raw)).toEqual(list);
});

test("segment conditions: attribute tests only, --any only where it does not contradict an and", () => {
  expect(segmentConditions("age >= 65", true)).toEqual({ match: "any", conditions: [{ attribute: "age", op: "gte", value: 65 }] });
  expect(segmentConditions("a = 1 or b = 2", false).match).toBe("any");
  expect(segmentConditions("a = 1 and b = 2", false).match).toBe("all");
  expect(() => segmentConditions("a = 1 and b = 2", true)).toThrow(/--any contradicts the "and"/);
  expect(() => segmentConditions("a = 1 and in segment x", false)).toThrow(InvalidInputError);
  expect(() => segmentConditions("a = 1 and in segment x", false)).toThrow(/a segment cannot use "in segment"/);
});
