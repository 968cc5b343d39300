import { baseOptions, connect, parseRedisUrl, subscribeChanges } from "../../../state/connection";
import { followEvents, readEvents, type AviaryEvent } from "../../../state/events";
import { channels, keys } from "../../../state/keys";
import { deregisterBackend, heartbeat, listBackends, registerBackend } from "../../../state/registry";
import { disableCanary, enableCanary, readRouting, setCanaryWeight } from "../../../state/routing";
import type { ChangeNotice } from "../../../state/events";
import { useRedis } from "../../support/useRedis";

const db = useRedis();

const by = "test";

describe("routing", () => {
  test("absent key reads as the documented default (weight 0, enabled)", async () => {
    const { state, problems } = await readRouting(db.redis);
    expect(problems).toEqual([]);
    expect(state).toMatchObject({ canaryWeight: 0, canaryEnabled: true });
  });

  test("weight write/read roundtrip", async () => {
    const change = await setCanaryWeight(db.redis, 25, { by, reason: "rollout" });
    expect(change.old).toEqual({ canaryWeight: 0, canaryEnabled: true });
    expect(change.new).toEqual({ canaryWeight: 25, canaryEnabled: true });
    const { state, problems } = await readRouting(db.redis);
    expect(problems).toEqual([]);
    expect(state).toMatchObject({ canaryWeight: 25, canaryEnabled: true, changedBy: by, reason: "rollout" });
    expect(Date.parse(state!.changedAt)).toBeGreaterThan(Date.now() - 10_000);
  });

  test.each([101, -1, 2.5, "x", NaN])("invalid weight %p is refused and nothing is written", async (bad) => {
    await setCanaryWeight(db.redis, 10, { by });
    const before = await db.redis.hgetall(keys.routing);
    const streamBefore = await db.redis.xlen(keys.events);
    await expect(setCanaryWeight(db.redis, bad as number, { by })).rejects.toThrow(
      /Invalid canaryWeight .*: must be an integer from 0 to 100/,
    );
    expect(await db.redis.hgetall(keys.routing)).toEqual(before);
    expect(await db.redis.xlen(keys.events)).toBe(streamBefore);
  });

  test("missing by is refused", async () => {
    await expect(setCanaryWeight(db.redis, 5, { by: " " })).rejects.toThrow(/Invalid by/);
    expect(await db.redis.exists(keys.routing)).toBe(0);
  });

  test("disable keeps the weight and records reason and by; enable restores it", async () => {
    await setCanaryWeight(db.redis, 30, { by });
    await disableCanary(db.redis, { by: "controller", reason: "canary error rate 7%" });
    let { state } = await readRouting(db.redis);
    expect(state).toMatchObject({ canaryWeight: 30, canaryEnabled: false, changedBy: "controller", reason: "canary error rate 7%" });
    const { events } = await readEvents(db.redis, { count: 1 });
    expect(events[0]).toMatchObject({
      kind: "routing",
      by: "controller",
      reason: "canary error rate 7%",
      detail: { cause: "disable", oldWeight: "30", newWeight: "30", oldEnabled: "true", newEnabled: "false" },
    });
    await enableCanary(db.redis, { by: "ops" });
    ({ state } = await readRouting(db.redis));
    expect(state).toEqual(expect.objectContaining({ canaryWeight: 30, canaryEnabled: true, changedBy: "ops" }));
    expect(state!.reason).toBeUndefined();
  });

  test("every change appends exactly one event and publishes exactly one notice", async () => {
    const notices: ChangeNotice[] = [];
    const close = await subscribeChanges(db.server.url, (n) => notices.push(n));
    try {
      const ids = [
        (await setCanaryWeight(db.redis, 10, { by })).eventId,
        (await disableCanary(db.redis, { by, reason: "r" })).eventId,
        (await enableCanary(db.redis, { by })).eventId,
        (await setCanaryWeight(db.redis, 40, { by })).eventId,
      ];
      expect(await db.redis.xlen(keys.events)).toBe(4);
      const { events } = await readEvents(db.redis, { count: 10 });
      expect(events.map((e) => e.id)).toEqual(ids);
      expect(events.map((e) => e.detail.cause)).toEqual(["weight", "disable", "enable", "weight"]);
      // Publishes are delivered in order on one connection; a PING round trip after the last one flushes them.
      const deadline = Date.now() + 15_000;
      while (notices.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      expect(notices).toEqual(ids.map((eventId) => ({ kind: "routing", eventId })));
    } finally {
      await close();
    }
  });

  test("50 parallel weight changes leave a consistent state", async () => {
    const clients = Array.from({ length: 5 }, () => connect(db.server.url));
    try {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => setCanaryWeight(clients[i % clients.length], i + 1, { by: `w${i}` })),
      );
      const { state } = await readRouting(db.redis);
      const { events } = await readEvents(db.redis, { count: 100 });
      expect(events).toHaveLength(50);
      const last = events[events.length - 1];
      expect(String(state!.canaryWeight)).toBe(last.detail.newWeight);
      expect(state!.changedBy).toBe(last.by);
      // Each event's old value is the previous event's new value: no lost update.
      for (let i = 1; i < events.length; i++) expect(events[i].detail.oldWeight).toBe(events[i - 1].detail.newWeight);
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  test("garbage in aviary:routing is reported, never returned", async () => {
    await setCanaryWeight(db.redis, 20, { by });
    await db.redis.hset(keys.routing, "canaryWeight", "banana");
    const { state, problems } = await readRouting(db.redis);
    expect(state).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/canaryWeight/);
    // A write repairs it from the default rather than carrying the garbage forward.
    const change = await disableCanary(db.redis, { by });
    expect(change.old.canaryWeight).toBe(0);
    expect((await readRouting(db.redis)).problems).toEqual([]);
  });

  test("another type at aviary:routing is reported naming the key, never thrown; canary off repairs it", async () => {
    await db.redis.del(keys.routing);
    await db.redis.set(keys.routing, "junk");
    const { state, problems } = await readRouting(db.redis);
    expect(state).toBeUndefined();
    expect(problems).toEqual(['Redis key aviary:routing is a string of 4 bytes starting "junk", expected a hash']);
    await disableCanary(db.redis, { by, reason: "rollback over a string" });
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryEnabled: false });
  });
});

