/// <reference lib="dom" />
// The dashboard's charts and rollout panel in headless Chromium against the real local stack
// (redis-server, HAProxy + agent, app processes) under load: the charts draw real traffic with
// time axes, legends and the alarm thresholds; a routing change becomes a marker and a step in the
// asked weight; a rollout stored in Redis shows as the panel; and the page never asks anything of
// another origin nor trips its CSP.
import { REPO_ROOT } from "../../support/repoRoot";
import * as path from "node:path";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { Load } from "../../../harness/load";
import { until } from "../../../harness/until";
import { startLocalStack, type LocalStack } from "../../../local/stack";
import { keys } from "../../../state/keys";
import { readRollout, writeRollout } from "../../../state/rollout";
import { setCanaryWeight } from "../../../state/routing";
import { guardedPage, type GuardedPage } from "../../support/guardedPage";
import { progressingRollout } from "../../support/progressingRollout";
import { tempDir } from "../../support/tempDir";
import { testLogger } from "../../support/testLogger";

const repoDir = path.resolve(REPO_ROOT);
const runDir = tempDir("aviary-dash-charts-");
const logger = testLogger("aviary-dash-charts-log-");
let stack: LocalStack;
let browser: Browser;
let load: Load;
let guarded: GuardedPage;

type Charts = Record<string, { scales: { x: { time: boolean } }; data: (number | null)[][]; series: { label: string }[] }>;
/** One chart's series by legend label, as the page plotted them. */
const plotted = (page: Page, id: string): Promise<Record<string, (number | null)[]>> =>
  page.evaluate((chartId) => {
    const c = (window as unknown as { aviaryCharts: Charts }).aviaryCharts[chartId];
    return Object.fromEntries(c.series.map((s, i) => [s.label, c.data[i]]));
  }, id);
const numbers = (xs: (number | null)[] | undefined): number[] => (xs ?? []).filter((x): x is number => typeof x === "number");

beforeAll(async () => {
  stack = await startLocalStack({ repoDir, runDir, proxyPort: 0, adminPort: 0, periodFactor: 10, logger });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  load = new Load({ url: `${stack.proxyUrl}/`, concurrency: 3, pauseMs: 5 });
  guarded = await guardedPage(browser, stack.adminUrl);
  await guarded.page.goto(stack.adminUrl);
  await guarded.page.waitForSelector("[data-testid=chart-fleet] .u-legend");
}, 180_000);

afterAll(async () => {
  await load?.stop();
  await browser?.close();
  await stack?.stop();
});

test("the charts draw the stack's real traffic: canary vs production, the alarm thresholds, the fleet, on a time axis with legends", async () => {
  const { page } = guarded;
  const weight = stack.config.canary.canaryWeight;
  await until("both roles' traffic charted", async () => {
    const req = await plotted(page, "chart-requests");
    return numbers(req["prod req/s"]).some((x) => x > 0) && numbers(req["canary req/s"]).some((x) => x > 0);
  }, 60_000);
  const split = await plotted(page, "chart-split");
  const errors = await plotted(page, "chart-errors");
  const latency = await plotted(page, "chart-latency");
  const fleet = await plotted(page, "chart-fleet");
  const described = await stack.fleet.describe();
  // The measured share is near the weight routing asks for (HAProxy's weighted round robin).
  const shares = numbers(split["canary share measured %"]);
  expect(shares.length).toBeGreaterThan(0);
  expect(Math.abs(shares.at(-1)! - weight)).toBeLessThan(15);
  // Asked for: the configured weight since the stack's start wrote it (from 0 before).
  const asked = numbers(split["canary weight asked %"]);
  expect(asked.at(-1)).toBe(weight);
  expect(new Set(asked).size).toBeLessThanOrEqual(2);
  // Healthy roles: 0 % 5xx on both sides, p99 measured on both, under the dashed alarm thresholds.
  expect(new Set(numbers(errors["canary 5xx %"]))).toEqual(new Set([0]));
  expect(new Set(numbers(errors["production 5xx %"]))).toEqual(new Set([0]));
  expect(new Set(errors[`alarm threshold ${stack.config.canary.thresholds.canaryErrorRate} %`])).toEqual(new Set([stack.config.canary.thresholds.canaryErrorRate]));
  expect(numbers(latency["canary p99 ms"]).length).toBeGreaterThan(0);
  expect(numbers(latency["production p99 ms"]).length).toBeGreaterThan(0);
  expect(new Set(latency[`alarm threshold ${stack.config.canary.thresholds.canaryP99Ms} ms`])).toEqual(new Set([stack.config.canary.thresholds.canaryP99Ms]));
  expect(numbers(fleet["fleet size"]).at(-1)).toBe(described.instances.length);
  expect(new Set(fleet[`min ${described.min}`])).toEqual(new Set([described.min]));
  // Every chart: a time axis with readable ticks and a legend naming its series.
  for (const id of ["chart-split", "chart-errors", "chart-latency", "chart-requests", "chart-fleet"]) {
    const axis = await page.evaluate((chartId) => {
      const c = (window as unknown as { aviaryCharts: Record<string, { scales: { x: { time: boolean } }; axes: { _values?: string[] }[] }> }).aviaryCharts[chartId];
      return { time: c.scales.x.time, ticks: c.axes[0]._values ?? [] };
    }, id);
    expect(axis.time).toBe(true);
    expect(axis.ticks.length).toBeGreaterThan(1);
    expect((await page.locator(`[data-testid=${id}] .u-legend .u-series .u-label`).allInnerTexts()).length).toBeGreaterThan(1);
  }
  await expect(page.locator("[data-testid=rollout]").isHidden()).resolves.toBe(true);
}, 90_000);

