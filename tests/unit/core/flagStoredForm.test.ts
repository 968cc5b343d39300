// The stored JSON of a flag: rules the previous release can read keep that release's shape, the
// rest stay as they are, and reading the JSON back always gives the flag that was written.
import { storedFlagSchema, storedForm, type FlagRule, type StoredFlag } from "../../../core/flags/model";

const stored = (rules: FlagRule[]): StoredFlag =>
  storedFlagSchema.parse({ key: "f", type: "boolean", enabled: true, variants: { on: true, off: false }, defaultVariant: "off", rules, owner: "web", updatedBy: "a", updatedAt: "2026-12-01T00:00:00.000Z", version: 1 });
const rule = (conditions: FlagRule["conditions"], extra: Partial<FlagRule> = {}): FlagRule => ({ match: "all", conditions, variant: "on", ...extra });
const country = { attribute: "country", op: "equals" as const, value: "NL" };
const plans = { attribute: "plan", op: "in" as const, values: ["pro", 3, true] };

test.each<[string, FlagRule, unknown]>([
  ["one equals condition → the previous shape", rule([country]), { attribute: "country", op: "equals", value: "NL", variant: "on" }],
  ["one in condition → the previous shape", rule([plans]), { attribute: "plan", op: "in", values: ["pro", 3, true], variant: "on" }],
  ["two conditions → as is", rule([country, plans]), rule([country, plans])],
  ["a named rule → as is", rule([country], { name: "dutch" }), rule([country], { name: "dutch" })],
  ["a percentage → as is", rule([country], { percentage: 20 }), rule([country], { percentage: 20 })],
  ["notEquals → as is", rule([{ ...country, op: "notEquals" }]), rule([{ ...country, op: "notEquals" }])],
  ["a segment → as is", rule([{ op: "inSegment", segment: "beta" }]), rule([{ op: "inSegment", segment: "beta" }])],
  ["a number test → as is", rule([{ attribute: "age", op: "gte", value: 18 }]), rule([{ attribute: "age", op: "gte", value: 18 }])],
])("%s, and it reads back as written", (_name, r, expected) => {
  const flag = stored([r]);
  const json = JSON.parse(JSON.stringify(storedForm(flag))) as { rules: unknown[] };
  expect(json.rules[0]).toEqual(expected);
  expect(storedFlagSchema.parse(json)).toEqual(flag);
});

test("an any-rule of one condition means the same as an all-rule: stored in the previous shape, read back as all", () => {
  const json = JSON.parse(JSON.stringify(storedForm(stored([rule([country], { match: "any" })])))) as { rules: unknown[] };
  expect(json.rules[0]).toEqual({ attribute: "country", op: "equals", value: "NL", variant: "on" });
  expect(storedFlagSchema.parse(json).rules).toEqual([rule([country])]);
});

test("a flag without rules is stored as it is", () => {
  const flag = stored([]);
  expect(storedForm(flag)).toBe(flag);
});
