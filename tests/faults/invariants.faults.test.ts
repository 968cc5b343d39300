// The safety invariants on the whole local stack under load, with garbage in each Redis key family
// the canary's rollback path touches: the canary's share never exceeds its weight (+3 points) in any
// 1-second window, no request fails, and a canary alarm turns the canary off within the usual time
// whatever else Redis holds. Each family records a row in the fault table (BENCHMARKS.md).
import * as path from "node:path";
import type Redis from "ioredis";
import { Load } from "../../harness/load";
import { startLocalStack, type LocalStack } from "../../local/stack";
import { until } from "../../harness/until";
import { keys } from "../../state/keys";
import { enableCanary, readRouting, setCanaryWeight } from "../../state/routing";
import { alarmEvent } from "../support/alarmEvent";
import { writeFaultReport, type FaultResult } from "../../harness/reports/faultReport";
import { tempDir } from "../support/tempDir";
import { testLogger } from "../support/testLogger";

const repoDir = path.resolve(__dirname, "..", "..");
const runDir = tempDir("aviary-invariants-");
const logger = testLogger("aviary-invariants-log-");
const BY = "invariant-suite";
/** The split is HAProxy's weighted round robin: deterministic, so a window is off only by rounding. */
const SHARE_SLACK_POINTS = 3;
/** A 1-second window is judged once it holds this many answers (2 keep-alive clients give ~100+). */
const MIN_WINDOW_ANSWERS = 20;
/** The rollback's usual time: first canary ALARM delivered → no canary answer (BENCHMARKS.md: ~1.5 s). */
const OFF_WITHIN_MS = 3000;
const MAX_STREAM_ID = "18446744073709551615-18446744073709551615";
const rows: FaultResult[] = [];
let stack: LocalStack;
let weight: number;

beforeAll(async () => {
  stack = await startLocalStack({ repoDir, runDir, proxyPort: 0, adminPort: 0, periodFactor: 10, logger });
  weight = stack.config.canary.canaryWeight;
}, 120_000);

afterAll(async () => {
  writeFaultReport("invariants", rows);
  await stack?.stop();
});

const canaryVersion = (): string => stack.config.canary.appVersion;

/** The canary's share, in points, of each whole 1-second window in [from, to) holding enough answers. */
function canaryShares(load: Load, from: number, to: number): number[] {
  const shares: number[] = [];
  for (let t = from; t + 1000 <= to; t += 1000) {
    const a = load.counts(t);
    const b = load.counts(t + 1000);
    const total = a.total - a.failed - (b.total - b.failed);
    const canary = (a.byVersion[canaryVersion()] ?? 0) - (b.byVersion[canaryVersion()] ?? 0);
    if (total >= MIN_WINDOW_ANSWERS) shares.push((100 * canary) / total);
  }
  return shares;
}

interface Family {
  name: string;
  /** Puts the garbage in; the alarm's MessageId is known so its dedupe marker can be poisoned. */
  inject(r: Redis, messageId: string): Promise<void>;
  /** What an operator would remove afterwards (the suite's next family starts clean). */
  clean(r: Redis, messageId: string): Promise<void>;
  reason?: string;
}

