// Segment storage in a real redis-server: validation on write and read, audit events, notices,
// compare-and-set, refusing to delete a segment flags use, refusing flags that name a missing one.
import type Redis from "ioredis";
import { run } from "../../../cli/main";
import { compileFlag, compileSegment, evaluate } from "../../../core/flags/evaluate";
import { booleanFlag, type FlagDefinition, type SegmentDefinitionInput } from "../../../core/flags/model";
import { InvalidInputError, NotFoundError } from "../../../core/errors";
import { connect, subscribeChanges } from "../../../state/connection";
import { readEvents, type ChangeNotice } from "../../../state/events";
import { FlagValidationError, putFlag, readFlag, toDefinition, updateFlag } from "../../../state/flags";
import { keys } from "../../../state/keys";
import { deleteSegment, putSegment, readSegment, readSegments, SegmentInUseError, SegmentValidationError, toSegmentDefinition, updateSegment, validateSegmentDefinition } from "../../../state/segments";
import { segmentsSection } from "../../../state/statusSections";
import { noticesDuring, snapshot } from "../../support/redisWrites";
import { useRedis } from "../../support/useRedis";

const db = useRedis();
const by = "alice";

const beta: SegmentDefinitionInput = {
  name: "beta",
  description: "beta testers",
  match: "any",
  conditions: [{ attribute: "email", op: "endsWith", value: "@example.com" }],
  included: ["user-1"],
  excluded: ["user-9"],
};

/** A boolean flag whose one rule serves "on" to members of `segments` (all of them). */
function flagUsing(key: string, ...segments: string[]): FlagDefinition {
  return {
    ...booleanFlag(key, "web"),
    rules: [
      { match: "all", conditions: [{ attribute: "plan", op: "equals", value: "pro" }], variant: "on" },
      { match: "all", conditions: segments.map((s) => ({ op: "inSegment" as const, segment: s })), variant: "on" },
    ],
  };
}

