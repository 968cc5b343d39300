/// <reference lib="dom" />
// The dashboard server and page with a scripted status (no stack): only its own loopback origin
// can read or write it (raw HTTP and DNS rebinding simulated in Chromium), the charts have a time
// axis, a legend and the alarm thresholds, and a stale snapshot never replaces a newer one.
import { REPO_ROOT } from "../../support/repoRoot";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import pino from "pino";
import { chromium, type Browser } from "playwright-core";
import { canaryAlarms, prodAlarms } from "../../../core/alarms/definitions";
import { DEFAULT_THRESHOLDS } from "../../../core/config/defaults";
import { ActivityFeed } from "../../../local/activity";
import { AlarmEvaluator } from "../../../local/alarmEvaluator";
import type { TrafficPoint } from "../../../adapters/metricsSink/local";
import { alarmView } from "../../../local/dashboard/alarmView";
import { chartSeries } from "../../../local/dashboard/series";
import { startDashboard, type Dashboard } from "../../../local/dashboard/server";
import { splitView } from "../../../local/dashboard/split";
import type { LocalStatus } from "../../../local/status";
import type { FleetState } from "../../../core/controller/decide";

const logger = pino({ level: "silent" });
const writes: { key: string; on?: boolean }[] = [];
let serial = 0;
let dashboard: Dashboard;
let port: number;
let browser: Browser;

function fakeStatus(): LocalStatus {
  const now = Date.now();
  const points: TrafficPoint[] = Array.from({ length: 300 }, (_, i) => ({
    at: now - (300 - i) * 1000,
    prod: { requests: 75, errors5xx: 0, latencyP99Ms: 20 },
    canary: { requests: 25, errors5xx: i > 280 ? 10 : 0, latencyP99Ms: 30 },
    canaryErrorRatePct: null, fleetCpuPct: 10, fleetSize: 2,
  }));
  const fleet: FleetState = { desired: 2, min: 2, max: 6, instances: [] };
  const routing = { canaryWeight: 25, canaryEnabled: true, changedBy: "local-runner", changedAt: new Date(now - 600_000).toISOString() };
  const ev = new AlarmEvaluator([...prodAlarms<string>(DEFAULT_THRESHOLDS, { deployment: "local", autoScalingGroupName: "f" }), ...canaryAlarms<string>(DEFAULT_THRESHOLDS, { deployment: "local" })], "local", 10, now);
  serial += 1;
  return {
    snapshot: serial, at: new Date(now).toISOString(), proxyUrl: "http://127.0.0.1:1", deployment: "local", periodFactor: 10, versions: { prod: "1.0.0", canary: "1.1.0" },
    sections: { routing: { ok: true }, backends: { ok: true }, flags: { ok: true }, events: { ok: true }, proxy: { ok: true } } as unknown as LocalStatus["sections"],
    routing, split: splitView(points, routing, now, 10), backends: [], fleet, flags: [], alarms: ev.states().map((a) => alarmView(a, fleet)), activity: [], events: [],
    chart: chartSeries(points, now, { windowSeconds: 300, stepSeconds: 2, thresholds: { canary5xxPct: 5, canaryP99Ms: 1500 } }),
  };
}

