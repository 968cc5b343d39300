// `npm run demo`: a scripted scenario against the running local stack (start it with `npm start`),
// to watch on the dashboard. Every step waits for what it caused, within a bound, and the timeline
// is printed with timings. Traffic goes to 127.0.0.1 only and stops at the end.
import * as fs from "node:fs";
import * as path from "node:path";
import type Redis from "ioredis";
import { InvariantError, NotFoundError, TimeoutError } from "../core/errors";
import { cliRolloutDeps } from "../cli/rollout";
import type { RolloutCommand } from "../core/rollout/decide";
import { DEFAULT_ANALYSIS } from "../core/rollout/judge";
import { judgementReason } from "../core/rollout/judgementReason";
import type { RolloutPlan, RolloutState, StepResult } from "../core/rollout/model";
import { readRollout } from "../state/rollout";
import { connect } from "../state/connection";
import type { FlagDefinition } from "../core/flags/model";
import { updateFlag } from "../state/flags";
import { commandStore } from "../adapters/store/redis";
import { handleRollout, handleRoutingCommand } from "../controller/run";
import { setBooleanFlag } from "./flags";
import { Load } from "../harness/load";
import { LOCAL_STATE_FILE, type LocalStateFile } from "../discovery/localStateFile";
import type { LocalStatus } from "./status";
import { BETA_TESTER, OUTSIDER, bannerFor, bannerLine } from "./bannerProbe";

