// The rendered HAProxy config against the real haproxy binary: it validates, starts, and the
// Runtime API drives the prod/canary split, stickiness and forwarded headers. Loopback only, < 200 requests.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { PROXY_HAPROXY_OPTIONS } from "../../../components/proxy";
import { ACCESS_LOG_MODES } from "../../../core/config/accessLog";
import { BACKEND, latencyBoundsMs, latencyTableName, renderHaproxyConfig, STICKY_COOKIE } from "../../../haproxy/config";
import { slotName } from "../../../core/routing/slots";
import { runtimeCommand as runtime } from "../../../agent/runtimeApi";
import { backend, type Seen } from "../../../harness/backend";
import { freePort, HOST } from "../../../harness/freePort";
import { fillSlots, startHaproxy, status, type RunningHaproxy } from "../../../harness/haproxy";
import { until } from "../../../harness/until";
import { tempDir } from "../../support/tempDir";

let requests = 0;
function get(port: number, opts: { cookie?: string; host?: string; path?: string } = {}): Promise<{ status: number; version?: string; setCookie?: string[]; body: string }> {
  requests++;
  if (requests > 190) throw new Error("request budget exceeded");
  return new Promise((resolve, reject) => {
    const req = http.get({ host: opts.host ?? HOST, port, path: opts.path ?? "/", agent: false, headers: opts.cookie ? { cookie: opts.cookie } : {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, version: res.headers["x-version"] as string | undefined, setCookie: res.headers["set-cookie"], body }));
    });
    req.on("error", reject);
    req.setTimeout(30_000, () => req.destroy(new Error("request timeout"))); // a hang guard only
  });
}

const dir = tempDir("aviary-haproxy-");
const socket = path.join(dir, "admin.sock");
const cfg = path.join(dir, "haproxy.cfg");
const seenProd: Seen[] = [];
const seenCanary: Seen[] = [];
let haproxy: RunningHaproxy | undefined;
let servers: http.Server[] = [];
let webPort = 0;
let statsPort = 0;
let prodPort = 0;
let canaryPort = 0;

beforeAll(async () => {
  webPort = await freePort();
  statsPort = await freePort();
  const prod = await backend("prod", seenProd);
  const canary = await backend("canary", seenCanary);
  servers = [prod.server, canary.server];
  prodPort = prod.port;
  canaryPort = canary.port;
  fs.writeFileSync(cfg, renderHaproxyConfig({ bind: `${HOST}:${webPort}`, statsBind: `${HOST}:${statsPort}`, socketPath: socket, prodSlots: 3, canarySlots: 2 }));
});

afterAll(async () => {
  await haproxy?.stop();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  fs.rmSync(dir, { recursive: true, force: true });
});

test("the rendered config passes haproxy -c", () => {
  const r = spawnSync("haproxy", ["-c", "-f", cfg], { encoding: "utf8" });
  expect(r.stderr + r.stdout).not.toMatch(/\[(ALERT|WARNING)\]/);
  expect(r.status).toBe(0);
});

test("the AWS proxy instance's config (user haproxy, maxconn, :80) passes haproxy -c too", () => {
  const aws = path.join(dir, "aws.cfg");
  fs.writeFileSync(aws, renderHaproxyConfig(PROXY_HAPROXY_OPTIONS));
  const r = spawnSync("haproxy", ["-c", "-f", aws], { encoding: "utf8" });
  expect(r.stderr + r.stdout).not.toMatch(/\[(ALERT|WARNING)\]/);
  expect(r.status).toBe(0);
});

test("testerRouting renders the tester rules over every canary slot and passes haproxy -c; off renders none", () => {
  const base = { bind: `${HOST}:${webPort}`, statsBind: `${HOST}:${statsPort}`, socketPath: socket, prodSlots: 2, canarySlots: 3 };
  const on = renderHaproxyConfig({ ...base, testerRouting: true });
  const useServer = on.split("\n").filter((l) => l.startsWith("    use-server "));
  expect(useServer).toEqual([1, 2, 3].map((i) => `    use-server canary${i} if aviary_tester { req.cook(${STICKY_COOKIE}) -m str canary${i} }`).concat([1, 2, 3].map((i) => `    use-server canary${i} if aviary_tester`)));
  expect(renderHaproxyConfig(base)).not.toMatch(/use-server|aviary_tester/);
  for (const text of [on, renderHaproxyConfig(base)]) {
    expect(text.split("\n").filter((l) => l.startsWith("    ignore-persist "))).toHaveLength(3);
    const file = path.join(dir, "testers.cfg");
    fs.writeFileSync(file, text);
    const r = spawnSync("haproxy", ["-c", "-f", file], { encoding: "utf8" });
    expect(r.stderr + r.stdout).not.toMatch(/\[(ALERT|WARNING)\]/);
    expect(r.status).toBe(0);
  }
});

