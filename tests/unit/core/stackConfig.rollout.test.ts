// aviary:rollout in the canary stack: the plan's rules, one line per problem, and a canary stack
// without it parsing exactly as before.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { REPO_ROOT } from "../../support/repoRoot";
import { readStackFile } from "../../../config/stackFile";
import { aviaryKeys, parseStackConfig, StackConfigError, type RawConfig } from "../../../core/config/stackConfig";
import { DEFAULT_ANALYSIS } from "../../../core/rollout/judge";

const json = JSON.stringify;
const CANARY: RawConfig = { role: "canary", appVersion: "1.5.0", prodStack: "org/aviary/prod", canaryWeight: "25" };
const PROD: RawConfig = { role: "prod", appVersion: "1.4.0", prodFleet: json({ min: 1, max: 2, desired: 1 }) };
const STEPS = [{ weight: 5, pauseSeconds: 120 }, { weight: 25, pauseSeconds: 300 }, { weight: 50, pauseSeconds: 300 }];
const withRollout = (rollout: unknown, extra: RawConfig = {}): RawConfig => {
  const { canaryWeight: _dropped, ...rest } = CANARY;
  return { ...rest, rollout: json(rollout), ...extra };
};

function problems(raw: RawConfig): string[] {
  try {
    parseStackConfig(raw);
  } catch (e) {
    if (e instanceof StackConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("without aviary:rollout the canary stack is what it was", () => {
  test("fixed canaryWeight, no rollout field", () => {
    const cfg = parseStackConfig(CANARY);
    expect(cfg).toEqual({
      role: "canary", appVersion: "1.5.0", prodStack: "org/aviary/prod", canaryWeight: 25, canaryCount: 1, instanceType: "t3.small",
      alerts: { emails: [], sms: [] }, thresholds: { scaleOutCpu: 70, scaleInCpu: 25, memory: 85, canaryErrorRate: 5, canaryP99Ms: 1500 }, demoFaults: false,
    });
    expect("rollout" in cfg).toBe(false);
  });
  test("canaryWeight is still required, reported with the other problems", () => {
    const { canaryWeight: _dropped, prodStack: _too, ...raw } = CANARY;
    expect(problems(raw)).toEqual(["aviary:prodStack: is required", expect.stringMatching(/^aviary:canaryWeight: is required/)]);
  });
});

describe("a valid plan", () => {
  test("analysis and autoPromote default, the canary starts at the first step's weight", () => {
    const cfg = parseStackConfig(withRollout({ steps: STEPS }));
    expect(cfg).toMatchObject({ role: "canary", canaryWeight: 5, rollout: { steps: STEPS, analysis: DEFAULT_ANALYSIS, autoPromote: false } });
  });
  test("each analysis field defaults on its own; strings as Pulumi hands them over become numbers and booleans", () => {
    const cfg = parseStackConfig(withRollout({ steps: [{ weight: "10", pauseSeconds: "60" }], analysis: { alpha: "0.001" }, autoPromote: "true" }));
    expect(cfg).toMatchObject({ canaryWeight: 10, rollout: { steps: [{ weight: 10, pauseSeconds: 60 }], analysis: { ...DEFAULT_ANALYSIS, alpha: 0.001 }, autoPromote: true } });
  });
  test("canaryWeight equal to the first step's weight is accepted", () => {
    expect(parseStackConfig(withRollout({ steps: STEPS }, { canaryWeight: "5" }))).toMatchObject({ canaryWeight: 5 });
  });
  test("the bounds themselves are allowed", () => {
    const analysis = { maxErrorRateIncreasePoints: 50, latencyQuantile: 0.999, maxLatencyRatio: 1.05, minRequests: 20, alpha: 0.0001 };
    const steps = Array.from({ length: 10 }, (_, i) => ({ weight: i === 9 ? 100 : i + 1, pauseSeconds: i % 2 === 0 ? 10 : 86_400 }));
    expect(parseStackConfig(withRollout({ steps, analysis }))).toMatchObject({ rollout: { steps, analysis } });
    const other = { maxErrorRateIncreasePoints: 0.01, latencyQuantile: 0.5, maxLatencyRatio: 10, minRequests: 1_000_000, alpha: 0.1 };
    expect(parseStackConfig(withRollout({ steps: STEPS, analysis: other }))).toMatchObject({ rollout: { analysis: other } });
  });
  test("a rollout in a committed-style stack file reads through the stack-file reader", () => {
    const dir = mkdtempSync(join(tmpdir(), "aviary-rollout-"));
    try {
      const file = join(dir, "Pulumi.canary.yaml");
      writeFileSync(file, [
        "config:",
        "  aviary:role: canary",
        "  aviary:appVersion: 1.5.0",
        "  aviary:prodStack: organization/aviary/prod",
        "  aviary:rollout:",
        "    steps:",
        "      - {weight: 5, pauseSeconds: 120}",
        "      - {weight: 25, pauseSeconds: 300}",
        "    analysis: {minRequests: 200}",
        "    autoPromote: true",
        "",
      ].join("\n"));
      expect(parseStackConfig(aviaryKeys(readStackFile(file)))).toMatchObject({
        canaryWeight: 5,
        rollout: { steps: STEPS.slice(0, 2), analysis: { ...DEFAULT_ANALYSIS, minRequests: 200 }, autoPromote: true },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const BAD: [string, unknown, RawConfig, RegExp][] = [
  ["no steps", { steps: [] }, {}, /^aviary:rollout\.steps: must list 1 to 10 steps/],
  ["eleven steps", { steps: Array.from({ length: 11 }, (_, i) => ({ weight: i + 1, pauseSeconds: 60 })) }, {}, /^aviary:rollout\.steps: must list 1 to 10 steps/],
  ["steps missing", { autoPromote: true }, {}, /^aviary:rollout\.steps: is required$/],
  ["steps not a list", { steps: "5,25" }, {}, /^aviary:rollout\.steps: must list 1 to 10 steps .*\(got "5,25"\)/],
  ["weight 0", { steps: [{ weight: 0, pauseSeconds: 60 }] }, {}, /^aviary:rollout\.steps\.0\.weight: must be an integer from 1 to 100 \(got 0\)/],
  ["weight above 100", { steps: [{ weight: 101, pauseSeconds: 60 }] }, {}, /^aviary:rollout\.steps\.0\.weight: must be an integer from 1 to 100 \(got 101\)/],
  ["weight not an integer", { steps: [{ weight: 2.5, pauseSeconds: 60 }] }, {}, /^aviary:rollout\.steps\.0\.weight: must be an integer from 1 to 100/],
  ["pause below 10 s", { steps: [{ weight: 5, pauseSeconds: 9 }] }, {}, /^aviary:rollout\.steps\.0\.pauseSeconds: must be an integer from 10 to 86400 \(got 9\)/],
  ["pause above a day", { steps: [{ weight: 5, pauseSeconds: 86_401 }] }, {}, /^aviary:rollout\.steps\.0\.pauseSeconds: must be an integer from 10 to 86400/],
  ["pause missing", { steps: [{ weight: 5 }] }, {}, /^aviary:rollout\.steps\.0\.pauseSeconds: is required$/],
  ["misspelt step field", { steps: [{ weight: 5, pause: 60, pauseSeconds: 60 }] }, {}, /^aviary:rollout\.steps\.0: unknown field "pause"/],
  ["weights equal", { steps: [{ weight: 5, pauseSeconds: 60 }, { weight: 5, pauseSeconds: 60 }] }, {}, /^aviary:rollout\.steps\.1\.weight: must be greater than the previous step's weight \(5\).*\(got 5\)$/],
  ["weights going down", { steps: [{ weight: 5, pauseSeconds: 60 }, { weight: 50, pauseSeconds: 60 }, { weight: 25, pauseSeconds: 60 }] }, {}, /^aviary:rollout\.steps\.2\.weight: must be greater than the previous step's weight \(50\)/],
  ["points 0", { steps: STEPS, analysis: { maxErrorRateIncreasePoints: 0 } }, {}, /^aviary:rollout\.analysis\.maxErrorRateIncreasePoints: must be a number of points above 0 and at most 50 \(got 0\)/],
  ["points above 50", { steps: STEPS, analysis: { maxErrorRateIncreasePoints: 50.5 } }, {}, /^aviary:rollout\.analysis\.maxErrorRateIncreasePoints: must be a number of points above 0/],
  ["quantile below 0.5", { steps: STEPS, analysis: { latencyQuantile: 0.49 } }, {}, /^aviary:rollout\.analysis\.latencyQuantile: must be a number from 0.5 to 0.999 \(got 0.49\)/],
  ["quantile 1", { steps: STEPS, analysis: { latencyQuantile: 1 } }, {}, /^aviary:rollout\.analysis\.latencyQuantile: must be a number from 0.5 to 0.999/],
  ["ratio below 1.05", { steps: STEPS, analysis: { maxLatencyRatio: 1 } }, {}, /^aviary:rollout\.analysis\.maxLatencyRatio: must be a number from 1.05 to 10/],
  ["ratio above 10", { steps: STEPS, analysis: { maxLatencyRatio: 11 } }, {}, /^aviary:rollout\.analysis\.maxLatencyRatio: must be a number from 1.05 to 10/],
  ["minRequests below 20", { steps: STEPS, analysis: { minRequests: 19 } }, {}, /^aviary:rollout\.analysis\.minRequests: must be an integer from 20 to 1000000 \(got 19\)/],
  ["minRequests above a million", { steps: STEPS, analysis: { minRequests: 1_000_001 } }, {}, /^aviary:rollout\.analysis\.minRequests: must be an integer from 20 to 1000000/],
  ["minRequests not an integer", { steps: STEPS, analysis: { minRequests: 100.5 } }, {}, /^aviary:rollout\.analysis\.minRequests: must be an integer/],
  ["alpha below 1e-4", { steps: STEPS, analysis: { alpha: 0.00001 } }, {}, /^aviary:rollout\.analysis\.alpha: must be a number from 0.0001 to 0.1/],
  ["alpha above 0.1", { steps: STEPS, analysis: { alpha: 0.2 } }, {}, /^aviary:rollout\.analysis\.alpha: must be a number from 0.0001 to 0.1 \(got 0.2\)/],
  ["misspelt analysis field", { steps: STEPS, analysis: { minRequest: 200 } }, {}, /^aviary:rollout\.analysis: unknown field "minRequest"/],
  ["autoPromote not a boolean", { steps: STEPS, autoPromote: "yes" }, {}, /^aviary:rollout\.autoPromote: must be true or false \(got "yes"\)/],
  ["misspelt rollout field", { steps: STEPS, autopromote: true }, {}, /^aviary:rollout: unknown field "autopromote"/],
  ["canaryWeight contradicting the first step", { steps: STEPS }, { canaryWeight: "25" }, /^aviary:canaryWeight: contradicts aviary:rollout, whose first step's weight is 5: leave canaryWeight out or set it to 5 \(got "25"\)$/],
];

describe("each rule, one line", () => {
  test.each(BAD)("%s", (_name, rollout, extra, line) => {
    const got = problems(withRollout(rollout, extra));
    expect(got).toEqual([expect.stringMatching(line)]);
  });

  test("a rollout that is not an object", () => {
    expect(problems({ ...CANARY, rollout: "steps" })).toEqual([expect.stringMatching(/^aviary:rollout: must be a YAML object/)]);
  });

  test("the prod stack takes no rollout", () => {
    expect(problems({ ...PROD, rollout: json({ steps: STEPS }) })).toEqual(["aviary:rollout: is not a key of the prod stack"]);
  });
});

test("several problems at once: one line each, in one run", () => {
  const rollout = {
    steps: [{ weight: 5, pauseSeconds: 5 }, { weight: 3, pauseSeconds: 60 }, { weight: 150, pauseSeconds: 60 }],
    analysis: { alpha: 0.5, latencyQuantile: 0.2 },
    autoPromote: "sometimes",
  };
  const got = problems(withRollout(rollout, { canaryWeight: "10", prodStack: "prod" }));
  expect(got.sort()).toEqual([
    expect.stringMatching(/^aviary:canaryWeight: contradicts aviary:rollout/),
    expect.stringMatching(/^aviary:prodStack: must be the prod stack's fully qualified name/),
    expect.stringMatching(/^aviary:rollout\.analysis\.alpha: /),
    expect.stringMatching(/^aviary:rollout\.analysis\.latencyQuantile: /),
    expect.stringMatching(/^aviary:rollout\.autoPromote: /),
    expect.stringMatching(/^aviary:rollout\.steps\.0\.pauseSeconds: /),
    expect.stringMatching(/^aviary:rollout\.steps\.1\.weight: must be greater than the previous step's weight \(5\)/),
    expect.stringMatching(/^aviary:rollout\.steps\.2\.weight: must be an integer from 1 to 100/),
  ].sort((a, b) => String(a).localeCompare(String(b))));
});

describe("docs/configuration.md says what the schema does", () => {
  const docs = readFileSync(join(REPO_ROOT, "docs/configuration.md"), "utf8");
  test("its YAML example is a valid plan", () => {
    const example = /```yaml\n(aviary:rollout:[\s\S]*?)```/.exec(docs)?.[1];
    const raw = parse(example ?? "") as Record<string, unknown>;
    expect(parseStackConfig(withRollout(raw["aviary:rollout"]))).toMatchObject({ rollout: { steps: STEPS } });
  });
  test("its analysis defaults are DEFAULT_ANALYSIS and autoPromote's is false", () => {
    const cells = Object.fromEntries([...docs.matchAll(/^\| `rollout\.(analysis\.\w+|autoPromote)` \|.*\| `([^`]+)` \|$/gm)].map((m) => [m[1], m[2]]));
    const want = Object.fromEntries([...Object.entries(DEFAULT_ANALYSIS).map(([k, v]) => [`analysis.${k}`, String(v)]), ["autoPromote", "false"]]);
    expect(cells).toEqual(want);
  });
});
