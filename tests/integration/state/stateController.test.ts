// The controller's Redis state (dedupe, lock, memory, events) and backend draining, on a real redis-server.
import { RedisControllerStore } from "../../../adapters/store/redis";
import { TimeoutError } from "../../../core/errors";
import { connect, subscribeChanges } from "../../../state/connection";
import type { ChangeNotice } from "../../../state/events";
import {
  claimMessage,
  commitMessage,
  readControllerMemory,
  recordControllerEvents,
  releaseMessage,
  withControllerLock,
  writeControllerMemory,
} from "../../../state/controller";
import { readEvents } from "../../../state/events";
import { keys } from "../../../state/keys";
import { drainBackend, listBackends, registerBackend } from "../../../state/registry";
import { useRedis } from "../../support/useRedis";

const db = useRedis();

describe("dedupe markers", () => {
  test("claim once; a released claim can be taken again; a committed one cannot be released", async () => {
    expect(await claimMessage(db.redis, "m1")).toEqual({ status: "claimed" });
    expect(await claimMessage(db.redis, "m1")).toEqual({ status: "pending" });
    expect(await db.redis.ttl(keys.dedupe("m1"))).toBeLessThanOrEqual(120);
    await releaseMessage(db.redis, "m1");
    expect(await claimMessage(db.redis, "m1")).toEqual({ status: "claimed" });
    await commitMessage(db.redis, "m1");
    await releaseMessage(db.redis, "m1");
    expect(await db.redis.get(keys.dedupe("m1"))).toBe("done");
    expect(await claimMessage(db.redis, "m1")).toEqual({ status: "done" });
  });

  test("of 20 concurrent claims of one message exactly one wins", async () => {
    const clients = Array.from({ length: 4 }, () => connect(db.server.url));
    try {
      const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => claimMessage(clients[i % 4], "m2")));
      expect(wins.filter((c) => c.status === "claimed")).toHaveLength(1);
    } finally {
      for (const c of clients) c.disconnect();
    }
  });
});

describe("claiming a message in the controller's store", () => {
  const store = () => new RedisControllerStore(db.redis, "test", { ttlMs: 1000, waitMs: 300 });

  test("a message another delivery still holds is waited for: done → duplicate, released → claimed", async () => {
    await claimMessage(db.redis, "held");
    setTimeout(() => void commitMessage(db.redis, "held"), 100);
    expect(await store().claimMessage("held")).toBe(false);
    await claimMessage(db.redis, "dropped");
    setTimeout(() => void releaseMessage(db.redis, "dropped"), 100);
    expect(await store().claimMessage("dropped")).toBe(true);
  });

  test("a holder that died mid-action (marker still pending) fails the delivery so it is retried, instead of dropping it", async () => {
    await claimMessage(db.redis, "orphan");
    await expect(store().claimMessage("orphan")).rejects.toThrow(/still in progress/);
    await expect(store().claimMessage("orphan")).rejects.toBeInstanceOf(TimeoutError);
    expect(await db.redis.get(keys.dedupe("orphan"))).toBe("pending");
  });
});

