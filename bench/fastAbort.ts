// The proxy's fast abort (agent/rolloutJudge.ts) against real parts on 127.0.0.1: redis-server,
// HAProxy rendered from haproxy/config.ts, the agent's own bundle as its own process (it fills the
// slots and runs the judge), two stand-in apps (harness/backend.ts behavingBackend) and bounded
// client load (harness/load.ts). Injected regressions measured from the client's side: first bad
// answer → the last answer any client got from the canary; the absolute-alarm path worked out from
// its declared periods with the formula stated in the section. Also the agent's CPU with the judge
// idle (no rollout) and judging (a rollout progressing), alternated in one run, and false aborts
// over simulated clean rollouts at this run's measured rates (harness/judgeStreams.ts).
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type Redis from "ioredis";
import { canaryAlarms } from "../core/alarms/definitions";
import { DEFAULT_THRESHOLDS } from "../core/config/defaults";
import { DEFAULT_ANALYSIS } from "../core/rollout/judge";
import type { RolloutState } from "../core/rollout/model";
import { JUDGE_INTERVAL_MS } from "../agent/rolloutJudge";
import { behavingBackend, type Behaviour, type BehavingBackend } from "../harness/backend";
import { HOST } from "../harness/freePort";
import { startRenderedHaproxy } from "../harness/haproxy";
import { prng, runStream } from "../harness/judgeStreams";
import { Load, type LoadSample } from "../harness/load";
import { diesWithParent } from "../harness/parentDeath";
import { cpuMs } from "../harness/procStat";
import { startRedisServer } from "../harness/redisServer";
import { stopProcess } from "../harness/stopProcess";
import { until } from "../harness/until";
import { AGENT_ENTRY, bundleApp } from "../release/bundles";
import { connect } from "../state/connection";
import { keys } from "../state/keys";
import { registerBackend } from "../state/registry";
import { readRollout, writeRollout } from "../state/rollout";
import { changeRouting } from "../state/routing";
import { children, stopWithCleanup } from "./processes";
import { rounds } from "./quick";
import { latencyBoundsMs } from "../haproxy/config";
import { median } from "./stats";

const BY = "bench";
const PROXY_ID = "bench-proxy";
const CANARY_VERSION = "1.1.0";
const WEIGHT = 20;
/** 16 clients pausing 60 ms: about 130 requests/s, a fifth of them (≥ 20/s) to the canary. */
const LOAD = { concurrency: 16, pauseMs: 60 };
const HEALTHY: Behaviour = { errorRate: 0.01, latencyMedianMs: 50, latencySigma: 0.6 };
/** How long one regression round may wait for the abort. */
const CAP_SECONDS = rounds(90, 30);
const CPU_PHASE_SECONDS = rounds(20, 6);
const CLEAN_ROLLOUTS = rounds(50, 10);
const CLEAN_SECONDS = 300;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Regression {
  label: string;
  behaviour: Partial<Behaviour>;
  rounds: number;
  /** Which canary answers are bad ones. */
  bad: (s: LoadSample) => boolean;
  /** The absolute alarm path, from its declared periods, at `canaryRps`. */
  alarm: (canaryRps: number) => { seconds: number | null; note: string };
}

/** P(X ≥ k) for X ~ Binomial(n, p), summed exactly in log space. */
function binomialTail(n: number, p: number, k: number): number {
  let logPk = n * Math.log(1 - p);
  let tail = 0;
  for (let i = 0; i <= n; i++) {
    if (i >= k) tail += Math.exp(logPk);
    logPk += Math.log((n - i) / (i + 1)) + Math.log(p / (1 - p));
  }
  return Math.min(1, tail);
}

const rateAlarm = canaryAlarms(DEFAULT_THRESHOLDS, { deployment: "bench" }).find((a) => a.key === "canary-5xx-rate")!;
const p99Alarm = canaryAlarms(DEFAULT_THRESHOLDS, { deployment: "bench" }).find((a) => a.key === "canary-p99-latency")!;
/** Mean lags after the breaching datapoints: the agent's 10 s publish (mean 5 s), CloudWatch's 10 s evaluation (mean 5 s), SNS → Lambda (~1 s). */
const ALARM_LAGS_S = 5 + 5 + 1;

