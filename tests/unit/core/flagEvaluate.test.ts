// Spec-level tests of the pure flag model and evaluator (no Redis).
import { bucketOf, compileFlag, evaluate, type Evaluation, type EvaluationContext } from "../../../core/flags/evaluate";
import { murmur3 } from "../../../core/flags/hash";
import { booleanFlag, flagDefinitionSchema, type FlagDefinition, type FlagDefinitionInput } from "../../../core/flags/model";

const base = booleanFlag("newcheckout", "team-checkout");
// Rules written in the legacy single-attribute shape still parse (normalised to conditions).
const flag = (patch: Partial<FlagDefinitionInput>): FlagDefinition => flagDefinitionSchema.parse({ ...base, ...patch });
const run = (patch: Partial<FlagDefinitionInput>, ctx: EvaluationContext) => evaluate(compileFlag(flag(patch)), ctx);

test("murmur3 matches the reference x86_32 vectors", () => {
  expect(murmur3("")).toBe(0);
  expect(murmur3("hello")).toBe(0x248bfa47);
  expect(murmur3("The quick brown fox jumps over the lazy dog")).toBe(0x2e4ff723);
  expect(murmur3("", 1)).toBe(0x514e28b7);
});

// Buckets users already have: a change to the hash or the key format would move them in or out of
// every running rollout. Captured from the evaluator before it moved to core/.
test.each([
  ["newcheckout", "user-42", 6804],
  ["newcheckout", "user-43", 4437],
  ["dark-mode", "alice@example.com", 6376],
  ["search.v2", "3f2a9c", 9116],
  ["pricing", "ünïcødé-ユーザー", 2975],
  ["a", "b", 7863],
])("bucketOf(%j, %j) is %i", (flagKey, targetingKey, bucket) => {
  expect(bucketOf(flagKey, targetingKey)).toBe(bucket);
});

describe("evaluation order and reasons", () => {
  const everyone = { percentage: 100, variant: "on" };
  const ruleOn = { attribute: "country", op: "equals" as const, value: "NL", variant: "on" };
  test.each<[string, Partial<FlagDefinitionInput>, EvaluationContext, Evaluation]>([
    ["no rules, no rollout → STATIC default", {}, { targetingKey: "u1" }, { value: false, variant: "off", reason: "STATIC" }],
    ["default variant on → STATIC on", { defaultVariant: "on" }, {}, { value: true, variant: "on", reason: "STATIC" }],
    ["equals rule matches → TARGETING_MATCH", { rules: [ruleOn] }, { country: "NL" }, { value: true, variant: "on", reason: "TARGETING_MATCH", ruleIndex: 0 }],
    ["equals rule does not match → DEFAULT", { rules: [ruleOn] }, { country: "BE" }, { value: false, variant: "off", reason: "DEFAULT" }],
    ["equals is strict: 1 is not \"1\"", { rules: [{ attribute: "tier", op: "equals", value: 1, variant: "on" }] }, { tier: "1" }, { value: false, variant: "off", reason: "DEFAULT" }],
    ["in-list rule", { rules: [{ attribute: "email", op: "in", values: ["a@x.io", "b@x.io"], variant: "on" }] }, { email: "b@x.io" }, { value: true, variant: "on", reason: "TARGETING_MATCH", ruleIndex: 0 }],
    ["in-list rule, not listed", { rules: [{ attribute: "email", op: "in", values: ["a@x.io"], variant: "on" }] }, { email: "c@x.io" }, { value: false, variant: "off", reason: "DEFAULT" }],
    ["rule on targetingKey", { rules: [{ attribute: "targetingKey", op: "equals", value: "vip", variant: "on" }] }, { targetingKey: "vip" }, { value: true, variant: "on", reason: "TARGETING_MATCH", ruleIndex: 0 }],
    ["rule beats rollout", { rules: [{ attribute: "country", op: "equals", value: "NL", variant: "off" }], rollout: everyone }, { targetingKey: "u1", country: "NL" }, { value: false, variant: "off", reason: "TARGETING_MATCH", ruleIndex: 0 }],
    ["rollout 100% → SPLIT in", { rollout: everyone }, { targetingKey: "u1" }, { value: true, variant: "on", reason: "SPLIT" }],
    ["rollout 0% → SPLIT out (default)", { rollout: { percentage: 0, variant: "on" } }, { targetingKey: "u1" }, { value: false, variant: "off", reason: "SPLIT" }],
    ["rollout without targetingKey → DEFAULT", { rollout: everyone }, {}, { value: false, variant: "off", reason: "DEFAULT" }],
    ["rollout with empty targetingKey → DEFAULT", { rollout: everyone }, { targetingKey: "" }, { value: false, variant: "off", reason: "DEFAULT" }],
  ])("%s", (_name, patch, ctx, expected) => {
    expect(run(patch, ctx)).toEqual(expected);
  });

  // A killed flag serves none of its variants, whatever its default variant, rules and rollout say:
  // the caller's own default value (the one in code) applies, with reason DISABLED.
  const callerDefault = { reason: "DISABLED", useCallerDefault: true };
  const theme = { key: "theme", type: "string", variants: { blue: "#00f", green: "#0f0" }, defaultVariant: "green", owner: "design" } as const;
  const batch = { key: "batch-size", type: "number", variants: { small: 10, large: 500 }, defaultVariant: "large", owner: "infra" } as const;
  test.each<[string, FlagDefinition, EvaluationContext]>([
    ["boolean, default variant on", flag({ enabled: false, defaultVariant: "on" }), {}],
    ["boolean, default variant off", flag({ enabled: false }), { targetingKey: "u1" }],
    ["boolean, beats a matching rule and a 100% rollout", flag({ enabled: false, rules: [ruleOn], rollout: everyone }), { targetingKey: "u1", country: "NL" }],
    ["string, beats a matching rule", flagDefinitionSchema.parse({ ...theme, enabled: false, rules: [{ attribute: "plan", op: "equals", value: "pro", variant: "blue" }] }), { plan: "pro" }],
    ["number, beats a 100% rollout", flagDefinitionSchema.parse({ ...batch, enabled: false, rollout: { percentage: 100, variant: "small" } }), { targetingKey: "x" }],
  ])("disabled %s → the caller's default, DISABLED, no variant", (_name, def, ctx) => {
    expect(evaluate(compileFlag(def), ctx)).toEqual(callerDefault);
  });

  test("first matching rule wins", () => {
    const def = flagDefinitionSchema.parse({
      key: "theme",
      type: "string",
      enabled: true,
      variants: { blue: "#00f", green: "#0f0", red: "#f00" },
      defaultVariant: "blue",
      rules: [
        { attribute: "plan", op: "in", values: ["pro", "team"], variant: "green" },
        { attribute: "plan", op: "equals", value: "pro", variant: "red" },
      ],
      owner: "design",
    });
    const f = compileFlag(def);
    expect(evaluate(f, { plan: "pro" })).toEqual({ value: "#0f0", variant: "green", reason: "TARGETING_MATCH", ruleIndex: 0 });
    expect(evaluate(f, { plan: "free" })).toEqual({ value: "#00f", variant: "blue", reason: "DEFAULT" });
  });

  test("multi-variant number flag rolls out its variant", () => {
    const def = flagDefinitionSchema.parse({
      key: "batch-size",
      type: "number",
      enabled: true,
      variants: { small: 10, large: 500 },
      defaultVariant: "small",
      rollout: { percentage: 100, variant: "large" },
      owner: "infra",
    });
    expect(evaluate(compileFlag(def), { targetingKey: "x" })).toEqual({ value: 500, variant: "large", reason: "SPLIT" });
  });
});

