// Proxy metrics: show-stat parsing and the latency table against a real haproxy, the delta logic, and the CloudWatch call shape.
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { mockClient } from "aws-sdk-client-mock";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { renderHaproxyConfig, STICKY_COOKIE } from "../../../haproxy/config";
import { runtimeCommand } from "../../../agent/runtimeApi";
import type { LatencyCounts } from "../../../core/metrics/latencyCounts";
import { MetricsSampler, metricsDelta, parseShowStat, roleTotals, type RoleTotals } from "../../../agent/metrics";
import { CloudWatchMetricsSink, publishMetrics } from "../../../adapters/metricsSink/aws";
import { backend } from "../../../harness/backend";
import { freePort, HOST } from "../../../harness/freePort";
import { fillSlots, startHaproxy, type RunningHaproxy } from "../../../harness/haproxy";
import { tempDir } from "../../support/tempDir";

describe("against a real haproxy", () => {
  const dir = tempDir("aviary-metrics-");
  const socket = path.join(dir, "admin.sock");
  const cfg = path.join(dir, "haproxy.cfg");
  let haproxy: RunningHaproxy | undefined;
  const servers: http.Server[] = [];
  let webPort = 0;

  /** Canary app: /fail answers 500, everything else (incl. /healthz) 200. */
  function canaryBackend(): Promise<{ server: http.Server; port: number }> {
    const server = http.createServer((req, res) => {
      res.writeHead(req.url === "/fail" ? 500 : 200, { "content-type": "text/plain" });
      res.end("canary");
    });
    return new Promise((resolve) => server.listen(0, HOST, () => resolve({ server, port: (server.address() as { port: number }).port })));
  }

  /** One request pinned to a slot through the sticky cookie; resolves with the status code. */
  function get(slot: string, urlPath: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: HOST, port: webPort, path: urlPath, agent: false, headers: { cookie: `${STICKY_COOKIE}=${slot}` } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.setTimeout(30_000, () => req.destroy(new Error("request timeout"))); // a hang guard only
    });
  }

  beforeAll(async () => {
    webPort = await freePort();
    const statsPort = await freePort();
    fs.writeFileSync(cfg, renderHaproxyConfig({ bind: `${HOST}:${webPort}`, statsBind: `${HOST}:${statsPort}`, socketPath: socket, prodSlots: 2, canarySlots: 1 }));
    const prod = await backend("prod");
    const canary = await canaryBackend();
    servers.push(prod.server, canary.server);
    haproxy = await startHaproxy(cfg, socket);
    await fillSlots(socket, { prod1: prod.port, canary1: canary.port });
  });

  afterAll(async () => {
    await haproxy?.stop();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("counts requests and 5xx per role from real show stat output, latency from the latency table", async () => {
    const sampler = MetricsSampler.forSocket(socket);
    expect(await sampler.sample()).toEqual([]); // baseline
    expect(sampler.latest).toBeUndefined();

    const codes: number[] = [];
    for (let i = 0; i < 12; i++) codes.push(await get("prod1", "/"));
    // Failures alternate with successes: 5 consecutive errors would trip on-error mark-down.
    for (let i = 0; i < 8; i++) codes.push(await get("canary1", i % 2 === 0 ? "/fail" : "/"));
    expect(codes.filter((c) => c === 500)).toHaveLength(4);

    const csv = await runtimeCommand(socket, "show stat");
    const rows = parseShowStat(csv);
    expect(rows.find((r) => r.pxname === "app" && r.svname === "canary1")?.hrsp_5xx).toBe("4");
    const totals = roleTotals(rows);
    expect(totals.map(({ role, requests, errors5xx }) => ({ role, requests, errors5xx }))).toEqual([
      { role: "prod", requests: 12, errors5xx: 0 },
      { role: "canary", requests: 8, errors5xx: 4 },
    ]);

    const interval = await sampler.sample();
    expect(interval.map(({ role, requests, errors5xx }) => ({ role, requests, errors5xx }))).toEqual([
      { role: "prod", requests: 12, errors5xx: 0 },
      { role: "canary", requests: 8, errors5xx: 4 },
    ]);
    // Loopback backends answer at once: the p99 of 12 (8) requests is their maximum, under the 5 ms bound → 4.
    for (const m of interval) {
      expect(m.latencyP99Ms).toEqual(expect.any(Number));
      expect(m.latencyP99Ms).toBeLessThan(1000); // a loopback answer, however loaded the machine
    }
    expect(sampler.latest).toEqual(interval);

    // Next interval with no traffic: zero counts, no (stale) latency.
    const idle = await sampler.sample();
    expect(idle.map(({ requests, errors5xx, latencyP99Ms }) => ({ requests, errors5xx, latencyP99Ms }))).toEqual([
      { requests: 0, errors5xx: 0, latencyP99Ms: null },
      { requests: 0, errors5xx: 0, latencyP99Ms: null },
    ]);
  });
});