/**
 * Mean seconds to the rate alarm's ALARM for a canary answering 5xx at `rate`: errors start within a
 * period (mean 5 s to its end), then 2 of 2 breaching periods, each breaching with q = P(5xx ≥
 * threshold % of 10·rps answers), take (1 + q) / q² periods on average, then the lags above.
 */
function errorAlarm(rate: number): (canaryRps: number) => { seconds: number | null; note: string } {
  return (rps) => {
    const n = Math.round(rateAlarm.periodSeconds * rps);
    const q = binomialTail(n, rate, Math.ceil((rateAlarm.threshold / 100) * n));
    const periods = (1 + q) / (q * q);
    return { seconds: rateAlarm.periodSeconds / 2 + rateAlarm.periodSeconds * periods + ALARM_LAGS_S, note: `q = ${q.toPrecision(2)}` };
  };
}

/** The canary's p99 under a log-normal latency, against the p99 alarm's threshold: never reached below it. */
function latencyAlarm(factor: number): (canaryRps: number) => { seconds: number | null; note: string } {
  const p99 = HEALTHY.latencyMedianMs * factor * Math.exp(2.326 * HEALTHY.latencySigma);
  return () => ({ seconds: p99 >= p99Alarm.threshold ? p99Alarm.periodSeconds * p99Alarm.datapointsToAlarm + ALARM_LAGS_S : null, note: `p99 ≈ ${p99.toFixed(0)} ms against ${p99Alarm.threshold} ms` });
}

const errorRegression = (points: number, n: number): Regression => ({
  label: `+${points} points of 5xx (${1 + points} % against 1 %)`,
  behaviour: { errorRate: HEALTHY.errorRate + points / 100 },
  rounds: n,
  bad: (s) => s.status >= 500,
  alarm: errorAlarm(HEALTHY.errorRate + points / 100),
});
// Every answer of a slower canary is a bad one.
const latencyRegression = (factor: number): Regression => ({
  label: `latency ×${factor}`,
  behaviour: { latencyMedianMs: HEALTHY.latencyMedianMs * factor },
  rounds: 1,
  bad: () => true,
  alarm: latencyAlarm(factor),
});

const REGRESSIONS = [errorRegression(1, 1), errorRegression(2, 1), errorRegression(5, rounds(5, 1)), latencyRegression(1.5), latencyRegression(3)];

interface Stack {
  redis: Redis;
  canary: BehavingBackend;
  agent: ChildProcess;
  load: Load;
  stop(): Promise<void>;
}

async function startStack(dir: string): Promise<Stack> {
  const redisServer = await startRedisServer();
  const stopRedis = stopWithCleanup(() => redisServer.stop());
  const redis = connect(redisServer.url);
  const prod = await behavingBackend("1.0.0", HEALTHY, prng(1));
  const canary = await behavingBackend(CANARY_VERSION, HEALTHY, prng(2));
  const stopApps = stopWithCleanup(() => void [prod, canary].forEach((b) => b.server.close()));
  await registerBackend(redis, { id: "p1", role: "prod", address: `${HOST}:${prod.port}`, version: "1.0.0", ttlSeconds: 3600 });
  await registerBackend(redis, { id: "c1", role: "canary", address: `${HOST}:${canary.port}`, version: CANARY_VERSION, ttlSeconds: 3600 });
  const h = await startRenderedHaproxy(dir, { prodSlots: 1, canarySlots: 1 });
  const stopHaproxy = stopWithCleanup(() => h.haproxy.stop());
  const agentJs = path.join(dir, "agent.js");
  fs.writeFileSync(agentJs, bundleApp(AGENT_ENTRY));
  const log = fs.openSync(path.join(dir, "agent.log"), "a", 0o600);
  const run = diesWithParent(process.execPath, [agentJs]);
  const env = { ...process.env, REDIS_URL: redisServer.url, HAPROXY_SOCKET: h.socket, AVIARY_PROD_SLOTS: "1", AVIARY_CANARY_SLOTS: "1", AVIARY_PROXY_ID: PROXY_ID, AVIARY_DEPLOYMENT: "" };
  const agent = spawn(run.command, run.args, { env, stdio: ["ignore", log, log] });
  fs.closeSync(log);
  children.add(agent);
  const stopAgent = stopWithCleanup(() => stopProcess(agent));
  const load = new Load({ url: `http://${HOST}:${h.webPort}/`, ...LOAD });
  const stopLoad = stopWithCleanup(() => load.stop());
  return {
    redis,
    canary,
    agent,
    load,
    async stop() {
      await stopLoad();
      await stopAgent();
      redis.disconnect();
      await stopHaproxy();
      await stopApps();
      await stopRedis();
    },
  };
}

