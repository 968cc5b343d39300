// Testers reach the canary on purpose (aviary:proxy.testerRouting): real redis-server + HAProxy +
// agent + two tiny backends on 127.0.0.1. A tester's header or cookie reaches an enabled canary at any
// weight, 0 included; nobody else reaches a weight-0 canary (a stale sticky cookie neither); a
// disabled canary is never reached; with the switch off the header means nothing.
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import pino from "pino";
import type Redis from "ioredis";
import { slotCommands } from "../../../adapters/routingBackend/haproxy";
import { runtimeBatch } from "../../../agent/runtimeApi";
import { computeWeights, type SlotAssignment } from "../../../core/routing/weights";
import { renderHaproxyConfig, STICKY_COOKIE, TESTER_COOKIE, TESTER_HEADER } from "../../../haproxy/config";
import { backend } from "../../../harness/backend";
import { freePort, HOST } from "../../../harness/freePort";
import { startHaproxy, status, type RunningHaproxy } from "../../../harness/haproxy";
import { until } from "../../../harness/until";
import { registerBackend } from "../../../state/registry";
import { disableCanary, enableCanary, setCanaryWeight } from "../../../state/routing";
import { tempDir } from "../../support/tempDir";
import { startProxyStack, type ProxyStack } from "../../support/proxyStack";
import { versionSplit } from "../../support/versionSplit";

// Real processes on two shared cores: budgets are hang guards, not speed claims.
jest.setTimeout(180_000);

const dir = tempDir("aviary-testers-");
const by = { by: "tester-routing-test" };
const log = pino({ level: "warn" });
const servers: http.Server[] = [];
let prodPort = 0;
let canaryPort = 0;
let stack: ProxyStack;

interface Answer { version: string; sticky?: string }

/** One request on a fresh connection; the version that answered and the sticky cookie set, if any. */
function get(port: number, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port, path: "/", agent: false, headers }, (res) => {
      res.resume();
      const sticky = (res.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]).find((c) => c.startsWith(`${STICKY_COOKIE}=`));
      res.on("end", () => resolve({ version: res.statusCode === 200 ? String(res.headers["x-version"]) : `status ${res.statusCode}`, sticky }));
    });
    req.on("error", reject);
    req.setTimeout(30_000, () => req.destroy(new Error("request timeout")));
  });
}

const versions = async (n: number, headers: http.OutgoingHttpHeaders = {}, port = stack.webPort) => versionSplit(n, 4, async () => (await get(port, headers)).version);
const tester = { [TESTER_HEADER]: "1" };
const slot = (a: SlotAssignment[], name: string): SlotAssignment | undefined => a.find((s) => s.slot === name);

beforeAll(async () => {
  const p = await backend("prod");
  const c = await backend("canary");
  servers.push(p.server, c.server);
  prodPort = p.port;
  canaryPort = c.port;
  const seed = async (redis: Redis): Promise<void> => {
    await registerBackend(redis, { id: "p1", role: "prod", address: `${HOST}:${p.port}`, version: "1.0.0", ttlSeconds: 600 });
    await registerBackend(redis, { id: "c1", role: "canary", address: `${HOST}:${c.port}`, version: "1.1.0", ttlSeconds: 600 });
    await setCanaryWeight(redis, 0, by);
  };
  // Two canary slots, one backend: canary2 stays a maint placeholder that no tester rule may pick.
  stack = await startProxyStack({ dir, prodSlots: 2, canarySlots: 2, resyncMs: 500, logger: log, seed, testerRouting: true });
  await stack.agent.waitForApplied((a) => slot(a, "canary1")?.state === "ready" && slot(a, "prod1")?.state === "ready");
  await until("prod1 + canary1 UP", async () => (await status(stack.socket, "prod1")) === "UP" && (await status(stack.socket, "canary1")) === "UP");
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  fs.rmSync(dir, { recursive: true, force: true });
});

test("weight 0: the tester header and cookie reach the canary; no one else does, a canary sticky cookie included", async () => {
  expect(slot(stack.agent.applied(), "canary1")).toMatchObject({ state: "ready", weight: 0 });
  expect(await versions(30, tester)).toEqual({ prod: 0, canary: 30, failed: 0 });
  // use-server answers set no sticky cookie: the tester's own header or cookie is what routes them.
  expect(await get(stack.webPort, tester)).toEqual({ version: "canary", sticky: undefined });
  expect(await versions(30, { cookie: `${TESTER_COOKIE}=1` })).toEqual({ prod: 0, canary: 30, failed: 0 });
  expect(await versions(30, { cookie: `a=b; ${TESTER_COOKIE}=1; c=d` })).toEqual({ prod: 0, canary: 30, failed: 0 });
  // Only the value 1 opts in.
  expect(await versions(30, { [TESTER_HEADER]: "0", cookie: `${TESTER_COOKIE}=yes` })).toEqual({ prod: 30, canary: 0, failed: 0 });
  expect(await versions(300)).toEqual({ prod: 300, canary: 0, failed: 0 });
  // A sticky cookie from when the canary had weight does not pin anyone to a weight-0 canary.
  expect(await versions(30, { cookie: `${STICKY_COOKIE}=canary1` })).toEqual({ prod: 30, canary: 0, failed: 0 });
});

