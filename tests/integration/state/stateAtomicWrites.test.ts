// Every state write is all-or-nothing, on a real redis-server: a refused write leaves keys, the
// event log and the notices exactly as they were; a poisoned event stream is moved aside and the
// write goes on; a garbage canary weight is never silently turned into 0.
import type Redis from "ioredis";
import { booleanFlag } from "../../../core/flags/model";
import { recordControllerEvents } from "../../../state/controller";
import { InvalidInputError } from "../../../core/errors";
import { GarbageValueError, WrongTypeError } from "../../../state/errors";
import { readEvents } from "../../../state/events";
import { putFlag, readFlag } from "../../../state/flags";
import { deleteSegment, putSegment, readSegment } from "../../../state/segments";
import { keys } from "../../../state/keys";
import { deregisterBackend, drainBackend, listBackends, registerBackend } from "../../../state/registry";
import { changeRouting, disableCanary, enableCanary, readRouting, setCanaryWeight, type RoutingChange } from "../../../state/routing";
import { LAST_STREAM_ID } from "../../../state/writeScript";
import { useRedis } from "../../support/useRedis";
import { abortByJudge, writeRollout } from "../../../state/rollout";
import { failing, rolloutState } from "../../support/rolloutFixtures";
import { noticesDuring as noticesOf, snapshot as snapshotOf } from "../../support/redisWrites";

const db = useRedis();

const by = "test";
const prod = { id: "prod-1", role: "prod" as const, address: "127.0.0.1:9001", version: "1.0.0", ttlSeconds: 60 };

const segment = { name: "beta", included: ["u1"] };
const flagUsingSegment = { ...booleanFlag("f1", "me"), rules: [{ match: "all" as const, conditions: [{ op: "inSegment" as const, segment: "beta" }], variant: "on" }] };

/** Each write, with the state it needs first (a registered backend for deregister/drain). */
const writes: Record<string, { setup?: (r: Redis) => Promise<unknown>; run: (r: Redis) => Promise<unknown> }> = {
  weight: { run: (r) => setCanaryWeight(r, 20, { by }) },
  enable: { run: (r) => enableCanary(r, { by }) },
  disable: { run: (r) => disableCanary(r, { by, reason: "test" }) },
  "weight+enable": { run: (r) => changeRouting(r, { weight: 20, enabled: true }, { by }) },
  flag: { run: (r) => putFlag(r, booleanFlag("f1", "me"), { by }) },
  "flag using a segment": { setup: (r) => putSegment(r, segment, { by }), run: (r) => putFlag(r, flagUsingSegment, { by }) },
  segment: { run: (r) => putSegment(r, segment, { by }) },
  "segment delete": { setup: (r) => putSegment(r, segment, { by }), run: (r) => deleteSegment(r, "beta", { by }) },
  register: { run: (r) => registerBackend(r, prod) },
  deregister: { setup: (r) => registerBackend(r, prod), run: (r) => deregisterBackend(r, "prod-1", { by }) },
  drain: { setup: (r) => registerBackend(r, prod), run: (r) => drainBackend(r, "prod-1", { by }) },
  controller: { run: (r) => recordControllerEvents(r, [{ action: "scaleOut", by, reason: "test", detail: { to: "3" } }]) },
  rollout: { run: (r) => writeRollout(r, rolloutState(), { weight: 5, enabled: true }, { by, reason: "start", expectRevision: null }) },
  "judge abort": {
    setup: (r) => writeRollout(r, rolloutState(), { weight: 5, enabled: true }, { by, reason: "start", expectRevision: null }),
    run: (r) => abortByJudge(r, { rolloutId: rolloutState().id, step: 0, result: failing(0) }, { by: "agent proxy-1" }),
  },
};

const snapshot = (): Promise<Record<string, string>> => snapshotOf(db.redis);
const noticesDuring = (fn: () => Promise<unknown>): Promise<{ notices: string[]; error: unknown }> => noticesOf(db, fn);

