// Fault suite (`npm run test:faults`): the whole local stack (real redis-server, HAProxy + agent,
// app processes, the Lambda's controller handler) on 127.0.0.1 under bounded load, one fault at a
// time, in order. Each records requests served/failed, the state after recovery and whether the
// event log and the flags survived (test-output/faults.json, rendered into BENCHMARKS.md by the bench).
import * as path from "node:path";
import type { AlarmState } from "../../core/alarms/state";
import { run } from "../../cli/main";
import { RedisControllerStore } from "../../adapters/store/redis";
import type { Alarms, ControllerStore } from "../../controller/ports";
import { createHandler, type SnsEvent } from "../../lambda/handler";
import { Load } from "../../harness/load";
import { startLocalStack, type LocalStack } from "../../local/stack";
import { until } from "../../harness/until";
import { readEvents } from "../../state/events";
import { readFlags } from "../../state/flags";
import { readSegments } from "../../state/segments";
import { keys } from "../../state/keys";
import { listBackends } from "../../state/registry";
import { enableCanary, readRouting, setCanaryWeight } from "../../state/routing";
import { alarmEvent as stackAlarmEvent } from "../support/alarmEvent";
import { writeFaultReport, type FaultResult } from "../../harness/reports/faultReport";
import { tempDir } from "../support/tempDir";
import { testLogger } from "../support/testLogger";

const repoDir = path.resolve(__dirname, "..", "..");
const runDir = tempDir("aviary-faults-");
const logger = testLogger("aviary-faults-log-");
const BY = "fault-suite";
const results: FaultResult[] = [];
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ repoDir, runDir, proxyPort: 0, adminPort: 0, periodFactor: 10, logger });
}, 120_000);

afterAll(async () => {
  writeFaultReport("localStack", results);
  await stack?.stop();
});

/** What must survive every fault: the event ids written so far and every flag's and segment's definition. */
interface Snapshot { eventIds: string[]; flags: string }
async function snapshot(): Promise<Snapshot> {
  const { events } = await readEvents(stack.redis, { count: 10_000 });
  const { flags } = await readFlags(stack.redis);
  const { segments } = await readSegments(stack.redis);
  return { eventIds: events.map((e) => e.id), flags: JSON.stringify({ flags, segments }) };
}
async function intact(before: Snapshot): Promise<string> {
  const after = await snapshot();
  const kept = new Set(after.eventIds);
  const lost = before.eventIds.filter((id) => !kept.has(id)).length;
  const flagsSame = after.flags === before.flags;
  expect(lost).toBe(0);
  expect(after.flags).toBe(before.flags);
  return `${before.eventIds.length} earlier events kept, ${lost} lost; flags and segments ${flagsSame ? "unchanged" : "CHANGED"}`;
}

const canaryVersion = (): string => stack.config.canary.appVersion;

/** Backends registered, by role, that HAProxy reports UP. */
async function upBackends(): Promise<{ prod: number; canary: number }> {
  const s = await stack.status();
  const up = s.backends.filter((b) => b.proxyStatus === "UP");
  return { prod: up.filter((b) => b.role === "prod").length, canary: up.filter((b) => b.role === "canary").length };
}

/** Runs `body` under bounded background load; the test records the row once its assertions pass. */
async function underLoad(fault: string, body: (load: Load) => Promise<{ after: string; snapshotBefore: Snapshot }>): Promise<FaultResult> {
  const t0 = Date.now();
  const load = new Load({ url: `${stack.proxyUrl}/`, concurrency: 2, pauseMs: 5, maxRequests: 40_000 });
  let outcome: { after: string; snapshotBefore: Snapshot };
  try {
    await until("first answers", () => load.counts().total > 20, 10_000);
    outcome = await body(load);
  } finally {
    await load.stop();
  }
  const c = load.counts();
  const row: FaultResult = { fault, served: c.total - c.failed, failed: c.failed, after: outcome.after, intact: await intact(outcome.snapshotBefore), seconds: Math.round((Date.now() - t0) / 100) / 10 };
  return row;
}

/** The canary back on (a person's `aviary canary on`) if a fault made the controller turn it off. */
async function canaryBackOn(): Promise<string> {
  const r = (await readRouting(stack.redis)).state;
  if (r?.canaryEnabled !== false) return "canary still enabled";
  await enableCanary(stack.redis, { by: BY, reason: "fault suite: back on after the fault" });
  return `canary had been turned off by ${r.changedBy} (${(r.reason ?? "").slice(0, 60)}), turned back on`;
}