test("weight 50: sticky cookies keep working; a tester with a production cookie still gets the canary", async () => {
  await setCanaryWeight(stack.redis, 50, by);
  await stack.agent.waitForApplied((a) => (slot(a, "canary1")?.weight ?? 0) > 0);
  const cookies = new Map<string, string>();
  for (let i = 0; i < 40 && cookies.size < 2; i++) {
    const r = await get(stack.webPort);
    if (r.sticky) cookies.set(r.version, r.sticky);
  }
  expect(cookies.get("prod")).toBe(`${STICKY_COOKIE}=prod1`);
  expect(cookies.get("canary")).toBe(`${STICKY_COOKIE}=canary1`);
  expect(await versions(20, { cookie: cookies.get("prod") })).toEqual({ prod: 20, canary: 0, failed: 0 });
  expect(await versions(20, { cookie: cookies.get("canary") })).toEqual({ prod: 0, canary: 20, failed: 0 });
  expect(await versions(20, { ...tester, cookie: cookies.get("prod") })).toEqual({ prod: 0, canary: 20, failed: 0 });
});

test("a disabled canary is never reached: the tester header and cookie go to production", async () => {
  await disableCanary(stack.redis, by);
  await stack.agent.waitForApplied((a) => slot(a, "canary1")?.state === "maint");
  expect(await status(stack.socket, "canary1")).toMatch(/MAINT/);
  expect(await versions(30, tester)).toEqual({ prod: 30, canary: 0, failed: 0 });
  expect(await versions(30, { cookie: `${TESTER_COOKIE}=1; ${STICKY_COOKIE}=canary1` })).toEqual({ prod: 30, canary: 0, failed: 0 });

  // Enabled again at weight 0: testers are back on it once its checks pass.
  await setCanaryWeight(stack.redis, 0, by);
  await enableCanary(stack.redis, by);
  await stack.agent.waitForApplied((a) => slot(a, "canary1")?.state === "ready");
  await until("canary1 UP", async () => (await status(stack.socket, "canary1")) === "UP");
  expect(await versions(20, tester)).toEqual({ prod: 0, canary: 20, failed: 0 });
});

describe("testerRouting off (the default)", () => {
  let haproxy: RunningHaproxy | undefined;
  afterAll(async () => haproxy?.stop());

  test("the header and cookie mean nothing: a weight-0 canary gets no request, weight 50 splits them as anyone's", async () => {
    const port = await freePort();
    const socket = path.join(dir, "off.sock");
    const cfg = path.join(dir, "off.cfg");
    fs.writeFileSync(cfg, renderHaproxyConfig({ bind: `${HOST}:${port}`, statsBind: `${HOST}:${await freePort()}`, socketPath: socket, prodSlots: 1, canarySlots: 1 }));
    expect(fs.readFileSync(cfg, "utf8")).not.toContain(TESTER_HEADER);
    haproxy = await startHaproxy(cfg, socket);
    const fleet = [{ id: "p1", role: "prod" as const, address: `${HOST}:${prodPort}` }, { id: "c1", role: "canary" as const, address: `${HOST}:${canaryPort}` }];
    // What the agent applies for an enabled canary at weight 0, then at 50.
    await runtimeBatch(socket, computeWeights({ canaryWeight: 0, canaryEnabled: true }, fleet, { prod: 1, canary: 1 }).flatMap(slotCommands));
    await until("prod1 + canary1 UP", async () => (await status(socket, "prod1")) === "UP" && (await status(socket, "canary1")) === "UP");
    expect(await versions(30, { ...tester, cookie: `${TESTER_COOKIE}=1` }, port)).toEqual({ prod: 30, canary: 0, failed: 0 });
    expect(await versions(30, { cookie: `${STICKY_COOKIE}=canary1` }, port)).toEqual({ prod: 30, canary: 0, failed: 0 });

    await runtimeBatch(socket, computeWeights({ canaryWeight: 50, canaryEnabled: true }, fleet, { prod: 1, canary: 1 }).flatMap(slotCommands));
    const split = await versions(200, tester, port);
    expect(split.failed).toBe(0);
    expect(split.canary).toBeGreaterThan(60);
    expect(split.prod).toBeGreaterThan(60);
  });
});
