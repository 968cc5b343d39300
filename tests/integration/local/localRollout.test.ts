// A progressive rollout end to end in local mode (real redis-server, HAProxy + agent process,
// sample-app processes, the Lambda's handler with local adapters): the canary stack file's plan is
// started at `npm start`, its step is judged canary against production and passes, the rollout
// promotes itself and production moves to the canary's version; then a release that fails 10 % of
// its requests is started and the proxy's own judge turns it off.
import { REPO_ROOT } from "../../support/repoRoot";
import * as fs from "node:fs";
import * as path from "node:path";
import { commandStore } from "../../../adapters/store/redis";
import { cliRolloutDeps } from "../../../cli/rollout";
import { handleRollout } from "../../../controller/run";
import { DEFAULT_ANALYSIS } from "../../../core/rollout/judge";
import { Load } from "../../../harness/load";
import { until } from "../../../harness/until";
import { startLocalStack, type LocalStack } from "../../../local/stack";
import { updateFlag } from "../../../state/flags";
import { readRollout } from "../../../state/rollout";
import { readRouting } from "../../../state/routing";
import { tempDir } from "../../support/tempDir";
import { testLogger } from "../../support/testLogger";

const repoDir = path.resolve(REPO_ROOT);
const PERIOD_FACTOR = 10;
// One step at 50 %, 300 s (30 s locally), lenient enough that a sound pass needs only a few hundred
// requests per role on a loaded machine; autoPromote on.
const PLAN_YAML = `  aviary:rollout:
    steps:
      - {weight: 50, pauseSeconds: 300}
    analysis: {maxErrorRateIncreasePoints: 5, latencyQuantile: 0.5, maxLatencyRatio: 10, minRequests: 50}
    autoPromote: true
`;
const configDir = ((): string => {
  const dir = tempDir("aviary-rollout-config-");
  for (const f of ["Pulumi.yaml", "Pulumi.prod.yaml"]) fs.copyFileSync(path.join(repoDir, f), path.join(dir, f));
  const canary = fs.readFileSync(path.join(repoDir, "Pulumi.canary.yaml"), "utf8");
  const withPlan = canary.replace(/^ {2}aviary:canaryWeight: \d+\n/m, PLAN_YAML);
  if (!withPlan.includes("aviary:rollout")) throw new Error("Pulumi.canary.yaml: aviary:canaryWeight not found");
  fs.writeFileSync(path.join(dir, "Pulumi.canary.yaml"), withPlan);
  return dir;
})();

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ repoDir: configDir, runDir: tempDir("aviary-rollout-run-"), proxyPort: 0, adminPort: 0, periodFactor: PERIOD_FACTOR, logger: testLogger("aviary-rollout-log-") });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

const rollout = async () => {
  const r = (await readRollout(stack.redis)).state;
  if (!r) throw new Error("no readable rollout");
  return r;
};

test("the stack file's plan starts at start: step 1 at its weight, pauses divided by the period factor", async () => {
  const r = await rollout();
  expect(r).toMatchObject({ appVersion: stack.config.canary.appVersion, status: "progressing", step: 0, updatedBy: "controller" });
  expect(r.plan.steps).toEqual([{ weight: 50, pauseSeconds: 30 }]);
  expect((await readRouting(stack.redis)).state).toMatchObject({ canaryWeight: 50, canaryEnabled: true });
});

test("a good canary passes its step against production, promotes itself, and production takes its version", async () => {
  const canaryVersion = stack.config.canary.appVersion;
  const load = new Load({ url: `${stack.proxyUrl}/`, concurrency: 4, pauseMs: 2 });
  try {
    await until("the rollout to be promoted", async () => (await rollout()).status === "promoted", 120_000);
    const r = await rollout();
    expect(r.results).toHaveLength(1);
    expect(r.results[0]).toMatchObject({ verdict: "pass", judgedBy: "controller", weight: 50 });
    expect(r.results[0].judgement.errorRate.canary.requests).toBeGreaterThanOrEqual(50);
    // Production moves to the canary's version, then the canary is drained as destroying its stack does.
    await until("production on the canary's version", async () => (await stack.status()).versions.prod === canaryVersion, 60_000);
    await until("the canary drained to 0", async () => (await readRouting(stack.redis)).state?.canaryWeight === 0, 60_000);
    const fleet = await stack.fleet.describe();
    const from = Date.now();
    await until("answers after the promotion", async () => load.counts(from).total > 50, 30_000);
    expect(Object.keys(load.counts(from).byVersion)).toEqual([canaryVersion]);
    expect(fleet.instances.length).toBe(stack.config.prod.prodFleet.desired);
  } finally {
    await load.stop();
  }
}, 240_000);

test("a release failing 10 % of its requests is turned off by the proxy's judge, which says why", async () => {
  const canaryVersion = stack.config.canary.appVersion;
  await updateFlag(stack.redis, "demo-error-rate", (cur) => {
    if (!cur) throw new Error("demo-error-rate missing");
    return { ...cur, enabled: true, variants: { none: 0, on: 10 }, rules: [{ attribute: "role", op: "equals", value: "canary", variant: "on" }] };
  }, { by: "test", reason: "a subtly bad canary", cause: "set" });
  const plan = { steps: [{ weight: 25, pauseSeconds: 120 }], analysis: DEFAULT_ANALYSIS, autoPromote: false };
  await handleRollout(cliRolloutDeps(commandStore(stack.redis, "test"), () => undefined), { do: "start", plan, appVersion: canaryVersion });
  const load = new Load({ url: `${stack.proxyUrl}/`, concurrency: 4, pauseMs: 2 });
  try {
    await until("the rollout to be aborted", async () => (await rollout()).status === "aborted", 90_000);
    const r = await rollout();
    const last = r.results.at(-1);
    expect(last).toMatchObject({ verdict: "fail", judgedBy: expect.stringMatching(/^agent /) });
    expect(r.reason).toMatch(/5xx/);
    expect((await readRouting(stack.redis)).state).toMatchObject({ canaryEnabled: false });
    // Out of traffic: once the agent's write reached HAProxy, no more injected errors (only the canary had them).
    const from = Date.now() + 1000;
    await until("answers after the abort", async () => load.counts(from).total > 200, 30_000);
    expect(load.counts(from).failed).toBe(0);
  } finally {
    await load.stop();
  }
}, 180_000);