describe("a wrong-type key is refused naming the key, and nothing is written", () => {
  test.each([
    ["weight", keys.routing, "hash"],
    ["enable", keys.routing, "hash"],
    ["weight+enable", keys.routing, "hash"],
    ["flag", keys.flags, "set"],
    ["flag using a segment", keys.segments, "set"],
    ["segment", keys.segments, "set"],
    ["segment delete", keys.segments, "set"],
    ["segment delete", keys.flags, "set"],
    ["register", keys.backends, "set"],
    ["deregister", keys.backends, "set"],
    ["drain", keys.backend("prod-1"), "hash"],
  ])("%s with a string at %s", async (name, key, expected) => {
    const w = writes[name];
    await w.setup?.(db.redis);
    await db.redis.del(key);
    await db.redis.set(key, "junk");
    const before = await snapshot();
    const { notices, error } = await noticesDuring(() => w.run(db.redis));
    expect(await snapshot()).toEqual(before);
    expect(notices).toEqual([]);
    expect(error).toBeInstanceOf(WrongTypeError);
    expect((error as Error).message).toBe(`Redis key ${key} is a string of 4 bytes starting "junk", expected a ${expected}`);
  });
});

describe("a poisoned event stream is moved aside and the write goes on", () => {
  const poisons: [string, (r: Redis) => Promise<unknown>, RegExp][] = [
    ["a string", (r) => r.set(keys.events, "junk"), /is a string of 4 bytes starting "junk", expected a stream; repaired/],
    ["a list", (r) => r.rpush(keys.events, "junk"), /is a list of 1 item starting "junk", expected a stream; repaired/],
    ["a stream at the last ID", (r) => r.xadd(keys.events, LAST_STREAM_ID, "kind", "junk"), /is a stream of 1 entry, expected a stream below the last possible ID \(18446744073709551615-18446744073709551615\); repaired/],
    [
      "a stream whose last-ID entry was deleted",
      async (r) => {
        await r.xadd(keys.events, LAST_STREAM_ID, "kind", "junk");
        await r.xdel(keys.events, LAST_STREAM_ID);
      },
      /is a stream of 0 entries, expected a stream below the last possible ID \(18446744073709551615-18446744073709551615\); repaired/,
    ],
  ];
  const cases = Object.keys(writes).flatMap((name) => poisons.map(([label, poison, note]) => [name, label, poison, note] as const));

  test.each(cases)("%s over %s", async (name, _label, poison, note) => {
    const w = writes[name];
    await w.setup?.(db.redis);
    await db.redis.del(keys.events);
    await poison(db.redis);
    const poisoned = (await db.redis.dumpBuffer(keys.events))!.toString("hex");
    const { notices, error } = await noticesDuring(() => w.run(db.redis));
    expect(error).toBeUndefined();
    // The change has its event (with the repair note) and its notice.
    const { events } = await readEvents(db.redis, { count: 10 });
    expect(events).toHaveLength(1);
    expect(events[0].detail.repairs).toMatch(note);
    expect(notices).toHaveLength(1);
    expect(JSON.parse(notices[0])).toMatchObject({ eventId: events[0].id });
    // Nothing is lost: the old value sits under aviary:corrupt:events:<ms>, byte for byte.
    const aside = await db.redis.keys(`${keys.corruptPrefix}events:*`);
    expect(aside).toHaveLength(1);
    expect(aside[0]).toMatch(/^aviary:corrupt:events:\d{13}$/);
    expect((await db.redis.dumpBuffer(aside[0]))!.toString("hex")).toBe(poisoned);
    // A second write needs no repair.
    await writes.controller.run(db.redis);
    expect((await readEvents(db.redis, { count: 10 })).events[1].detail.repairs).toBeUndefined();
  });

  test("the repair is returned to the caller, naming the key and where it went", async () => {
    await db.redis.set(keys.events, "junk");
    const change = await setCanaryWeight(db.redis, 30, { by });
    expect(change.repairs).toEqual([expect.stringMatching(/^Redis key aviary:events is a string of 4 bytes starting "junk", expected a stream; repaired \(moved to aviary:corrupt:events:\d{13}\)$/)]);
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryWeight: 30 });
  });

  test("repairs in the same millisecond do not overwrite each other", async () => {
    // Sent in one round trip (ioredis writes commands in call order), so both usually run in the same ms.
    void db.redis.set(keys.events, "one");
    const first = setCanaryWeight(db.redis, 1, { by });
    void db.redis.del(keys.events);
    void db.redis.set(keys.events, "two");
    const second = setCanaryWeight(db.redis, 2, { by });
    await Promise.all([first, second]);
    const aside = await db.redis.keys(`${keys.corruptPrefix}events:*`);
    const values = await Promise.all(aside.map((k) => db.redis.get(k)));
    expect(values.sort()).toEqual(["one", "two"]);
  });
});

