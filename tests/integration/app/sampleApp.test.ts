// The sample app as it runs on the instances: the esbuild bundle in a child process, a real
// redis-server, flags changed with the CLI while it runs, registry entries, SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type Redis from "ioredis";
import { run } from "../../../cli/main";
import { connect } from "../../../state/connection";
import { putFlag, updateFlag } from "../../../state/flags";
import { ensureFlags } from "../../../local/flags";
import { DEFAULT_BANNER, type BannerAnswer } from "../../../app/banner";
import { listBackends } from "../../../state/registry";
import { freePort } from "../../../harness/freePort";
import { bundleApp } from "../../../release/bundles";
import { until } from "../../../harness/until";
import { startRedisServer, type RedisServer } from "../../../harness/redisServer";
import { tempDir } from "../../support/tempDir";

let server: RedisServer;
let redis: Redis;
let dir: string;
let bundle: string;
const apps = new Set<App>();

interface App {
  proc: ChildProcess;
  port: number;
  logs: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<number | null>;
}

beforeAll(async () => {
  dir = tempDir("aviary-app-");
  bundle = path.join(dir, "app.js");
  // The very bundle the release ships.
  writeFileSync(bundle, bundleApp());
  server = await startRedisServer();
  redis = connect(server.url);
});

afterEach(() => {
  for (const a of apps) if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill("SIGKILL");
  apps.clear();
});