/** An SNS event carrying a CloudWatch-shaped state change of one of the stack's local alarms. */
const alarmEvent = (key: string, newState: AlarmState, oldState: AlarmState, at: number, messageId: string): SnsEvent =>
  stackAlarmEvent(stack, key, newState, oldState, at, messageId);

const quietAlarms: Alarms = { rearm: async () => undefined, states: async () => ({}) };

test("Redis killed and restarted: traffic keeps flowing, state comes back with Redis", async () => {
  const routingBefore = (await readRouting(stack.redis)).state;
  const row = await underLoad("Redis killed (SIGKILL), restarted 3 s later", async (load) => {
    const snapshotBefore = await snapshot();
    await stack.redisServer.kill();
    const downFrom = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    await stack.redisServer.restart();
    const expected = stack.config.prod.prodFleet.desired + stack.config.canary.canaryCount;
    await until("every app registered again", async () => (await listBackends(stack.redis)).backends.length === expected, 20_000);
    // A change after the restart still reaches HAProxy: the agent re-subscribed.
    await setCanaryWeight(stack.redis, 50, { by: BY, reason: "after the Redis restart" });
    await until("weight 50 applied", async () => {
      const since = Date.now();
      await new Promise((r) => setTimeout(r, 400));
      const c = load.counts(since);
      return c.total > 40 && (c.byVersion[canaryVersion()] ?? 0) / c.total > 0.35;
    }, 20_000);
    await setCanaryWeight(stack.redis, stack.config.canary.canaryWeight, { by: BY, reason: "back to the stack's weight" });
    const during = load.counts(downFrom);
    return { snapshotBefore, after: `routing ${routingBefore?.canaryWeight}% kept; ${expected} backends registered again; later weight change applied; ${during.failed} failed during the outage` };
  });
  expect((await readRouting(stack.redis)).state?.canaryWeight).toBe(stack.config.canary.canaryWeight);
  expect(row.failed).toBe(0);
  results.push(row); // only rows whose assertions all passed
}, 90_000);

test("the canary killed: the runner restarts it, as systemd would, and it comes back into the split", async () => {
  const row = await underLoad("canary process killed (SIGKILL), restarted by the runner", async (load) => {
    const snapshotBefore = await snapshot();
    const canary = stack.processes.get("canary-1");
    if (!canary) throw new Error("canary-1 is not running");
    canary.proc.kill("SIGKILL");
    await canary.exited;
    await until("canary restarted", async () => stack.activity.recent().some((a) => a.title === "canary-1 exited (signal SIGKILL), restarted"), 20_000);
    await until("canary UP again", async () => (await upBackends()).canary === 1, 20_000);
    const back = Date.now();
    await until("canary serving again", async () => (load.counts(back).byVersion[canaryVersion()] ?? 0) > 10, 20_000);
    return { snapshotBefore, after: `canary restarted by the runner, serving again; ${await canaryBackOn()}` };
  });
  expect(row.failed).toBeLessThanOrEqual(2); // a request already on the killed socket may fail
  results.push(row); // only rows whose assertions all passed
}, 90_000);

test("a prod backend killed: the others serve, the fleet refills", async () => {
  const desired = (await stack.fleet.describe()).desired;
  const row = await underLoad("one prod backend killed (SIGKILL), replaced by the fleet", async () => {
    const snapshotBefore = await snapshot();
    const [id, pid] = [...stack.fleet.pids()][0];
    process.kill(pid, "SIGKILL");
    await until("instance left the fleet", async () => !(await stack.fleet.describe()).instances.some((i) => i.id === id), 10_000);
    await until("out of the registry", async () => !(await listBackends(stack.redis)).backends.some((b) => b.id === id), 20_000);
    // The local fleet launches a replacement, as the Auto Scaling group does for a lost instance.
    await until("all prod UP", async () => (await upBackends()).prod === desired, 30_000);
    return { snapshotBefore, after: `${id} left the registry; replacement launched, ${desired} prod UP; ${await canaryBackOn()}` };
  });
  expect(row.failed).toBeLessThanOrEqual(2);
  results.push(row); // only rows whose assertions all passed
}, 90_000);