describe("percentage rollout", () => {
  const users = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
  const inRollout = (key: string, pct: number): Set<string> => {
    const f = compileFlag(flag({ key, rollout: { percentage: pct, variant: "on" } }));
    return new Set(users.filter((u) => evaluate(f, { targetingKey: u }).value === true));
  };

  test("the same user always gets the same answer", () => {
    const a = compileFlag(flag({ rollout: { percentage: 37.5, variant: "on" } }));
    const b = compileFlag(flag({ rollout: { percentage: 37.5, variant: "on" } })); // recompiled: nothing cached by identity
    for (const u of users.slice(0, 500)) {
      const first = evaluate(a, { targetingKey: u }).value;
      expect(evaluate(a, { targetingKey: u }).value).toBe(first);
      expect(evaluate(b, { targetingKey: u }).value).toBe(first);
    }
    expect(bucketOf("newcheckout", "user-42")).toBe(bucketOf("newcheckout", "user-42"));
  });

  test("raising the percentage only adds users, and the share tracks the percentage", () => {
    const steps = [0, 1, 5, 10, 20, 25, 33.33, 50, 75, 99, 100];
    let previous = new Set<string>();
    for (const pct of steps) {
      const current = inRollout("newcheckout", pct);
      for (const u of previous) expect(current.has(u)).toBe(true);
      expect(Math.abs((current.size / users.length) * 100 - pct)).toBeLessThan(1.5);
      previous = current;
    }
    expect(previous.size).toBe(users.length);
  });

  test("different flags bucket users independently", () => {
    const a = inRollout("flag-a", 50);
    const b = inRollout("flag-b", 50);
    const both = [...a].filter((u) => b.has(u)).length;
    // Independent halves overlap on about a quarter; identical bucketing would overlap on half.
    expect(both / users.length).toBeGreaterThan(0.2);
    expect(both / users.length).toBeLessThan(0.3);
  });
});

describe("definition validation", () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ["default variant not a variant", { defaultVariant: "maybe" }, /defaultVariant: "maybe" is not one of the variants \(on, off\)/],
    ["variant value of the wrong type", { variants: { on: true, off: "no" } }, /variants\.off: must be a boolean/],
    ["rollout above 100", { rollout: { percentage: 100.5, variant: "on" } }, /rollout\.percentage/],
    ["rollout with 3 decimals", { rollout: { percentage: 2.555, variant: "on" } }, /rollout\.percentage: must have at most 2 decimals/],
    ["rule to an unknown variant", { rules: [{ attribute: "a", op: "equals", value: "x", variant: "nope" }] }, /rules\.0\.variant/],
    ["unknown field", { colour: "red" }, /colour/],
    ["bad key", { key: "Bad Key" }, /key: must be 1-64 chars/],
    ["no owner", { owner: " " }, /owner: is required/],
    ["no variants", { variants: {}, defaultVariant: "on" }, /variants: must have 1 to 20 variants/],
    ["empty in-list", { rules: [{ match: "all", conditions: [{ attribute: "a", op: "in", values: [] }], variant: "on" }] }, /rules\.0\.conditions\.0\.values/],
  ])("%s is refused with the field named", (_name, patch, message) => {
    const r = flagDefinitionSchema.safeParse({ ...base, ...patch });
    expect(r.success).toBe(false);
    const text = r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n");
    expect(text).toMatch(message);
  });
});
