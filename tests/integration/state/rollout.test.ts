// The rollout in Redis, on a real redis-server: a rollout write and its routing change are one
// all-or-nothing script with one event and one notice; a conflicting revision or invalid input
// writes nothing at all; turning the canary off is never blocked by garbage; a judge's abort is
// idempotent and marks only the rollout it judged.
import type Redis from "ioredis";
import { InvalidInputError } from "../../../core/errors";
import type { RolloutState } from "../../../core/rollout/model";
import { GarbageValueError, RolloutConflictError, WrongTypeError } from "../../../state/errors";
import { readEvents } from "../../../state/events";
import { keys } from "../../../state/keys";
import { abortByJudge, readRollout, writeRollout } from "../../../state/rollout";
import { readRouting, setCanaryWeight } from "../../../state/routing";
import { failing, roleWindow, rolloutState, stepResult, window } from "../../support/rolloutFixtures";
import { noticesDuring, snapshot } from "../../support/redisWrites";
import { useRedis } from "../../support/useRedis";

const db = useRedis();

/** `value` with every number cut to 14 significant digits, as Redis's cjson encodes them. */
const to14Digits = <T>(value: T): T => JSON.parse(JSON.stringify(value), (_k, v: unknown) => (typeof v === "number" ? Number(v.toPrecision(14)) : v)) as T;
const by = "controller";

/** A stored rollout at `state.revision`, written as the controller would (routing at its weight). */
async function store(state: RolloutState = rolloutState()): Promise<RolloutState> {
  if (state.revision > 0) await db.redis.set(keys.rollout, JSON.stringify(state));
  else await writeRollout(db.redis, state, { weight: state.plan.steps[state.step].weight, enabled: true }, { by, reason: "start", expectRevision: null });
  return (await readRollout(db.redis)).state!;
}

/** Junk a key can hold instead of a rollout. */
const garbage: [string, (r: Redis) => Promise<unknown>][] = [
  ["not JSON", (r) => r.set(keys.rollout, "{junk")],
  ["JSON without a revision", (r) => r.set(keys.rollout, JSON.stringify({ ...rolloutState(), revision: "x" }))],
  ["over 64 KiB", (r) => r.set(keys.rollout, JSON.stringify({ ...rolloutState(), reason: "x".repeat(70_000) }))],
  ["a list", (r) => r.rpush(keys.rollout, "junk")],
  ["a state with a revision but a bad status", (r) => r.set(keys.rollout, JSON.stringify({ ...rolloutState(), status: "winning", revision: 3 }))],
];