test("a routing change becomes a marker on the charts and a step in the asked weight", async () => {
  const { page } = guarded;
  const before = stack.config.canary.canaryWeight;
  const next = before === 40 ? 30 : 40;
  await setCanaryWeight(stack.redis, next, { by: "e2e", reason: "marker check" });
  const marker = (id: string): Locator => page.locator(`[data-testid=${id}] .u-over .marker[data-kind=routing][title*="by e2e (marker check)"]`);
  await marker("chart-split").waitFor({ timeout: 20_000 });
  await expect(marker("chart-split").getAttribute("title")).resolves.toMatch(new RegExp(`routing: weight ${before}→${next} by e2e`));
  await expect(marker("chart-errors").count()).resolves.toBe(1);
  await until("asked weight steps up", async () => {
    const asked = numbers((await plotted(page, "chart-split"))["canary weight asked %"]);
    return asked.at(-1) === next && asked.includes(before);
  }, 20_000);
  await until("measured share follows", async () => Math.abs(numbers((await plotted(page, "chart-split"))["canary share measured %"]).at(-1)! - next) < 15, 30_000);
  await setCanaryWeight(stack.redis, before, { by: "e2e", reason: "marker check done" });
}, 90_000);

test("a rollout stored in Redis shows as the panel: steps, the current one, the verdict's numbers; and its write is a marker", async () => {
  const { page } = guarded;
  const state = progressingRollout(new Date());
  await writeRollout(stack.redis, state, { weight: state.plan.steps[state.step].weight, enabled: true }, { by: "e2e", reason: "panel check", expectRevision: null });
  const panel = page.locator("[data-testid=rollout]");
  await panel.waitFor({ state: "visible", timeout: 20_000 });
  const steps = page.locator("[data-testid=rollout-steps] > li");
  await expect(steps.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.phase))).resolves.toEqual(["done", "current", "pending"]);
  const verdict = await page.locator("[data-testid=rollout-steps] > li[data-step='0'] .verdict").innerText();
  expect(verdict).toMatch(/pass/);
  expect(verdict).toMatch(/canary 0\.02 % \(4\/20000\)/);
  expect(verdict).toMatch(/production 0\.04 % \(150\/380000\)/);
  expect(verdict).toMatch(/p99\s+canary \[0, 5\) ms/);
  await expect(page.locator("#rollout-summary").innerText()).resolves.toMatch(/step 2 of 3 at 25%.*s left/);
  await page.locator("[data-testid=chart-split] .u-over .marker[data-kind=rollout]").first().waitFor({ timeout: 20_000 });
  const stored = await readRollout(stack.redis);
  await writeRollout(stack.redis, null, undefined, { by: "e2e", reason: "panel check done", expectRevision: stored.state!.revision });
  await panel.waitFor({ state: "hidden", timeout: 20_000 });
}, 90_000);

test("garbage in aviary:rollout shows as an unreadable rollout naming the problem, and the rest of the page keeps rendering", async () => {
  const { page } = guarded;
  await stack.redis.set(keys.rollout, "{not json");
  try {
    const panel = page.locator("[data-testid=rollout][data-status=unreadable]");
    await panel.waitFor({ state: "visible", timeout: 20_000 });
    await expect(page.locator("#rollout-summary").innerText()).resolves.toMatch(/rollout state unreadable.*aviary:rollout/);
    const shown = Number(await page.evaluate(() => document.body.dataset.snapshot));
    await page.waitForFunction((n) => Number(document.body.dataset.snapshot) > n, shown);
  } finally {
    await stack.redis.del(keys.rollout);
  }
  await page.locator("[data-testid=rollout]").waitFor({ state: "hidden", timeout: 20_000 });
}, 60_000);

test("through it all the page asked nothing of another origin and tripped no CSP rule", async () => {
  expect(guarded.requests.length).toBeGreaterThan(3);
  expect(guarded.foreign()).toEqual([]);
  expect(await guarded.violations()).toEqual([]);
  await guarded.page.screenshot({ path: path.join(repoDir, "test-output", "dashboard-real-charts.png"), fullPage: true });
});