async function eventually<T>(read: () => T, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  while (!done(read()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return read();
}

describe("store", () => {
  test("put → read roundtrip; update summarizes the change; one event and one notice per write", async () => {
    const notices: ChangeNotice[] = [];
    const close = await subscribeChanges(db.server.url, (n) => notices.push(n));
    try {
      const a = await putSegment(db.redis, beta, { by, reason: "launch" });
      const b = await updateSegment(db.redis, "beta", (cur) => ({ ...cur!, included: [...cur!.included, "user-2"] }), { by: "bob", cause: "include" });
      expect(a.old).toBeUndefined();
      expect(a.summary).toBe("created segment, 1 conditions (any), 1 included, 1 excluded");
      expect(b.old).toMatchObject({ included: ["user-1"], version: 1 });
      expect(b.summary).toBe('included ["user-1"] → ["user-1","user-2"]');
      const { segment, problems } = await readSegment(db.redis, "beta");
      expect(problems).toEqual([]);
      expect(segment).toEqual({ ...beta, included: ["user-1", "user-2"], updatedBy: "bob", updatedAt: expect.any(String), version: 2 });
      expect(await readSegments(db.redis)).toEqual({ segments: [segment], problems: [], invalidNames: [] });
      const { events } = await readEvents(db.redis, { count: 10 });
      expect(events.map((e) => [e.kind, e.by, e.reason, e.detail.cause, e.detail.name, e.detail.version])).toEqual([
        ["segment", "alice", "launch", "define", "beta", "1"],
        ["segment", "bob", undefined, "include", "beta", "2"],
      ]);
      expect(await eventually(() => notices, (n) => n.length >= 2)).toEqual([
        { kind: "segment", id: "beta", eventId: a.eventId },
        { kind: "segment", id: "beta", eventId: b.eventId },
      ]);
    } finally {
      await close();
    }
  });

  test("aviary events lists segment changes like any other", async () => {
    await putSegment(db.redis, beta, { by, reason: "launch" });
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(["events"], { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } }, { env: { REDIS_URL: db.server.url } });
    expect({ code, stderr: err.join("") }).toEqual({ code: 0, stderr: "" });
    expect(out.join("")).toMatch(/^\S+ \S+ segment by=alice reason="launch" cause=define name=beta version=1 change=created segment, 1 conditions \(any\)/);
  });

  test("what the store reads back is what evaluation uses: a rule on a stored segment targets its members", async () => {
    await putSegment(db.redis, beta, { by });
    await putFlag(db.redis, { ...booleanFlag("checkout", "web"), rules: [{ match: "all", conditions: [{ op: "inSegment", segment: "beta" }], variant: "on" }] }, { by });
    const { segments } = await readSegments(db.redis);
    const lookup = new Map(segments.map((seg) => [seg.name, compileSegment(toSegmentDefinition(seg))]));
    const flag = compileFlag(toDefinition((await readFlag(db.redis, "checkout")).flag!));
    const variant = (ctx: Record<string, string>): string | undefined => {
      const e = evaluate(flag, ctx, lookup);
      return "variant" in e ? e.variant : undefined;
    };
    expect([variant({ targetingKey: "user-1" }), variant({ targetingKey: "u", email: "a@example.com" }), variant({ targetingKey: "user-9", email: "a@example.com" }), variant({ targetingKey: "u" })]).toEqual(["on", "on", "off", "off"]);
  });

  test("defaults fill in: a segment of included keys only", async () => {
    await putSegment(db.redis, { name: "staff", included: ["u1"] }, { by });
    expect((await readSegment(db.redis, "staff")).segment).toMatchObject({ name: "staff", description: "", match: "all", conditions: [], included: ["u1"], excluded: [] });
  });

  test("an invalid definition is refused with one error naming every bad field, nothing stored", async () => {
    const bad = {
      name: "beta",
      match: "most",
      conditions: [{ op: "inSegment", segment: "other" }, { attribute: "age", op: "gt", value: "18" }],
      included: [""],
      colour: "red",
    };
    let err: unknown;
    try {
      validateSegmentDefinition(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SegmentValidationError);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toBe(
      'Invalid segment "beta": match: Invalid option: expected one of "all"|"any"; ' +
        "conditions.0: a segment is made of attribute tests only: it cannot use another segment (inSegment / notInSegment); " +
        "conditions.1.value: Invalid input: expected number, received string; included.0: Too small: expected string to have >=1 characters; " +
        '(root): Unrecognized key: "colour"',
    );
    const before = await snapshot(db.redis);
    await expect(putSegment(db.redis, bad as unknown as SegmentDefinitionInput, { by })).rejects.toThrow((err as Error).message);
    await expect(updateSegment(db.redis, "Not A Name", () => beta, { by, cause: "set" })).rejects.toThrow(/^Invalid segment name "Not A Name": /);
    await expect(updateSegment(db.redis, "other", () => beta, { by, cause: "set" })).rejects.toThrow('Invalid segment "other": name: definition says "beta"');
    await expect(putSegment(db.redis, beta, { by: " " })).rejects.toThrow(/^Invalid by: /);
    await expect(putSegment(db.redis, { name: "huge", included: Array.from({ length: 1000 }, (_, i) => `${i}`.padEnd(256, "k")), excluded: Array.from({ length: 1000 }, (_, i) => `${i}`.padEnd(256, "x")) }, { by })).rejects.toThrow(
      /^Invalid segment "huge": its definition is \d+ characters, over the 262144-character limit$/,
    );
    expect(await snapshot(db.redis)).toEqual(before);
  });

  test("garbage written straight into Redis is reported with its key and what is wrong, never returned", async () => {
    await putSegment(db.redis, beta, { by });
    const plant: [string, (r: Redis, key: string) => Promise<unknown>][] = [
      ["notjson", (r, k) => r.set(k, "{{{")],
      ["wrongtype", (r, k) => r.hset(k, "name", "wrongtype")],
      ["huge", (r, k) => r.set(k, `{"name":"huge","pad":"${"x".repeat(300 * 1024)}"}`)],
      ["badfields", (r, k) => r.set(k, JSON.stringify({ name: "badfields", match: "most", updatedBy: "x", updatedAt: new Date().toISOString(), version: 1 }))],
      ["mismatch", (r, k) => r.set(k, JSON.stringify({ ...beta, name: "beta", updatedBy: "x", updatedAt: new Date().toISOString(), version: 1 }))],
    ];
    for (const [name, write] of plant) {
      await write(db.redis, keys.segment(name));
      await db.redis.sadd(keys.segments, name);
    }
    await db.redis.sadd(keys.segments, "Bad Member", "gone");
    const { segments, problems, invalidNames } = await readSegments(db.redis);
    expect(segments.map((s) => s.name)).toEqual(["beta"]);
    expect(invalidNames).toEqual(["badfields", "huge", "mismatch", "notjson", "wrongtype"]);
    expect(problems).toEqual([
      'aviary:segments: invalid member "Bad Member"',
      expect.stringMatching(/^aviary:segment:badfields match: /),
      `aviary:segment:huge: over the 262144-character limit (307224 characters starting ${JSON.stringify('{"name":"huge","pad":"' + "x".repeat(18))})`,
      'aviary:segment:mismatch name: field says 4 characters starting "beta"',
      "aviary:segment:notjson: not JSON",
      expect.stringMatching(/^aviary:segment:wrongtype: WRONGTYPE/),
    ]);
    for (const p of problems) expect(p.length).toBeLessThan(300);
    expect(await readSegment(db.redis, "wrongtype")).toEqual({ segment: undefined, problems: ["aviary:segment:wrongtype: not a string value"] });
    expect((await readSegment(db.redis, "mismatch")).segment).toBeUndefined();
    expect(await readSegment(db.redis, "gone")).toEqual({ segment: undefined, problems: [] });
    // A write repairs a garbage entry; a wrong-type one is moved aside, not lost.
    const fixed = await putSegment(db.redis, { name: "wrongtype", included: ["u"] }, { by });
    expect(fixed.repairs).toEqual([expect.stringMatching(/^Redis key aviary:segment:wrongtype is a hash of 1 field starting "name", expected a string; repaired \(moved to aviary:corrupt:segment:wrongtype:\d{13}\)$/)]);
    expect((await readSegment(db.redis, "wrongtype")).segment?.included).toEqual(["u"]);
  });

  test("the status section names a wrong-type index or item by key and type", async () => {
    await putSegment(db.redis, beta, { by });
    await db.redis.sadd(keys.segments, "junk");
    await db.redis.rpush(keys.segment("junk"), "a");
    expect((await segmentsSection(db.redis)).health).toEqual({ ok: false, problems: ['Redis key aviary:segment:junk is a list of 1 item starting "a", expected a string'] });
    expect((await segmentsSection(db.redis)).value.map((s) => s.name)).toEqual(["beta"]);
    await db.redis.del(keys.segments);
    await db.redis.set(keys.segments, "junk");
    expect(await segmentsSection(db.redis)).toEqual({ value: [], health: { ok: false, problems: ['Redis key aviary:segments is a string of 4 bytes starting "junk", expected a set'] } });
  });

  test("a write that loses a compare-and-set race writes nothing and is retried on the new value", async () => {
    await putSegment(db.redis, beta, { by });
    let calls = 0;
    const { notices } = await noticesDuring(db, () =>
      updateSegment(
        db.redis,
        "beta",
        (cur) => {
          calls += 1;
          // Another writer gets in between this read and the script.
          if (calls === 1) void db.redis.set(keys.segment("beta"), JSON.stringify({ ...beta, description: "theirs", updatedBy: "them", updatedAt: new Date().toISOString(), version: 7 }));
          return { ...cur!, description: `${cur!.description} +again` };
        },
        { by: "me", cause: "describe" },
      ),
    );
    expect(calls).toBe(2);
    expect(notices).toHaveLength(1);
    expect((await readSegment(db.redis, "beta")).segment).toMatchObject({ description: "theirs +again", version: 8 });
    expect((await readEvents(db.redis, { count: 10 })).events.map((e) => e.detail.change)).toEqual([
      expect.stringMatching(/^created/),
      "description theirs → theirs +again",
    ]);
  });

  test("20 concurrent updates: no lost update", async () => {
    await putSegment(db.redis, { name: "race" }, { by });
    const clients = Array.from({ length: 4 }, () => connect(db.server.url));
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => updateSegment(clients[i % 4], "race", (cur) => ({ ...cur!, included: [...cur!.included, `u${i}`] }), { by: `w${i}`, cause: "include" })),
      );
    } finally {
      clients.forEach((c) => c.disconnect());
    }
    const { segment } = await readSegment(db.redis, "race");
    expect(segment!.version).toBe(21);
    expect([...segment!.included].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `u${i}`).sort());
  });
});