describe("registry", () => {
  const prod = { id: "prod-1", role: "prod" as const, address: "127.0.0.1:9001", version: "1.4.2", ttlSeconds: 1 };

  test("register → list → heartbeat → expire drops and prunes", async () => {
    await registerBackend(db.redis, prod);
    let list = await listBackends(db.redis);
    expect(list.problems).toEqual([]);
    expect(list.backends).toEqual([expect.objectContaining({ id: "prod-1", role: "prod", address: "127.0.0.1:9001", version: "1.4.2" })]);
    const { events } = await readEvents(db.redis, { count: 1 });
    expect(events[0]).toMatchObject({ kind: "backend", detail: { cause: "register", id: "prod-1" } });

    await new Promise((r) => setTimeout(r, 600));
    expect(await heartbeat(db.redis, "prod-1", 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 600));
    expect((await listBackends(db.redis)).backends).toHaveLength(1); // heartbeat kept it past its first TTL

    await new Promise((r) => setTimeout(r, 1500));
    list = await listBackends(db.redis);
    expect(list.backends).toEqual([]);
    expect(await db.redis.sismember(keys.backends, "prod-1")).toBe(0);
    expect(await heartbeat(db.redis, "prod-1", 1)).toBe(false);
  });

  test("deregister removes it with an audited event", async () => {
    await registerBackend(db.redis, { ...prod, ttlSeconds: 30 });
    expect(await deregisterBackend(db.redis, "prod-1", { by: "controller", reason: "scale in" })).toBe(true);
    expect((await listBackends(db.redis)).backends).toEqual([]);
    const { events } = await readEvents(db.redis, { count: 1 });
    expect(events[0]).toMatchObject({ kind: "backend", by: "controller", reason: "scale in", detail: { cause: "deregister" } });
    expect(await deregisterBackend(db.redis, "prod-1", { by: "controller" })).toBe(false);
  });

  test.each([
    [{ address: "127.0.0.1" }, /address/],
    [{ address: "127.0.0.1:0" }, /port must be 1-65535/],
    [{ address: "127.0.0.1:70000" }, /port must be 1-65535/],
    [{ role: "staging" }, /role/],
    [{ version: "" }, /version/],
    [{ id: "bad id" }, /id/],
    [{ ttlSeconds: 0 }, /ttlSeconds/],
  ])("invalid registration %p is refused", async (patch, message) => {
    await expect(registerBackend(db.redis, { ...prod, ...patch } as typeof prod)).rejects.toThrow(message);
    expect(await db.redis.exists(keys.backends)).toBe(0);
    expect(await db.redis.xlen(keys.events)).toBe(0);
  });

  test("garbage backend hash is ignored and reported", async () => {
    await registerBackend(db.redis, { ...prod, ttlSeconds: 30 });
    await db.redis.hset(keys.backend("junk"), { id: "junk", role: "prod", address: "nowhere", version: "1" });
    await db.redis.sadd(keys.backends, "junk");
    const { backends, problems } = await listBackends(db.redis);
    expect(backends.map((b) => b.id)).toEqual(["prod-1"]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/aviary:backend:junk .*address/);
  });
});