describe("controller lock", () => {
  test("a lock key without a TTL (garbage; every real holder sets one) is removed instead of blocking forever", async () => {
    await db.redis.set(keys.controllerLock, "garbage");
    await expect(withControllerLock(db.redis, { ttlMs: 1000, waitMs: 200 }, async () => "ran")).resolves.toBe("ran");
    expect(await db.redis.exists(keys.controllerLock)).toBe(0);
  });

  // What every holder writes: 16 random bytes in hex, expiring within ttlMs.
  const liveToken = "0123456789abcdef0123456789abcdef";

  test("a live holder's lock (with a TTL) is still waited for", async () => {
    await db.redis.set(keys.controllerLock, liveToken, "PX", 1000);
    await expect(withControllerLock(db.redis, { ttlMs: 1000, waitMs: 200 }, async () => "ran")).rejects.toThrow(/aviary:controller:lock is busy/);
    expect(await db.redis.get(keys.controllerLock)).toBe(liveToken);
  });

  test("holders run one at a time, across connections", async () => {
    const clients = Array.from({ length: 3 }, () => connect(db.server.url));
    let inside = 0;
    let maxInside = 0;
    try {
      await Promise.all(Array.from({ length: 9 }, (_, i) =>
        withControllerLock(clients[i % 3], { ttlMs: 5000, waitMs: 5000 }, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 10));
          inside--;
        })));
      expect(maxInside).toBe(1);
      expect(await db.redis.exists(keys.controllerLock)).toBe(0);
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  test("gives up after waitMs while someone else holds it, and never deletes another holder's lock", async () => {
    await db.redis.set(keys.controllerLock, liveToken, "PX", 1000);
    await expect(withControllerLock(db.redis, { ttlMs: 1000, waitMs: 100 }, async () => "ran")).rejects.toThrow(/aviary:controller:lock is busy/);
    expect(await db.redis.get(keys.controllerLock)).toBe(liveToken);
  });

  test("a crashed holder's lock expires after its TTL", async () => {
    await db.redis.set(keys.controllerLock, "crashed", "PX", 150);
    await expect(withControllerLock(db.redis, { ttlMs: 1000, waitMs: 2000 }, async () => "ran")).resolves.toBe("ran");
  });

  test.each([
    ["a hash with a TTL", () => db.redis.multi().hset(keys.controllerLock, "f", "v").pexpire(keys.controllerLock, 60_000).exec(), /is a hash of 1 field starting "f"/],
    ["a garbage string with a TTL", () => db.redis.set(keys.controllerLock, "held-by-nobody", "PX", 60_000), /is a string of 14 bytes starting "held-by-nobody", expected a lock token/],
    ["a token expiring later than any holder sets", () => db.redis.set(keys.controllerLock, liveToken, "PX", 3_600_000), /is a string of 32 bytes/],
  ])("a lock that is %s is repaired at once and reported, not waited for", async (_name, plant, found) => {
    await plant();
    const problems: string[] = [];
    await expect(withControllerLock(db.redis, { ttlMs: 1000, waitMs: 100 }, async () => "ran", (p) => problems.push(p))).resolves.toBe("ran");
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^Redis key aviary:controller:lock ${found.source}.*; repaired \\(deleted\\)$`))]);
    expect(await db.redis.exists(keys.controllerLock)).toBe(0);
  });

  test("released even when the work throws", async () => {
    await expect(withControllerLock(db.redis, { ttlMs: 1000, waitMs: 100 }, async () => {
      throw new Error("boom");
    })).rejects.toThrow("boom");
    expect(await db.redis.exists(keys.controllerLock)).toBe(0);
  });
});

describe("controller memory", () => {
  test("round trip, and a write replaces everything", async () => {
    const memory = {
      lastScaleOutAt: "2026-11-24T10:00:00.000Z",
      alarms: { "aviary-prod-prod-cpu-high": { state: "ALARM" as const, at: "2026-11-24T09:59:58.000Z" } },
    };
    await writeControllerMemory(db.redis, memory);
    expect(await readControllerMemory(db.redis)).toEqual({ memory, problems: [] });
    await writeControllerMemory(db.redis, { alarms: {} });
    expect(await db.redis.exists(keys.controller)).toBe(0);
    expect((await readControllerMemory(db.redis)).memory).toEqual({ alarms: {} });
  });

  test("the rollout whose judge abort was notified is kept; one that is not an id is reported and left out", async () => {
    const memory = { judgeAbortNotified: "2.0.0@2026-12-01T10:00:00.000Z", alarms: {} };
    await writeControllerMemory(db.redis, memory);
    expect(await readControllerMemory(db.redis)).toEqual({ memory, problems: [] });
    await db.redis.hset(keys.controller, "judgeAbortNotified", "two words");
    const read = await readControllerMemory(db.redis);
    expect(read.memory).toEqual({ alarms: {} });
    expect(read.problems).toEqual([expect.stringMatching(/^Redis key aviary:controller field judgeAbortNotified is a string of 9 bytes starting "two words", expected a rollout id; ignored$/)]);
  });

  test("garbage fields are reported and left out, never returned", async () => {
    await db.redis.hset(keys.controller, {
      lastScaleOutAt: "yesterday",
      lastScaleInAt: "2026-11-24T10:00:00.000Z",
      "alarm:a": "MAYBE 2026-11-24T10:00:00.000Z",
      "alarm:b": "OK 2026-11-24T10:00:00.000Z",
      stray: "1",
    });
    const { memory, problems } = await readControllerMemory(db.redis);
    expect(memory).toEqual({ lastScaleInAt: "2026-11-24T10:00:00.000Z", alarms: { b: { state: "OK", at: "2026-11-24T10:00:00.000Z" } } });
    expect(problems).toHaveLength(3);
    expect(problems.join("\n")).toMatch(/lastScaleOutAt[\s\S]*alarm:a[\s\S]*stray/);
  });
});

describe("garbage in the controller's keys", () => {
  test("a garbage dedupe marker is replaced by the claim and described; a valid one is kept", async () => {
    await db.redis.rpush(keys.dedupe("g"), "x");
    const claim = await claimMessage(db.redis, "g");
    expect(claim).toEqual({ status: "claimed", repaired: expect.stringMatching(/^Redis key aviary:dedupe:g is a list of 1 item starting "x", expected a "pending" or "done" marker/) });
    expect(await db.redis.get(keys.dedupe("g"))).toBe("pending");
    expect(await db.redis.ttl(keys.dedupe("g"))).toBeGreaterThan(0);
    await db.redis.set(keys.dedupe("d"), "done"); // no TTL: not one this module writes
    expect((await claimMessage(db.redis, "d")).status).toBe("claimed");
  });

  test("memory of another type is deleted and reported: the memory reads as empty, and writes work", async () => {
    await db.redis.xadd(keys.controller, "*", "f", "v");
    const { memory, problems } = await readControllerMemory(db.redis);
    expect(memory).toEqual({ alarms: {} });
    expect(problems).toEqual([expect.stringMatching(/^Redis key aviary:controller is a stream of 1 entry, expected a hash; repaired \(deleted\)$/)]);
    await writeControllerMemory(db.redis, { lastScaleOutAt: "2026-11-24T10:00:00.000Z", alarms: {} });
    expect(await db.redis.type(keys.controller)).toBe("hash");
  });

  test("field problems are bounded: values by size and prefix, at most ten lines", async () => {
    await db.redis.hset(keys.controller, Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`alarm:a${i}`, "z".repeat(10_000)])));
    const { problems } = await readControllerMemory(db.redis);
    expect(problems).toHaveLength(11);
    expect(problems[0]).toMatch(/^Redis key aviary:controller field alarm:a\d+ is a string of 10000 bytes starting "z{40}", expected "<state> <time>"; ignored$/);
    expect(problems[10]).toBe("... and 20 more");
  });
});

describe("controller events", () => {
  test("a batch is appended in order as kind controller, with a notice each", async () => {
    const notices: ChangeNotice[] = [];
    const problems: string[] = [];
    const close = await subscribeChanges(db.server.url, (n) => notices.push(n), { onProblem: (p) => problems.push(p) });
    const ids = await recordControllerEvents(db.redis, [
      { action: "scaleOut", by: "controller", reason: "cpu high", detail: { from: "3", to: "4" } },
      { action: "rearm", by: "controller", reason: "re-armed", detail: {} },
    ]);
    expect(ids).toHaveLength(2);
    const deadline = Date.now() + 15_000;
    while (notices.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await close();
    expect(notices).toEqual(ids.map((eventId) => ({ kind: "controller", eventId })));
    expect(problems).toEqual([]);
    const read = await readEvents(db.redis, { count: 10 });
    expect(read.problems).toEqual([]);
    const { events } = read;
    expect(events.map((e) => [e.id, e.kind, e.by, e.reason, e.detail])).toEqual([
      [ids[0], "controller", "controller", "cpu high", { action: "scaleOut", from: "3", to: "4" }],
      [ids[1], "controller", "controller", "re-armed", { action: "rearm" }],
    ]);
    expect(await recordControllerEvents(db.redis, [])).toEqual([]);
  });
});

describe("backend draining", () => {
  const prod = { id: "i-0abc", role: "prod" as const, address: "10.0.10.7:3000", version: "1.4.0", ttlSeconds: 60 };

  test("marks a registered backend draining, audited; unknown ids are reported as false", async () => {
    await registerBackend(db.redis, prod);
    expect((await listBackends(db.redis)).backends[0].draining).toBeUndefined();
    expect(await drainBackend(db.redis, "i-0abc", { by: "controller", reason: "scale-in" })).toBe(true);
    expect((await listBackends(db.redis)).backends[0]).toMatchObject({ id: "i-0abc", draining: true });
    expect(await db.redis.ttl(keys.backend("i-0abc"))).toBeGreaterThan(0); // still expires like any entry
    const { events } = await readEvents(db.redis, { count: 1 });
    expect(events[0]).toMatchObject({ kind: "backend", by: "controller", reason: "scale-in", detail: { cause: "drain", id: "i-0abc" } });
    expect(await drainBackend(db.redis, "i-0missing", { by: "controller" })).toBe(false);
    await expect(drainBackend(db.redis, "bad id", { by: "controller" })).rejects.toThrow(/backend id/);
  });

  test("a new registration starts undrained", async () => {
    await registerBackend(db.redis, prod);
    await drainBackend(db.redis, "i-0abc", { by: "controller" });
    await registerBackend(db.redis, prod);
    expect((await listBackends(db.redis)).backends[0].draining).toBeUndefined();
  });
});