describe("keys a write replaces whole are moved aside, never refused", () => {
  test("a flag definition of the wrong type", async () => {
    await db.redis.hset(keys.flag("f1"), "enabled", "true");
    const change = await putFlag(db.redis, booleanFlag("f1", "me"), { by });
    expect(change.repairs).toEqual([expect.stringMatching(/^Redis key aviary:flag:f1 is a hash of 1 field starting "enabled", expected a string; repaired \(moved to aviary:corrupt:flag:f1:\d{13}\)$/)]);
    expect((await readFlag(db.redis, "f1")).flag?.key).toBe("f1");
  });

  test("a segment definition of the wrong type", async () => {
    await db.redis.sadd(keys.segment("beta"), "u1");
    const change = await putSegment(db.redis, segment, { by });
    expect(change.repairs).toEqual([expect.stringMatching(/^Redis key aviary:segment:beta is a set of 1 member starting "u1", expected a string; repaired \(moved to aviary:corrupt:segment:beta:\d{13}\)$/)]);
    expect((await readSegment(db.redis, "beta")).segment?.included).toEqual(["u1"]);
  });

  test("a backend entry of the wrong type", async () => {
    await db.redis.set(keys.backend("prod-1"), "junk");
    const { repairs } = await registerBackend(db.redis, prod);
    expect(repairs).toEqual([expect.stringMatching(/aviary:backend:prod-1 is a string of 4 bytes starting "junk", expected a hash; repaired/)]);
    expect((await listBackends(db.redis)).backends.map((b) => b.id)).toEqual(["prod-1"]);
  });
});

describe("a garbage canary weight", () => {
  test.each([
    ["banana", "banana", /field canaryWeight is a string of 6 bytes starting "banana", expected an integer 0\.\.100; nothing changed: /],
    ["101", "101", /field canaryWeight is a string of 3 bytes starting "101"/],
    ["5,000 x", "x".repeat(5000), /field canaryWeight is a string of 5000 bytes starting "x{40}", /],
  ])("canary on over weight %s is refused naming the key, the value's prefix and the fix", async (_label, weight, problem) => {
    await db.redis.hset(keys.routing, { canaryWeight: weight, canaryEnabled: "false", changedBy: "x", changedAt: new Date().toISOString() });
    const before = await snapshot();
    const { notices, error } = await noticesDuring(() => enableCanary(db.redis, { by }));
    expect(error).toBeInstanceOf(GarbageValueError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Redis key aviary:routing /);
    expect(message).toMatch(problem);
    expect(message).toContain("aviary canary weight <N>");
    expect(message.length).toBeLessThan(300);
    expect(await snapshot()).toEqual(before);
    expect(notices).toEqual([]);
  });

  test("a missing weight in an existing routing hash is garbage too", async () => {
    await db.redis.hset(keys.routing, { canaryEnabled: "false" });
    await expect(enableCanary(db.redis, { by })).rejects.toThrow(/field canaryWeight is missing, expected an integer 0\.\.100; nothing changed/);
  });

  test("setting a weight repairs it, and says so", async () => {
    await db.redis.hset(keys.routing, { canaryWeight: "banana", canaryEnabled: "false" });
    const change = await setCanaryWeight(db.redis, 15, { by });
    expect(change.repairs).toEqual([expect.stringMatching(/aviary:routing field canaryWeight is a string of 6 bytes starting "banana".*repaired \(weight set to 15\)/)]);
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryWeight: 15, canaryEnabled: false });
  });
});