afterAll(async () => {
  await redis?.quit();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Demo fault flags work only where AVIARY_DEMO_FAULTS=on (the local stack; AWS with aviary:demoFaults). */
const FAULTS_ON = { AVIARY_DEMO_FAULTS: "on" };

function spawnApp(id: string, version: string, role: "prod" | "canary", p: number, extraEnv: Record<string, string>): App {
  const proc = spawn(process.execPath, [bundle], {
    env: {
      PATH: process.env.PATH,
      REDIS_URL: server.url,
      PORT: String(p),
      HOST: "127.0.0.1",
      AVIARY_VERSION: version,
      AVIARY_ROLE: role,
      AVIARY_INSTANCE_ID: id,
      AVIARY_ADDRESS: `127.0.0.1:${p}`,
      AVIARY_FLAG_SNAPSHOT: path.join(dir, `${id}.flags.json`),
      AVIARY_HEARTBEAT_MS: "200",
      AVIARY_TTL_SECONDS: "2",
      AVIARY_DRAIN_DELAY_MS: "200",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const app: App = { proc, port: p, logs: [], stderr: [], exited: new Promise((r) => proc.once("exit", (code) => r(code))) };
  apps.add(app);
  let buf = "";
  proc.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        app.logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        app.logs.push({ level: 60, msg: `non-JSON output: ${line}` });
      }
    }
  });
  proc.stderr!.on("data", (d: Buffer) => app.stderr.push(d.toString()));
  return app;
}

async function startApp(id: string, version: string, role: "prod" | "canary", port?: number, extraEnv: Record<string, string> = {}): Promise<App> {
  const app = spawnApp(id, version, role, port ?? (await freePort()), extraEnv);
  await until(`${id} listening`, () => app.logs.some((l) => l.msg === "listening"), 15_000);
  return app;
}

async function get(app: App, urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; version: string | null; body: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${app.port}${urlPath}`, { headers });
  return { status: res.status, version: res.headers.get("x-aviary-version"), body: await res.text(), ms: performance.now() - t0 };
}

async function cli(...argv: string[]): Promise<number> {
  const sink = { write: () => true };
  return run(argv, { stdout: sink, stderr: sink }, { env: { REDIS_URL: server.url } });
}

/** Problems the app logged: warnings are expected during an outage, errors never. */
const errorsOf = (app: App): unknown[] => [...app.logs.filter((l) => Number(l.level) >= 50), ...app.stderr];

beforeEach(async () => {
  await redis.flushall();
});

test("/, /healthz, version header, self-registration, and /hiddenfeature flipping with the flag", async () => {
  const app = await startApp("prod-a", "1.4.2", "prod");
  await until("registration", async () => (await listBackends(redis)).backends.length === 1, 15_000);
  expect((await listBackends(redis)).backends).toEqual([expect.objectContaining({ id: "prod-a", role: "prod", address: `127.0.0.1:${app.port}`, version: "1.4.2" })]);

  expect(await get(app, "/")).toMatchObject({ status: 200, version: "1.4.2", body: "aviary 1.4.2\n" });
  expect(await get(app, "/healthz")).toMatchObject({ status: 200, body: "ok\n" });
  expect(await get(app, "/hiddenfeature")).toMatchObject({ status: 404, version: "1.4.2" });

  const flips: number[] = [];
  for (const state of ["on", "off", "on"]) {
    const t0 = performance.now();
    expect(await cli("flags", "set", "hiddenfeature", state)).toBe(0);
    const want = state === "on" ? 200 : 404;
    await until(`/hiddenfeature ${want}`, async () => (await get(app, "/hiddenfeature")).status === want, 15_000);
    flips.push(performance.now() - t0);
  }
  expect((await get(app, "/hiddenfeature")).body).toBe("hidden feature (aviary 1.4.2)\n");

  // A 50% rollout: per user (x-aviary-user header), stable across requests.
  await cli("flags", "rollout", "hiddenfeature", "50");
  await cli("flags", "set", "hiddenfeature", "off");
  await until("rollout applied", async () => (await get(app, "/hiddenfeature")).status === 404, 15_000);
  const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
  const first = await Promise.all(users.map(async (u) => (await get(app, "/hiddenfeature", { "x-aviary-user": u })).status));
  const again = await Promise.all(users.map(async (u) => (await get(app, `/hiddenfeature?user=${u}`)).status));
  expect(again).toEqual(first);
  expect(first.filter((s) => s === 200).length).toBeGreaterThan(5);
  expect(first.filter((s) => s === 404).length).toBeGreaterThan(5);
  expect(errorsOf(app)).toEqual([]);
});

test("after set on then kill, /hiddenfeature behaves as the code's default (off) for every user; unkill restores it", async () => {
  const app = await startApp("prod-k", "1.4.2", "prod");
  const users = Array.from({ length: 20 }, (_, i) => `user-${i}`);
  const statuses = () => Promise.all(users.map(async (u) => (await get(app, "/hiddenfeature", { "x-aviary-user": u })).status));
  expect(await cli("flags", "set", "hiddenfeature", "on")).toBe(0);
  await until("/hiddenfeature on", async () => (await get(app, "/hiddenfeature")).status === 200, 15_000);
  expect(await cli("flags", "kill", "hiddenfeature", "--reason", "test")).toBe(0);
  await until("/hiddenfeature killed", async () => (await get(app, "/hiddenfeature")).status === 404, 15_000);
  expect(await statuses()).toEqual(users.map(() => 404));
  expect(await cli("flags", "unkill", "hiddenfeature", "--reason", "test")).toBe(0);
  await until("/hiddenfeature back on", async () => (await get(app, "/hiddenfeature")).status === 200, 15_000);
  expect(await statuses()).toEqual(users.map(() => 200));
  expect(errorsOf(app)).toEqual([]);
});

describe("/banner: the JSON flag through getObjectValue, with a context from the request", () => {
  const banner = async (app: App, headers: Record<string, string> = {}): Promise<BannerAnswer> => {
    const r = await get(app, "/banner", headers);
    expect(r.status).toBe(200);
    return JSON.parse(r.body) as BannerAnswer;
  };
  const beta = { "x-aviary-user": "ana", "x-aviary-email": "ana@example.com" };

  test("local mode's flag and segment: beta testers (by email or invited key) get the beta banner, others the standard one", async () => {
    await ensureFlags(redis, "test");
    const app = await startApp("prod-j", "1.4.2", "prod");
    const tester = await banner(app, beta);
    expect(tester).toMatchObject({ variant: "beta", reason: "TARGETING_MATCH" });
    expect(tester.banner).toEqual({ text: expect.stringMatching(/beta/), color: expect.stringMatching(/^#[0-9a-f]{6}$/) });
    expect(await banner(app, { "x-aviary-user": "tester-1" })).toMatchObject({ variant: "beta", reason: "TARGETING_MATCH" });
    expect(await banner(app, { "x-aviary-user": "bob", "x-aviary-email": "bob@elsewhere.org" })).toMatchObject({ variant: "standard", reason: "DEFAULT" });
    expect(await banner(app)).toMatchObject({ variant: "standard", reason: "DEFAULT" });
    // A fifth of pro users, stable per user, as a split.
    const pro = await Promise.all(Array.from({ length: 60 }, async (_, i) => (await banner(app, { "x-aviary-user": `p${i}`, "x-aviary-plan": "pro" })).variant));
    expect(pro.filter((v) => v === "beta").length).toBeGreaterThan(2);
    expect(pro.filter((v) => v === "standard").length).toBeGreaterThan(30);

    // Killed: every request gets the code's default, with reason DISABLED.
    expect(await cli("flags", "kill", "banner", "--reason", "test")).toBe(0);
    await until("banner killed", async () => (await banner(app, beta)).reason === "DISABLED", 15_000);
    expect(await banner(app, beta)).toEqual({ banner: DEFAULT_BANNER, variant: null, reason: "DISABLED" });
    expect(errorsOf(app)).toEqual([]);
  });

  test("a served value that is not {text, color} is not shown: the code's default, and a warning", async () => {
    await ensureFlags(redis, "test");
    const app = await startApp("prod-m", "1.4.2", "prod");
    await updateFlag(redis, "banner", (f) => ({ ...f!, variants: { ...f!.variants, beta: { text: "<b>no colour</b>" } } }), { by: "test", reason: "bad shape", cause: "set" });
    await until("bad value served", async () => (await banner(app, beta)).banner.text === DEFAULT_BANNER.text, 15_000);
    expect(await banner(app, beta)).toMatchObject({ banner: DEFAULT_BANNER, variant: null, reason: "TARGETING_MATCH" });
    expect(app.logs.some((l) => l.msg === "banner flag value is not {text, color}; using the code default")).toBe(true);
    expect(errorsOf(app)).toEqual([]);
  });

  test("without Redis (no flags) and without the flag, the code's default", async () => {
    const alone = await startApp("prod-n", "1.4.2", "prod", undefined, { REDIS_URL: "" });
    expect(await banner(alone, beta)).toEqual({ banner: DEFAULT_BANNER, variant: null, reason: "no flags" });
    const app = await startApp("prod-o", "1.4.2", "prod");
    expect(await banner(app, beta)).toEqual({ banner: DEFAULT_BANNER, variant: null, reason: "ERROR", errorCode: "FLAG_NOT_FOUND" });
  });
});

test("fault flags scoped to one version break only the canary", async () => {
  const prod = await startApp("prod-b", "1.4.2", "prod", undefined, FAULTS_ON);
  const canary = await startApp("canary-b", "1.5.0", "canary", undefined, FAULTS_ON);
  const scoped = (key: string, value: number) =>
    putFlag(redis, { key, type: "number", enabled: true, variants: { none: 0, broken: value }, defaultVariant: "none", rules: [{ attribute: "version", op: "equals", value: "1.5.0", variant: "broken" }], owner: "demo" }, { by: "test", reason: "demo" });
  await scoped("demo-error-rate", 100);
  await until("canary errors", async () => (await get(canary, "/")).status === 500, 15_000);
  expect(await get(canary, "/")).toMatchObject({ status: 500, version: "1.5.0", body: "injected error (demo-error-rate)\n" });
  expect((await get(canary, "/healthz")).status).toBe(200); // health checks are never faulted
  for (let i = 0; i < 20; i++) expect((await get(prod, "/")).status).toBe(200);

  await cli("flags", "kill", "demo-error-rate", "--reason", "demo over");
  await until("canary healthy again", async () => (await get(canary, "/")).status === 200, 15_000);

  await scoped("demo-latency-ms", 300);
  await until("canary slow", async () => (await get(canary, "/")).ms >= 300, 15_000);
  // Load only adds time: the fastest of three answers shows prod is not delayed by 300 ms.
  const prodMs = [(await get(prod, "/")).ms, (await get(prod, "/")).ms, (await get(prod, "/")).ms];
  expect(Math.min(...prodMs)).toBeLessThan(300);

  await scoped("demo-memory-growth-mb", 20);
  await until("memory growth", () => canary.logs.some((l) => l.msg === "demo memory growth"), 15_000);
  expect(prod.logs.some((l) => l.msg === "demo memory growth")).toBe(false);
  expect([...errorsOf(prod), ...errorsOf(canary)]).toEqual([]);
});

test("without AVIARY_DEMO_FAULTS=on (AWS by default) the demo-* flags change nothing", async () => {
  const app = await startApp("prod-e", "1.4.2", "prod");
  await putFlag(redis, { key: "demo-error-rate", type: "number", enabled: true, variants: { all: 100 }, defaultVariant: "all", owner: "demo" }, { by: "test" });
  await putFlag(redis, { key: "demo-latency-ms", type: "number", enabled: true, variants: { slow: 400 }, defaultVariant: "slow", owner: "demo" }, { by: "test" });
  await putFlag(redis, { key: "demo-memory-growth-mb", type: "number", enabled: true, variants: { grow: 20 }, defaultVariant: "grow", owner: "demo" }, { by: "test" });
  // The same flags do bite an app that has faults on, so they are in effect by now.
  const faulty = await startApp("prod-f", "1.4.2", "prod", undefined, FAULTS_ON);
  await until("faults on the other app", async () => (await get(faulty, "/")).status === 500, 15_000);
  const ms: number[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await get(app, "/");
    expect(r).toMatchObject({ status: 200, body: "aviary 1.4.2\n" });
    ms.push(r.ms);
  }
  // The 400 ms fault would delay every answer; load only adds time, so the fastest tells.
  expect(Math.min(...ms)).toBeLessThan(400);
  await new Promise((r) => setTimeout(r, 1500));
  expect(app.logs.some((l) => l.msg === "demo memory growth")).toBe(false);
  expect(errorsOf(app)).toEqual([]);
});

test("AVIARY_DEMO_FAULTS other than on/off is a configuration error (exit 2)", async () => {
  const app = spawnApp("prod-g", "1.4.2", "prod", await freePort(), { AVIARY_DEMO_FAULTS: "true" });
  expect(await app.exited).toBe(2);
  expect(app.logs.some((l) => l.msg === "bad configuration" && String(l.err).includes("AVIARY_DEMO_FAULTS must be on or off"))).toBe(true);
});

test("Redis down: last known good, no errors; restart during the outage uses the snapshot; Redis back: resync", async () => {
  let app = await startApp("prod-c", "1.4.2", "prod");
  await cli("flags", "set", "hiddenfeature", "on");
  await until("flag on", async () => (await get(app, "/hiddenfeature")).status === 200, 15_000);
  await until("registered", () => app.logs.some((l) => l.msg === "registered"), 15_000);

  await server.kill();
  await until("stale log", () => app.logs.some((l) => l.msg === "flags: redis lost; serving last known good"), 15_000);
  for (let i = 0; i < 50; i++) {
    expect((await get(app, "/hiddenfeature")).status).toBe(200);
    expect((await get(app, "/")).status).toBe(200);
  }

  // Restart the app while Redis is still down: flags come from its snapshot file.
  app.proc.kill("SIGTERM");
  expect(await app.exited).toBe(0);
  const port = app.port;
  app = await startApp("prod-c", "1.4.2", "prod", port);
  expect(app.logs.some((l) => l.msg === "flags: loaded snapshot")).toBe(true);
  for (let i = 0; i < 20; i++) expect((await get(app, "/hiddenfeature")).status).toBe(200);

  // Redis back (empty: the test server keeps no data): the app registers again and follows new changes.
  await server.restart();
  await until("re-registration", async () => (await listBackends(redis).catch(() => ({ backends: [] }))).backends.some((b) => b.id === "prod-c"), 15_000);
  await until("CLI after restart", async () => (await cli("flags", "set", "hiddenfeature", "off")) === 0, 15_000);
  await until("change after resync", async () => (await get(app, "/hiddenfeature")).status === 404, 15_000);
  expect(errorsOf(app)).toEqual([]);
});

test("SIGTERM: deregisters first, finishes in-flight requests, exits 0", async () => {
  const app = await startApp("prod-d", "1.4.2", "prod", undefined, FAULTS_ON);
  await until("registration", async () => (await listBackends(redis)).backends.some((b) => b.id === "prod-d"), 15_000);
  await putFlag(redis, { key: "demo-latency-ms", type: "number", enabled: true, variants: { slow: 500 }, defaultVariant: "slow", owner: "demo" }, { by: "test" });
  await until("slow requests", async () => (await get(app, "/")).ms >= 500, 15_000);
  const inFlight = get(app, "/"); // takes 500 ms
  await new Promise((r) => setTimeout(r, 50));
  app.proc.kill("SIGTERM");
  await until("deregistration", async () => !(await listBackends(redis)).backends.some((b) => b.id === "prod-d"), 15_000);
  expect(await inFlight).toMatchObject({ status: 200, body: "aviary 1.4.2\n" });
  expect(await app.exited).toBe(0);
  const msgs = app.logs.map((l) => l.msg);
  expect(msgs.indexOf("deregistered")).toBeGreaterThan(-1);
  expect(msgs.indexOf("deregistered")).toBeLessThan(msgs.indexOf("stopped"));
  expect(errorsOf(app)).toEqual([]);
});

test("the instances' systemd unit keeps the flag snapshot in a state directory that survives restarts", async () => {
  const { renderAppUserData } = await import("../../../components/appUserData");
  const script = renderAppUserData({ role: "canary", version: "1.5.0", bucket: "b", key: "k", appPort: 3000, redisUrlParameterName: "/p", region: "eu-west-1" });
  expect(script).toMatch(/^StateDirectory=aviary$/m);
  expect(script).toMatch(/^Environment=AVIARY_FLAG_SNAPSHOT=\/var\/lib\/aviary\/flags\.json$/m);
});
