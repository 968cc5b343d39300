// The in-HAProxy latency histogram: pure parsing/delta/percentile logic, then real haproxy with tiny
// loopback backends (bounded: 1,600 proxied requests) read by the agent's MetricsSampler.
import * as fs from "fs";
import * as http from "http";
import type * as net from "net";
import * as path from "path";
import { canaryAlarms } from "../../../core/alarms/definitions";
import { DEFAULT_THRESHOLDS } from "../../../core/config/defaults";
import { renderHaproxyConfig, STICKY_COOKIE } from "../../../haproxy/config";
import { boundsOfTable, findLatencyTable, p99UpperBoundMs, parseLatencyTable, roleLatency, slotDelta, type LatencyTable } from "../../../agent/latencyHistogram";
import { MetricsSampler, type RoleMetrics } from "../../../agent/metrics";
import { freePort, HOST } from "../../../harness/freePort";
import { fillSlots, startHaproxy, type RunningHaproxy } from "../../../harness/haproxy";
import { tempDir } from "../../support/tempDir";

const NAME = "aviary_latency_ms_5_100_1500";

describe("table names and show table parsing", () => {
  it("reads the bounds from the table name, and only from a latency table's name", () => {
    expect(boundsOfTable(NAME)).toEqual([5, 100, 1500]);
    for (const other of ["app", "aviary_latency_ms", "aviary_latency_ms_", "aviary_latency_ms_5_5", "aviary_latency_ms_100_5", "x_aviary_latency_ms_5"]) {
      expect(boundsOfTable(other)).toBeUndefined();
    }
  });

  it("finds the latency table in the listing of all tables", () => {
    const listing = `# table: sessions, type: ip, size:100, used:0\n# table: ${NAME}, type: string, size:3, used:2\n\n`;
    expect(findLatencyTable(listing)).toBe(NAME);
    expect(findLatencyTable("# table: sessions, type: ip, size:100, used:0\n\n")).toBeUndefined();
    expect(findLatencyTable("")).toBeUndefined();
  });

  it("parses each entry's gpc counters by key", () => {
    const text = `# table: ${NAME}, type: string, size:3, used:2\n` +
      "0x55923eea3f68: key=prod1 use=0 exp=0 gpc0=400 gpc1=30 gpc2=3 gpc3=0\n" +
      "0x55923eea4000: key=canary1 use=1 exp=0 gpc0=7 gpc1=7 gpc2=7 gpc3=7\n\n";
    const t = parseLatencyTable(text);
    expect(t.boundsMs).toEqual([5, 100, 1500]);
    expect([...t.entries]).toEqual([["prod1", [400, 30, 3, 0]], ["canary1", [7, 7, 7, 7]]]);
    expect(() => parseLatencyTable("# table: app, type: string, size:3, used:0\n")).toThrow(/no latency table/);
  });
});

describe("interval deltas", () => {
  const W = 2 ** 32;
  it.each([
    ["growth", [100, 10, 1, 0], [250, 20, 4, 0], [150, 10, 3, 0]],
    ["first read of a slot", undefined, [5, 1, 0, 0], [5, 1, 0, 0]],
    ["haproxy restarted (total dropped)", [1000, 50, 5, 1], [30, 2, 0, 0], [30, 2, 0, 0]],
    ["32-bit wrap of the total and a bucket", [W - 10, W - 5, 3, 0], [90, 5, 4, 0], [100, 10, 1, 0]],
    ["a bucket can never exceed the total", [100, 10, 0, 0], [110, 30, 0, 0], [10, 10, 0, 0]],
  ])("%s", (_name, prev, cur, want) => {
    expect(slotDelta(prev, cur)).toEqual(want);
  });

  const table = (boundsMs: number[], rows: [string, number[]][]): LatencyTable => ({ boundsMs, entries: new Map(rows) });
  it("sums slots per role and ignores keys that are not slots", () => {
    const prev = table([5, 100, 1500], [["prod1", [10, 1, 0, 0]], ["prod2", [20, 0, 0, 0]]]);
    const cur = table([5, 100, 1500], [["prod1", [20, 2, 1, 0]], ["prod2", [30, 5, 0, 0]], ["canary1", [4, 4, 0, 0]], ["<NOSRV>", [9, 9, 9, 9]]]);
    const r = roleLatency(prev, cur);
    expect(r.get("prod")).toEqual({ boundsMs: [5, 100, 1500], counts: [20, 6, 1, 0] });
    expect(r.get("canary")).toEqual({ boundsMs: [5, 100, 1500], counts: [4, 4, 0, 0] });
  });

  it("a reload with other bounds starts over from the current counts", () => {
    const prev = table([5, 100, 1500], [["canary1", [1000, 10, 1, 0]]]);
    const cur = table([5, 100, 2000], [["canary1", [8, 1, 0, 0]]]);
    expect(roleLatency(prev, cur).get("canary")?.counts).toEqual([8, 1, 0, 0]);
  });
});