test("the agent killed and restarted: HAProxy keeps the last split, the new agent applies what changed meanwhile", async () => {
  const row = await underLoad("proxy agent killed (SIGKILL); weight changed while it was down; restarted by the runner", async (load) => {
    const snapshotBefore = await snapshot();
    const agent = stack.processes.get("agent");
    if (!agent) throw new Error("agent is not running");
    agent.proc.kill("SIGKILL");
    await agent.exited;
    await setCanaryWeight(stack.redis, 0, { by: BY, reason: "while the agent is down" });
    const down = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    const stale = load.counts(down);
    // Fail static: no agent, HAProxy keeps serving the last applied split.
    expect(stale.byVersion[canaryVersion()] ?? 0).toBeGreaterThan(0);
    // The runner restarts the agent (RestartSec=2), as systemd does on the proxy instance.
    await until("weight 0 applied by the new agent", async () => {
      const since = Date.now();
      await new Promise((r) => setTimeout(r, 400));
      const c = load.counts(since);
      return c.total > 20 && (c.byVersion[canaryVersion()] ?? 0) === 0;
    }, 20_000);
    await setCanaryWeight(stack.redis, stack.config.canary.canaryWeight, { by: BY, reason: "back to the stack's weight" });
    return { snapshotBefore, after: `old split kept while down (${stale.byVersion[canaryVersion()] ?? 0}/${stale.total} to the canary); new agent applied weight 0, then ${stack.config.canary.canaryWeight} again` };
  });
  expect(row.failed).toBe(0);
  results.push(row); // only rows whose assertions all passed
}, 90_000);

test("the controller dies mid-action: the redelivery is not dropped as a duplicate, and acts once the marker expires", async () => {
  const row = await underLoad("controller dies mid-action (canary rollback), SNS redelivers", async () => {
    const snapshotBefore = await snapshot();
    const real = new RedisControllerStore(stack.redis, "controller", { ttlMs: 2000, waitMs: 2000 });
    // Dies after the canary switch, while writing its memory: the call never returns.
    const dying: ControllerStore = Object.assign(Object.create(real) as RedisControllerStore, { writeMemory: () => new Promise<void>(() => undefined) });
    const crashed = createHandler(() => ({ fleet: stack.fleet, notifier: { notify: async () => undefined, text: async () => undefined }, alarms: quietAlarms, store: dying, policy: { step: 1, scaleOutCooldownSeconds: 0, scaleInCooldownSeconds: 0 }, logger }), logger);
    const event = alarmEvent("canary-5xx-rate", "ALARM", "OK", Date.now(), `fault-crash-${Date.now()}`);
    void crashed(event);
    await until("crashed holder claimed the message", async () => (await stack.redis.get(keys.dedupe(event.Records[0].Sns.MessageId))) === "pending", 5000);
    // SNS/Lambda retry while the dead holder's marker is still there: must fail (retried later), not succeed as a duplicate.
    await expect(stack.controller(event)).rejects.toThrow(/controller failed on message/);
    expect((await readRouting(stack.redis)).state?.canaryEnabled).toBe(false);
    // Later retry, once the 2-minute in-progress marker has expired (simulated).
    await stack.redis.pexpire(keys.dedupe(event.Records[0].Sns.MessageId), 1);
    await new Promise((r) => setTimeout(r, 20));
    const r = await stack.controller(event);
    expect(r.outcomes[0]).toMatchObject({ status: "applied", actions: expect.arrayContaining(["disableCanary"]) });
    expect((await readRouting(stack.redis)).state?.canaryEnabled).toBe(false);
    return { snapshotBefore, after: `early redelivery failed (retried), later one turned the canary off; ${await canaryBackOn()}` };
  });
  expect(row.failed).toBe(0);
  results.push(row); // only rows whose assertions all passed
}, 90_000);

test("duplicate and reordered alarm deliveries: one step per message, stale ones ignored, a late canary ALARM still rolls back", async () => {
  const row = await underLoad("duplicate (×3, 2 at once) and reordered alarm deliveries", async () => {
    const snapshotBefore = await snapshot();
    const before = (await stack.fleet.describe()).desired;
    const dup = alarmEvent("prod-cpu-high", "ALARM", "OK", Date.now(), `fault-dup-${Date.now()}`);
    const outcomes = [...(await Promise.all([stack.controller(dup), stack.controller(dup)])), await stack.controller(dup)].map((r) => r.outcomes[0].status);
    expect(outcomes.sort()).toEqual(["applied", "duplicate", "duplicate"]);
    expect((await stack.fleet.describe()).desired).toBe(before + stack.config.prod.scaling.step);

    // Reordered: the newer OK arrives before the older ALARM of the same alarm.
    const t = Date.now() + 5000;
    await stack.controller(alarmEvent("prod-cpu-high", "OK", "ALARM", t, `fault-order-ok-${t}`));
    const late = await stack.controller(alarmEvent("prod-cpu-high", "ALARM", "OK", t - 1000, `fault-order-alarm-${t}`));
    expect(late.outcomes[0]).toMatchObject({ status: "applied", actions: [] });
    expect((await stack.fleet.describe()).desired).toBe(before + stack.config.prod.scaling.step);
    // A late canary ALARM still turns the canary off (the safe side).
    await stack.controller(alarmEvent("canary-5xx-rate", "OK", "ALARM", t, `fault-corder-ok-${t}`));
    await stack.controller(alarmEvent("canary-5xx-rate", "ALARM", "OK", t - 1000, `fault-corder-alarm-${t}`));
    expect((await readRouting(stack.redis)).state?.canaryEnabled).toBe(false);
    await stack.fleet.setDesired(before);
    return { snapshotBefore, after: `1 scale-out for 3 deliveries; stale prod ALARM ignored; late canary ALARM rolled back; fleet back to ${before}; ${await canaryBackOn()}` };
  });
  expect(row.failed).toBe(0);
  results.push(row); // only rows whose assertions all passed
}, 90_000);

