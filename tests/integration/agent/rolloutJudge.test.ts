// The proxy's fast abort against real parts, all on 127.0.0.1: redis-server, HAProxy rendered from
// haproxy/config.ts, the agent filling its slots, stand-in apps answering with injected 5xx, bounded
// client load through HAProxy, and the rollout judge reading HAProxy's counters off the admin socket.
import { Writable } from "node:stream";
import pino from "pino";
import { readCounters, readLatencyTable } from "../../../agent/metrics";
import { startRolloutJudge, type RolloutJudge } from "../../../agent/rolloutJudge";
import { runtimeCommand } from "../../../agent/runtimeApi";
import { DEFAULT_ANALYSIS } from "../../../core/rollout/judge";
import type { RolloutState } from "../../../core/rollout/model";
import { behavingBackend, type BehavingBackend } from "../../../harness/backend";
import { HOST } from "../../../harness/freePort";
import { prng } from "../../../harness/judgeStreams";
import { Load } from "../../../harness/load";
import { until } from "../../../harness/until";
import { keys } from "../../../state/keys";
import { registerBackend } from "../../../state/registry";
import { readRollout, readWindows, writeRollout } from "../../../state/rollout";
import { readRouting } from "../../../state/routing";
import { startProxyStack, type ProxyStack } from "../../support/proxyStack";
import { rolloutState } from "../../support/rolloutFixtures";
import { tempDir } from "../../support/tempDir";

jest.setTimeout(240_000);

const WEIGHT = 50;
const PROXY = "test-proxy";
const warnings: { msg: string; problems?: string[] }[] = [];
const logger = pino(
  { level: "warn" },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) warnings.push(JSON.parse(line) as { msg: string });
      done();
    },
  }),
);

let stack: ProxyStack;
let prod: BehavingBackend;
let canary: BehavingBackend;
let judge: RolloutJudge;
let load: Load;

const healthy = { errorRate: 0, latencyMedianMs: 2, latencySigma: 0.3 };


/** A rollout at its first step, at weight WEIGHT, judged with the default analysis. */
const rollout = (id: string): RolloutState =>
  rolloutState({ id, appVersion: "1.1.0", plan: { steps: [{ weight: WEIGHT, pauseSeconds: 600 }, { weight: 100, pauseSeconds: 600 }], analysis: DEFAULT_ANALYSIS, autoPromote: false } });

/** Starts a rollout over whatever is stored (the previous test's, or garbage). */
async function start(id: string): Promise<void> {
  await stack.redis.del(keys.rollout);
  await writeRollout(stack.redis, rollout(id), { weight: WEIGHT, enabled: true }, { by: "test", reason: "test: start", expectRevision: null });
  await stack.agent.waitForApplied((a) => a.some((s) => s.slot === "canary1" && s.state === "ready" && s.weight > 0));
}

/** HAProxy's own count of requests sent to the canary slot. */
async function canaryRequests(): Promise<number> {
  const r = await readCounters(() => runtimeCommand(stack.socket, "show stat"), () => Promise.resolve(undefined));
  return r.totals.find((t) => t.role === "canary")!.requests;
}

beforeAll(async () => {
  prod = await behavingBackend("1.0.0", healthy, prng(1));
  canary = await behavingBackend("1.1.0", healthy, prng(2));
  stack = await startProxyStack({
    dir: tempDir("aviary-rollout-judge-"),
    prodSlots: 2,
    canarySlots: 1,
    resyncMs: 1000,
    logger,
    seed: async (redis) => {
      await registerBackend(redis, { id: "p1", role: "prod", address: `${HOST}:${prod.port}`, version: "1.0.0", ttlSeconds: 600 });
      await registerBackend(redis, { id: "c1", role: "canary", address: `${HOST}:${canary.port}`, version: "1.1.0", ttlSeconds: 600 });
    },
  });
  const socket = stack.socket;
  judge = startRolloutJudge({ redis: stack.redis, proxyId: PROXY, readCounters: () => readCounters(() => runtimeCommand(socket, "show stat"), () => readLatencyTable(socket)), logger });
  // About 4 × 1000 / 52 ≈ 75 requests/s, half to the canary.
  load = new Load({ url: `http://${HOST}:${stack.webPort}/`, concurrency: 4, pauseMs: 50 });
});

afterAll(async () => {
  await load?.stop();
  await judge?.stop();
  await stack?.stop();
  prod?.server.close();
  canary?.server.close();
});

