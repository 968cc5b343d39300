/// <reference lib="dom" />
// The dashboard server and page with a scripted status (no stack): only its own loopback origin
// can read or write it (raw HTTP and DNS rebinding simulated in Chromium), the charts have a time
// axis, a legend, the alarm thresholds and event markers, the rollout panel shows the plan's steps
// and the verdicts' numbers, the flags panel shows each rule in words and an object flag's values as
// read-only JSON (escaped: markup in a value stays text), the segments panel what each segment is,
// the page loads nothing from another origin under its CSP, and a stale snapshot never replaces a
// newer one.
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
import type { RolloutState } from "../../../core/rollout/model";
import { rolloutView } from "../../../local/dashboard/rolloutView";
import type { AviaryEvent } from "../../../state/events";
import { guardedPage } from "../../support/guardedPage";
import { storedFlagSchema, storedSegmentSchema } from "../../../core/flags/model";
import { describeFlags, describeSegments } from "../../../local/flags";
import { progressingRollout } from "../../support/progressingRollout";

const logger = pino({ level: "silent" });
const writes: { key: string; on?: boolean }[] = [];
let serial = 0;
let dashboard: Dashboard;
let port: number;
let browser: Browser;
/** What the scripted status reports as the stored rollout (null: none). */
let rollout: RolloutState | null = null;
const rolloutStarted = new Date(Date.now() - 60_000);

const bookkeeping = { updatedBy: "dev", updatedAt: "2026-01-01T00:00:00.000Z", version: 3 };
/** A JSON value written to break out of the page, were it ever put in as markup. */
const HOSTILE = '</pre><img src=x data-injected="1"><script>window.injected = true</script>';
const storedFlags = [
  storedFlagSchema.parse({
    key: "banner", type: "object", enabled: true, owner: "web", description: "the banner",
    variants: { standard: { text: "Welcome", color: "#2563eb" }, beta: { text: HOSTILE, color: "#d97706", tags: ["a", "b"] } },
    defaultVariant: "standard",
    rules: [
      { match: "all", conditions: [{ op: "inSegment", segment: "beta-testers" }], variant: "beta" },
      { match: "all", conditions: [{ attribute: "plan", op: "in", values: ["pro", "team"] }, { attribute: "version", op: "semverGte", value: "2.1.0" }], variant: "beta", percentage: 20 },
    ],
    ...bookkeeping,
  }),
];
const storedSegments = [
  storedSegmentSchema.parse({ name: "beta-testers", description: "try things first", match: "any", conditions: [{ attribute: "email", op: "endsWith", value: "@example.com" }], included: ["t1", "t2"], excluded: [], ...bookkeeping }),
];