describe("turning the canary off is never blocked", () => {
  test.each([
    ["a garbage weight", (r: Redis) => r.hset(keys.routing, { canaryWeight: "banana", canaryEnabled: "true" }), 0, /canaryWeight is a string of 6 bytes starting "banana".*weight set to 0/],
    ["a garbage enabled flag (the valid weight is kept)", (r: Redis) => r.hset(keys.routing, { canaryWeight: "40", canaryEnabled: "maybe" }), 40, undefined],
    ["a string at aviary:routing", (r: Redis) => r.set(keys.routing, "junk"), 0, /aviary:routing is a string of 4 bytes starting "junk", expected a hash; repaired \(moved to aviary:corrupt:routing:\d{13}\)/],
    ["a list at aviary:routing and a poisoned stream", async (r: Redis) => {
      await r.rpush(keys.routing, "junk");
      await r.xadd(keys.events, LAST_STREAM_ID, "kind", "junk");
    }, 0, /aviary:events is a stream of \d+ entr(y|ies), expected a stream below the last possible ID/],
  ])("over %s", async (_label, poison, weight, note) => {
    await poison(db.redis);
    const change = await disableCanary(db.redis, { by: "controller", reason: "alarm" });
    if (note) expect(change.repairs.join("\n")).toMatch(note);
    const { state, problems } = await readRouting(db.redis);
    expect(problems).toEqual([]);
    expect(state).toMatchObject({ canaryEnabled: false, canaryWeight: weight, reason: "alarm" });
    const { events } = await readEvents(db.redis, { count: 1 });
    expect(events[0]).toMatchObject({ kind: "routing", detail: { cause: "disable", newEnabled: "false" } });
  });

  test("a CloudWatch-length reason with the alarm-name prefix is cut to fit, not refused", async () => {
    const reason = `aviary-canary-5xx: ${"Threshold Crossed: 1 datapoint ".repeat(40)}`.slice(0, 1100);
    const change = await disableCanary(db.redis, { by: "controller", reason });
    expect(change.new.canaryEnabled).toBe(false);
    const { state, problems } = await readRouting(db.redis);
    expect(problems).toEqual([]);
    expect(state!.reason!.length).toBe(1000);
    expect(state!.reason).toMatch(/^aviary-canary-5xx: Threshold Crossed/);
    expect(state!.reason).toMatch(/… \[cut from 1100 characters\]$/);
    expect((await readEvents(db.redis, { count: 1 })).events[0].reason).toBe(state!.reason);
  });

  test("controller and flag reasons are cut the same way", async () => {
    await recordControllerEvents(db.redis, [{ action: "disableCanary", by, reason: "r".repeat(2000), detail: {} }]);
    await putFlag(db.redis, booleanFlag("f1", "me"), { by, reason: "f".repeat(1500) });
    const { events } = await readEvents(db.redis, { count: 2 });
    expect(events.map((e) => e.reason!.length)).toEqual([1000, 1000]);
  });
});