const BY = "demo";
const t0 = Date.now();
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
function say(text: string): void {
  process.stdout.write(`[${secs(Date.now() - t0).padStart(7)}] ${text}\n`);
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new TimeoutError(`gave up after ${secs(timeoutMs)} waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const pct = (part: number, total: number): string => (total === 0 ? "–" : `${((100 * part) / total).toFixed(1)}%`);

async function main(): Promise<void> {
  const file = path.resolve(__dirname, "..", LOCAL_STATE_FILE);
  if (!fs.existsSync(file)) throw new NotFoundError("no local stack is running here: start it with `npm start` in another terminal, then run `npm run demo`");
  const local = JSON.parse(fs.readFileSync(file, "utf8")) as LocalStateFile;
  const status = async (): Promise<LocalStatus> => (await fetch(`${local.adminUrl}/api/status`)).json() as Promise<LocalStatus>;
  const redis = connect(local.redisUrl);
  const s0 = await status();
  const canaryVersion = s0.versions.canary;
  say(`dashboard: ${local.adminUrl}  proxy: ${local.proxyUrl}  prod ${s0.versions.prod} · canary ${canaryVersion}`);

  // The stack keeps its state across restarts: a canary an earlier demo (or a person) turned off
  // stays off, and the story needs it serving.
  if (s0.routing && !s0.routing.canaryEnabled) {
    say(`0. the canary is off (since ${s0.routing.changedAt} by ${s0.routing.changedBy}); turning it on for the demo`);
    await handleRoutingCommand({ store: commandStore(redis, BY) }, { set: "on", reason: "demo: start from a serving canary" });
  }
  // demo-error-rate with these rules (none: no fault anywhere).
  const faultRules = (rules: FlagDefinition["rules"]) => (cur: FlagDefinition | undefined): FlagDefinition => {
    if (!cur) throw new NotFoundError("flag demo-error-rate is missing (the local runner creates it)");
    return { ...cur, enabled: true, rules };
  };
  await updateFlag(redis, "demo-error-rate", faultRules([]), { by: BY, reason: "demo: start without the fault", cause: "set" });

  const load = new Load({ url: `${local.proxyUrl}/`, concurrency: 2, pauseMs: 5 });
  try {
    // 1. Steady traffic at the configured split.
    say(`1. steady traffic; canary weight ${s0.routing?.canaryWeight ?? "?"}%`);
    const steadyFrom = Date.now();
    await new Promise((r) => setTimeout(r, 8000));
    const steady = load.counts(steadyFrom);
    say(`   ${steady.total} requests: prod ${pct(steady.byVersion[s0.versions.prod] ?? 0, steady.total)}, canary ${pct(steady.byVersion[canaryVersion] ?? 0, steady.total)}, failed ${steady.failed}`);

    // 2. Feature flag.
    say("2. flag hiddenfeature → on");
    const flagAt = Date.now();
    await setBooleanFlag(redis, "hiddenfeature", true, BY, "demo: show the hidden feature");
    await waitFor("/hiddenfeature to answer 200", 10_000, async () => ((await fetch(`${local.proxyUrl}/hiddenfeature`)).status === 200 ? true : undefined));
    say(`   /hiddenfeature answers 200 through the proxy ${secs(Date.now() - flagAt)} after the change`);
    await showBanner(local.proxyUrl);

    // 3. Load up until the fleet scales out.
    const before = (await status()).fleet;
    say(`3. raising load (CPU work per request) until the fleet scales out; now ${before.instances.length} instances`);
    const heavy = new Load({ url: `${local.proxyUrl}/work?ms=4`, concurrency: 12 });
    const heavyAt = Date.now();
    try {
      const out = await waitFor("a scale-out", 120_000, async () => {
        const f = (await status()).fleet;
        return f.desired > before.desired ? f : undefined;
      });
      say(`   scaled out to desired ${out.desired} after ${secs(Date.now() - heavyAt)} (prod-cpu-high → controller)`);
    } finally {
      await heavy.stop();
    }

    // 4. Break the canary on purpose: the alarm fires and the controller turns it off.
    say(`4. breaking the canary: demo-error-rate on for version ${canaryVersion} only`);
    let firstCanaryError: number | undefined;
    let lastCanaryAnswer = 0;
    const stopWatching = load.onSample((s) => {
      if (s.version === canaryVersion) lastCanaryAnswer = s.at;
      if (s.version === canaryVersion && s.status >= 500 && firstCanaryError === undefined) firstCanaryError = s.at;
    });
    await updateFlag(redis, "demo-error-rate", faultRules([{ match: "all", conditions: [{ attribute: "version", op: "equals", value: canaryVersion }], variant: "on" }]), { by: BY, reason: "demo: break the canary", cause: "set" });
    const off = await waitFor("the controller to disable the canary", 60_000, async () => {
      const s = await status();
      return s.routing && !s.routing.canaryEnabled ? s : undefined;
    });
    const failedFrom = firstCanaryError ?? Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    stopWatching();
    const during = load.counts(failedFrom);
    say(`   canary disabled by ${off.routing?.changedBy}: ${off.routing?.reason ?? ""}`);
    if (firstCanaryError !== undefined) {
      say(`   first canary error → last canary answer: ${secs(Math.max(0, lastCanaryAnswer - firstCanaryError))}; failed client requests since the first error: ${during.failed}`);
    }
    await updateFlag(redis, "demo-error-rate", faultRules([]), { by: BY, reason: "demo: fault removed", cause: "set" });

    // 5. Load down: the fleet scales back in.
    load.setConcurrency(1);
    const high = (await status()).fleet;
    say(`5. load lowered; waiting for scale-in from desired ${high.desired}`);
    const inAt = Date.now();
    const scaledIn = await waitFor("a scale-in", 180_000, async () => {
      const f = (await status()).fleet;
      return f.desired < high.desired ? f : undefined;
    });
    say(`   scaled in to desired ${scaledIn.desired} after ${secs(Date.now() - inAt)} (prod-cpu-low → controller drained and removed the newest instance)`);

    // 6. A good release through every step of a rollout, judged against production, to promotion.
    load.setConcurrency(3);
    await goodRelease(redis, status, canaryVersion);

    // 7. A subtly bad release: 2 % errors (under the 5 % alarm) that the proxy's judge catches.
    await badRelease(redis, load, canaryVersion);
    say("done. The canary stays off until a person retries it: `bin/aviary rollout retry` (or turns it on: `bin/aviary canary on`).");
  } finally {
    await load.stop();
    redis.disconnect();
  }
}

/** The JSON flag and the segment: a beta tester gets the beta banner, anyone else the standard one. */
async function showBanner(proxyUrl: string): Promise<void> {
  say("   JSON flag banner, rule `in segment beta-testers` (email ends with @example.com, or an invited tester):");
  for (const person of [BETA_TESTER, OUTSIDER]) say(`   ${bannerLine(person, await bannerFor(proxyUrl, person))}`);
}

/** The demo's rollouts, in local seconds (they are not scaled again): long enough for a sound verdict at the demo's load. */
const GOOD_PLAN: RolloutPlan = { steps: [{ weight: 20, pauseSeconds: 40 }, { weight: 50, pauseSeconds: 20 }], analysis: { ...DEFAULT_ANALYSIS, latencyQuantile: 0.95 }, autoPromote: true };
const BAD_PLAN: RolloutPlan = { ...GOOD_PLAN, steps: [{ weight: 20, pauseSeconds: 60 }], autoPromote: false };

const rolloutCommand = (redis: Redis, command: RolloutCommand) => handleRollout(cliRolloutDeps(commandStore(redis, BY), () => undefined), command);
const readable = async (redis: Redis): Promise<RolloutState | undefined> => (await readRollout(redis)).state ?? undefined;
const verdictLine = (r: StepResult): string => `step ${r.step + 1} at ${r.weight} %: ${r.verdict} (judged by ${r.judgedBy}) — ${judgementReason(r.judgement)}`;

async function goodRelease(redis: Redis, status: () => Promise<LocalStatus>, version: string): Promise<void> {
  say(`6. a good release: rollout of ${version} in ${GOOD_PLAN.steps.length} steps (${GOOD_PLAN.steps.map((st) => `${st.weight} % for ${st.pauseSeconds} s`).join(", ")}), autoPromote`);
  const started = Date.now();
  await rolloutCommand(redis, { do: "start", plan: GOOD_PLAN, appVersion: version });
  let shown = 0;
  let resumes = 0;
  const end = await waitFor("the rollout to finish", 240_000, async () => {
    const r = await readable(redis);
    if (!r) return undefined;
    for (; shown < r.results.length; shown++) say(`   ${verdictLine(r.results[shown])}`);
    // Too few requests for a sound verdict pauses the rollout; the demo gives it one more window.
    if (r.status === "paused" && resumes < 2) {
      resumes++;
      say("   not enough evidence yet: resuming over a fresh window");
      await rolloutCommand(redis, { do: "resume" });
      return undefined;
    }
    return ["promoted", "aborted", "paused"].includes(r.status) ? r : undefined;
  });
  if (end.status !== "promoted") throw new InvariantError(`the good release ended ${end.status}: ${end.reason}`);
  say(`   promoted after ${secs(Date.now() - started)}; production moves to ${version} one instance at a time`);
  const moved = await waitFor("production on the canary's version", 120_000, async () => {
    const s = await status();
    return s.versions.prod === version && s.routing?.canaryWeight === 0 ? s : undefined;
  });
  say(`   production runs ${moved.versions.prod} (${moved.fleet.instances.length} instances); canary drained to 0 %`);
}

async function badRelease(redis: Redis, load: Load, version: string): Promise<void> {
  say("7. a subtly bad release: the canary fails 2 % of its requests, production none (the 5 % alarm would never fire)");
  await updateFlag(redis, "demo-error-rate", (cur) => {
    if (!cur) throw new NotFoundError("flag demo-error-rate is missing (the local runner creates it)");
    return { ...cur, enabled: true, variants: { ...cur.variants, subtle: 2 }, rules: [{ match: "all", conditions: [{ attribute: "role", op: "equals", value: "canary" }], variant: "subtle" }] };
  }, { by: BY, reason: "demo: a subtly bad canary", cause: "set" });
  let firstError: number | undefined;
  let lastError = 0;
  let errors = 0;
  const stop = load.onSample((sample) => {
    if (sample.status < 500) return;
    firstError ??= sample.at;
    lastError = sample.at;
    errors++;
  });
  try {
    await rolloutCommand(redis, { do: "start", plan: BAD_PLAN, appVersion: version });
    const aborted = await waitFor("the judge to abort the rollout", 120_000, async () => {
      const r = await readable(redis);
      return r?.status === "aborted" ? r : undefined;
    });
    await new Promise((r) => setTimeout(r, 1500));
    const last = aborted.results.at(-1);
    if (last) say(`   ${verdictLine(last)}`);
    if (firstError !== undefined) say(`   first error → last error: ${secs(lastError - firstError)}; ${errors} failed requests in all; canary off (${aborted.reason})`);
  } finally {
    stop();
    await updateFlag(redis, "demo-error-rate", (cur) => {
      if (!cur) throw new NotFoundError("flag demo-error-rate is missing (the local runner creates it)");
      return { ...cur, rules: [] };
    }, { by: BY, reason: "demo: fault removed", cause: "set" });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`aviary demo: ${err.message}\n`);
  process.exit(1);
});