test("local mode's shorter health-check interval renders as given and stays valid; out-of-range values are refused", () => {
  const base = { bind: `${HOST}:${webPort}`, statsBind: `${HOST}:${statsPort}`, socketPath: socket, prodSlots: 1, canarySlots: 1 };
  expect(renderHaproxyConfig(base)).toContain("default-server inter 1s ");
  const fast = renderHaproxyConfig({ ...base, checkIntervalMs: 100 });
  expect(fast).toContain("default-server inter 100ms ");
  const file = path.join(dir, "fast.cfg");
  fs.writeFileSync(file, fast);
  const r = spawnSync("haproxy", ["-c", "-f", file], { encoding: "utf8" });
  expect(r.stderr + r.stdout).not.toMatch(/\[(ALERT|WARNING)\]/);
  expect(r.status).toBe(0);
  for (const bad of [50, 1.5, 120_000]) expect(() => renderHaproxyConfig({ ...base, checkIntervalMs: bad })).toThrow(/checkIntervalMs/);
});

test("latency histogram: bounds include the alarm threshold, the table is named after them, config stays valid", () => {
  const base = { bind: `${HOST}:8080`, statsBind: `${HOST}:8404`, socketPath: socket, prodSlots: 2, canarySlots: 1 };
  expect(latencyBoundsMs(1500)).toEqual([5, 10, 25, 50, 100, 250, 500, 1000, 1500, 2500, 5000, 10000, 30000]);
  // Already a bound: no duplicate; fractional thresholds round up (latencies are whole ms).
  expect(latencyBoundsMs(1000)).toEqual([5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000]);
  expect(latencyBoundsMs(199.2)).toContain(200);
  expect(latencyTableName([5, 200, 30000])).toBe("aviary_latency_ms_5_200_30000");

  const text = renderHaproxyConfig({ ...base, latencyThresholdMs: 200 });
  const bounds = latencyBoundsMs(200);
  const app = text.slice(text.indexOf("backend app"), text.indexOf("frontend stats"));
  expect(app).toContain("    http-request set-var(txn.aviary_t0) date(0,ms)\n");
  expect(app).toContain(`    http-response track-sc2 srv_name table ${latencyTableName(bounds)}\n`);
  expect(app).toContain("    http-response sc-inc-gpc(0,2)\n");
  bounds.forEach((b, i) => expect(app).toContain(`    http-response sc-inc-gpc(${i + 1},2) if { var(txn.aviary_ms) -m int ge ${b} }\n`));
  expect(app).toContain(`backend ${latencyTableName(bounds)}\n    stick-table type string len 16 size 3 store gpc(${bounds.length + 1})\n`);
  // Default threshold: DEFAULT_THRESHOLDS.canaryP99Ms.
  expect(renderHaproxyConfig(base)).toContain(latencyTableName(latencyBoundsMs(1500)));
  const f = path.join(dir, "latency.cfg");
  fs.writeFileSync(f, text);
  const r = spawnSync("haproxy", ["-c", "-f", f], { encoding: "utf8" });
  expect(r.stderr + r.stdout).not.toMatch(/\[(ALERT|WARNING)\]/);
  expect(r.status).toBe(0);

  for (const t of [0, -5, 60_001, Number.NaN]) expect(() => renderHaproxyConfig({ ...base, latencyThresholdMs: t })).toThrow(/latencyThresholdMs/);
});

