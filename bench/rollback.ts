// Rollback and scale-out in local mode (the whole stack: redis-server, HAProxy + agent, app
// processes, alarm evaluator, the Lambda's handler), measured from the client's side, plus the
// end-to-end rollback time on AWS worked out on paper from the periods the stacks declare.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import pino from "pino";
import { canaryAlarms } from "../core/alarms/definitions";
import { DEFAULT_THRESHOLDS } from "../core/config/defaults";
import { METRICS_INTERVAL_MS } from "../agent/metricsLoop";
import { DEFAULT_PERIOD_FACTOR } from "../local/config";
import { Load } from "../harness/load";
import { startLocalStack, type LocalStack } from "../local/stack";
import { until } from "../harness/until";
import { updateFlag } from "../state/flags";
import { enableCanary, readRouting } from "../state/routing";
import { stopWithCleanup } from "./processes";
import { rounds } from "./quick";
import { pct } from "./stats";

const REPETITIONS = rounds(10, 2);
const BY = "bench";
const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

interface Rollback {
  /** First canary 5xx seen by a client → the last answer any client got from the canary. */
  toZeroMs: number;
  /** First canary 5xx → canary-5xx-rate ALARM in the local evaluator. */
  detectMs: number;
  /** ALARM → canaryEnabled=false in Redis (the controller). */
  controllerMs: number;
  failed: number;
  canaryAfter: number;
}

async function oneRollback(stack: LocalStack, load: Load): Promise<Rollback> {
  const canaryVersion = stack.config.canary.appVersion;
  const alarm = (): { state: string; since: number } => stack.evaluator.states().find((a) => a.definition.key === "canary-5xx-rate")!;
  // Start from a healthy, serving canary whose alarm is OK again.
  if ((await readRouting(stack.redis)).state?.canaryEnabled === false) await enableCanary(stack.redis, { by: BY, reason: "bench: next repetition" });
  await until("canary-5xx-rate OK", () => alarm().state === "OK", 30_000);
  let firstError: number | undefined;
  let lastCanary = 0;
  const stopWatching = load.onSample((s) => {
    if (s.version !== canaryVersion) return;
    lastCanary = s.at;
    if (firstError === undefined && s.status >= 500) firstError = s.at;
  });
  try {
    const serving = Date.now();
    await until("canary serving", () => lastCanary > serving, 10_000);
    await updateFlag(stack.redis, "demo-error-rate", (cur) => ({ ...cur!, rules: [{ attribute: "version", op: "equals", value: canaryVersion, variant: "on" }] }), { by: BY, reason: "bench: break the canary", cause: "set" });
    await until("canary disabled", async () => (await readRouting(stack.redis)).state?.canaryEnabled === false, 30_000).catch((e: Error) => {
      throw new Error(`${e.message}; alarms: ${JSON.stringify(stack.evaluator.states().map((a) => [a.name, a.state, a.lastValue]))}; activity: ${JSON.stringify(stack.activity.recent(10))}; errors seen ${firstError}`);
    });
    const disabledAt = Date.parse((await readRouting(stack.redis)).state!.changedAt);
    const alarmAt = alarm().since;
    await new Promise((r) => setTimeout(r, 1500));
    const after = Date.now() - 1000;
    if (firstError === undefined) throw new Error("no canary error observed");
    return {
      toZeroMs: lastCanary - firstError,
      detectMs: alarmAt - firstError,
      controllerMs: disabledAt - alarmAt,
      failed: load.counts(firstError).failed,
      canaryAfter: load.counts(after).byVersion[canaryVersion] ?? 0,
    };
  } finally {
    stopWatching();
    await updateFlag(stack.redis, "demo-error-rate", (cur) => ({ ...cur!, rules: [] }), { by: BY, reason: "bench: fault removed", cause: "set" });
  }
}

interface ScaleOut { alarmMs: number; desiredMs: number; servingMs: number; from: number; to: number }

/** CPU load from t0 → prod-cpu-high ALARM → desired raised → the new instance UP in HAProxy. */
async function scaleOut(stack: LocalStack): Promise<ScaleOut> {
  const before = await stack.fleet.describe();
  const heavy = new Load({ url: `${stack.proxyUrl}/work?ms=4`, concurrency: 12 });
  const t0 = Date.now();
  try {
    await until("scale-out", async () => (await stack.fleet.describe()).desired > before.desired, 120_000);
    const desiredMs = Date.now() - t0;
    const alarmMs = stack.evaluator.states().find((a) => a.definition.key === "prod-cpu-high")!.since - t0;
    const to = (await stack.fleet.describe()).desired;
    await until("new instance UP", async () => (await stack.status()).backends.filter((b) => b.role === "prod" && b.proxyStatus === "UP").length === to, 30_000);
    return { alarmMs, desiredMs, servingMs: Date.now() - t0, from: before.desired, to };
  } finally {
    await heavy.stop();
  }
}