describe("deleting a segment", () => {
  test("refused while flags use it, naming every one; nothing written", async () => {
    await putSegment(db.redis, beta, { by });
    await putSegment(db.redis, { name: "staff", included: ["u1"] }, { by });
    await putFlag(db.redis, flagUsing("checkout", "beta"), { by });
    await putFlag(db.redis, flagUsing("banner", "staff", "beta"), { by });
    await putFlag(db.redis, flagUsing("other", "staff"), { by });
    await putFlag(db.redis, booleanFlag("plain", "web"), { by });
    const before = await snapshot(db.redis);
    const { notices, error } = await noticesDuring(db, () => deleteSegment(db.redis, "beta", { by }));
    expect(error).toBeInstanceOf(SegmentInUseError);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as SegmentInUseError).flags).toEqual(["banner", "checkout"]);
    expect((error as Error).message).toBe('segment "beta" is used by the rules of flags banner, checkout: remove those rules first');
    expect(await snapshot(db.redis)).toEqual(before);
    expect(notices).toEqual([]);
  });

  test("a notInSegment rule counts as a use too", async () => {
    await putSegment(db.redis, beta, { by });
    await putFlag(db.redis, { ...booleanFlag("f", "web"), rules: [{ match: "all", conditions: [{ op: "notInSegment", segment: "beta" }], variant: "on" }] }, { by });
    await expect(deleteSegment(db.redis, "beta", { by })).rejects.toThrow('segment "beta" is used by the rules of flag f: remove those rules first');
  });

  test("once no flag uses it: deleted with one event and one notice; absent → NotFoundError", async () => {
    await putSegment(db.redis, beta, { by });
    await putFlag(db.redis, flagUsing("checkout", "beta"), { by });
    await updateFlag(db.redis, "checkout", (cur) => ({ ...cur!, rules: cur!.rules.slice(0, 1) }), { by, cause: "rule remove" });
    let change!: Awaited<ReturnType<typeof deleteSegment>>;
    const { notices } = await noticesDuring(db, async () => (change = await deleteSegment(db.redis, "beta", { by: "bob", reason: "beta over" })));
    expect(change).toMatchObject({ old: { name: "beta", version: 1 }, new: undefined, summary: "deleted", repairs: [] });
    expect(notices.map((n) => JSON.parse(n))).toEqual([{ kind: "segment", id: "beta", eventId: change.eventId }]);
    const last = (await readEvents(db.redis, { count: 1 })).events[0];
    expect(last).toMatchObject({ id: change.eventId, kind: "segment", by: "bob", reason: "beta over", detail: { cause: "delete", name: "beta", change: "deleted" } });
    expect(await db.redis.exists(keys.segment("beta"))).toBe(0);
    expect(await db.redis.smembers(keys.segments)).toEqual([]);
    await expect(deleteSegment(db.redis, "beta", { by })).rejects.toThrow(NotFoundError);
    await expect(deleteSegment(db.redis, "beta", { by })).rejects.toThrow('segment "beta" does not exist');
  });

  test("a garbage segment can be deleted; garbage flags do not block it", async () => {
    await db.redis.sadd(keys.segments, "junk");
    await db.redis.set(keys.segment("junk"), "{{{");
    await db.redis.sadd(keys.flags, "broken", "hashed");
    await db.redis.set(keys.flag("broken"), '{"rules": "junk"}');
    await db.redis.hset(keys.flag("hashed"), "x", "y");
    const change = await deleteSegment(db.redis, "junk", { by });
    expect(change.old).toBeUndefined();
    expect(await db.redis.exists(keys.segment("junk"))).toBe(0);
    await db.redis.sadd(keys.segments, "hashed");
    await db.redis.hset(keys.segment("hashed"), "name", "hashed");
    await deleteSegment(db.redis, "hashed", { by });
    expect(await db.redis.exists(keys.segment("hashed"))).toBe(0);
    expect(await db.redis.smembers(keys.segments)).toEqual([]);
  });

  test("racing deletes and flag writes never leave a flag naming a deleted segment", async () => {
    const clients = Array.from({ length: 4 }, () => connect(db.server.url));
    try {
      for (let round = 0; round < 15; round++) {
        await db.redis.flushall();
        await putSegment(db.redis, beta, { by });
        const results = await Promise.allSettled([
          deleteSegment(clients[0], "beta", { by }),
          putFlag(clients[1], flagUsing("a", "beta"), { by }),
          putFlag(clients[2], flagUsing("b", "beta"), { by }),
          deleteSegment(clients[3], "beta", { by }),
        ]);
        // Each loser is told why: in use, missing segment, or already deleted.
        for (const r of results) if (r.status === "rejected") expect([SegmentInUseError, FlagValidationError, NotFoundError].some((c) => r.reason instanceof c)).toBe(true);
        const segmentExists = (await db.redis.exists(keys.segment("beta"))) === 1;
        const flagsUsing = (await Promise.all(["a", "b"].map((k) => readFlag(db.redis, k)))).filter((f) => f.flag !== undefined).length;
        if (!segmentExists) expect(flagsUsing).toBe(0);
        else expect(flagsUsing).toBeGreaterThan(0);
      }
    } finally {
      clients.forEach((c) => c.disconnect());
    }
  });
});