describe("delta logic", () => {
  const t = (role: "prod" | "canary", requests: number, errors5xx: number): RoleTotals => ({ role, requests, errors5xx });
  const boundsMs = [5, 100, 1500];
  /** Interval latency counts: total, then ≥ each bound. */
  const lat = (...counts: number[]): LatencyCounts => ({ boundsMs, counts });
  const at = new Date("2026-01-01T00:00:10Z");

  it("subtracts cumulative counters and takes the interval's histogram p99", () => {
    // 50 timed, 1 of them ≥ 100 ms: 1% of 50 allows none, so p99 is in [100, 1500) → reported 1499.
    expect(metricsDelta(t("canary", 100, 3), t("canary", 150, 8), lat(50, 10, 1, 0), at)).toEqual({ role: "canary", requests: 50, errors5xx: 5, latencyP99Ms: 1499, at });
  });

  it("treats a counter going backwards (haproxy restart) as the new absolute value", () => {
    expect(metricsDelta(t("prod", 1000, 20), t("prod", 30, 2), lat(30, 0, 0, 0), at)).toEqual({ role: "prod", requests: 30, errors5xx: 2, latencyP99Ms: 4, at });
    // Only the 5xx counter dropped (requests grew past the old total): each counter is judged alone.
    expect(metricsDelta(t("prod", 10, 5), t("prod", 40, 1), undefined, at)).toMatchObject({ requests: 30, errors5xx: 1 });
  });

  it("nothing timed for the role (no latency table, no responses) → null latency, never a made-up value", () => {
    expect(metricsDelta(t("prod", 0, 0), t("prod", 10, 0), undefined, at).latencyP99Ms).toBeNull();
    expect(metricsDelta(t("prod", 0, 0), t("prod", 0, 0), lat(0, 0, 0, 0), at).latencyP99Ms).toBeNull();
  });

  const table = (name: string, rows: [string, number[]][]): string =>
    `# table: ${name}, type: string, size:3, used:${rows.length}\n` +
    rows.map(([key, c], i) => `0x55${i}: key=${key} use=0 exp=0 ${c.map((x, j) => `gpc${j}=${x}`).join(" ")}\n`).join("") + "\n";
  const NAME = "aviary_latency_ms_5_100_1500";

  it("first sample is only a baseline; later ones are deltas of stats and latency table alike", async () => {
    const csv = (prodReq: number, canaryReq: number): string =>
      `# pxname,svname,stot,hrsp_5xx,\napp,prod1,${prodReq},0,\napp,prod2,0,0,\napp,canary1,${canaryReq},0,\n`;
    const stats = [csv(500, 50), csv(700, 50), csv(700, 50)];
    const tables = [
      table(NAME, [["prod1", [500, 400, 9, 0]], ["canary1", [50, 50, 50, 50]]]),
      // prod: 200 more, 2 of them ≥ 100 ms (1%: allowed) → p99 < 100 → 99. canary: idle → null.
      table(NAME, [["prod1", [700, 600, 11, 0]], ["canary1", [50, 50, 50, 50]]]),
      // prod2 appears (its first response) and prod1 adds 100, 3 of 200 ≥ 100 ms → p99 in [100, 1500).
      table(NAME, [["prod1", [800, 700, 12, 0]], ["prod2", [100, 0, 2, 0]], ["canary1", [50, 50, 50, 50]]]),
    ];
    const s = new MetricsSampler(() => Promise.resolve(stats.shift() ?? ""), () => Promise.resolve(tables.shift()), () => at);
    expect(await s.sample()).toEqual([]);
    expect(await s.sample()).toEqual([
      { role: "prod", requests: 200, errors5xx: 0, latencyP99Ms: 99, at },
      { role: "canary", requests: 0, errors5xx: 0, latencyP99Ms: null, at },
    ]);
    expect((await s.sample())[0]).toMatchObject({ role: "prod", latencyP99Ms: 1499 });
  });

  it("without a latency table (reader resolves undefined) counts are still published, latency is null", async () => {
    const reads = [`# pxname,svname,stot,hrsp_5xx,\napp,canary1,1,0,\n`, `# pxname,svname,stot,hrsp_5xx,\napp,canary1,5,1,\n`];
    const s = new MetricsSampler(() => Promise.resolve(reads.shift() ?? ""), undefined, () => at);
    expect(await s.sample()).toEqual([]);
    expect((await s.sample())[1]).toEqual({ role: "canary", requests: 4, errors5xx: 1, latencyP99Ms: null, at });
  });

  it("parseShowStat rejects input without the header", () => {
    expect(() => parseShowStat("app,prod1,0\n")).toThrow(/header/);
  });
});