/** The canary rollback on AWS, from the declared periods (not measured: no AWS account here). */
function onPaper(propagationNote: string): string {
  const a = canaryAlarms(DEFAULT_THRESHOLDS, { deployment: "prod" }).find((d) => d.key === "canary-5xx-rate")!;
  const period = a.periodSeconds;
  const publish = METRICS_INTERVAL_MS / 1000;
  const detectMin = (a.datapointsToAlarm - 1) * period; // errors start at the end of a period
  const detectMax = a.datapointsToAlarm * period;
  const low = detectMin + 0 + 0 + 0.1;
  const high = detectMax + publish + period + 1 + 1;
  return `### End-to-end rollback on AWS (on paper)

From the periods the stacks declare: the agent publishes per-role counts every ${publish} s (\`METRICS_INTERVAL_MS\`); \`canary-5xx-rate\` has ${period} s periods (CloudWatch's high-resolution alarm period), ${a.datapointsToAlarm} of ${a.evaluationPeriods} datapoints; the alarm's SNS notification invokes the controller Lambda; the controller writes Redis and the agent applies it through HAProxy's Runtime API (${propagationNote}).

| step | fastest | slowest |
|---|---|---|
| breaching datapoints (${a.datapointsToAlarm} of ${a.evaluationPeriods} × ${period} s) | ${detectMin} s (errors start at a period's end) | ${detectMax} s |
| agent publish lag (every ${publish} s) | 0 s | ${publish} s |
| CloudWatch evaluation lag (high-resolution alarms are evaluated every ${period} s) | 0 s | ${period} s |
| SNS → Lambda delivery, Lambda cold start | ~0.1 s | ~1 s + ~1 s |
| controller → Redis → agent → HAProxy | ms | ms |
| **total** | **≈ ${low.toFixed(0)} s** | **≈ ${high.toFixed(0)} s** |

Public anchors: Flagger analyses a canary every 60 s by default (\`analysis.interval\`) and rolls back after \`threshold\` failed checks, so ≥ 60 s and usually minutes; a CloudWatch alarm cannot see less than one 10 s high-resolution period; AWS AppConfig agents poll every 45 s by default and Unleash SDKs every 15 s, so a config-polling kill switch alone takes up to that long; LaunchDarkly's streaming updates arrive in ~200 ms. Aviary's path is bounded by the alarm's 2 × 10 s, not by the propagation (milliseconds).
`;
}

export async function benchRollback(propagationNote: string, log: (line: string) => void = console.log): Promise<string> {
  const repoDir = path.resolve(__dirname, "..");
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "aviary-bench-rollback-"));
  const logger = pino({ level: "warn" }, pino.destination(`${runDir}-runner.log`));
  log("rollback: starting the local stack …");
  const stack = await startLocalStack({ repoDir, runDir, proxyPort: 0, adminPort: 0, periodFactor: DEFAULT_PERIOD_FACTOR, logger });
  const stopStack = stopWithCleanup(async () => {
    await stack.stop();
    fs.rmSync(runDir, { recursive: true, force: true });
    fs.rmSync(`${runDir}-runner.log`, { force: true });
  });
  const load = new Load({ url: `${stack.proxyUrl}/`, concurrency: 4, pauseMs: 2 });
  const reps: Rollback[] = [];
  let so: ScaleOut;
  try {
    for (let i = 0; i < REPETITIONS; i++) {
      const r = await oneRollback(stack, load);
      reps.push(r);
      log(`rollback ${i + 1}/${REPETITIONS}: first error → zero canary traffic ${sec(r.toZeroMs)}, ${r.failed} failed`);
    }
    so = await scaleOut(stack);
    log(`scale-out ${so.from} → ${so.to}: desired raised after ${sec(so.desiredMs)}, serving after ${sec(so.servingMs)}`);
  } finally {
    await load.stop();
    await stopStack();
  }
  const col = (f: (r: Rollback) => number): number[] => reps.map(f);
  const row = (name: string, xs: number[], target = ""): string => `| ${name} | ${sec(pct(xs, 50))} | ${sec(pct(xs, 99))} | ${sec(Math.min(...xs))} – ${sec(Math.max(...xs))} | ${target} |`;
  const failed = col((r) => r.failed);
  const toZero = col((r) => r.toZeroMs);
  const ok = (b: boolean): string => (b ? "met" : "**missed**");
  const f = DEFAULT_PERIOD_FACTOR;
  return `## Rollback and scale-out (local mode)

\`startLocalStack\` as \`npm start\` runs it (real redis-server, HAProxy + agent process, ${stack.config.prod.prodFleet.desired} prod + ${stack.config.canary.canaryCount} canary app processes, the alarm evaluator over the declared alarms, the Lambda's handler), \`AVIARY_PERIOD_FACTOR\` ${f}: alarm periods and cooldowns ÷ ${f}, so \`canary-5xx-rate\`'s 10 s periods are ${10 / f} s. Client load: 4 keep-alive clients without cookies (\`harness/load.ts\`). Each repetition re-enables the canary, waits for its alarm to be OK, then turns on \`demo-error-rate\` for the canary's version (50% of its answers are 500) and waits until the controller has turned it off.

### Canary rollback, ${REPETITIONS} repetitions

| measure | p50 | p99 (max of ${REPETITIONS}) | range | target |
|---|---|---|---|---|
${row("first canary error → zero canary traffic (last canary answer)", toZero, `≤ 3 s: ${ok(pct(toZero, 99) <= 3000)}`)}
${row("first canary error → alarm ALARM (2 of 2 periods)", col((r) => r.detectMs))}
${row("alarm ALARM → canary off in Redis (controller)", col((r) => r.controllerMs))}

- failed client requests from the first error on (the canary's injected 500s until it was off; prod never failed): ${failed.join(", ")} (median ${pct(failed, 50)})
- canary answers in the second after each rollback: ${col((r) => r.canaryAfter).join(", ")} (must be 0)

### Scale-out reaction

CPU load (\`/work?ms=4\`, 12 clients) from t = 0: \`prod-cpu-high\` (60 s periods ÷ ${f} = ${60 / f} s, 2 of 3) went to ALARM at ${sec(so!.alarmMs)}, the controller raised desired ${so!.from} → ${so!.to} at ${sec(so!.desiredMs)}, and the new instance was UP in HAProxy at ${sec(so!.servingMs)}. On AWS the same alarm needs 2 × 60 s periods plus an instance boot (minutes), which is why scale-out uses a cooldown and re-arm instead of waiting.

${onPaper(propagationNote)}`;
}
