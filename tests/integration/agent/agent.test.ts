// End to end: real redis-server + real haproxy + tiny http backends, all on 127.0.0.1.
// The agent mirrors Redis routing into haproxy; we measure the split through haproxy itself.
import * as http from "http";
import pino from "pino";
import type Redis from "ioredis";
import { registerBackend } from "../../../state/registry";
import { disableCanary, enableCanary, setCanaryWeight } from "../../../state/routing";
import type { SlotAssignment } from "../../../core/routing/weights";
import { backend } from "../../../harness/backend";
import { HOST } from "../../../harness/freePort";
import { status } from "../../../harness/haproxy";
import { until } from "../../../harness/until";
import { tempDir } from "../../support/tempDir";
import { startProxyStack, type ProxyStack } from "../../support/proxyStack";
import { versionSplit, type VersionSplit } from "../../support/versionSplit";

const dir = tempDir("aviary-agent-");
const by = { by: "agent-test" };
const log = pino({ level: "warn" });

let stack: ProxyStack;
let servers: http.Server[] = [];
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });
const registrations: { id: string; role: "prod" | "canary"; port: number }[] = [];

function get(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port: stack.webPort, path: "/", agent: keepAlive }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve(String(res.headers["x-version"])) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.setTimeout(30_000, () => req.destroy(new Error("request timeout"))); // a hang guard only
  });
}

/** `n` requests, 8 at a time; counts versions and failures (never throws). */
const load = (n: number): Promise<VersionSplit> => versionSplit(n, 8, get);

const slot = (a: SlotAssignment[], name: string): SlotAssignment | undefined => a.find((s) => s.slot === name);
const canaryLive = (a: SlotAssignment[]): boolean => slot(a, "canary1")?.state === "ready" && (slot(a, "canary1")?.weight ?? 0) > 0;

async function registerAll(redis: Redis = stack.redis): Promise<void> {
  for (const r of registrations) {
    await registerBackend(redis, { id: r.id, role: r.role, address: `${HOST}:${r.port}`, version: r.role === "prod" ? "1.0.0" : "1.1.0", ttlSeconds: 600 });
  }
}

beforeAll(async () => {
  for (const [id, role] of [["p1", "prod"], ["p2", "prod"], ["p3", "prod"], ["c1", "canary"]] as const) {
    const b = await backend(role);
    servers.push(b.server);
    registrations.push({ id, role, port: b.port });
  }
  stack = await startProxyStack({ dir, prodSlots: 4, canarySlots: 2, resyncMs: 1000, logger: log, seed: registerAll });
  await until("prod1..3 UP", async () => (await Promise.all(["prod1", "prod2", "prod3"].map((s) => status(stack.socket, s)))).every((s) => s === "UP"));
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  keepAlive.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

test("weight 25 → 25% ± 2 through haproxy; 0 and disable → no canary; fail static while Redis is down; resync after restart", async () => {
  // 25%: propagation = setCanaryWeight resolved → agent applied it to haproxy.
  const t0 = Date.now();
  await setCanaryWeight(stack.redis, 25, by);
  await stack.agent.waitForApplied(canaryLive);
  const propagationMs = Date.now() - t0;
  log.warn({ propagationMs }, "canary weight propagation");
  await until("canary1 UP", async () => (await status(stack.socket, "canary1")) === "UP");
  const split = await load(4000);
  log.warn({ split, canaryPct: (100 * split.canary) / 4000 }, "measured split at weight 25");
  expect(split.failed).toBe(0);
  expect(Math.abs((100 * split.canary) / 4000 - 25)).toBeLessThanOrEqual(2);

  // Weight 0 → canary out of the split (ready at weight 0, for testers only).
  await setCanaryWeight(stack.redis, 0, by);
  await stack.agent.waitForApplied((a) => slot(a, "canary1")?.weight === 0);
  const zero = await load(200);
  expect(zero).toEqual({ prod: 200, canary: 0, failed: 0 });

  // Disable (with a non-zero weight remembered) → canary drained.
  await setCanaryWeight(stack.redis, 25, by);
  await stack.agent.waitForApplied(canaryLive);
  await disableCanary(stack.redis, by);
  await stack.agent.waitForApplied((a) => slot(a, "canary1")?.state === "maint");
  const disabled = await load(200);
  expect(disabled).toEqual({ prod: 200, canary: 0, failed: 0 });

  // Redis killed mid-traffic: haproxy keeps serving the last applied split.
  await enableCanary(stack.redis, by);
  await stack.agent.waitForApplied(canaryLive);
  await until("canary1 UP", async () => (await status(stack.socket, "canary1")) === "UP");
  const before = stack.agent.applied();
  await stack.redisServer.kill();
  const during = await load(500);
  // Long enough for a resync read to fail (ioredis gives up after 2 reconnects) before checking nothing moved.
  await new Promise((r) => setTimeout(r, 4500));
  expect(during.failed).toBe(0);
  expect(during.canary).toBeGreaterThan(0);
  expect(stack.agent.applied()).toEqual(before);

  // Restart (data is not persisted): the empty registry is not applied; once repopulated,
  // a new weight is picked up via resubscription / periodic resync.
  await stack.redisServer.restart();
  await registerAll();
  await setCanaryWeight(stack.redis, 50, by);
  // P=3, C=1, w=50 → prod weight 1, canary weight 3 (3 * 1 : 1 * 3 = 50%).
  const after = await stack.agent.waitForApplied((a) => slot(a, "canary1")?.weight === 3 && slot(a, "prod1")?.weight === 1, 15000);
  expect(["prod1", "prod2", "prod3", "canary1"].map((s) => slot(after, s)?.state)).toEqual(["ready", "ready", "ready", "ready"]);
  const final = await load(200);
  expect(final.failed).toBe(0);
}, 180_000);

/** The canary share HAProxy's applied weights give a cookie-less request, in percent. */
function appliedCanaryPct(a: SlotAssignment[]): number {
  const live = a.filter((s) => s.state === "ready");
  const total = live.reduce((n, s) => n + s.weight, 0);
  const canary = live.filter((s) => s.slot.startsWith("canary")).reduce((n, s) => n + s.weight, 0);
  return total === 0 ? Number.NaN : (100 * canary) / total;
}

test.each([10, 50, 100, 0])("weight %i takes effect on the next requests through haproxy (±2 points over 1,000)", async (weight) => {
  await setCanaryWeight(stack.redis, weight, by);
  await stack.agent.waitForApplied((a) => Math.abs(appliedCanaryPct(a) - weight) < 0.5 || (weight === 0 && slot(a, "canary1")?.weight === 0));
  if (weight > 0) await until("canary1 UP", async () => (await status(stack.socket, "canary1")) === "UP");
  const r = await load(1000);
  expect(r.failed).toBe(0);
  expect(Math.abs((100 * r.canary) / 1000 - weight)).toBeLessThanOrEqual(2);
}, 180_000);