test("garbage in every Redis key family: reported, never acted on; traffic unaffected; cleaned up without loss", async () => {
  const cli = async (...argv: string[]): Promise<{ code: number; err: string }> => {
    let err = "";
    const io = { stdout: { write: () => true }, stderr: { write: (s: string) => void (err += s) } };
    return { code: await run(argv, io, { env: { ...process.env, REDIS_URL: stack.redisUrl } }), err };
  };
  const row = await underLoad("garbage in routing, backends, flags, segments, events, controller, lock, follow-ups, dedupe", async (load) => {
    const snapshotBefore = await snapshot();
    const r = stack.redis;
    await r.hset(keys.routing, "canaryWeight", "banana", "canaryEnabled", "maybe");
    await r.sadd(keys.backends, "ghost");
    await r.hset(keys.backend("ghost"), "role", "router", "address", "not-an-address");
    await r.sadd(keys.flags, "junk");
    await r.set(keys.flag("junk"), "{not json");
    await r.sadd(keys.segments, "junk-segment");
    await r.set(keys.segment("junk-segment"), "[1,2");
    await r.xadd(keys.events, "*", "garbage", "1");
    await r.hset(keys.controller, "lastScaleOutAt", "yesterday", "alarm:x", "??");
    await r.hset(keys.controllerFollowUps, "m-garbage", "{bad");
    await r.set(keys.controllerLock, "garbage"); // no TTL: would block every decision forever
    await r.set(keys.dedupe("garbage"), "weird");
    const from = Date.now();
    await new Promise((res) => setTimeout(res, 1500));
    const during = load.counts(from);
    expect(during.byVersion[canaryVersion()] ?? 0).toBeGreaterThan(0); // agent kept the last good split

    // Status degrades per section: the routing section is reported broken, naming the key; Redis answered, so exit 0.
    const status = await cli("status");
    expect(status.code).toBe(0);
    expect(status.err).toMatch(/aviary:routing/);
    expect((await cli("flags", "list")).err).toMatch(/junk/);
    expect((await cli("flags", "segment", "list")).err).toMatch(/junk-segment/);
    // The controller still decides (garbage memory/follow-ups dropped, the unexpiring lock removed).
    const ok = await stack.controller(alarmEvent("prod-cpu-low", "OK", "ALARM", Date.now(), `fault-garbage-${Date.now()}`));
    expect(ok.processed).toBe(1);
    expect(await r.exists(keys.controllerFollowUps)).toBe(0);

    // Clean-up as an operator would: rewrite routing, remove the junk.
    await setCanaryWeight(r, stack.config.canary.canaryWeight, { by: BY, reason: "repair after garbage" });
    await r.srem(keys.backends, "ghost");
    await r.del(keys.backend("ghost"), keys.flag("junk"), keys.dedupe("garbage"));
    await r.srem(keys.flags, "junk");
    await r.del(keys.segment("junk-segment"));
    await r.srem(keys.segments, "junk-segment");
    const fixed = (await readRouting(r)).state;
    expect(fixed).toMatchObject({ canaryWeight: stack.config.canary.canaryWeight });
    return { snapshotBefore, after: `agent kept the last split (${during.byVersion[canaryVersion()] ?? 0}/${during.total} canary); CLI status exit 0 with the routing section reported broken; controller decided (lock freed); routing repaired by one weight write` };
  });
  expect(row.failed).toBe(0);
  results.push(row); // only rows whose assertions all passed
}, 90_000);
