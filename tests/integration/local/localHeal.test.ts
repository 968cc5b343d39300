// Local mode heals itself as systemd and the Auto Scaling group do on AWS: a crashed canary, agent,
// redis-server or HAProxy is started again, and a lost prod instance is replaced. Real processes on
// 127.0.0.1; the tests share one stack and run in order.
import { REPO_ROOT } from "../../support/repoRoot";
import * as path from "node:path";
import { Load } from "../../../harness/load";
import { startLocalStack, type LocalStack } from "../../../local/stack";
import type { LocalStatus } from "../../../local/status";
import { readRouting, setCanaryWeight } from "../../../state/routing";
import { until } from "../../../harness/until";
import { tempDir } from "../../support/tempDir";
import { testLogger } from "../../support/testLogger";

const repoDir = path.resolve(REPO_ROOT);
const base = tempDir("aviary-heal-");
const logger = testLogger("aviary-heal-log-");
let stack: LocalStack;

async function status(): Promise<LocalStatus> {
  return (await fetch(`${stack.adminUrl}/api/status`)).json() as Promise<LocalStatus>;
}

const up = async (role: string): Promise<number> => (await status()).backends.filter((b) => b.role === role && b.proxyStatus === "UP").length;

/** Share of `n` requests through the proxy that the canary answered, in percent (failures count as not canary). */
async function canaryShare(n: number): Promise<{ pct: number; failed: number }> {
  const load = new Load({ url: `${stack.proxyUrl}/`, concurrency: 4, maxRequests: n });
  await until(`${n} requests`, async () => load.counts().total >= n, 60_000);
  await load.stop();
  const c = load.counts();
  return { pct: (100 * (c.byVersion[stack.config.canary.appVersion] ?? 0)) / c.total, failed: c.failed };
}

const restartedEvent = (title: string): Promise<void> =>
  until(`activity "${title}"`, async () => (await status()).activity?.some((a) => a.kind === "runner" && a.title === title) === true, 30_000);

beforeAll(async () => {
  stack = await startLocalStack({ repoDir, runDir: path.join(base, "run"), stateDir: path.join(base, "state"), proxyPort: 0, adminPort: 0, periodFactor: 10, logger });
  await setCanaryWeight(stack.redis, 50, { by: "heal-test", reason: "an even split is easy to measure" });
  await until("weight 50 applied", async () => Math.abs((await canaryShare(200)).pct - 50) < 15, 30_000);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

test("a SIGKILLed canary is restarted on its port and comes back into the split at its weight", async () => {
  const canary = stack.processes.get("canary-1");
  if (!canary?.proc.pid) throw new Error("canary-1 is not running");
  canary.proc.kill("SIGKILL");
  await canary.exited;
  await restartedEvent("canary-1 exited (signal SIGKILL), restarted");
  expect(stack.processes.get("canary-1")?.proc.pid).not.toBe(canary.proc.pid);
  await until("canary UP in HAProxy", async () => (await up("canary")) === 1, 30_000);
  await until("canary serving at weight 50", async () => Math.abs((await canaryShare(200)).pct - 50) < 15, 30_000);
}, 120_000);

test("a SIGKILLed agent is restarted and applies a weight set after its death", async () => {
  const agent = stack.processes.get("agent");
  if (!agent) throw new Error("agent is not running");
  agent.proc.kill("SIGKILL");
  await agent.exited;
  await setCanaryWeight(stack.redis, 0, { by: "heal-test", reason: "while the agent is down" });
  await restartedEvent("agent exited (signal SIGKILL), restarted");
  await until("weight 0 applied by the new agent", async () => (await canaryShare(100)).pct === 0, 30_000);
  await setCanaryWeight(stack.redis, 50, { by: "heal-test", reason: "back to the even split" });
  await until("weight 50 applied", async () => Math.abs((await canaryShare(200)).pct - 50) < 15, 30_000);
}, 120_000);

test("a SIGKILLed redis-server is restarted on the same port with its data, and the stack recovers", async () => {
  const pid = stack.redisServer.pid();
  if (pid === undefined) throw new Error("redis-server is not running");
  process.kill(pid, "SIGKILL");
  await restartedEvent("redis-server exited (signal SIGKILL), restarted");
  expect(stack.redisServer.pid()).not.toBe(pid);
  // Same URL (port and password): the runner's own client and every app reconnect to it.
  await until("routing readable again", async () => (await readRouting(stack.redis).catch(() => undefined))?.state?.canaryWeight === 50, 30_000);
  await until("every app registered again", async () => (await up("prod")) === (await stack.fleet.describe()).desired && (await up("canary")) === 1, 30_000);
  const after = await canaryShare(300);
  expect(after.failed).toBe(0);
  expect(Math.abs(after.pct - 50)).toBeLessThan(15);
}, 120_000);

test("a SIGKILLed HAProxy is restarted on the same port and the agent fills its slots again", async () => {
  const old = stack.haproxy().proc.pid;
  if (old === undefined) throw new Error("haproxy is not running");
  process.kill(old, "SIGKILL");
  await restartedEvent("haproxy exited (signal SIGKILL), restarted");
  expect(stack.haproxy().proc.pid).not.toBe(old);
  await until("fleet and canary UP in the new HAProxy", async () => (await up("prod")) === (await stack.fleet.describe()).desired && (await up("canary")) === 1, 30_000);
  await until("split back at 50", async () => Math.abs((await canaryShare(200)).pct - 50) < 15, 30_000);
}, 120_000);

test("a lost prod instance is replaced to keep desired, as the Auto Scaling group does", async () => {
  const min = stack.config.prod.prodFleet.min;
  await stack.fleet.setDesired(min);
  await until(`${min} prod UP`, async () => (await up("prod")) === min, 30_000);
  const [lost, pid] = [...stack.fleet.pids()][0];
  process.kill(pid, "SIGKILL");
  await until("replacement named on the dashboard", async () => (await status()).activity.some((a) => a.kind === "runner" && a.title.startsWith(`${lost} exited (signal SIGKILL), replaced by prod-`)), 30_000);
  const replacement = (await status()).activity.find((a) => a.title.startsWith(`${lost} exited`))!.title.split(" ").pop()!;
  const fleet = await stack.fleet.describe();
  expect(fleet.desired).toBe(min);
  expect(fleet.instances.map((i) => i.id)).toContain(replacement);
  expect(fleet.instances.map((i) => i.id)).not.toContain(lost);
  await until(`${min} prod UP again`, async () => {
    const s = await status();
    return s.backends.filter((b) => b.role === "prod" && b.proxyStatus === "UP").length === min && s.backends.some((b) => b.id === replacement && b.proxyStatus === "UP");
  }, 30_000);
}, 120_000);

test("scale-in is not undone: an instance the fleet removes on purpose is not replaced", async () => {
  const min = stack.config.prod.prodFleet.min;
  await stack.fleet.setDesired(min + 1);
  const before = (await stack.fleet.describe()).instances.map((i) => i.id);
  await stack.fleet.setDesired(min);
  const removed = before.filter((id) => !stack.fleet.pids().has(id));
  expect(removed).toHaveLength(1);
  await new Promise((r) => setTimeout(r, 5000)); // longer than the first replacement delay
  const fleet = await stack.fleet.describe();
  expect(fleet.instances).toHaveLength(min);
  expect((await status()).activity.some((a) => a.title.startsWith(`${removed[0]} exited`))).toBe(false);
}, 120_000);