function rollout(id: string): RolloutState {
  const at = new Date().toISOString();
  const plan = { steps: [{ weight: WEIGHT, pauseSeconds: 3600 }, { weight: 100, pauseSeconds: 3600 }], analysis: DEFAULT_ANALYSIS, autoPromote: false };
  return { id, appVersion: CANARY_VERSION, plan, status: "progressing", step: 0, stepStartedAt: at, results: [], reason: "bench: started", updatedAt: at, updatedBy: BY, revision: 0 };
}

/** A fresh rollout at its first step with the canary serving (over whatever the last round left). */
async function startRollout(s: Stack, id: string): Promise<void> {
  await s.redis.del(keys.rollout);
  await writeRollout(s.redis, rollout(id), { weight: WEIGHT, enabled: true }, { by: BY, reason: "bench: next round", expectRevision: null });
  const since = Date.now();
  await until("canary serving", () => s.load.counts(since).byVersion[CANARY_VERSION] > 0, 15_000);
  // The agent sees the step within a look and takes its baseline.
  await sleep(2 * JUDGE_INTERVAL_MS);
}

interface Round {
  aborted: boolean;
  /** First bad answer → the abort in Redis, and → the last canary answer, s. */
  toAbortS: number;
  toZeroS: number;
  badServed: number;
  canaryRps: number;
}

async function regressionRound(s: Stack, r: Regression, n: number): Promise<Round> {
  s.canary.set(HEALTHY);
  const id = `bench-${n}@${new Date().toISOString()}`;
  await startRollout(s, id);
  const injectedAt = Date.now();
  let firstBad: number | undefined;
  let lastCanary = injectedAt;
  let bad = 0;
  let canaryAnswers = 0;
  const unwatch = s.load.onSample((a) => {
    if (a.version !== CANARY_VERSION || a.at < injectedAt) return;
    lastCanary = a.at;
    canaryAnswers++;
    if (r.bad(a)) {
      firstBad ??= a.at;
      bad++;
    }
  });
  s.canary.set(r.behaviour);
  try {
    const aborted = await until("judge abort", async () => (await readRollout(s.redis)).state?.status === "aborted", CAP_SECONDS * 1000).then(() => true, () => false);
    const state = (await readRollout(s.redis)).state;
    const abortedAt = aborted ? Date.parse(state!.updatedAt) : Date.now();
    // Requests in flight at the abort finish; then the canary gets nothing.
    await sleep(2000);
    const start = firstBad ?? injectedAt;
    return { aborted, toAbortS: (abortedAt - start) / 1000, toZeroS: (lastCanary - start) / 1000, badServed: bad, canaryRps: canaryAnswers / ((lastCanary - injectedAt) / 1000) };
  } finally {
    unwatch();
    s.canary.set(HEALTHY);
  }
}

const span = (xs: number[], digits: number): string => (xs.length === 0 ? "—" : xs.length === 1 ? `**${xs[0].toFixed(digits)}**` : `**${median(xs).toFixed(digits)}** (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`);

function regressionRow(r: Regression, results: Round[], canaryRps: number): string {
  const done = results.filter((x) => x.aborted);
  const alarm = r.alarm(canaryRps);
  const badRate = r.behaviour.errorRate ?? 1;
  const alarmCell = alarm.seconds === null ? `never (${alarm.note})` : alarm.seconds > 3600 ? `> 1 h (${alarm.note})` : `${alarm.seconds.toFixed(0)} s, ≈ ${Math.round(alarm.seconds * canaryRps * badRate)} bad (${alarm.note})`;
  return `| ${r.label} | ${done.length} of ${results.length} within ${CAP_SECONDS} s | ${span(done.map((x) => x.toAbortS), 1)} | ${span(done.map((x) => x.toZeroS), 1)} | ${span(done.map((x) => x.badServed), 0)} | ${alarmCell} |`;
}

