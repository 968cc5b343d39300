// End to end: the whole local stack (real redis-server, HAProxy + agent process, sample-app
// processes, alarm evaluator, the Lambda's handler with local adapters, dashboard), driven over
// HTTP on 127.0.0.1 and in headless Chromium. The tests share one stack and run in order.
import { REPO_ROOT } from "../../support/repoRoot";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { run } from "../../../cli/main";
import { Load } from "../../../harness/load";
import { startLocalStack, type LocalStack } from "../../../local/stack";
import type { LocalStatus } from "../../../local/status";
import { setBooleanFlag } from "../../../local/flags";
import { BETA_TESTER, OUTSIDER, bannerFor, bannerLine } from "../../../local/bannerProbe";
import { updateFlag } from "../../../state/flags";
import { readEvents } from "../../../state/events";
import { readRouting } from "../../../state/routing";
import { until } from "../../../harness/until";
import { descendants } from "../../../harness/procStat";
import { tempDir } from "../../support/tempDir";
import { testLogger } from "../../support/testLogger";

const repoDir = path.resolve(REPO_ROOT);
const outDir = path.join(repoDir, "test-output");
const runDir = tempDir("aviary-local-");
const logger = testLogger("aviary-local-log-");

/**
 * The committed stack files with the CPU alarms at 35 % / 10 % instead of 70 % / 25 %: the scaling
 * test asserts alarm → controller → fleet, and on two cores shared with other test files the apps
 * may not get 70 % of their quarter core however hard they are loaded.
 */
const configDir = ((): string => {
  const dir = tempDir("aviary-local-config-");
  for (const f of ["Pulumi.yaml", "Pulumi.canary.yaml"]) fs.copyFileSync(path.join(repoDir, f), path.join(dir, f));
  const prod = fs.readFileSync(path.join(repoDir, "Pulumi.prod.yaml"), "utf8");
  const lowered = prod.replace(/scaleOutCpu: \d+/, "scaleOutCpu: 35").replace(/scaleInCpu: \d+/, "scaleInCpu: 10");
  if (!lowered.includes("scaleOutCpu: 35") || !lowered.includes("scaleInCpu: 10")) throw new Error("Pulumi.prod.yaml: scaleOutCpu/scaleInCpu not found");
  fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), lowered);
  return dir;
})();
let stack: LocalStack;

const stackProcesses = (): string[] => descendants().map((p) => p.cmd).filter((c) => /redis-server|haproxy|app\.js|agent\.js/.test(c));

async function status(): Promise<LocalStatus> {
  return (await fetch(`${stack.adminUrl}/api/status`)).json() as Promise<LocalStatus>;
}

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const write = (s: string): void => void (out += s);
  const io = { stdout: { write }, stderr: { write } };
  const code = await run(argv, io, { env: { ...process.env, REDIS_URL: stack.redisUrl } });
  return { code, out };
}

/** Sends `n` requests through the proxy and counts versions. */
async function sample(n: number, pathName = "/"): Promise<{ prod: number; canary: number; failed: number }> {
  const load = new Load({ url: `${stack.proxyUrl}${pathName}`, concurrency: 4, maxRequests: n });
  await until(`${n} requests`, async () => load.counts().total >= n, 60_000);
  await load.stop();
  const c = load.counts();
  return { prod: c.byVersion[stack.config.prod.appVersion] ?? 0, canary: c.byVersion[stack.config.canary.appVersion] ?? 0, failed: c.failed };
}