describe("publishMetrics", () => {
  const cw = mockClient(CloudWatchClient);
  afterEach(() => cw.reset());
  const at = new Date("2026-01-01T00:00:10Z");

  it("sends one high-resolution PutMetricData with Deployment/Role dimensions", async () => {
    cw.on(PutMetricDataCommand).resolves({});
    await new CloudWatchMetricsSink(new CloudWatchClient({ region: "us-east-1" }), "aviary-prod").publish([
      { role: "prod", requests: 120, errors5xx: 1, latencyP99Ms: 35, at },
      { role: "canary", requests: 10, errors5xx: 4, latencyP99Ms: 80, at },
    ]);
    const calls = cw.commandCalls(PutMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input;
    expect(input.Namespace).toBe("Aviary/Proxy");
    const data = input.MetricData ?? [];
    expect(data).toHaveLength(6);
    for (const d of data) expect(d.StorageResolution).toBe(1);
    const pick = (role: string, name: string) =>
      data.find((d) => d.MetricName === name && d.Dimensions?.some((x) => x.Name === "Role" && x.Value === role));
    expect(pick("canary", "Errors5xx")).toEqual({
      MetricName: "Errors5xx",
      Dimensions: [{ Name: "Deployment", Value: "aviary-prod" }, { Name: "Role", Value: "canary" }],
      Unit: "Count",
      Value: 4,
      Timestamp: at,
      StorageResolution: 1,
    });
    expect(pick("prod", "Requests")).toMatchObject({ Unit: "Count", Value: 120 });
    expect(pick("canary", "LatencyP99Ms")).toMatchObject({ Unit: "Milliseconds", Value: 80 });
  });

  it("omits latency without traffic and sends nothing for an empty batch", async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const client = new CloudWatchClient({ region: "us-east-1" });
    await publishMetrics(client, "d", []);
    expect(cw.commandCalls(PutMetricDataCommand)).toHaveLength(0);
    await publishMetrics(client, "d", [{ role: "canary", requests: 0, errors5xx: 0, latencyP99Ms: null, at }]);
    expect(cw.commandCalls(PutMetricDataCommand)[0].args[0].input.MetricData?.map((d) => d.MetricName)).toEqual(["Requests", "Errors5xx"]);
  });
});
