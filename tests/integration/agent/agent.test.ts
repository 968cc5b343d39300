// End to end: real redis-server + real haproxy + tiny http backends, all on 127.0.0.1.
// The agent mirrors Redis routing into haproxy; we measure the split through haproxy itself.
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import pino from "pino";
import type Redis from "ioredis";
import { renderHaproxyConfig } from "../../../haproxy/config";
import { connect } from "../../../state/connection";
import { registerBackend } from "../../../state/registry";
import { disableCanary, enableCanary, setCanaryWeight } from "../../../state/routing";
import { startAgent, type Agent } from "../../../agent/agent";
import type { SlotAssignment } from "../../../core/routing/weights";
import { startRedisServer, type RedisServer } from "../../../harness/redisServer";
import { backend } from "../../../harness/backend";
import { freePort, HOST } from "../../../harness/freePort";
import { startHaproxy, status, type RunningHaproxy } from "../../../harness/haproxy";
import { until } from "../../../harness/until";
import { tempDir } from "../../support/tempDir";
import { haproxyRoutingBackend } from "../../../adapters/routingBackend/haproxy";

const dir = tempDir("aviary-agent-");
const socket = path.join(dir, "admin.sock");
const cfg = path.join(dir, "haproxy.cfg");
const by = { by: "agent-test" };
const log = pino({ level: "warn" });

let redisServer: RedisServer | undefined;
let client: Redis | undefined;
let haproxy: RunningHaproxy | undefined;
let agent: Agent | undefined;
let servers: http.Server[] = [];
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });
let webPort = 0;
const registrations: { id: string; role: "prod" | "canary"; port: number }[] = [];

function get(): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port: webPort, path: "/", agent: keepAlive }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve(String(res.headers["x-version"])) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.setTimeout(30_000, () => req.destroy(new Error("request timeout"))); // a hang guard only
  });
}

/** `n` requests, 8 at a time; counts versions and failures (never throws). */
async function load(n: number): Promise<{ prod: number; canary: number; failed: number }> {
  const r = { prod: 0, canary: 0, failed: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      try {
        const v = await get();
        if (v === "canary") r.canary++;
        else if (v === "prod") r.prod++;
        else r.failed++;
      } catch {
        r.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return r;
}

const slot = (a: SlotAssignment[], name: string): SlotAssignment | undefined => a.find((s) => s.slot === name);
const canaryLive = (a: SlotAssignment[]): boolean => slot(a, "canary1")?.state === "ready" && (slot(a, "canary1")?.weight ?? 0) > 0;

async function registerAll(): Promise<void> {
  for (const r of registrations) {
    await registerBackend(client!, { id: r.id, role: r.role, address: `${HOST}:${r.port}`, version: r.role === "prod" ? "1.0.0" : "1.1.0", ttlSeconds: 600 });
  }
}

beforeAll(async () => {
  webPort = await freePort();
  const statsPort = await freePort();
  fs.writeFileSync(cfg, renderHaproxyConfig({ bind: `${HOST}:${webPort}`, statsBind: `${HOST}:${statsPort}`, socketPath: socket, prodSlots: 4, canarySlots: 2 }));
  for (const [id, role] of [["p1", "prod"], ["p2", "prod"], ["p3", "prod"], ["c1", "canary"]] as const) {
    const b = await backend(role);
    servers.push(b.server);
    registrations.push({ id, role, port: b.port });
  }
  redisServer = await startRedisServer();
  client = connect(redisServer.url);
  await registerAll();
  haproxy = await startHaproxy(cfg, socket);
  agent = await startAgent({ redisUrl: redisServer.url, backend: haproxyRoutingBackend(socket), slots: { prod: 4, canary: 2 }, resyncMs: 1000, logger: log });
  await until("prod1..3 UP", async () => (await Promise.all(["prod1", "prod2", "prod3"].map((s) => status(socket, s)))).every((s) => s === "UP"));
}, 180_000);

afterAll(async () => {
  await agent?.stop();
  client?.disconnect();
  await haproxy?.stop();
  keepAlive.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await redisServer?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("weight 25 → 25% ± 2 through haproxy; 0 and disable → no canary; fail static while Redis is down; resync after restart", async () => {
  // 25%: propagation = setCanaryWeight resolved → agent applied it to haproxy.
  const t0 = Date.now();
  await setCanaryWeight(client!, 25, by);
  await agent!.waitForApplied(canaryLive);
  const propagationMs = Date.now() - t0;
  log.warn({ propagationMs }, "canary weight propagation");
  await until("canary1 UP", async () => (await status(socket, "canary1")) === "UP");
  const split = await load(4000);
  log.warn({ split, canaryPct: (100 * split.canary) / 4000 }, "measured split at weight 25");
  expect(split.failed).toBe(0);
  expect(Math.abs((100 * split.canary) / 4000 - 25)).toBeLessThanOrEqual(2);

  // Weight 0 → canary drained.
  await setCanaryWeight(client!, 0, by);
  await agent!.waitForApplied((a) => slot(a, "canary1")?.state === "maint");
  const zero = await load(200);
  expect(zero).toEqual({ prod: 200, canary: 0, failed: 0 });

  // Disable (with a non-zero weight remembered) → canary drained.
  await setCanaryWeight(client!, 25, by);
  await agent!.waitForApplied(canaryLive);
  await disableCanary(client!, by);
  await agent!.waitForApplied((a) => slot(a, "canary1")?.state === "maint");
  const disabled = await load(200);
  expect(disabled).toEqual({ prod: 200, canary: 0, failed: 0 });

  // Redis killed mid-traffic: haproxy keeps serving the last applied split.
  await enableCanary(client!, by);
  await agent!.waitForApplied(canaryLive);
  await until("canary1 UP", async () => (await status(socket, "canary1")) === "UP");
  const before = agent!.applied();
  await redisServer!.kill();
  const during = await load(500);
  // Long enough for a resync read to fail (ioredis gives up after 2 reconnects) before checking nothing moved.
  await new Promise((r) => setTimeout(r, 4500));
  expect(during.failed).toBe(0);
  expect(during.canary).toBeGreaterThan(0);
  expect(agent!.applied()).toEqual(before);

  // Restart (data is not persisted): the empty registry is not applied; once repopulated,
  // a new weight is picked up via resubscription / periodic resync.
  await redisServer!.restart();
  await registerAll();
  await setCanaryWeight(client!, 50, by);
  // P=3, C=1, w=50 → prod weight 1, canary weight 3 (3 * 1 : 1 * 3 = 50%).
  const after = await agent!.waitForApplied((a) => slot(a, "canary1")?.weight === 3 && slot(a, "prod1")?.weight === 1, 15000);
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
  await setCanaryWeight(client!, weight, by);
  await agent!.waitForApplied((a) => Math.abs(appliedCanaryPct(a) - weight) < 0.5 || (weight === 0 && slot(a, "canary1")?.state === "maint"));
  if (weight > 0) await until("canary1 UP", async () => (await status(socket, "canary1")) === "UP");
  const r = await load(1000);
  expect(r.failed).toBe(0);
  expect(Math.abs((100 * r.canary) / 1000 - weight)).toBeLessThanOrEqual(2);
}, 180_000);