describe("a flag naming a segment that does not exist", () => {
  test("is refused with one problem per missing segment naming where it is used; nothing written", async () => {
    await putSegment(db.redis, beta, { by });
    const def: FlagDefinition = {
      ...booleanFlag("checkout", "web"),
      rules: [
        { match: "all", conditions: [{ attribute: "plan", op: "equals", value: "pro" }], variant: "on" },
        { match: "any", conditions: [{ op: "inSegment", segment: "beta" }, { op: "inSegment", segment: "staff" }], variant: "on" },
        { match: "all", conditions: [{ attribute: "country", op: "equals", value: "NL" }, { op: "notInSegment", segment: "interns" }], variant: "off" },
        { match: "all", conditions: [{ op: "inSegment", segment: "staff" }], variant: "off" },
      ],
    };
    const before = await snapshot(db.redis);
    const { notices, error } = await noticesDuring(db, () => putFlag(db.redis, def, { by }));
    expect(error).toBeInstanceOf(FlagValidationError);
    expect((error as Error).message).toBe(
      'Invalid flag "checkout": rules.1.conditions.1.segment: segment "staff" does not exist (create it with aviary flags segment set staff …); ' +
        'rules.2.conditions.1.segment: segment "interns" does not exist (create it with aviary flags segment set interns …)',
    );
    expect(await snapshot(db.redis)).toEqual(before);
    expect(notices).toEqual([]);
    // Once they exist, the same write goes through.
    await putSegment(db.redis, { name: "staff" }, { by });
    await putSegment(db.redis, { name: "interns" }, { by });
    expect((await putFlag(db.redis, def, { by })).new.rules).toHaveLength(4);
  });

  test("an indexed name whose definition is gone, or a definition not in the index, is missing too", async () => {
    await putSegment(db.redis, beta, { by });
    await db.redis.del(keys.segment("beta"));
    await expect(putFlag(db.redis, flagUsing("f", "beta"), { by })).rejects.toThrow(/segment "beta" does not exist/);
    await db.redis.set(keys.segment("beta"), "{}");
    await db.redis.srem(keys.segments, "beta");
    await expect(putFlag(db.redis, flagUsing("f", "beta"), { by })).rejects.toThrow(/segment "beta" does not exist/);
    expect(await db.redis.exists(keys.flag("f"))).toBe(0);
  });

  test("a segment index of the wrong type refuses a flag naming a segment, not a flag naming none", async () => {
    await db.redis.set(keys.segments, "junk");
    await expect(putFlag(db.redis, flagUsing("f", "beta"), { by })).rejects.toThrow('Redis key aviary:segments is a string of 4 bytes starting "junk", expected a set');
    expect(await db.redis.exists(keys.flag("f"))).toBe(0);
    await putFlag(db.redis, booleanFlag("plain", "web"), { by });
  });

  test("a flag still naming a segment removed by hand can be changed (a kill is never blocked)", async () => {
    await putSegment(db.redis, beta, { by });
    await putFlag(db.redis, flagUsing("checkout", "beta"), { by });
    await db.redis.del(keys.segment("beta"));
    await db.redis.srem(keys.segments, "beta");
    const kill = await updateFlag(db.redis, "checkout", (cur) => ({ ...cur!, enabled: false }), { by, reason: "5xx", cause: "kill" });
    expect(kill.new.enabled).toBe(false);
    // A flag that did not name it before is refused.
    await expect(putFlag(db.redis, flagUsing("other", "beta"), { by })).rejects.toThrow(/segment "beta" does not exist/);
  });
});