beforeAll(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  stack = await startLocalStack({ repoDir: configDir, runDir, proxyPort: 0, adminPort: 0, periodFactor: 10, logger });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

test("the stack file's weight is written by the controller, as the canary stack's invocation is on AWS", async () => {
  const { canaryWeight, appVersion } = stack.config.canary;
  const routing = (await readEvents(stack.redis, { count: 1000 })).events.filter((e) => e.kind === "routing");
  expect(routing[0]).toMatchObject({ by: "controller", reason: `canary stack config: weight ${canaryWeight} (canary ${appVersion})` });
  expect((await status()).activity.map((a) => a.title)).toContain(`Aviary: canary weight ${canaryWeight}%`);
});

test("the split follows Pulumi.canary.yaml's canaryWeight, and `aviary canary weight` changes it live", async () => {
  const weight = stack.config.canary.canaryWeight;
  const a = await sample(2000);
  expect(a.failed).toBe(0);
  expect(Math.abs((100 * a.canary) / 2000 - weight)).toBeLessThanOrEqual(3);

  expect((await cli("canary", "weight", "50")).code).toBe(0);
  await until("agent applied 50", async () => (await sample(200)).canary > 60);
  const b = await sample(2000);
  expect(Math.abs((100 * b.canary) / 2000 - 50)).toBeLessThanOrEqual(3);
  expect((await cli("canary", "weight", String(weight))).code).toBe(0);
}, 180_000);

test("a flag change reaches every app: /hiddenfeature flips through the proxy", async () => {
  await setBooleanFlag(stack.redis, "hiddenfeature", false, "e2e", "e2e: start from off");
  expect((await fetch(`${stack.proxyUrl}/hiddenfeature`)).status).toBe(404);
  await setBooleanFlag(stack.redis, "hiddenfeature", true, "e2e", "e2e: turn on");
  await until("hiddenfeature on everywhere", async () => {
    const statuses = await Promise.all(Array.from({ length: 20 }, () => fetch(`${stack.proxyUrl}/hiddenfeature`).then((r) => r.status)));
    return statuses.every((s) => s === 200);
  }, 30_000);
}, 180_000);

test("CPU load scales the fleet out; when it stops, the fleet scales back in (newest removed first)", async () => {
  const before = await stack.fleet.describe();
  const heavy = new Load({ url: `${stack.proxyUrl}/work?ms=4`, concurrency: 12 });
  try {
    await until("scale-out", async () => (await stack.fleet.describe()).desired > before.desired, 90_000);
  } finally {
    await heavy.stop();
  }
  const out = await stack.fleet.describe();
  expect(out.desired).toBe(before.desired + stack.config.prod.scaling.step);
  await until("new instance UP in the proxy", async () => (await status()).backends.filter((b) => b.role === "prod" && b.proxyStatus === "UP").length === out.desired, 30_000);
  const newest = out.instances.map((i) => i.id).sort((x, y) => Number(x.split("-")[1]) - Number(y.split("-")[1])).at(-1)!;

  await until("scale-in", async () => (await stack.fleet.describe()).desired < out.desired, 120_000);
  const after = await stack.fleet.describe();
  expect(after.instances.map((i) => i.id)).not.toContain(newest);
  const actions = (await status()).activity.map((a) => a.title + " " + a.text).join("\n");
  expect(actions).toMatch(/prod-cpu-high → ALARM/);
  expect(actions).toMatch(/prod-cpu-low → ALARM/);
}, 300_000);

test("canary rollback: a failing canary is switched off by the controller; time and failed requests measured", async () => {
  const canaryVersion = stack.config.canary.appVersion;
  const load = new Load({ url: `${stack.proxyUrl}/`, concurrency: 4, pauseMs: 2 });
  let firstError: number | undefined;
  let lastCanary = 0;
  load.onSample((s) => {
    if (s.version === canaryVersion) lastCanary = s.at;
    if (firstError === undefined && s.version === canaryVersion && s.status >= 500) firstError = s.at;
  });
  try {
    await until("canary serving", async () => lastCanary > 0, 15_000);
    await updateFlag(stack.redis, "demo-error-rate", (cur) => ({ ...cur!, rules: [{ attribute: "version", op: "equals", value: canaryVersion, variant: "on" }] }), { by: "e2e", reason: "break the canary", cause: "set" });
    await until("canary disabled", async () => (await readRouting(stack.redis)).state?.canaryEnabled === false, 30_000);
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    await load.stop();
    await updateFlag(stack.redis, "demo-error-rate", (cur) => ({ ...cur!, rules: [] }), { by: "e2e", reason: "fault removed", cause: "set" });
  }
  expect(firstError).toBeDefined();
  const rollbackMs = lastCanary - firstError!;
  const failed = load.counts(firstError!).failed;
  logger.warn({ rollbackMs, failed }, "canary rollback measured");
  fs.writeFileSync(path.join(outDir, "rollback.json"), JSON.stringify({ rollbackMs, failedRequests: failed }, null, 2));
  // The target is 3 s with the local period factor (the bench measures it); this bound only catches a broken loop.
  expect(rollbackMs).toBeLessThan(30_000);
  const routing = (await readRouting(stack.redis)).state!;
  expect(routing.canaryWeight).toBe(stack.config.canary.canaryWeight); // weight kept for a human re-enable
  expect(routing.reason).toMatch(/canary-5xx-rate/);
  const after = await sample(300);
  expect(after.canary).toBe(0);
}, 180_000);

describe("dashboard in headless Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  test("shows backends, flags and the rollback; toggling hiddenfeature on the page changes /hiddenfeature", async () => {
    const page = await browser.newPage();
    await page.goto(stack.adminUrl);
    await page.waitForSelector("[data-testid=backends] tr[data-backend]");
    const backendRows = await page.locator("[data-testid=backends] tr[data-backend]").count();
    expect(backendRows).toBeGreaterThanOrEqual(stack.config.prod.prodFleet.min + 1);
    await expect(page.locator("[data-testid=flags] tr[data-flag=hiddenfeature]").innerText()).resolves.toMatch(/hiddenfeature/);

    await setBooleanFlag(stack.redis, "hiddenfeature", false, "e2e", "e2e: start from off");
    await page.waitForSelector("button[data-toggle=hiddenfeature][data-on=true]");
    await page.click("button[data-toggle=hiddenfeature]");
    await until("hiddenfeature on via the page", async () => (await fetch(`${stack.proxyUrl}/hiddenfeature`)).status === 200, 15_000);
    await page.waitForSelector("button[data-toggle=hiddenfeature][data-on=false]");
    const events = await status();
    expect(events.events.some((e) => e.kind === "flag" && e.by === "dashboard")).toBe(true);

    // A cross-site form post (no JSON content type) or a bad body cannot change a flag.
    const before = (await status()).flags.find((f) => f.key === "hiddenfeature")!.on;
    const form = await fetch(`${stack.adminUrl}/api/flags/hiddenfeature`, { method: "POST", headers: { "content-type": "text/plain", origin: stack.adminUrl }, body: JSON.stringify({ on: !before }) });
    expect(form.status).toBe(415);
    const bad = await fetch(`${stack.adminUrl}/api/flags/hiddenfeature`, { method: "POST", headers: { "content-type": "application/json", origin: stack.adminUrl }, body: "{\"on\": \"yes\"}" });
    expect(bad.status).toBe(400);
    expect((await status()).flags.find((f) => f.key === "hiddenfeature")!.on).toBe(before);

    // Killed after being on: the page says so, offers only un-kill, and every app serves the code's default (off).
    expect((await cli("flags", "kill", "hiddenfeature", "--reason", "e2e: kill")).code).toBe(0);
    const killedRow = page.locator("[data-testid=flags] tr[data-flag=hiddenfeature][data-killed=true]");
    await killedRow.waitFor();
    await expect(killedRow.innerText()).resolves.toMatch(/KILLED.*code's default/s);
    await expect(killedRow.locator("button").count()).resolves.toBe(1);
    await expect(killedRow.locator("button").innerText()).resolves.toBe("un-kill");
    const hidden = async (): Promise<number[]> => Promise.all(Array.from({ length: 20 }, async () => (await fetch(`${stack.proxyUrl}/hiddenfeature`)).status));
    await until("hiddenfeature off on every app", async () => (await hidden()).every((st) => st === 404), 15_000);
    const crossSite = await fetch(`${stack.adminUrl}/api/flags/hiddenfeature/unkill`, { method: "POST", headers: { "content-type": "text/plain", origin: stack.adminUrl }, body: "{}" });
    expect(crossSite.status).toBe(415);
    expect((await status()).flags.find((f) => f.key === "hiddenfeature")!.killed).toBe(true);
    await page.click("button[data-unkill=hiddenfeature]");
    await until("hiddenfeature on again via un-kill", async () => (await fetch(`${stack.proxyUrl}/hiddenfeature`)).status === 200, 15_000);
    await page.waitForSelector("[data-testid=flags] tr[data-flag=hiddenfeature][data-killed=false] button[data-toggle=hiddenfeature][data-on=false]");

    // The JSON flag and its segment, as the demo shows them: through the proxy a beta tester gets the
    // beta banner, someone outside the segment the standard one; the page shows the rule in words,
    // the values as JSON and the segment.
    const tester = await bannerFor(stack.proxyUrl, BETA_TESTER);
    expect(tester).toMatchObject({ variant: "beta", reason: "TARGETING_MATCH" });
    expect(await bannerFor(stack.proxyUrl, OUTSIDER)).toMatchObject({ variant: "standard", reason: "DEFAULT" });
    expect(bannerLine(BETA_TESTER, tester)).toBe(`as ana@example.com (a beta tester): beta (TARGETING_MATCH) "${tester.banner.text}"`);
    const bannerRow = page.locator("[data-testid=flags] tr[data-flag=banner]");
    await expect(bannerRow.locator("[data-testid=flag-rules] > li").first().innerText()).resolves.toMatch(/segment beta-testers.*→ beta/);
    await expect(bannerRow.locator("[data-testid=flag-json][data-variant=beta]").innerText()).resolves.toContain(`"text": "${tester.banner.text}"`);
    await expect(page.locator("[data-testid=segments] tr[data-segment=beta-testers]").innerText()).resolves.toMatch(/@example\.com[\s\S]*banner/);

    // The rollback of the previous test is in the action log.
    await expect(page.locator("[data-testid=actions]").innerText()).resolves.toMatch(/canary-5xx-rate → ALARM/);
    await page.screenshot({ path: path.join(outDir, "dashboard.png"), fullPage: true });
    await page.close();
  }, 180_000);
});

test("stop leaves no process behind; a failed start cleans up too; a second start works", async () => {
  await stack.stop();
  expect(stackProcesses()).toEqual([]);

  // The proxy port is taken: start fails after Redis is up, and must stop it again.
  const blocker = net.createServer().listen(0, "127.0.0.1");
  await new Promise((r) => blocker.once("listening", r));
  const taken = (blocker.address() as net.AddressInfo).port;
  await expect(startLocalStack({ repoDir: configDir, runDir, proxyPort: taken, adminPort: 0, periodFactor: 10, logger })).rejects.toThrow();
  blocker.close();
  expect(stackProcesses()).toEqual([]);

  stack = await startLocalStack({ repoDir: configDir, runDir, proxyPort: 0, adminPort: 0, periodFactor: 10, logger });
  expect((await sample(100)).failed).toBe(0);
  await stack.stop();
  expect(stackProcesses()).toEqual([]);
}, 180_000);
