/// <reference lib="dom" />
// The dashboard at the moment that matters, in headless Chromium against the real local stack: a
// canary failing through the demo fault is rolled back by the controller, and through the whole
// rollback no rendered page contradicts itself — routing, backends, alarm, split and the action
// log always come from one snapshot. Also: a cross-origin write to the real stack changes nothing
// in Redis, and an idle fleet at its minimum does not show its scale-in alarm as red.
import { REPO_ROOT } from "../../support/repoRoot";
import * as path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { Load } from "../../../harness/load";
import { startLocalStack, type LocalStack } from "../../../local/stack";
import type { LocalStatus } from "../../../local/status";
import { until } from "../../../harness/until";
import { readFlag, updateFlag } from "../../../state/flags";
import { readRouting } from "../../../state/routing";
import { tempDir } from "../../support/tempDir";
import { testLogger } from "../../support/testLogger";

const repoDir = path.resolve(REPO_ROOT);
const runDir = tempDir("aviary-dash-");
const logger = testLogger("aviary-dash-log-");
let stack: LocalStack;
let browser: Browser;

/** Everything one render put on the page, read in one go. */
interface Shown {
  snapshot: number;
  canaryEnabled: string;
  effectiveWeight: string;
  canaryPct: string;
  actions: string;
  /** Per canary backend: does HAProxy give it new requests (UP with a weight above 0)? */
  canaryServing: boolean[];
  alarm: { state: string; tone: string; text: string };
}

const shown = (page: Page): Promise<Shown> => page.evaluate(() => {
  const q = (s: string): HTMLElement => document.querySelector(s) as HTMLElement;
  const row = q("[data-testid=alarms] tr[data-alarm=canary-5xx-rate]");
  return {
    snapshot: Number(document.body.dataset.snapshot),
    canaryEnabled: q("#routing").dataset.canaryEnabled ?? "",
    effectiveWeight: q("[data-testid=split]").dataset.effectiveWeight ?? "",
    canaryPct: q("[data-testid=split]").dataset.canaryPct ?? "",
    actions: q("[data-testid=actions]").innerText,
    canaryServing: Array.from(document.querySelectorAll<HTMLElement>("[data-testid=backends] tr[data-role=canary]")).map((r) => r.dataset.proxyStatus === "UP" && Number(r.dataset.proxyWeight) > 0),
    alarm: { state: row?.dataset.state ?? "", tone: row?.dataset.tone ?? "", text: row?.innerText ?? "" },
  };
});

beforeAll(async () => {
  stack = await startLocalStack({ repoDir, runDir, proxyPort: 0, adminPort: 0, periodFactor: 10, logger });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

test("a cross-origin write to the running stack is refused and changes nothing in Redis", async () => {
  const before = await readFlag(stack.redis, "hiddenfeature");
  for (const headers of [{ origin: "http://evil.example" }, {}] as Record<string, string>[]) {
    const res = await fetch(`${stack.adminUrl}/api/flags/hiddenfeature`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ on: !before.flag?.variants.on }) });
    expect(res.status).toBe(403);
  }
  expect(await readFlag(stack.redis, "hiddenfeature")).toEqual(before);
}, 30_000);