function raw(method: string, pathName: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: pathName, headers, setHost: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

beforeAll(async () => {
  dashboard = await startDashboard({
    port: 0,
    status: async () => fakeStatus(),
    setFlag: async (key, on) => void writes.push({ key, on }),
    unkillFlag: async (key) => void writes.push({ key }),
    activity: new ActivityFeed(),
    logger,
    pushMs: 200,
  });
  port = Number(new URL(dashboard.url).port);
  fs.mkdirSync(path.join(REPO_ROOT, "test-output"), { recursive: true });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    // rebind.test resolves to 127.0.0.1, as an attacker's name does after DNS rebinding.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--host-resolver-rules=MAP rebind.test 127.0.0.1"],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
});

describe("only the dashboard's own loopback origin may use it", () => {
  test.each(["/", "/api/status", "/api/stream", "/vendor/uplot.js"])("GET %s with a foreign Host is refused with 403 and a message", async (p) => {
    const res = await raw("GET", p, { host: `rebind.test:${port}` });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error).toMatch(/not this dashboard's origin/);
  });

  test("the loopback names with the dashboard's port are served", async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) expect((await raw("GET", "/api/status", { host })).status).toBe(200);
  });

  test("a POST with a foreign Origin (or none) changes nothing, even with a JSON body", async () => {
    const body = JSON.stringify({ on: true });
    const json = { host: `127.0.0.1:${port}`, "content-type": "application/json" };
    expect((await raw("POST", "/api/flags/hiddenfeature", { ...json, origin: "http://evil.example" }, body)).status).toBe(403);
    expect((await raw("POST", "/api/flags/hiddenfeature", json, body)).status).toBe(403);
    expect((await raw("POST", "/api/flags/hiddenfeature/unkill", { ...json, origin: `http://127.0.0.1:${port + 1}` }, "{}")).status).toBe(403);
    expect(writes).toEqual([]);
    expect((await raw("POST", "/api/flags/hiddenfeature", { ...json, origin: `http://127.0.0.1:${port}` }, body)).status).toBe(200);
    expect(writes).toEqual([{ key: "hiddenfeature", on: true }]);
    writes.length = 0;
  });

  test("Chromium: a rebinding page cannot read /api/status or toggle a flag; nor can a page on another origin", async () => {
    const page = await browser.newPage();
    const rebound = await page.goto(`http://rebind.test:${port}/`);
    expect(rebound!.status()).toBe(403);
    const fromRebound = await page.evaluate(async () => {
      const read = await fetch("/api/status");
      const write = await fetch("/api/flags/hiddenfeature", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ on: true }) });
      return { read: read.status, body: await read.text(), write: write.status };
    });
    expect(fromRebound.read).toBe(403);
    expect(fromRebound.body).not.toMatch(/snapshot/);
    expect(fromRebound.write).toBe(403);

    // A page on another local origin: reading fails (no CORS), a simple cross-site POST is refused.
    const other = http.createServer((_req, res) => res.end("<!doctype html><title>other</title>")).listen(0, "127.0.0.1");
    await new Promise((r) => other.once("listening", r));
    try {
      await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
      const crossSite = await page.evaluate(async (target) => {
        const read = await fetch(target + "/api/status").then(() => "read", () => "blocked");
        await fetch(target + "/api/flags/hiddenfeature", { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: JSON.stringify({ on: true }) });
        const json = await fetch(target + "/api/flags/hiddenfeature", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ on: true }) }).then(() => "sent", () => "blocked");
        return { read, json };
      }, dashboard.url);
      expect(crossSite).toEqual({ read: "blocked", json: "blocked" });
    } finally {
      other.close();
    }
    expect(writes).toEqual([]);
    await page.close();
  }, 60_000);
});

test("Chromium: time-axis charts with a legend naming the series and the alarm thresholds, over five minutes", async () => {
  const page = await browser.newPage();
  await page.goto(dashboard.url);
  await page.waitForSelector("[data-testid=chart-errors] .u-legend");
  const legend = async (id: string): Promise<string[]> => page.locator(`[data-testid=${id}] .u-legend .u-series .u-label`).allInnerTexts();
  await expect(legend("chart-requests")).resolves.toEqual(expect.arrayContaining(["prod req/s", "canary req/s"]));
  await expect(legend("chart-errors")).resolves.toEqual(expect.arrayContaining(["canary 5xx %", "alarm threshold 5 %"]));
  await expect(legend("chart-latency")).resolves.toEqual(expect.arrayContaining(["canary p99 ms", "alarm threshold 1500 ms"]));
  const shape = await page.evaluate(() => {
    const charts = (window as unknown as { aviaryCharts: Record<string, { scales: { x: { time: boolean; min: number; max: number } }; data: (number | null)[][]; axes: { _values?: string[] }[] }> }).aviaryCharts;
    const e = charts["chart-errors"];
    return { time: e.scales.x.time, span: e.scales.x.max - e.scales.x.min, threshold: [...new Set(e.data[2])], ticks: e.axes[0]._values ?? [] };
  });
  expect(shape.time).toBe(true);
  expect(shape.span).toBeGreaterThanOrEqual(240);
  expect(shape.threshold).toEqual([5]);
  expect(shape.ticks.length).toBeGreaterThan(1);
  expect(shape.ticks.every((t) => /\d{1,2}:\d{2}/.test(t))).toBe(true);
  await page.screenshot({ path: path.join(REPO_ROOT, "test-output", "dashboard-charts.png"), fullPage: true });
  await page.close();
}, 60_000);

test("Chromium: every panel is from the newest snapshot; a late older one is ignored", async () => {
  const page = await browser.newPage();
  await page.goto(dashboard.url);
  await page.waitForFunction(() => Number(document.body.dataset.snapshot) > 1);
  const shown = Number(await page.evaluate(() => document.body.dataset.snapshot));
  const stale = await (await fetch(`${dashboard.url}/api/status`)).json() as LocalStatus;
  stale.snapshot = 1;
  stale.routing = { ...stale.routing!, canaryEnabled: false };
  await page.evaluate((s) => (window as unknown as { apply: (x: unknown) => void }).apply(s), stale);
  expect(Number(await page.evaluate(() => document.body.dataset.snapshot))).toBeGreaterThanOrEqual(shown);
  await expect(page.locator("#routing").getAttribute("data-canary-enabled")).resolves.toBe("true");
  await page.close();
}, 60_000);