function fakeStatus(): LocalStatus {
  const now = Date.now();
  const points: TrafficPoint[] = Array.from({ length: 300 }, (_, i) => ({
    at: now - (300 - i) * 1000,
    prod: { requests: 75, errors5xx: 0, latencyP99Ms: 20 },
    canary: { requests: 25, errors5xx: i > 280 ? 10 : 0, latencyP99Ms: 30 },
    canaryErrorRatePct: null, fleetCpuPct: 10, fleetSize: 2,
  }));
  const fleet: FleetState = { desired: 2, min: 2, max: 6, instances: [] };
  const routing = { canaryWeight: 25, canaryEnabled: true, changedBy: "local-runner", changedAt: new Date(now - 120_000).toISOString() };
  const events: AviaryEvent[] = [{
    id: "1-0", at: routing.changedAt, kind: "routing", by: "controller", reason: "rollout step 2",
    detail: { cause: "weight", oldWeight: "5", oldEnabled: "true", newWeight: "25", newEnabled: "true" },
  }];
  const ev = new AlarmEvaluator([...prodAlarms<string>(DEFAULT_THRESHOLDS, { deployment: "local", autoScalingGroupName: "f" }), ...canaryAlarms<string>(DEFAULT_THRESHOLDS, { deployment: "local" })], "local", 10, now);
  serial += 1;
  return {
    snapshot: serial, at: new Date(now).toISOString(), proxyUrl: "http://127.0.0.1:1", deployment: "local", periodFactor: 10, versions: { prod: "1.0.0", canary: "1.1.0" },
    sections: { routing: { ok: true }, backends: { ok: true }, flags: { ok: true }, segments: { ok: true }, events: { ok: true }, proxy: { ok: true } } as unknown as LocalStatus["sections"],
    routing, split: splitView(points, routing, now, 10), backends: [], fleet, flags: describeFlags(storedFlags), segments: describeSegments(storedSegments, storedFlags), alarms: ev.states().map((a) => alarmView(a, fleet)), activity: [], events,
    chart: chartSeries(points, now, { windowSeconds: 300, stepSeconds: 2, thresholds: { canary5xxPct: 5, canaryP99Ms: 1500 }, routing, events, activity: [] }),
    rollout: rolloutView({ state: rollout, problems: [] }, now),
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

test("Chromium: time-axis charts with legends naming canary and production, the alarm thresholds and event markers, over five minutes", async () => {
  const { page, foreign, violations } = await guardedPage(browser, dashboard.url);
  await page.goto(dashboard.url);
  await page.waitForSelector("[data-testid=chart-fleet] .u-legend");
  const legend = async (id: string): Promise<string[]> => page.locator(`[data-testid=${id}] .u-legend .u-series .u-label`).allInnerTexts();
  await expect(legend("chart-split")).resolves.toEqual(expect.arrayContaining(["canary share measured %", "canary weight asked %"]));
  await expect(legend("chart-requests")).resolves.toEqual(expect.arrayContaining(["prod req/s", "canary req/s"]));
  await expect(legend("chart-errors")).resolves.toEqual(expect.arrayContaining(["canary 5xx %", "production 5xx %", "alarm threshold 5 %"]));
  await expect(legend("chart-latency")).resolves.toEqual(expect.arrayContaining(["canary p99 ms", "production p99 ms", "alarm threshold 1500 ms"]));
  await expect(legend("chart-fleet")).resolves.toEqual(expect.arrayContaining(["fleet size", "min 2", "max 6"]));
  const shape = await page.evaluate(() => {
    const charts = (window as unknown as { aviaryCharts: Record<string, { scales: { x: { time: boolean; min: number; max: number } }; data: (number | null)[][]; axes: { _values?: string[] }[] }> }).aviaryCharts;
    const e = charts["chart-errors"];
    const split = charts["chart-split"];
    return {
      time: e.scales.x.time, span: e.scales.x.max - e.scales.x.min, threshold: [...new Set(e.data[3])], prodErrors: [...new Set(e.data[2])], ticks: e.axes[0]._values ?? [],
      asked: [...new Set(split.data[2])], share: [...new Set(split.data[1])],
    };
  });
  expect(shape.time).toBe(true);
  expect(shape.span).toBeGreaterThanOrEqual(240);
  expect(shape.threshold).toEqual([5]);
  expect(shape.prodErrors).toEqual([0]);
  expect(shape.ticks.length).toBeGreaterThan(1);
  expect(shape.ticks.every((t) => /\d{1,2}:\d{2}/.test(t))).toBe(true);
  // Routing asked 5 % before the change two minutes ago and 25 % since; 25 % was measured throughout.
  expect(shape.asked.sort()).toEqual([25, 5]);
  expect(shape.share).toEqual([25]);
  // The routing change is a marker on every chart, at its moment, saying what changed.
  for (const id of ["chart-split", "chart-errors", "chart-latency", "chart-requests", "chart-fleet"]) {
    const marker = page.locator(`[data-testid=${id}] .u-over .marker[data-kind=routing]`);
    await expect(marker.count()).resolves.toBe(1);
    await expect(marker.getAttribute("title")).resolves.toMatch(/routing: weight 5→25 by controller \(rollout step 2\)/);
  }
  // Two minutes into a five-minute window: well inside the plot, not at an edge (read in one go:
  // the markers are redrawn with every snapshot).
  const at = await page.evaluate(() => {
    const over = document.querySelector("[data-testid=chart-split] .u-over") as HTMLElement;
    return ((over.querySelector(".marker") as HTMLElement).getBoundingClientRect().left - over.getBoundingClientRect().left) / over.clientWidth;
  });
  expect(at).toBeGreaterThan(0.4);
  expect(at).toBeLessThan(0.75);
  await expect(page.locator("[data-testid=rollout]").isHidden()).resolves.toBe(true);
  expect(await violations()).toEqual([]);
  expect(foreign()).toEqual([]);
  await page.screenshot({ path: path.join(REPO_ROOT, "test-output", "dashboard-charts.png"), fullPage: true });
  await page.close();
}, 60_000);

test("the page and its files carry a strict CSP: own origin only, no inline script or style, no eval", async () => {
  for (const p of ["/", "/page.js", "/page.css", "/vendor/uplot.js", "/api/status"]) {
    const res = await fetch(dashboard.url + p);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp.split("; ")).toEqual(expect.arrayContaining(["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]));
    expect(csp).not.toMatch(/unsafe-|\*|https?:/);
    await res.arrayBuffer();
  }
  const html = await (await fetch(dashboard.url + "/")).text();
  expect(html).not.toMatch(/<script>|<style>|\sstyle=|\son[a-z]+=/);
});

test("Chromium: the CSP is enforced: an injected inline script and a foreign script are blocked and reported", async () => {
  const { page, foreign, violations } = await guardedPage(browser, dashboard.url);
  await page.goto(dashboard.url);
  await page.waitForSelector("[data-testid=chart-errors] .u-legend");
  const ran = await page.evaluate(async () => {
    const w = window as unknown as { injected?: boolean };
    const inline = document.createElement("script");
    inline.textContent = "window.injected = true";
    document.body.appendChild(inline);
    const foreign = document.createElement("script");
    foreign.src = "http://evil.example/x.js";
    document.body.appendChild(foreign);
    await new Promise((r) => setTimeout(r, 200));
    return w.injected === true;
  });
  expect(ran).toBe(false);
  const seen = await violations();
  expect(seen).toEqual(expect.arrayContaining([expect.stringMatching(/^script-src(-elem)? inline/), expect.stringMatching(/^script-src(-elem)? http:\/\/evil\.example/)]));
  expect(foreign()).toEqual([]);
  await page.close();
}, 60_000);

test("Chromium: the rollout panel shows the plan's steps, the current one with its time left, and each verdict's numbers", async () => {
  rollout = progressingRollout(rolloutStarted);
  try {
    const { page, violations } = await guardedPage(browser, dashboard.url);
    await page.goto(dashboard.url);
    const panel = page.locator("[data-testid=rollout]");
    await panel.waitFor({ state: "visible" });
    await expect(panel.getAttribute("data-status")).resolves.toBe("progressing");
    const steps = page.locator("[data-testid=rollout-steps] > li");
    await expect(steps.evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.step, (e as HTMLElement).dataset.phase, e.textContent!.match(/\d+% · pause \d+ s/)?.[0]])))
      .resolves.toEqual([["0", "done", "5% · pause 120 s"], ["1", "current", "25% · pause 300 s"], ["2", "pending", "50% · pause 300 s"]]);
    await expect(page.locator("#rollout-summary").innerText()).resolves.toMatch(/progressing 1\.1\.0 .*step 2 of 3 at 25%/);
    const left = Number(await page.locator("[data-testid=rollout-time-left]").getAttribute("data-seconds-left"));
    expect(left).toBeGreaterThan(200);
    expect(left).toBeLessThanOrEqual(240);
    const verdict = page.locator("[data-testid=rollout-steps] > li[data-step='0'] .verdict");
    await expect(verdict.getAttribute("data-verdict")).resolves.toBe("pass");
    const text = await verdict.innerText();
    expect(text).toMatch(/canary 0\.02 % \(4\/20000\)/);
    expect(text).toMatch(/production 0\.04 % \(150\/380000\)/);
    expect(text).toMatch(/allowed 0\.5/);
    expect(text).toMatch(/p99\s+canary \[0, 5\) ms\s+production \[0, 5\) ms/);
    expect(text).toMatch(/no more than 0\.5 points worse/);
    await expect(page.locator("[data-testid=rollout-steps] > li[data-step='1'] .verdict").count()).resolves.toBe(0);
    expect(await violations()).toEqual([]);
    await page.screenshot({ path: path.join(REPO_ROOT, "test-output", "dashboard-rollout.png"), fullPage: true });
    await page.close();
  } finally {
    rollout = null;
  }
}, 60_000);

test("Chromium: each flag's rules in words, an object flag's values as read-only JSON with markup kept as text, and the segments panel", async () => {
  const { page, foreign, violations } = await guardedPage(browser, dashboard.url);
  await page.goto(dashboard.url);
  const row = page.locator("[data-testid=flags] tr[data-flag=banner]");
  await row.waitFor();
  const rules = await row.locator("[data-testid=flag-rules] > li").allInnerTexts();
  expect(rules).toHaveLength(2);
  expect(rules[0]).toMatch(/segment beta-testers.*→ beta/);
  expect(rules[1]).toMatch(/plan.*pro, team.*version.*2\.1\.0.*→ beta.*20 %/);
  // The JSON view is the value, pretty-printed, as text: the markup in it made no element and ran nothing.
  const json = row.locator("[data-testid=flag-json]");
  await expect(json.evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.variant, e.textContent]))).resolves.toEqual([
    ["standard", JSON.stringify({ text: "Welcome", color: "#2563eb" }, null, 2)],
    ["beta", JSON.stringify({ text: HOSTILE, color: "#d97706", tags: ["a", "b"] }, null, 2)],
  ]);
  await expect(page.locator("[data-injected]").count()).resolves.toBe(0);
  await expect(row.locator("script, img").count()).resolves.toBe(0);
  expect(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected)).toBeUndefined();
  // Read-only: nothing in the view can be edited, and a live object flag offers no button.
  await expect(json.first().evaluate((e) => (e as HTMLElement).isContentEditable)).resolves.toBe(false);
  await expect(row.locator("button, input, textarea").count()).resolves.toBe(0);

  const seg = page.locator("[data-testid=segments] tr[data-segment=beta-testers]");
  const cells = await seg.locator("td").allInnerTexts();
  expect(cells[0]).toMatch(/beta-testers\s+try things first/);
  expect(cells[1]).toMatch(/email.*@example\.com/);
  expect(cells[2]).toBe("2");
  expect(cells[3]).toBe("banner");
  expect(await violations()).toEqual([]);
  expect(foreign()).toEqual([]);
  await page.screenshot({ path: path.join(REPO_ROOT, "test-output", "dashboard-flags.png"), fullPage: true });
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