test("through a rollback every render agrees with itself: routing, backends, alarm, split and actions", async () => {
  const page = await browser.newPage();
  await page.goto(stack.adminUrl);
  await page.waitForSelector("[data-testid=backends] tr[data-role=canary]");
  const canaryVersion = stack.config.canary.appVersion;
  const weight = stack.config.canary.canaryWeight;
  const load = new Load({ url: `${stack.proxyUrl}/`, concurrency: 4, pauseMs: 2 });
  const renders: Shown[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      renders.push(await shown(page));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    await until("canary share shown", async () => Number((await shown(page)).canaryPct) > 0, 30_000);
    await updateFlag(stack.redis, "demo-error-rate", (cur) => ({ ...cur!, rules: [{ attribute: "version", op: "equals", value: canaryVersion, variant: "on" }] }), { by: "e2e", reason: "break the canary", cause: "set" });
    await until("canary disabled", async () => (await readRouting(stack.redis)).state?.canaryEnabled === false, 30_000);
    await until("page shows the drained canary", async () => {
      const s = await shown(page);
      return s.canaryEnabled === "false" && s.canaryServing.length > 0 && s.canaryServing.every((x) => !x);
    }, 20_000);
    await new Promise((r) => setTimeout(r, 3000));
  } finally {
    sampling = false;
    await sampler;
    await load.stop();
    await updateFlag(stack.redis, "demo-error-rate", (cur) => ({ ...cur!, rules: [] }), { by: "e2e", reason: "fault removed", cause: "set" });
  }

  const disabledRenders = renders.filter((r) => /canary disabled/.test(r.actions));
  expect(disabledRenders.length).toBeGreaterThan(0);
  for (const r of renders) {
    // The controller's "canary disabled" and an "enabled" routing panel never share a render.
    if (/canary disabled/.test(r.actions)) expect(r).toEqual(expect.objectContaining({ canaryEnabled: "false", effectiveWeight: "0" }));
    if (r.canaryEnabled === "true") expect(r.effectiveWeight).toBe(String(weight));
    // The rollback happened because of the alarm: once the page shows the disable, it shows that alarm's ALARM too.
    if (/canary disabled/.test(r.actions)) expect(r.actions).toMatch(/canary-5xx-rate → ALARM/);
  }
  // Snapshots only move forward.
  for (let i = 1; i < renders.length; i++) expect(renders[i].snapshot).toBeGreaterThanOrEqual(renders[i - 1].snapshot);

  // At the end: the split counts only traffic since the disable, not the share from before it.
  const end = await shown(page);
  expect(end.canaryEnabled).toBe("false");
  expect(end.canaryServing).toEqual(end.canaryServing.map(() => false));
  expect(end.canaryPct === "" || Number(end.canaryPct) < 5).toBe(true);
  await expect(page.locator("#split-note").innerText()).resolves.toMatch(/Routing asks for 0% canary/);
  // The alarm row explains its state with the values that decided it.
  expect(end.alarm.text).toMatch(/evaluated at|SetAlarmState/);
  expect(end.alarm.text).toMatch(/datapoints \[|not a measurement/);
  await page.screenshot({ path: path.join(repoDir, "test-output", "dashboard-rollback.png"), fullPage: true });
  await page.close();
}, 120_000);

test("an idle fleet at its minimum shows prod-cpu-low in ALARM as informational, not red", async () => {
  const cpuLow = stack.evaluator.states().find((a) => a.definition.key === "prod-cpu-low")!;
  const fleet = await stack.fleet.describe();
  if (fleet.desired > fleet.min) await stack.fleet.setDesired(fleet.min);
  // Idle: the scale-in alarm fires after its periods (6 s each locally) and stays in ALARM at min.
  await until("prod-cpu-low in ALARM", async () => stack.evaluator.states().find((a) => a.name === cpuLow.name)!.state === "ALARM", 90_000);
  await until("fleet at min", async () => (await stack.fleet.describe()).desired === fleet.min, 30_000);
  const status = (await (await fetch(`${stack.adminUrl}/api/status`)).json()) as LocalStatus;
  const view = status.alarms.find((a) => a.key === "prod-cpu-low")!;
  expect(view).toEqual(expect.objectContaining({ state: "ALARM", tone: "info", note: `at minimum (${fleet.min}): nothing to scale in` }));
  const page = await browser.newPage();
  await page.goto(stack.adminUrl);
  const row = page.locator("[data-testid=alarms] tr[data-alarm=prod-cpu-low][data-state=ALARM]");
  await row.waitFor();
  await expect(row.locator(".pill").getAttribute("class")).resolves.toBe("pill info");
  await expect(row.innerText()).resolves.toMatch(/nothing to scale in/);
  const bg = await row.locator(".pill").evaluate((e) => getComputedStyle(e).backgroundColor);
  expect(bg).not.toBe("rgb(220, 38, 38)");
  await page.close();
}, 150_000);
