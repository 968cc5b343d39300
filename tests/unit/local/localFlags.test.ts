// What local mode starts with (a JSON flag targeting a segment), what the local dashboard shows for
// each flag and segment, and the one action it offers (pure: no Redis).
import { booleanFlag, flagDefinitionSchema, segmentDefinitionSchema, storedFlagSchema, storedSegmentSchema, type FlagDefinition, type SegmentDefinition } from "../../../core/flags/model";
import { compileFlag, compileSegment, evaluate } from "../../../core/flags/evaluate";
import { bannerOf } from "../../../app/banner";
import { describeFlags, describeSegments, startingFlags, startingSegments, type FlagSummary } from "../../../local/flags";

const meta = { updatedBy: "t", updatedAt: "2026-01-01T00:00:00.000Z", version: 1 };
const stored = (def: FlagDefinition) => storedFlagSchema.parse({ ...def, ...meta });
const bool = (patch: Partial<FlagDefinition>) => stored({ ...booleanFlag("hiddenfeature", "web"), ...patch });
const rate = (patch: Partial<FlagDefinition>) =>
  stored({ key: "demo-error-rate", type: "number", enabled: true, variants: { none: 0, on: 50 }, defaultVariant: "none", rules: [], description: "", owner: "demo", ...patch });

test.each<[string, ReturnType<typeof stored>, Pick<FlagSummary, "killed" | "on" | "summary" | "action">]>([
  ["boolean off → turn on", bool({}), { killed: false, on: false, summary: "serves off (false)", action: { kind: "toggle", on: true, label: "turn on" } }],
  ["boolean on → turn off", bool({ defaultVariant: "on" }), { killed: false, on: true, summary: "serves on (true)", action: { kind: "toggle", on: false, label: "turn off" } }],
  [
    "killed after set on: killed, the code's default, only un-kill",
    bool({ defaultVariant: "on", enabled: false }),
    { killed: true, on: false, summary: "KILLED: every request gets the code's default value", action: { kind: "unkill", label: "un-kill" } },
  ],
  ["killed number flag: only un-kill", rate({ enabled: false, defaultVariant: "on" }), { killed: true, on: false, summary: "KILLED: every request gets the code's default value", action: { kind: "unkill", label: "un-kill" } }],
  ["live number flag: no dashboard action", rate({}), { killed: false, on: false, summary: "serves none (0)", action: undefined }],
])("%s", (_name, flag, expected) => {
  const [summary] = describeFlags([flag]);
  expect({ killed: summary.killed, on: summary.on, summary: summary.summary, action: summary.action }).toEqual(expected);
});

describe("local mode's JSON flag and segment", () => {
  const flags = startingFlags("local");
  const banner = flags.find((f) => f.key === "banner")!;
  const segments = startingSegments();
  const lookup = new Map(segments.map((s) => [s.name, compileSegment(segmentDefinitionSchema.parse(s))]));
  const compiled = compileFlag(flagDefinitionSchema.parse(banner));
  const served = (ctx: Record<string, unknown>) => evaluate(compiled, ctx, lookup);

  test("every starting flag and segment is valid as written, and every segment a rule names is one of them", () => {
    for (const f of flags) expect(() => flagDefinitionSchema.parse(f)).not.toThrow();
    for (const s of segments) expect(() => segmentDefinitionSchema.parse(s)).not.toThrow();
    const names = segments.map((s) => s.name);
    for (const f of flags) for (const r of f.rules) for (const c of r.conditions) if ("segment" in c) expect(names).toContain(c.segment);
    expect(banner.type).toBe("object");
  });

  test.each<[string, Record<string, unknown>, string, string]>([
    ["an @example.com email is a beta tester", { targetingKey: "ana", email: "ana@example.com" }, "beta", "TARGETING_MATCH"],
    ["an invited tester (included by key) without an email", { targetingKey: "tester-1" }, "beta", "TARGETING_MATCH"],
    ["another domain", { targetingKey: "bob", email: "bob@elsewhere.org" }, "standard", "DEFAULT"],
    ["a domain that only contains example.com", { targetingKey: "eve", email: "eve@example.com.evil.test" }, "standard", "DEFAULT"],
    ["an email that is not a string is no match", { targetingKey: "num", email: 42 }, "standard", "DEFAULT"],
    ["nobody we know anything about", {}, "standard", "DEFAULT"],
  ])("%s (%j) → %s, %s", (_name, ctx, variant, reason) => {
    expect(served(ctx)).toMatchObject({ variant, reason });
  });

  test("a fifth of pro users (stable, by targetingKey) get the beta, as a split; plan without a key never", () => {
    const users = Array.from({ length: 2000 }, (_, i) => `pro-${i}`);
    const beta = users.filter((u) => served({ targetingKey: u, plan: "pro" }).variant === "beta");
    expect(beta.length / users.length).toBeGreaterThan(0.16);
    expect(beta.length / users.length).toBeLessThan(0.24);
    expect(served({ targetingKey: beta[0], plan: "pro" }).reason).toBe("SPLIT");
    expect(users.filter((u) => served({ targetingKey: u, plan: "pro" }).variant === "beta")).toEqual(beta);
    expect(served({ plan: "pro" })).toMatchObject({ variant: "standard", reason: "DEFAULT" });
  });

  test("every variant is a banner the sample app uses as it is (not its code default)", () => {
    for (const value of Object.values(banner.variants)) expect(bannerOf(value as never)).toEqual(value);
  });

  test("the dashboard shows the banner's rules in words and each variant's value as pretty JSON, not on the summary line", () => {
    const [summary] = describeFlags([stored(banner)]);
    expect(summary.summary).toBe("serves standard");
    expect(summary.rules).toHaveLength(2);
    expect(summary.rules[0]).toMatch(/segment beta-testers.*→ beta/);
    expect(summary.rules[1]).toMatch(/plan.*pro.*→ beta.*20 %/);
    expect(summary.json).toEqual([
      { variant: "standard", text: JSON.stringify(banner.variants.standard, null, 2) },
      { variant: "beta", text: JSON.stringify(banner.variants.beta, null, 2) },
    ]);
    expect(summary.json![0].text).toContain('\n  "text": "Welcome to Aviary"');
    expect(summary.action).toBeUndefined();
    // Non-object flags have no JSON view.
    expect(describeFlags([bool({})])[0].json).toBeUndefined();
  });
});

describe("the segments panel", () => {
  const seg = (patch: Partial<SegmentDefinition>) =>
    storedSegmentSchema.parse({ name: "staff", description: "", match: "all", conditions: [], included: [], excluded: [], ...patch, ...meta });
  const usingStaff = stored({ ...booleanFlag("newcheckout", "web"), rules: [{ match: "all", conditions: [{ op: "notInSegment", segment: "staff" }], variant: "on" }] });

  test("name, in words, included and excluded counts, and the flags that use it, sorted by name", () => {
    const rows = describeSegments([seg({ name: "staff", included: ["a", "b", "c"], excluded: ["d"], conditions: [{ attribute: "email", op: "endsWith", value: "@corp.test" }] }), seg({ name: "beta" })], [usingStaff, bool({})]);
    expect(rows.map((r) => r.name)).toEqual(["beta", "staff"]);
    expect(rows[1]).toMatchObject({ name: "staff", included: 3, excluded: 1, usedBy: ["newcheckout"] });
    expect(rows[1].inWords).toMatch(/email.*@corp\.test/);
    expect(rows[0]).toMatchObject({ included: 0, excluded: 0, usedBy: [] });
  });
});