interface CpuPhase {
  judging: boolean;
  cpuMsPerS: number;
  usPerRequest: number;
  requestsPerS: number;
  aborted: boolean;
}

async function cpuPhase(s: Stack, judging: boolean, n: number): Promise<CpuPhase> {
  if (judging) await startRollout(s, `bench-clean-${n}@${new Date().toISOString()}`);
  else {
    await s.redis.del(keys.rollout);
    await changeRouting(s.redis, { weight: WEIGHT, enabled: true }, { by: BY, reason: "bench: idle judge phase" });
    await sleep(2000);
  }
  const cpu0 = cpuMs(s.agent.pid!);
  const req0 = s.load.counts().total;
  const t0 = Date.now();
  await sleep(CPU_PHASE_SECONDS * 1000);
  const cpu = cpuMs(s.agent.pid!) - cpu0;
  const requests = s.load.counts().total - req0;
  const seconds = (Date.now() - t0) / 1000;
  const aborted = judging && (await readRollout(s.redis)).state?.status === "aborted";
  return { judging, cpuMsPerS: cpu / seconds, usPerRequest: (1000 * cpu) / Math.max(1, requests), requestsPerS: requests / seconds, aborted };
}

export async function benchFastAbort(log: (line: string) => void = console.log): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aviary-fast-abort-"));
  stopWithCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const s = await startStack(dir);
  try {
    log(`fast abort: CPU phases (${CPU_PHASE_SECONDS} s each) …`);
    const phases: CpuPhase[] = [];
    for (let i = 0; i < 2; i++) for (const judging of [false, true]) phases.push(await cpuPhase(s, judging, i));
    const results: Round[][] = [];
    for (const r of REGRESSIONS) {
      log(`fast abort: ${r.label} (${r.rounds} rounds) …`);
      const rs: Round[] = [];
      for (let i = 0; i < r.rounds; i++) rs.push(await regressionRound(s, r, results.length * 10 + i));
      results.push(rs);
    }
    const all = results.flat();
    const canaryRps = median(all.map((x) => x.canaryRps));
    const totalRps = median(phases.map((p) => p.requestsPerS));
    const prodRps = Math.max(1, totalRps - canaryRps);
    const rows = REGRESSIONS.map((r, i) => regressionRow(r, results[i], canaryRps));
    const clean = Array.from({ length: CLEAN_ROLLOUTS }, (_, i) =>
      runStream({ seconds: CLEAN_SECONDS, canaryPerSecond: Math.round(canaryRps), productionPerSecond: Math.round(prodRps), productionErrorRate: HEALTHY.errorRate, canaryErrorRate: HEALTHY.errorRate, latencyMedianMs: HEALTHY.latencyMedianMs, latencySigma: HEALTHY.latencySigma, canaryLatencyFactor: 1, boundsMs: latencyBoundsMs(1500) }, DEFAULT_ANALYSIS, 500 + i),
    );
    const falseAborts = clean.filter((o) => o.failAt !== null).length;
    const idle = phases.filter((p) => !p.judging);
    const judging = phases.filter((p) => p.judging);
    const cpuRow = (name: string, ps: CpuPhase[]): string => `| ${name} | ${ps.map((p) => p.cpuMsPerS.toFixed(2)).join(", ")} | ${ps.map((p) => p.usPerRequest.toFixed(1)).join(", ")} | ${ps.map((p) => p.requestsPerS.toFixed(0)).join(", ")} |`;
    const fivePoints = results[2].filter((x) => x.aborted).map((x) => x.toZeroS);
    const a = DEFAULT_ANALYSIS;
    return `## Fast abort in the proxy

Generated by \`npm run bench\` (bench/fastAbort.ts), ${new Date().toISOString()}, ${os.availableParallelism()} cores. Real parts on 127.0.0.1: redis-server, HAProxy from haproxy/config.ts, the agent's own bundle as its own process (filling the slots and running the rollout judge, agent/rolloutJudge.ts: it judges its window every ${JUDGE_INTERVAL_MS / 1000} s with core/rollout/judge.ts and on a fail calls abortByJudge), two stand-in apps answering ${HEALTHY.errorRate * 100} % 5xx with log-normal latency (median ${HEALTHY.latencyMedianMs} ms, σ ${HEALTHY.latencySigma}), ${LOAD.concurrency} keep-alive clients pausing ${LOAD.pauseMs} ms (\`harness/load.ts\`), canary weight ${WEIGHT}: measured **${canaryRps.toFixed(1)} canary** and ${prodRps.toFixed(0)} production requests/s. Analysis: the default (allowance ${a.maxErrorRateIncreasePoints} points, p${100 * a.latencyQuantile} within ×${a.maxLatencyRatio}, ≥ ${a.minRequests} requests per role, α = ${a.alpha}). Each round starts a rollout, waits until the agent has its baseline, then injects the regression into the canary app.

| injected regression | aborted by the agent | first bad answer → rollout aborted in Redis, s | first bad answer → last canary answer (zero canary traffic), s | bad answers served | absolute-alarm path (computed) |
|---|---|---|---|---|---|
${rows.join("\n")}

Median (min–max) over the rounds the agent aborted. A 5xx regression's first bad answer is the canary's first 5xx after the injection; a latency regression's is its first answer. The absolute-alarm path is worked out, not run: \`canary-5xx-rate\` (≥ ${rateAlarm.threshold} % in ${rateAlarm.datapointsToAlarm} of ${rateAlarm.evaluationPeriods} × ${rateAlarm.periodSeconds} s periods) takes on average ${rateAlarm.periodSeconds / 2} s (errors start within a period) + ${rateAlarm.periodSeconds} s × (1 + q)/q² (two breaching periods in a row, each breaching with q = P(5xx ≥ ${rateAlarm.threshold} % of a period's ${Math.round(rateAlarm.periodSeconds * canaryRps)} canary answers), binomial at the canary's rate) + ${ALARM_LAGS_S} s (agent publish and CloudWatch evaluation, 10 s each, mean 5 s; SNS → Lambda ≈ 1 s); bad answers = that time × canary requests/s × the bad share. \`canary-p99-latency\` (≥ ${p99Alarm.threshold} ms) never fires below its threshold. Controller → Redis → agent → HAProxy is milliseconds on both paths (the agent's zero-traffic column includes it).

**Target** (issue): a canary 5 points worse out of traffic within 3 s of its first error at ≥ 20 canary requests/s. Measured here: ${fivePoints.length === 0 ? "no +5-point round aborted" : `median ${median(fivePoints).toFixed(1)} s`} — not met. The bar is the judge's evidence, not the proxy: at about 1 extra 5xx per second, the first 3 s after the first error hold about 3 more errors, and even a likelihood ratio knowing both rates exactly (Wald's SPRT) reaches only about 10 against the allowance there, short of the 2/α = ${(2 / a.alpha).toFixed(0)} an always-valid test at α = ${a.alpha} over two metrics needs (the "Canary judge" section above works through the same figures). Meeting 3 s soundly needs a larger α, a larger canary share (more canary requests/s) or a coarser allowance; the agent adds about one look (≤ ${JUDGE_INTERVAL_MS / 1000} s) and milliseconds of propagation to the judge's own time.

| agent CPU (its own process, /proc) | CPU ms per s | µs per request | requests/s |
|---|---|---|---|
${cpuRow("judge idle (no rollout: one Redis read a second)", idle)}
${cpuRow("judge running (a rollout progressing: counters read, window judged every second, recorded every 5 s)", judging)}

${CPU_PHASE_SECONDS} s phases, alternated in one run. Live clean rollouts in the judging phases (canary identical to production): ${judging.filter((p) => p.aborted).length} of ${judging.length} aborted.

False aborts over ${CLEAN_ROLLOUTS} clean rollouts (canary identical to production, ${CLEAN_SECONDS} s each, simulated at this run's measured rates with harness/judgeStreams.ts and judged every second exactly as the agent judges its window): **${falseAborts} of ${CLEAN_ROLLOUTS}** (target 0).
`;
  } finally {
    await s.stop();
  }
}