test("real haproxy: Runtime API drives the split, stickiness, forwarded headers; stats on 127.0.0.1 only", async () => {
  haproxy = await startHaproxy(cfg, socket);

  const prod1 = `${BACKEND}/${slotName("prod", 1)}`;
  const canary1 = `${BACKEND}/${slotName("canary", 1)}`;
  for (const cmd of [
    `set server ${prod1} addr ${HOST} port ${prodPort}`, `set server ${prod1} weight 100`, `set server ${prod1} state ready`,
    `set server ${canary1} addr ${HOST} port ${canaryPort}`, `set server ${canary1} weight 0`, `set server ${canary1} state ready`,
  ]) {
    const out = await runtime(socket, cmd);
    expect(out.trim() === "" || /changed|no need to change/i.test(out)).toBe(true);
  }
  await until("prod1 and canary1 UP", async () => (await status(socket, "prod1")) === "UP" && (await status(socket, "canary1")) === "UP");

  // Canary at weight 0: everything goes to prod.
  for (let i = 0; i < 20; i++) expect((await get(webPort)).version).toBe("prod");
  expect(seenCanary).toHaveLength(0);

  // 100/100: both versions are served.
  expect((await runtime(socket, `set server ${canary1} weight 100`)).trim()).toBe("");
  const versions = new Set<string>();
  let canaryCookie: string | undefined;
  for (let i = 0; i < 20; i++) {
    const r = await get(webPort);
    versions.add(r.version ?? "");
    const c = r.setCookie?.find((s) => s.startsWith(`${STICKY_COOKIE}=`));
    if (r.version === "canary" && c) canaryCookie = c.split(";")[0];
  }
  expect([...versions].sort()).toEqual(["canary", "prod"]);
  expect(canaryCookie).toBe(`${STICKY_COOKIE}=canary1`);

  // The canary's cookie keeps the client on canary, and the cookie is not passed to the app (indirect).
  const before = seenCanary.length;
  for (let i = 0; i < 15; i++) {
    const r = await get(webPort, { cookie: canaryCookie });
    expect(r.version).toBe("canary");
  }
  expect(seenCanary.length - before).toBe(15);
  expect(seenCanary.slice(before).every((s) => s.cookie === undefined)).toBe(true);

  // Forwarded headers reach the backends.
  for (const s of [...seenProd, ...seenCanary]) {
    expect(s.xff).toBe(HOST);
    expect(s.proto).toBe("http");
  }

  // Stats: answers on 127.0.0.1, prometheus metrics too; nothing on another loopback address.
  const stats = await get(statsPort, { path: "/stats" });
  expect(stats.status).toBe(200);
  const metrics = await get(statsPort, { path: "/metrics" });
  expect(metrics.status).toBe(200);
  expect(metrics.body).toContain("haproxy_process_");
  await expect(get(statsPort, { host: "127.0.0.2", path: "/stats" })).rejects.toThrow(/ECONNREFUSED/);
  expect(requests).toBeLessThan(200);
});

test("access log: by default only the request that failed gets a line; accessLog all logs every request", async () => {
  // An app answering 500 on /fail and 200 elsewhere (health checks included).
  const app = http.createServer((req, res) => {
    res.writeHead(req.url === "/fail" ? 500 : 200, { "content-type": "text/plain" });
    res.end("x");
  });
  await new Promise<void>((r) => app.listen(0, HOST, () => r()));
  const appPort = (app.address() as AddressInfo).port;
  const lines = new Map<string, string[]>();
  try {
    for (const mode of [undefined, ...ACCESS_LOG_MODES]) {
      const name = mode ?? "default";
      const port = await freePort();
      const sock = path.join(dir, `log-${name}.sock`);
      const file = path.join(dir, `log-${name}.cfg`);
      fs.writeFileSync(file, renderHaproxyConfig({ bind: `${HOST}:${port}`, statsBind: `${HOST}:${await freePort()}`, socketPath: sock, prodSlots: 1, canarySlots: 1, accessLog: mode }));
      const h = await startHaproxy(file, sock, path.join(dir, `log-${name}.log`));
      try {
        await fillSlots(sock, { prod1: appPort });
        for (let i = 0; i < 3; i++) expect((await get(port, { path: "/ok" })).status).toBe(200);
        expect((await get(port, { path: "/fail" })).status).toBe(500);
        // HAProxy writes a line when the request ends; the failed one is logged in every mode.
        await until(`${name}: the 500 is logged`, async () => h.log().includes("GET /fail HTTP/1.1"));
        lines.set(name, h.log().split("\n").filter((l) => / "GET \/(ok|fail) /.test(l)));
      } finally {
        await h.stop();
      }
    }
  } finally {
    await new Promise((r) => app.close(r));
  }
  for (const name of ["default", "errors"]) {
    expect(lines.get(name)).toHaveLength(1);
    expect(lines.get(name)![0]).toMatch(/ 500 .*"GET \/fail HTTP\/1\.1"/);
  }
  expect(lines.get("all")!.filter((l) => l.includes("GET /ok "))).toHaveLength(3);
  expect(lines.get("all")!.filter((l) => / 500 .*GET \/fail /.test(l))).toHaveLength(1);
  expect(() => renderHaproxyConfig({ bind: `${HOST}:1`, statsBind: `${HOST}:2`, socketPath: socket, prodSlots: 1, canarySlots: 1, accessLog: "debug" as never })).toThrow(/accessLog must be "errors" or "all", got "debug"/);
});