describe("readRollout", () => {
  test("no key reads as no rollout", async () => {
    expect(await readRollout(db.redis)).toEqual({ state: null, problems: [] });
  });

  test("a written rollout reads back as written, at revision 0, by the writer", async () => {
    const state = rolloutState({ results: [stepResult(0, window(roleWindow(500, 0), roleWindow(5000, 1)))] });
    await writeRollout(db.redis, state, undefined, { by: "me", reason: "start", expectRevision: null });
    expect(await readRollout(db.redis)).toEqual({ state: { ...state, updatedBy: "me", revision: 0 }, problems: [] });
  });

  test.each([
    ["not JSON", "{junk", [/^aviary:rollout: not JSON \(5 characters starting "\{junk"\)$/]],
    ["over the size bound", JSON.stringify({ ...rolloutState(), reason: "x".repeat(70_000) }), [/^aviary:rollout: over the 65536-byte limit \(\d+ bytes starting /]],
    ["a bad status and a bad time", JSON.stringify({ ...rolloutState(), status: "winning", updatedAt: "now" }), [/^aviary:rollout status: must be one of progressing, paused, promotable, aborted, promoted$/, /^aviary:rollout updatedAt: must be an ISO 8601 time$/]],
    ["a step beyond the plan", JSON.stringify({ ...rolloutState(), step: 3 }), [/^aviary:rollout step: must be an index into plan\.steps$/]],
    ["an unknown field", JSON.stringify({ ...rolloutState(), extra: 1 }), [/^aviary:rollout \(root\): unknown field extra$/]],
    ["a garbage result", JSON.stringify({ ...rolloutState(), results: [{ step: 0 }] }), [/^aviary:rollout results\.0\.weight: /]],
    ["a weight over 100 in the plan", JSON.stringify({ ...rolloutState(), plan: { ...rolloutState().plan, steps: [{ weight: 101, pauseSeconds: 60 }] } }), [/^aviary:rollout plan\.steps\.0\.weight: must be an integer 1\.\.100$/]],
  ])("%s is garbage: undefined, each bad field named", async (_label, raw, problems) => {
    await db.redis.set(keys.rollout, raw);
    const r = await readRollout(db.redis);
    expect(r.state).toBeUndefined();
    for (const p of problems) expect(r.problems).toContainEqual(expect.stringMatching(p));
  });

  test("a key of another type is garbage, named with its type", async () => {
    await db.redis.rpush(keys.rollout, "junk");
    expect(await readRollout(db.redis)).toEqual({ state: undefined, problems: ['Redis key aviary:rollout is a list of 1 item starting "junk", expected a string'] });
  });
});

describe("writeRollout", () => {
  test("one script: the rollout at expect + 1, the routing change, one rollout event, one notice", async () => {
    const first = await store();
    const next = { ...first, step: 1, stepStartedAt: "2026-12-01T10:02:00.000Z", reason: "step 1 passed" };
    const { notices, error } = await noticesDuring(db, async () => {
      const w = await writeRollout(db.redis, next, { weight: 25 }, { by, reason: "step 1 passed", expectRevision: 0 });
      expect(w.routing).toMatchObject({ eventId: w.eventId, old: { canaryWeight: 5, canaryEnabled: true }, new: { canaryWeight: 25, canaryEnabled: true } });
    });
    expect(error).toBeUndefined();
    expect((await readRollout(db.redis)).state).toEqual({ ...next, revision: 1 });
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryWeight: 25, canaryEnabled: true, reason: "step 1 passed", changedBy: by });
    const { events } = await readEvents(db.redis);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({
      kind: "rollout",
      by,
      reason: "step 1 passed",
      detail: { rolloutId: first.id, oldStatus: "progressing", newStatus: "progressing", step: "1", weight: "25", revision: "1", cause: "weight", oldWeight: "5", newWeight: "25", oldEnabled: "true", newEnabled: "true" },
    });
    expect(notices.map((n) => JSON.parse(n))).toEqual([{ kind: "rollout", eventId: events[1].id }]);
  });

  test("without a routing change the routing key is not touched", async () => {
    const first = await store();
    const routing = await db.redis.dumpBuffer(keys.routing);
    await writeRollout(db.redis, { ...first, status: "paused", reason: "by hand" }, undefined, { by, reason: "pause", expectRevision: 0 });
    expect(await db.redis.dumpBuffer(keys.routing)).toEqual(routing);
    expect((await readRollout(db.redis)).state).toMatchObject({ status: "paused", revision: 1 });
  });

  test("null deletes the rollout, with its event", async () => {
    await store();
    await writeRollout(db.redis, null, undefined, { by, reason: "cleared", expectRevision: 0 });
    expect(await db.redis.exists(keys.rollout)).toBe(0);
    expect((await readEvents(db.redis)).events.at(-1)!.detail).toMatchObject({ oldStatus: "progressing", newStatus: "none", rolloutId: rolloutState().id });
  });

  describe("a conflicting revision writes nothing at all, routing included", () => {
    test.each([
      ["expects none, one is stored", null, { weight: 25 }],
      ["expects an older revision", 3, { weight: 25 }],
      ["expects a newer revision, turning the canary off", 5, { enabled: false }],
    ] as const)("%s", async (_label, expectRevision, routing) => {
      await store(rolloutState({ revision: 4 }));
      await setCanaryWeight(db.redis, 5, { by });
      const before = await snapshot(db.redis);
      const { notices, error } = await noticesDuring(db, () => writeRollout(db.redis, rolloutState({ step: 1 }), routing, { by, reason: "x", expectRevision }));
      expect(error).toBeInstanceOf(RolloutConflictError);
      expect((error as RolloutConflictError).found).toBe(4);
      expect((error as Error).message).toMatch(/^Redis key aviary:rollout holds revision 4, the write expected (no rollout|revision \d); nothing changed/);
      expect(await snapshot(db.redis)).toEqual(before);
      expect(notices).toEqual([]);
    });

    test("expects a revision, none is stored", async () => {
      const before = await snapshot(db.redis);
      await expect(writeRollout(db.redis, rolloutState(), { weight: 5 }, { by, reason: "x", expectRevision: 2 })).rejects.toThrow(new RolloutConflictError(2, null));
      expect(await snapshot(db.redis)).toEqual(before);
    });
  });

  test.each([
    ["a step weight of 0", () => rolloutState({ plan: { ...rolloutState().plan, steps: [{ weight: 0, pauseSeconds: 60 }] } }), undefined, /plan\.steps\.0\.weight: must be an integer 1\.\.100/],
    ["a step beyond the plan", () => rolloutState({ step: 3 }), undefined, /step: must be an index into plan\.steps/],
    ["a bad time", () => rolloutState({ stepStartedAt: "yesterday" }), undefined, /stepStartedAt: must be an ISO 8601 time/],
    ["a routing weight of 101", () => rolloutState(), { weight: 101 }, /Invalid canaryWeight 101/],
    ["an empty routing change", () => rolloutState(), {}, /set a weight, enabled, or both/],
  ])("invalid input (%s) writes nothing", async (_label, next, routing, message) => {
    await store(rolloutState({ revision: 2 }));
    const before = await snapshot(db.redis);
    const { notices, error } = await noticesDuring(db, () => writeRollout(db.redis, next(), routing, { by, reason: "x", expectRevision: 2 }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(message);
    expect(await snapshot(db.redis)).toEqual(before);
    expect(notices).toEqual([]);
  });

  test.each([
    ["an empty by", { by: " ", reason: "x", expectRevision: 2 }, /Invalid by/],
    ["a negative revision", { by, reason: "x", expectRevision: -1 }, /Invalid expectRevision -1/],
  ])("invalid options (%s) write nothing", async (_label, opts, message) => {
    await store(rolloutState({ revision: 2 }));
    const before = await snapshot(db.redis);
    await expect(writeRollout(db.redis, rolloutState(), { weight: 5 }, opts)).rejects.toThrow(message);
    expect(await snapshot(db.redis)).toEqual(before);
  });

  describe("turning the canary off is never blocked by garbage", () => {
    test.each(garbage)("in aviary:rollout (%s): the canary goes off and the garbage is replaced, named in the event", async (label, put) => {
      await setCanaryWeight(db.redis, 25, { by });
      await put(db.redis);
      const aborted = rolloutState({ status: "aborted", reason: "operator abort" });
      const w = await writeRollout(db.redis, aborted, { enabled: false }, { by, reason: "operator abort", expectRevision: 7 });
      expect((await readRouting(db.redis)).state).toMatchObject({ canaryEnabled: false, canaryWeight: 25 });
      expect((await readRollout(db.redis)).state).toEqual({ ...aborted, updatedBy: by, revision: 8 });
      const event = (await readEvents(db.redis)).events.at(-1)!;
      expect(event).toMatchObject({ id: w.eventId, kind: "rollout", detail: { oldStatus: "garbage", newStatus: "aborted", newEnabled: "false" } });
      expect(event.detail.repairs).toMatch(label === "a list" ? /^Redis key aviary:rollout is a list of 1 item starting "junk", expected a string; repaired \(moved to aviary:corrupt:rollout:\d{13}\)$/ : /^Redis key aviary:rollout is a string of \d+ bytes starting .*; repaired \(replaced\)$/);
    });

    test.each([
      ["a garbage weight", (r: Redis) => r.hset(keys.routing, "canaryWeight", "lots", "canaryEnabled", "true")],
      ["a string", (r: Redis) => r.set(keys.routing, "junk")],
    ])("in aviary:routing (%s): the canary goes off", async (_label, put) => {
      const first = await store();
      await db.redis.del(keys.routing);
      await put(db.redis);
      const w = await writeRollout(db.redis, { ...first, status: "aborted" }, { enabled: false }, { by, reason: "abort", expectRevision: 0 });
      expect((await readRouting(db.redis)).state).toMatchObject({ canaryEnabled: false, canaryWeight: 0 });
      expect(w.routing?.repairs.join("; ")).toMatch(/^Redis key aviary:routing/);
      expect((await readRollout(db.redis)).state).toMatchObject({ status: "aborted", revision: 1 });
    });

    test("in the event stream: moved aside, the write goes on", async () => {
      const first = await store();
      await db.redis.del(keys.events);
      await db.redis.set(keys.events, "junk");
      await writeRollout(db.redis, { ...first, status: "aborted" }, { enabled: false }, { by, reason: "abort", expectRevision: 0 });
      expect((await readRouting(db.redis)).state).toMatchObject({ canaryEnabled: false });
      expect((await readEvents(db.redis)).events[0].detail.repairs).toMatch(/^Redis key aviary:events is a string of 4 bytes starting "junk", expected a stream; repaired/);
    });
  });

  describe("any other write over garbage is refused and writes nothing", () => {
    test.each(garbage)("aviary:rollout %s", async (label, put) => {
      await setCanaryWeight(db.redis, 5, { by });
      await put(db.redis);
      const before = await snapshot(db.redis);
      const { notices, error } = await noticesDuring(db, () => writeRollout(db.redis, rolloutState({ step: 1 }), { weight: 25 }, { by, reason: "x", expectRevision: 0 }));
      expect(error).toBeInstanceOf(label === "a list" ? WrongTypeError : GarbageValueError);
      expect((error as Error).message).toMatch(/^Redis key aviary:rollout is a (list|string) /);
      expect(await snapshot(db.redis)).toEqual(before);
      expect(notices).toEqual([]);
    });

    test("turning the canary on with a garbage stored weight (changeRouting's rule), rollout included", async () => {
      await store();
      await db.redis.hset(keys.routing, "canaryWeight", "lots");
      const before = await snapshot(db.redis);
      await expect(writeRollout(db.redis, rolloutState({ status: "progressing" }), { enabled: true }, { by, reason: "resume", expectRevision: 0 })).rejects.toThrow(GarbageValueError);
      expect(await snapshot(db.redis)).toEqual(before);
    });
  });
});

describe("abortByJudge", () => {
  const judged = (over: Partial<{ rolloutId: string; step: number }> = {}) => ({ rolloutId: rolloutState().id, step: 0, result: failing(0), ...over });

  test("turns the canary off, marks the rollout aborted with the result and the judge's numbers, one event, one notice", async () => {
    await store();
    const { notices, error } = await noticesDuring(db, async () => {
      expect(await abortByJudge(db.redis, judged(), { by: "agent proxy-1" })).toEqual({ turnedOff: true, aborted: true, eventId: expect.any(String) });
    });
    expect(error).toBeUndefined();
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryEnabled: false, canaryWeight: 5, changedBy: "agent proxy-1" });
    const { state, problems } = await readRollout(db.redis);
    expect(problems).toEqual([]);
    // The script re-encodes the stored state (Redis's cjson): numbers keep 14 significant digits.
    expect(state).toMatchObject({ status: "aborted", revision: 1, updatedBy: "agent proxy-1", results: [to14Digits(failing(0))] });
    expect(state!.reason).toMatch(/^judge fail at step 1 \(weight 5\): canary 100\/1000 5xx \(10\.00 %\), production 0\/5000 \(0\.00 %\): more than 0\.5 points worse; p99 /);
    const event = (await readEvents(db.redis)).events.at(-1)!;
    expect(event).toMatchObject({ kind: "rollout", by: "agent proxy-1", reason: state!.reason, detail: { oldStatus: "progressing", newStatus: "aborted", step: "0", weight: "5", verdict: "fail", oldEnabled: "true", newEnabled: "false", newWeight: "5" } });
    expect(notices.map((n) => JSON.parse(n))).toEqual([{ kind: "rollout", eventId: event.id }]);
  });

  test("is idempotent: a second proxy's abort writes nothing", async () => {
    await store();
    await abortByJudge(db.redis, judged(), { by: "agent proxy-1" });
    const before = await snapshot(db.redis);
    const { notices, error } = await noticesDuring(db, async () => {
      expect(await abortByJudge(db.redis, judged({}), { by: "agent proxy-2" })).toEqual({ turnedOff: false, aborted: false, eventId: null });
    });
    expect(error).toBeUndefined();
    expect(await snapshot(db.redis)).toEqual(before);
    expect(notices).toEqual([]);
  });

  test("proxies aborting at once: the rollout is marked once, with one result", async () => {
    await store();
    const outcomes = await Promise.all(["p1", "p2", "p3", "p4"].map((p) => abortByJudge(db.redis, { ...judged(), result: failing(0, `agent ${p}`) }, { by: `agent ${p}` })));
    expect(outcomes.filter((o) => o.aborted)).toHaveLength(1);
    expect(outcomes.filter((o) => o.eventId !== null)).toHaveLength(1);
    expect((await readRollout(db.redis)).state).toMatchObject({ status: "aborted", revision: 1, results: [expect.anything()] });
    expect((await readEvents(db.redis)).events.filter((e) => e.kind === "rollout")).toHaveLength(2);
  });

  test.each([
    ["another rollout", rolloutState(), { rolloutId: "1.9.0@2026-11-30T10:00:00.000Z" }],
    ["another step", rolloutState({ step: 1, revision: 3 }), {}],
    ["a promotable rollout", rolloutState({ status: "promotable", revision: 3 }), {}],
    ["an aborted rollout", rolloutState({ status: "aborted", revision: 3 }), {}],
  ])("%s: the canary goes off, the rollout is left as it is", async (_label, state, over) => {
    await store(state);
    await setCanaryWeight(db.redis, 25, { by });
    const rollout = await db.redis.get(keys.rollout);
    expect(await abortByJudge(db.redis, judged(over), { by: "agent proxy-1" })).toMatchObject({ turnedOff: true, aborted: false });
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryEnabled: false, canaryWeight: 25 });
    expect(await db.redis.get(keys.rollout)).toBe(rollout);
  });

  test("a paused rollout at the judged step is aborted too", async () => {
    await store(rolloutState({ status: "paused", revision: 2 }));
    expect(await abortByJudge(db.redis, judged(), { by: "agent proxy-1" })).toMatchObject({ aborted: true });
    expect((await readRollout(db.redis)).state).toMatchObject({ status: "aborted", revision: 3 });
  });

  test.each(garbage)("garbage in aviary:rollout (%s) does not block it, and is left as it is", async (_label, put) => {
    await setCanaryWeight(db.redis, 25, { by });
    await put(db.redis);
    const rollout = (await db.redis.dumpBuffer(keys.rollout))!.toString("hex");
    expect(await abortByJudge(db.redis, judged(), { by: "agent proxy-1" })).toMatchObject({ turnedOff: true, aborted: false });
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryEnabled: false });
    expect((await db.redis.dumpBuffer(keys.rollout))!.toString("hex")).toBe(rollout);
    expect((await readEvents(db.redis)).events.at(-1)!.detail).toMatchObject({ oldStatus: "garbage", newStatus: "garbage" });
  });

  test.each([
    ["a garbage weight", (r: Redis) => r.hset(keys.routing, "canaryWeight", "lots", "canaryEnabled", "false")],
    ["a string", (r: Redis) => r.set(keys.routing, "junk")],
  ])("garbage in aviary:routing (%s) does not block it and is repaired", async (_label, put) => {
    await store();
    await db.redis.del(keys.routing);
    await put(db.redis);
    const r = await abortByJudge(db.redis, judged(), { by: "agent proxy-1" });
    expect(r.aborted).toBe(true);
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryEnabled: false });
    expect((await readEvents(db.redis)).events.at(-1)!.detail.repairs).toMatch(/^Redis key aviary:routing/);
  });

  test("a garbage enabled in aviary:routing does not block it", async () => {
    await store();
    await db.redis.hset(keys.routing, "canaryEnabled", "maybe");
    expect(await abortByJudge(db.redis, judged(), { by: "agent proxy-1" })).toMatchObject({ turnedOff: true, aborted: true });
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryEnabled: false, canaryWeight: 5 });
  });

  test.each([
    ["an empty rollout id", { rolloutId: "" }, /Invalid rolloutId/],
    ["a negative step", { step: -1 }, /Invalid step -1/],
    ["a result without its judgement", { result: { ...failing(0), judgement: undefined } as never }, /Invalid step result: judgement/],
  ])("invalid input (%s) writes nothing", async (_label, over, message) => {
    await store();
    const before = await snapshot(db.redis);
    await expect(abortByJudge(db.redis, { ...judged(), ...over }, { by: "agent proxy-1" })).rejects.toThrow(message);
    expect(await snapshot(db.redis)).toEqual(before);
  });

  test("an infinite ln e-value is stored as the largest finite number and reads back", async () => {
    await store();
    const result = failing(0);
    result.judgement.errorRate.evidence.lnFail = Infinity;
    await abortByJudge(db.redis, { ...judged(), result }, { by: "agent proxy-1" });
    const { state, problems } = await readRollout(db.redis);
    expect(problems).toEqual([]);
    expect(state!.results[0].judgement.errorRate.evidence.lnFail).toBeGreaterThan(1e307);
  });
});
