// Registry faults against real parts on 127.0.0.1: redis-server (no persistence), HAProxy, the
// agent and the sample apps (their own registration and heartbeats). Counted requests through
// HAProxy assert the canary's share stays at most its weight + 3 points in every 1-second window,
// no request fails, prod slots are not drained on an unconfirmed shrink, and the index heals.
import * as path from "node:path";
import { Writable } from "node:stream";
import type Redis from "ioredis";
import pino from "pino";
import type { SlotAssignment } from "../../core/routing/weights";
import { startApp, type AppConfig, type RunningApp } from "../../app/main";
import { Load, type LoadSample } from "../../harness/load";
import { channels, keys } from "../../state/keys";
import { registerBackend } from "../../state/registry";
import { setCanaryWeight } from "../../state/routing";
import { freePort, HOST } from "../../harness/freePort";
import { status } from "../../harness/haproxy";
import { until } from "../../harness/until";
import { writeFaultReport, type FaultResult } from "../../harness/reports/faultReport";
import type { RedisServer } from "../../harness/redisServer";
import { tempDir } from "../support/tempDir";
import { startProxyStack, type ProxyStack } from "../support/proxyStack";

const WEIGHT = 10;
const HEARTBEAT_MS = 1500;
const TTL_SECONDS = 5;
const dir = tempDir("aviary-registry-faults-");
const appLog = pino({ level: "warn" }, pino.destination(path.join(dir, "apps.log")));

/** Every line the agent logs, kept to measure what a fault costs in log volume. */
const agentLines: string[] = [];
const agentLog = pino(
  { level: "info" },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      agentLines.push(chunk.toString());
      done();
    },
  }),
);

let stack: ProxyStack;
let proxyUrl = "";
const apps = new Map<string, { app: RunningApp; config: AppConfig }>();

async function startOne(id: string, role: "prod" | "canary", redisUrl: string): Promise<void> {
  const port = await freePort();
  const config: AppConfig = {
    version: role === "prod" ? "1.0.0" : "1.1.0",
    role,
    host: HOST,
    port,
    redisUrl,
    instanceId: id,
    address: `${HOST}:${port}`,
    snapshotFile: path.join(dir, `flags-${id}.json`),
    heartbeatMs: HEARTBEAT_MS,
    ttlSeconds: TTL_SECONDS,
    drainDelayMs: 500,
    drainTimeoutMs: 2000,
    faults: false,
    memoryCapMb: 0,
  };
  apps.set(id, { app: await startApp(config, appLog.child({ id })), config });
}

const slot = (a: SlotAssignment[], name: string): SlotAssignment | undefined => a.find((s) => s.slot === name);
const readyProd = (a: SlotAssignment[]): number => a.filter((s) => s.slot.startsWith("prod") && s.state === "ready").length;

/** The whole fleet in the split: prod1..3 and canary1 ready, HAProxy's checks seeing them UP. */
async function steady(): Promise<void> {
  await stack.agent.waitForApplied((a) => readyProd(a) === 3 && slot(a, "canary1")?.state === "ready", 15_000);
  await until("prod1..3 and canary1 UP", async () => (await Promise.all(["prod1", "prod2", "prod3", "canary1"].map((s) => status(stack.socket, s)))).every((s) => s === "UP"), 15_000);
}

interface Window { second: number; total: number; canary: number; failed: number }

/** Requests per 1-second window since `t0`. */
function windows(samples: readonly LoadSample[], t0: number): Window[] {
  const out = new Map<number, Window>();
  for (const s of samples) {
    const second = Math.floor((s.at - t0) / 1000);
    const w = out.get(second) ?? { second, total: 0, canary: 0, failed: 0 };
    w.total++;
    if (s.status !== 200) w.failed++;
    else if (s.version === "1.1.0") w.canary++;
    out.set(second, w);
  }
  return [...out.values()].sort((a, b) => a.second - b.second);
}

/**
 * Runs `fault` under counted load (4 cookie-less keep-alive clients, bounded) for `observeMs`
 * after it, and records what the agent applied meanwhile.
 */
async function underLoad(fault: () => Promise<void>, observeMs: number): Promise<{ windows: Window[]; applied: SlotAssignment[][] }> {
  const load = new Load({ url: `${proxyUrl}/`, concurrency: 4, pauseMs: 2, maxRequests: 60_000 });
  const samples: LoadSample[] = [];
  const unsample = load.onSample((s) => samples.push(s));
  const applied: SlotAssignment[][] = [];
  const unapplied = stack.agent.onApplied((a) => applied.push(a));
  const t0 = Date.now();
  try {
    await until("first answers", () => samples.length > 50, 10_000);
    await fault();
    await new Promise((r) => setTimeout(r, observeMs));
  } finally {
    unsample();
    unapplied();
    await load.stop();
  }
  return { windows: windows(samples, t0), applied };
}

const rows: FaultResult[] = [];

/** A fault-table row for a fault whose assertions passed: counts and the worst judged window. */
function record(fault: string, r: { windows: Window[] }, after: string, t0: number): void {
  const total = r.windows.reduce((n, w) => n + w.total, 0);
  const failed = r.windows.reduce((n, w) => n + w.failed, 0);
  const judged = r.windows.filter((w) => w.total >= 50);
  const worst = Math.max(...judged.map((w) => (100 * w.canary) / w.total));
  rows.push({ fault, served: total - failed, failed, after: `canary at most ${worst.toFixed(1)}% in ${judged.length} 1-s windows (weight ${WEIGHT}); ${after}`, intact: "-", seconds: Math.round((Date.now() - t0) / 100) / 10 });
}