describe("events and connection", () => {
  test("followEvents receives a change made after it started and stops on abort", async () => {
    await setCanaryWeight(db.redis, 1, { by }); // before start: must not be delivered
    const seen: AviaryEvent[] = [];
    const ac = new AbortController();
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const done = followEvents(db.redis, (e) => seen.push(e), { signal: ac.signal, onReady: ready, blockMs: 10_000 });
    await isReady;
    const { eventId } = await setCanaryWeight(db.redis, 2, { by });
    const deadline = Date.now() + 15_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(seen.map((e) => e.id)).toEqual([eventId]);
    const t0 = Date.now();
    ac.abort();
    await done;
    expect(Date.now() - t0).toBeLessThan(5000); // did not wait for the 10 s block
  });

  test("readEvents sinceId returns only newer events", async () => {
    const a = await setCanaryWeight(db.redis, 1, { by });
    const b = await setCanaryWeight(db.redis, 2, { by });
    const { events } = await readEvents(db.redis, { sinceId: a.eventId });
    expect(events.map((e) => e.id)).toEqual([b.eventId]);
  });

  test("keys all live under the aviary: prefix", () => {
    for (const k of [keys.routing, keys.backends, keys.events, keys.backend("x"), keys.dedupe("m"), keys.flagPrefix, keys.segment("s"), keys.segments, channels.changes]) {
      expect(k.startsWith("aviary:")).toBe(true);
    }
  });

  test("connect() without REDIS_URL throws a clear error", () => {
    const saved = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    try {
      expect(() => connect()).toThrow(/REDIS_URL is not set/);
      expect(() => connect("http://localhost:6379")).toThrow(/protocol/);
      expect(() => connect("not a url")).toThrow(/not a valid URL/);
    } finally {
      if (saved !== undefined) process.env.REDIS_URL = saved;
    }
  });

  test("rediss:// enables TLS with SNI; redis:// does not", () => {
    expect(baseOptions(parseRedisUrl("rediss://:pw@cache.example.com:6379")).tls).toEqual({ servername: "cache.example.com" });
    expect(baseOptions(parseRedisUrl("redis://:pw@127.0.0.1:6379")).tls).toBeUndefined();
  });

  test("with Redis down a call rejects fast, and works again after restart", async () => {
    const client = connect(db.server.url);
    try {
      await client.ping();
      await db.server.kill();
      const t0 = Date.now();
      await expect(readRouting(client)).rejects.toThrow();
      expect(Date.now() - t0).toBeLessThan(2500);
      await db.server.restart();
      await db.redis.ping().catch(() => undefined); // let the shared client reconnect too
      const deadline = Date.now() + 15_000;
      let ok = false;
      while (!ok && Date.now() < deadline) {
        ok = await client.ping().then(() => true, () => false);
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ok).toBe(true);
    } finally {
      client.disconnect();
    }
  });
});