const families: Family[] = [
  {
    name: "aviary:events holds a string",
    inject: async (r) => { await r.rename(keys.events, `${keys.events}:saved-by-suite`); await r.set(keys.events, "junk"); },
    clean: async (r) => {
      await r.del(keys.events);
      await r.rename(`${keys.events}:saved-by-suite`, keys.events);
    },
  },
  {
    name: "aviary:events topped by the largest stream ID",
    inject: async (r) => { await r.xadd(keys.events, MAX_STREAM_ID, "junk", "1"); },
    // If Aviary left it poisoned, only a new stream takes appends again (XDEL keeps the last ID).
    clean: async (r) => {
      const info = (await r.call("XINFO", "STREAM", keys.events).catch(() => [])) as unknown[];
      if (info[info.indexOf("last-generated-id") + 1] === MAX_STREAM_ID) await r.del(keys.events);
    },
  },
  {
    name: "aviary:routing holds a string",
    inject: async (r) => { await r.del(keys.routing); await r.set(keys.routing, "junk"); },
    clean: async (r) => { if ((await r.type(keys.routing)) !== "hash") await r.del(keys.routing); },
  },
  {
    name: "aviary:routing with a garbage weight",
    inject: async (r) => { await r.hset(keys.routing, "canaryWeight", "banana"); },
    clean: async (r) => { if ((await r.hget(keys.routing, "canaryWeight")) === "banana") await r.del(keys.routing); },
  },
  {
    name: "aviary:controller (memory) holds a string",
    inject: async (r) => { await r.del(keys.controller); await r.set(keys.controller, "junk"); },
    clean: async (r) => { await r.del(keys.controller); },
  },
  {
    name: "aviary:controller:followups holds a list",
    inject: async (r) => { await r.del(keys.controllerFollowUps); await r.rpush(keys.controllerFollowUps, "junk"); },
    clean: async (r) => { await r.del(keys.controllerFollowUps); },
  },
  {
    name: "aviary:controller:lock holds a hash, no expiry",
    inject: async (r) => { await r.del(keys.controllerLock); await r.hset(keys.controllerLock, "junk", "1"); },
    clean: async (r) => { await r.del(keys.controllerLock); },
  },
  {
    name: "the alarm's dedupe marker holds a list",
    inject: async (r, id) => { await r.rpush(keys.dedupe(id), "junk"); },
    clean: async (r, id) => { await r.del(keys.dedupe(id)); },
  },
  {
    name: "an alarm reason of 1,023 characters (CloudWatch's maximum)",
    inject: async () => undefined,
    clean: async () => undefined,
    reason: `5xx rate breached: ${"x".repeat(1023 - 19)}`,
  },
];

test.each(families.map((f) => [f.name, f] as const))("%s: the canary stays within its weight and its alarm still turns it off", async (name, family) => {
  const t0 = Date.now();
  const load = new Load({ url: `${stack.proxyUrl}/`, concurrency: 2, pauseMs: 5, maxRequests: 20_000 });
  const messageId = `invariant-${t0}`;
  let row: FaultResult;
  try {
    await until("first answers", () => load.counts().total > 20, 10_000);
    await family.inject(stack.redis, messageId);
    const injected = Date.now();
    await new Promise((r) => setTimeout(r, 2500));
    const before = canaryShares(load, injected, Date.now());
    expect(before.length).toBeGreaterThan(0);
    expect(Math.max(...before)).toBeLessThanOrEqual(weight + SHARE_SLACK_POINTS);
    // The canary was serving: the alarm below has something to turn off.
    expect(load.counts(injected).byVersion[canaryVersion()] ?? 0).toBeGreaterThan(0);

    const alarmAt = Date.now();
    const delivered = await stack.controller(alarmEvent(stack, "canary-5xx-rate", "ALARM", "OK", alarmAt, messageId, family.reason));
    expect(delivered.processed).toBe(1);
    await until("no canary answer for 500 ms", async () => {
      const since = Date.now();
      await new Promise((r) => setTimeout(r, 500));
      const c = load.counts(since);
      return c.total > 10 && (c.byVersion[canaryVersion()] ?? 0) === 0;
    }, 10_000);
    const offMs = Date.now() - 500 - alarmAt;
    expect(offMs).toBeLessThanOrEqual(OFF_WITHIN_MS);
    const routing = (await readRouting(stack.redis)).state;
    expect(routing?.canaryEnabled).toBe(false);
    const after = canaryShares(load, injected, Date.now());
    expect(Math.max(...after)).toBeLessThanOrEqual(weight + SHARE_SLACK_POINTS);
    const c = load.counts(t0);
    row = {
      fault: `${name}, then a canary ALARM`,
      served: c.total - c.failed,
      failed: c.failed,
      after: `canary share at most ${Math.round(Math.max(...after))}% in ${after.length} 1-s windows (weight ${weight}); canary off ${offMs} ms after the ALARM; reason stored ${routing?.reason?.length ?? 0} chars`,
      intact: "-",
      seconds: 0,
    };
  } finally {
    await load.stop();
    await family.clean(stack.redis, messageId);
    await setCanaryWeight(stack.redis, weight, { by: BY, reason: "back to the stack's weight" });
    await enableCanary(stack.redis, { by: BY, reason: "invariant suite: back on after the fault" });
  }
  expect(row.failed).toBe(0);
  rows.push({ ...row, seconds: Math.round((Date.now() - t0) / 100) / 10 });
}, 60_000);