/** The invariant per window (windows with too few requests to judge a share are still checked for failures). */
function expectShareBounded(ws: Window[]): void {
  const failed = ws.reduce((n, w) => n + w.failed, 0);
  const worst = Math.max(...ws.filter((w) => w.total >= 50).map((w) => (100 * w.canary) / w.total));
  expect({ failed, worstCanaryPct: worst <= WEIGHT + 3 ? "within weight + 3" : worst }).toEqual({ failed: 0, worstCanaryPct: "within weight + 3" });
  expect(ws.filter((w) => w.total >= 50).length).toBeGreaterThanOrEqual(3);
}

beforeAll(async () => {
  const seed = async (redis: Redis, redisServer: RedisServer): Promise<void> => {
    await setCanaryWeight(redis, WEIGHT, { by: "registry-faults" });
    for (const [id, role] of [["p1", "prod"], ["p2", "prod"], ["p3", "prod"], ["c1", "canary"]] as const) await startOne(id, role, redisServer.url);
  };
  stack = await startProxyStack({ dir, prodSlots: 4, canarySlots: 2, checkIntervalMs: 200, resyncMs: 1000, logger: agentLog, seed });
  proxyUrl = `http://${HOST}:${stack.webPort}`;
  await steady();
}, 60_000);

afterAll(async () => {
  writeFaultReport("registry", rows);
  for (const { app } of apps.values()) await app.stop("test over").catch(() => undefined);
  await stack?.stop();
});

/** Every app's entry written afresh (as each app's start does): each test starts from a whole registry. */
beforeEach(async () => {
  for (const [id, { config }] of apps) {
    await registerBackend(stack.redis, { id, role: config.role, address: config.address!, version: config.version, ttlSeconds: TTL_SECONDS });
  }
  await steady();
}, 30_000);

const indexIs = async (ids: string): Promise<boolean> => (await stack.redis.smembers(keys.backends)).sort().join() === ids;

test("the index deleted while every backend lives, then the canary registers again: no prod slot drained, share bounded, index rebuilt by heartbeats", async () => {
  const t0 = Date.now();
  const r = await underLoad(async () => {
    await stack.redis.del(keys.backends);
    // The next backend to register (a restarted canary) was the whole registry on the old code.
    const c1 = apps.get("c1")!.config;
    await registerBackend(stack.redis, { id: "c1", role: "canary", address: c1.address!, version: c1.version, ttlSeconds: TTL_SECONDS });
  }, HEARTBEAT_MS + 1500);
  expectShareBounded(r.windows);
  expect(Math.min(...r.applied.map(readyProd))).toBe(3);
  // Within one heartbeat interval (plus the observation slack above) every live backend is back.
  expect(await indexIs("c1,p1,p2,p3")).toBe(true);
  record("registry index deleted while backends live, then the canary re-registers", r, "3 prod slots ready throughout; index rebuilt by heartbeats", t0);
}, 60_000);

test("Redis restarted without persistence (every hash gone), the canary re-registering first: share bounded, no failures, registry back", async () => {
  const t0 = Date.now();
  const r = await underLoad(async () => {
    await stack.redisServer.restart();
    // The canary's registration lands before any prod heartbeat notices the loss.
    const c1 = apps.get("c1")!.config;
    await until("canary registered on the new Redis", () =>
      registerBackend(stack.redis, { id: "c1", role: "canary", address: c1.address!, version: c1.version, ttlSeconds: TTL_SECONDS }).then(() => true, () => false), 5000);
    await setCanaryWeight(stack.redis, WEIGHT, { by: "registry-faults" });
  }, HEARTBEAT_MS * 2 + 1500);
  expectShareBounded(r.windows);
  expect(Math.min(...r.applied.map(readyProd))).toBe(3);
  expect(await indexIs("c1,p1,p2,p3")).toBe(true);
  record("Redis restarted without persistence (every backend hash gone), the canary registering first", r, "3 prod slots ready throughout; registry back", t0);
}, 60_000);

test("a 10 MB junk change notice costs the agent one bounded log line", async () => {
  const before = agentLines.length;
  await stack.redis.publish(channels.changes, "x".repeat(10 * 1024 * 1024));
  await until("the notice logged", () => agentLines.slice(before).some((l) => l.includes("bad change notice")), 5000);
  const line = agentLines.slice(before).find((l) => l.includes("bad change notice"))!;
  expect(line.length).toBeLessThan(2000);
  expect(line).toContain("change notice over 1024 characters: 10485760 characters starting");
}, 30_000);

test("a subset of prod backends vanishing (their entries deleted, apps alive): kept until they heartbeat back; a real deregistration still removes at once", async () => {
  const started = Date.now();
  const r = await underLoad(async () => {
    await stack.redis.del(keys.backend("p2"), keys.backend("p3"));
  }, HEARTBEAT_MS + 1500);
  expectShareBounded(r.windows);
  expect(Math.min(...r.applied.map(readyProd))).toBe(3);
  expect(await stack.redis.exists(keys.backend("p2"), keys.backend("p3"))).toBe(2);

  // Scale-in is not held back: p3 deregisters (its notice) and leaves HAProxy long before its TTL.
  const t0 = Date.now();
  await apps.get("p3")!.app.stop("scale in");
  apps.delete("p3");
  await stack.agent.waitForApplied((a) => readyProd(a) === 2, 5000);
  expect(Date.now() - t0).toBeLessThan(TTL_SECONDS * 1000);
  record("2 of 3 prod backend entries deleted (apps alive)", r, `kept serving until they heartbeat back; a real deregistration left HAProxy in ${Date.now() - t0} ms`, started);
}, 60_000);