test("garbage rollout state: no judging, routing untouched, one warning naming the problem", async () => {
  await start("garbage@1");
  await stack.redis.set(keys.rollout, '{"id": "garbage@1", "status": "progre');
  const before = (await readRouting(stack.redis)).state!;
  canary.set({ errorRate: 0.5 });
  try {
    for (let i = 0; i < 8; i++) await judge.nextLook();
  } finally {
    canary.set(healthy);
  }
  const after = (await readRouting(stack.redis)).state!;
  expect([after.canaryEnabled, after.canaryWeight, after.changedAt]).toEqual([before.canaryEnabled, before.canaryWeight, before.changedAt]);
  expect(stack.agent.applied().find((s) => s.slot === "canary1")).toMatchObject({ state: "ready", weight: expect.any(Number) });
  const garbage = warnings.filter((w) => /rollout state unreadable/.test(w.msg));
  expect(garbage).toHaveLength(1);
  expect(garbage[0].problems?.length).toBeGreaterThan(0);
});

test("a canary identical to production is not turned off, and its window is recorded for the controller", async () => {
  await start("same@1");
  const until30s = Date.now() + 30_000;
  let lastLook;
  while (Date.now() < until30s) lastLook = (await judge.nextLook()) ?? lastLook;
  const { state } = await readRollout(stack.redis);
  expect(state).toMatchObject({ id: "same@1", status: "progressing", results: [] });
  expect((await readRouting(stack.redis)).state).toMatchObject({ canaryEnabled: true, canaryWeight: WEIGHT });
  // The judge did look at a real window (not an empty one).
  expect(lastLook?.errorRate.canary.requests).toBeGreaterThan(DEFAULT_ANALYSIS.minRequests);
  expect(lastLook?.verdict).not.toBe("fail");
  const windows = await readWindows(stack.redis, "same@1", 0, state?.stepStartedAt ?? "");
  expect(windows.proxies).toBe(1);
  expect(windows.sum.canary.requests).toBeGreaterThan(DEFAULT_ANALYSIS.minRequests);
});

test("a resumed step is judged over a fresh window: counts from before the resume are not in it", async () => {
  await start("resume@1");
  // About ten seconds of the step's first run.
  const firstRunEnds = Date.now() + 10_000;
  while (Date.now() < firstRunEnds) await judge.nextLook();
  const { state } = await readRollout(stack.redis);
  // The rollout as pause-then-resume leaves it (same id and step, the step's clock restarted), in
  // one write so that no look of the agent falls between the two.
  const resumedAt = new Date().toISOString();
  const sentBefore = await canaryRequests();
  await writeRollout(stack.redis, { ...state!, stepStartedAt: resumedAt, reason: "test: resumed" }, undefined, { by: "test", reason: "test: resume", expectRevision: state!.revision });
  let look;
  while (!look) look = await judge.nextLook();
  look = await judge.nextLook();
  const sentSinceResume = (await canaryRequests()) - sentBefore;
  expect(look?.errorRate.canary.requests).toBeGreaterThan(0);
  expect(look!.errorRate.canary.requests).toBeLessThanOrEqual(sentSinceResume);
  // The window it records for the controller is the new run's, and only that one is summed.
  await until("the resumed step's window recorded", async () => (await readWindows(stack.redis, "resume@1", 0, resumedAt)).proxies === 1, 30_000);
  const windows = await readWindows(stack.redis, "resume@1", 0, resumedAt);
  expect(windows.sum.canary.requests).toBeLessThanOrEqual((await canaryRequests()) - sentBefore);
});

test("a canary 5 points worse under load is turned off by the agent, and HAProxy stops sending to it", async () => {
  await start("bad@1");
  canary.set({ errorRate: 0.05 });
  await until("the rollout aborted by the agent", async () => (await readRollout(stack.redis)).state?.status === "aborted", 180_000);
  const { state } = await readRollout(stack.redis);
  const result = state!.results.at(-1)!;
  expect(result).toMatchObject({ step: 0, weight: WEIGHT, verdict: "fail", judgedBy: `agent ${PROXY}` });
  expect(result.judgement.errorRate.verdict).toBe("fail");
  expect(state!.reason).toMatch(/5xx/);
  expect((await readRouting(stack.redis)).state).toMatchObject({ canaryEnabled: false });
  await stack.agent.waitForApplied((a) => a.some((s) => s.slot === "canary1" && (s.state !== "ready" || s.weight === 0)));
  // In-flight requests finish; after that HAProxy sends the canary nothing while load goes on.
  await new Promise((r) => setTimeout(r, 500));
  const sent = await canaryRequests();
  const clientsBefore = load.counts().total;
  await new Promise((r) => setTimeout(r, 3000));
  expect(load.counts().total - clientsBefore).toBeGreaterThan(50);
  expect(await canaryRequests()).toBe(sent);
  expect(judge.takeAborts()).toBe(1);
});
