import { clampWeight, isWeight, MAX_WEIGHT, MIN_WEIGHT, WEIGHT_RULE, WEIGHT_RULE_SHORT, weightSchema } from "../../../core/routing/weight";

const cases: [unknown, boolean][] = [
  [0, true],
  [1, true],
  [50, true],
  [100, true],
  [-1, false],
  [101, false],
  [12.5, false],
  [Number.NaN, false],
  [Number.POSITIVE_INFINITY, false],
  ["50", false],
  [undefined, false],
  [null, false],
];

test("the rule is an integer percent 0..100, in both wordings", () => {
  expect([MIN_WEIGHT, MAX_WEIGHT]).toEqual([0, 100]);
  expect(WEIGHT_RULE).toBe("an integer from 0 to 100");
  expect(WEIGHT_RULE_SHORT).toBe("an integer 0..100");
});

test.each(cases)("isWeight(%p) is %s, and the schema agrees", (value, ok) => {
  expect(isWeight(value)).toBe(ok);
  expect(weightSchema().safeParse(value).success).toBe(ok);
  expect(weightSchema("must be a weight").safeParse(value).success).toBe(ok);
});

test("a schema given a message uses it for every failure", () => {
  for (const [value, ok] of cases) {
    if (ok) continue;
    const r = weightSchema("must be a weight").safeParse(value);
    expect(r.success ? [] : r.error.issues.map((i) => i.message)).toEqual(["must be a weight"]);
  }
});

test.each([
  [-5, 0],
  [0, 0],
  [24.6, 25],
  [99.5, 100],
  [250, 100],
])("clampWeight(%p) is %p", (value, expected) => {
  expect(clampWeight(value)).toBe(expected);
});