describe("p99UpperBoundMs", () => {
  const boundsMs = [5, 100, 1500, 30000];
  it.each([
    ["nothing timed", [0, 0, 0, 0, 0], null],
    ["all under 5 ms", [1000, 0, 0, 0, 0], 4],
    ["exactly 1% at or above 100 ms: p99 still below 100", [1000, 500, 10, 0, 0], 99],
    ["just over 1% at or above 100 ms", [1000, 500, 11, 0, 0], 1499],
    ["fewer than 100 requests: the p99 is the maximum", [50, 3, 1, 0, 0], 1499],
    ["over 1% at or above the top bound: the top bound (a lower bound)", [100, 100, 100, 100, 2], 30000],
  ])("%s", (_name, counts, want) => {
    expect(p99UpperBoundMs({ boundsMs, counts })).toBe(want);
  });

  it("is exact at every bound: reported ≥ T ⟺ more than 1% took ≥ T ms", () => {
    for (let slow = 0; slow <= 30; slow++) {
      // 1,000 responses: `slow` of them took ≥ 1500 ms, 40 more took 100..1499 ms.
      const p99 = p99UpperBoundMs({ boundsMs, counts: [1000, 1000, 40 + slow, slow, 0] })!;
      expect(p99 >= 1500).toBe(slow > 10);
    }
  });
});

describe("against a real haproxy", () => {
  const THRESHOLD_MS = 200;
  const alarm = canaryAlarms<string>({ ...DEFAULT_THRESHOLDS, canaryP99Ms: THRESHOLD_MS }, { deployment: "d" }).find((a) => a.key === "canary-p99-latency")!;
  const dir = tempDir("aviary-latency-");
  const socket = path.join(dir, "admin.sock");
  const cfg = path.join(dir, "haproxy.cfg");
  let haproxy: RunningHaproxy | undefined;
  const servers: http.Server[] = [];
  let webPort = 0;
  let sent = 0;

  /** App answering /?ms=N after N ms (immediately without it). */
  function app(): Promise<{ server: http.Server; port: number }> {
    const server = http.createServer((req, res) => {
      const ms = Number(new URL(req.url ?? "/", "http://x").searchParams.get("ms") ?? 0);
      setTimeout(() => res.end("ok"), ms);
    });
    return new Promise((resolve) => server.listen(0, HOST, () => resolve({ server, port: (server.address() as net.AddressInfo).port })));
  }

  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });
  function get(slot: string, ms: number): Promise<void> {
    if (++sent > 1700) throw new Error("request budget exceeded");
    return new Promise((resolve, reject) => {
      const req = http.get({ host: HOST, port: webPort, path: `/?ms=${ms}`, agent: keepAlive, headers: { cookie: `${STICKY_COOKIE}=${slot}` } }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on("error", reject);
      req.setTimeout(30_000, () => req.destroy(new Error("request timeout"))); // a hang guard only
    });
  }

  /** n requests to a slot, 8 at a time; request i waits delay(i) ms at the app. */
  async function load(slot: string, n: number, delay: (i: number) => number): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        const i = next++;
        await get(slot, delay(i));
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }

  const role = (ms: RoleMetrics[], r: "prod" | "canary"): RoleMetrics => ms.find((m) => m.role === r)!;

  beforeAll(async () => {
    webPort = await freePort();
    fs.writeFileSync(cfg, renderHaproxyConfig({ bind: `${HOST}:${webPort}`, statsBind: `${HOST}:${await freePort()}`, socketPath: socket, prodSlots: 1, canarySlots: 1, latencyThresholdMs: THRESHOLD_MS }));
    const prod = await app();
    const canary = await app();
    servers.push(prod.server, canary.server);
    haproxy = await startHaproxy(cfg, socket);
    await fillSlots(socket, { prod1: prod.port, canary1: canary.port });
  });

  afterAll(async () => {
    keepAlive.destroy();
    await haproxy?.stop();
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a canary answering 1 in 50 requests after 300 ms: its p99 is at least 300 ms, prod's stays below that", async () => {
    const sampler = MetricsSampler.forSocket(socket);
    expect(await sampler.sample()).toEqual([]);
    await Promise.all([load("prod1", 400, () => 0), load("canary1", 400, (i) => (i % 50 === 0 ? 300 : 0))]);
    const m = await sampler.sample();
    expect(role(m, "canary")).toMatchObject({ requests: 400, errors5xx: 0 });
    // 2% took ≥ 250 ms and none ≥ 500 ms: p99 is in [250, 500), reported as its upper bound 499.
    expect(role(m, "canary").latencyP99Ms).toBe(499);
    expect(role(m, "prod").requests).toBe(400);
    // Below the canary's slow bucket; not tighter, since a loaded CI machine stalls loopback requests too.
    expect(role(m, "prod").latencyP99Ms).toBeLessThan(250);
  });

  it.each([
    ["3% above the threshold: p99 ≥ threshold, the alarm would fire", 12, true],
    ["0.5% above the threshold: p99 below it", 2, false],
  ])("%s", async (_name, slow, fires) => {
    const sampler = MetricsSampler.forSocket(socket);
    await sampler.sample();
    // The slow requests are spread over the run: i % every === 0 for `slow` of the 400.
    const every = Math.floor(400 / slow);
    await load("canary1", 400, (i) => (i % every === 0 && i / every < slow ? THRESHOLD_MS + 30 : 0));
    const canary = role(await sampler.sample(), "canary");
    expect(canary.requests).toBe(400);
    expect(alarm.comparison).toBe("GreaterThanOrEqualToThreshold");
    expect(canary.latencyP99Ms! >= alarm.threshold).toBe(fires);
  });
});