describe("weight and enabled change in one write (one event, one notice)", () => {
  test("weight + enable from off: one event with old/new weight and enabled, one notice", async () => {
    await setCanaryWeight(db.redis, 10, { by });
    await disableCanary(db.redis, { by, reason: "5xx" });
    let result!: RoutingChange;
    const { notices } = await noticesDuring(async () => (result = await changeRouting(db.redis, { weight: 40, enabled: true }, { by: "ops", reason: "deploy" })));
    expect(result).toMatchObject({ old: { canaryWeight: 10, canaryEnabled: false }, new: { canaryWeight: 40, canaryEnabled: true }, repairs: [] });
    const { events } = await readEvents(db.redis, { count: 10 });
    expect(events).toHaveLength(3);
    expect(events[2]).toMatchObject({
      id: result.eventId,
      kind: "routing",
      by: "ops",
      reason: "deploy",
      detail: { cause: "weight+enable", oldWeight: "10", newWeight: "40", oldEnabled: "false", newEnabled: "true" },
    });
    expect(notices.map((n) => JSON.parse(n))).toEqual([{ kind: "routing", eventId: result.eventId }]);
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryWeight: 40, canaryEnabled: true, changedBy: "ops", reason: "deploy" });
  });

  test("a weight alone keeps enabled as it is; enabled alone keeps the weight", async () => {
    await changeRouting(db.redis, { weight: 30, enabled: false }, { by });
    expect((await changeRouting(db.redis, { weight: 20 }, { by })).new).toEqual({ canaryWeight: 20, canaryEnabled: false });
    expect((await changeRouting(db.redis, { enabled: true }, { by })).new).toEqual({ canaryWeight: 20, canaryEnabled: true });
  });
});

describe("a combined routing write keeps every safety rule", () => {
  test("enabling with a garbage stored weight is refused, and nothing is written", async () => {
    await db.redis.hset(keys.routing, { canaryWeight: "banana", canaryEnabled: "false" });
    const before = await snapshot();
    const { notices, error } = await noticesDuring(() => changeRouting(db.redis, { enabled: true }, { by }));
    expect(error).toBeInstanceOf(GarbageValueError);
    expect((error as Error).message).toContain("aviary canary weight <N>");
    expect(await snapshot()).toEqual(before);
    expect(notices).toEqual([]);
  });

  test("enabling with a weight in the same write repairs the garbage weight, and says so", async () => {
    await db.redis.hset(keys.routing, { canaryWeight: "banana", canaryEnabled: "maybe" });
    const change = await changeRouting(db.redis, { weight: 15, enabled: true }, { by });
    expect(change.repairs).toEqual([
      expect.stringMatching(/aviary:routing field canaryWeight is a string of 6 bytes starting "banana".*repaired \(weight set to 15\)/),
      expect.stringMatching(/aviary:routing field canaryEnabled is a string of 5 bytes starting "maybe".*repaired \(set to true\)/),
    ]);
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryWeight: 15, canaryEnabled: true });
  });

  test("turning off with a weight over a wrong-type key moves it aside (never blocked)", async () => {
    await db.redis.set(keys.routing, "junk");
    const change = await changeRouting(db.redis, { weight: 0, enabled: false }, { by, reason: "destroy" });
    expect(change.repairs).toEqual([expect.stringMatching(/aviary:routing is a string of 4 bytes starting "junk", expected a hash; repaired \(moved to aviary:corrupt:routing:\d{13}\)/)]);
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryWeight: 0, canaryEnabled: false });
    const { events } = await readEvents(db.redis, { count: 1 });
    expect(events[0].detail).toMatchObject({ cause: "weight+disable", newWeight: "0", newEnabled: "false" });
  });

  test("turning on with a weight over a wrong-type key is refused naming the key, nothing written", async () => {
    await db.redis.set(keys.routing, "junk");
    const before = await snapshot();
    const { notices, error } = await noticesDuring(() => changeRouting(db.redis, { weight: 20, enabled: true }, { by }));
    expect(error).toBeInstanceOf(WrongTypeError);
    expect(await snapshot()).toEqual(before);
    expect(notices).toEqual([]);
  });

  test.each([
    ["a weight over 100", { weight: 101, enabled: true }, /^Invalid canaryWeight 101: must be/],
    ["a fractional weight", { weight: 2.5 }, /^Invalid canaryWeight 2\.5: must be/],
    ["nothing to change", {}, /^Invalid routing change: set a weight, enabled, or both$/],
  ])("invalid input (%s) throws before anything is written", async (_label, target, message) => {
    await setCanaryWeight(db.redis, 10, { by });
    const before = await snapshot();
    const { notices, error } = await noticesDuring(() => changeRouting(db.redis, target, { by }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(message);
    expect(await snapshot()).toEqual(before);
    expect(notices).toEqual([]);
  });
});
