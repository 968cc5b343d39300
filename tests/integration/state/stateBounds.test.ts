// Bounded sizes and typed errors: the pure parts (table tests) and one real 10 MB notice.
import { exitCodeFor } from "../../../cli/exitCodes";
import { UsageError } from "../../../cli/common";
import { MAX_REASON, truncate } from "../../../core/bounds";
import { MAX_EVENT_FIELD, MAX_NOTICE, preview, type SizeUnit } from "../../../state/bounds";
import { parseRedisUrl, subscribeChanges } from "../../../state/connection";
import { InvalidInputError } from "../../../core/errors";
import { ConflictError, GarbageValueError, RedisKeyError, StateError, WrongTypeError } from "../../../state/errors";
import { RedisUnreachableError } from "../../../state/unreachable";
import { parseChangeNotice, parseEntry, readEvents } from "../../../state/events";
import { FlagValidationError } from "../../../state/flags";
import { SegmentInUseError, SegmentValidationError } from "../../../state/segments";
import { channels, keys } from "../../../state/keys";
import { useRedis } from "../../support/useRedis";

describe("truncate", () => {
  test.each([
    ["fits", "abc", 3, "abc"],
    ["empty", "", 10, ""],
    ["cut with marker", "a".repeat(100), 40, `${"a".repeat(13)}… [cut from 100 characters]`],
    ["marker longer than max keeps only the marker", "a".repeat(100), 5, "… [cut from 100 characters]"],
  ])("%s", (_label, text, max, expected) => {
    expect(truncate(text, max)).toBe(expected);
  });

  test.each([1001, 1023, 1100, 10_000_000])("a %d-character reason stored as exactly MAX_REASON characters", (n) => {
    const cut = truncate("r".repeat(n), MAX_REASON);
    expect(cut.length).toBe(MAX_REASON);
    expect(cut.endsWith(`[cut from ${n} characters]`)).toBe(true);
  });

  test("never splits a surrogate pair", () => {
    const text = "a".repeat(11) + "😀".repeat(50);
    const cut = truncate(text, 40);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(cut.length).toBeLessThanOrEqual(40);
  });
});

describe("preview", () => {
  test.each<[string, string, number | undefined, SizeUnit | undefined, string]>([
    ["short", "abc", undefined, undefined, '3 characters starting "abc"'],
    ["quotes are escaped", 'a"b', undefined, undefined, '3 characters starting "a\\"b"'],
    ["long: prefix and size only", "x".repeat(10_000_000), undefined, undefined, `10000000 characters starting "${"x".repeat(40)}"`],
    ["a prefix read from Redis with the size Redis reported", "abc", 1, "bytes", '1 byte starting "abc"'],
    ["empty", "", 0, "characters", "0 characters"],
  ])("%s", (_label, value, size, unit, expected) => {
    expect(preview(value, size, unit)).toBe(expected);
  });
});

describe("parseEntry", () => {
  const at = "2025-01-01T00:00:00.000Z";
  test.each([
    ["valid", ["kind", "flag", "at", at, "by", "me", "d:key", "x"], { kind: "flag", by: "me", detail: { key: "x" } }, []],
    ["a segment event", ["kind", "segment", "at", at, "by", "me", "d:name", "beta"], { kind: "segment", by: "me", detail: { name: "beta" } }, []],
    ["bad kind, shown as a prefix", ["kind", "k".repeat(100_000), "at", at, "by", "me"], undefined, [/kind cut to 4000 characters: 100000 characters starting "k{40}"$/, /invalid kind 4000 characters starting "k{40}"$/]],
    ["missing at", ["kind", "flag", "by", "me"], undefined, [/invalid at missing/]],
    ["missing by", ["kind", "flag", "at", at], undefined, [/invalid by missing/]],
    ["huge detail value cut, event kept", ["kind", "flag", "at", at, "by", "me", "d:change", "c".repeat(50_000)], { kind: "flag" }, [/d:change cut to 4000 characters: 50000 characters starting "c{40}"$/]],
    ["too many fields", Array.from({ length: 200 }, (_, i) => `f${i}`), undefined, [/100 fields, at most 64 are read/]],
  ])("%s", (_label, fields, event, problems) => {
    const parsed = parseEntry(["1-1", fields as string[]]);
    if (event === undefined) expect(parsed.event).toBeUndefined();
    else expect(parsed.event).toMatchObject(event);
    expect(parsed.problems).toHaveLength(problems.length);
    problems.forEach((p, i) => expect(parsed.problems[i]).toMatch(p));
    for (const p of parsed.problems) expect(p.length).toBeLessThan(200);
  });

  test("a cut detail value and a long reason fit their bounds", () => {
    const { event } = parseEntry(["1-1", ["kind", "flag", "at", at, "by", "me", "reason", "r".repeat(3000), "d:x", "v".repeat(9000)]]);
    expect(event!.reason!.length).toBe(MAX_REASON);
    expect(event!.detail.x.length).toBe(MAX_EVENT_FIELD);
  });
});

describe("parseChangeNotice", () => {
  test.each([
    ["routing", '{"kind":"routing","eventId":"1-1"}', { kind: "routing", eventId: "1-1" }],
    ["flag with id", '{"kind":"flag","eventId":"1-1","id":"f"}', { kind: "flag", eventId: "1-1", id: "f" }],
    ["segment with name", '{"kind":"segment","eventId":"1-1","id":"beta"}', { kind: "segment", eventId: "1-1", id: "beta" }],
    ["unknown fields dropped", '{"kind":"backend","eventId":"1-1","x":1}', { kind: "backend", eventId: "1-1" }],
    ["not JSON", "{{{", /not JSON/],
    ["null", "null", /missing kind\/eventId/],
    ["bad kind", '{"kind":"x","eventId":"1"}', /missing kind\/eventId/],
    ["id not a string", '{"kind":"flag","eventId":"1","id":5}', /id not a string/],
    ["oversized", `{"kind":"flag","eventId":"1","id":"${"j".repeat(MAX_NOTICE)}"}`, /over 1024 characters: \d+ characters starting "\{\\"kind/],
  ])("%s", (_label, message, expected) => {
    const parsed = parseChangeNotice(message);
    if (expected instanceof RegExp) expect(parsed).toMatch(expected);
    else expect(parsed).toEqual(expected);
  });
});

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

describe("typed errors pick the CLI's exit code", () => {
  test.each([
    ["usage", 2, new UsageError("x")],
    ["invalid input", 2, new InvalidInputError("x")],
    ["invalid flag", 2, new FlagValidationError("x")],
    ["invalid segment", 2, new SegmentValidationError("x")],
    ["segment in use", 2, new SegmentInUseError("beta", ["checkout"])],
    ["REDIS_URL missing", 2, thrownBy(() => parseRedisUrl(""))],
    ["wrong type", 3, new WrongTypeError("aviary:routing", { type: "string" }, "hash")],
    ["garbage value", 3, new GarbageValueError({ key: "aviary:routing", field: "canaryWeight", found: { type: "string", size: 1, prefix: "x" }, expected: "an integer 0..100" }, "set a weight")],
    ["conflict", 1, new ConflictError("busy")],
    ["connection", 1, new Error("Connection is closed.")],
    ["Redis unreachable", 1, new RedisUnreachableError("127.0.0.1:6379", "connection refused")],
    ["a command on a key failed", 1, new RedisKeyError("aviary:controller", new Error("OOM"))],
    ["a message that merely looks like a usage problem", 1, new Error("REDIS_URL is not set")],
  ])("%s → exit %d", (_label, code, err) => {
    expect(exitCodeFor(err)).toBe(code);
  });

  test("state errors carry their code, and the messages name the key, what it holds and what was expected", () => {
    expect(new WrongTypeError("aviary:events", { type: "list", size: 2, prefix: "a" }, "stream").message).toBe('Redis key aviary:events is a list of 2 items starting "a", expected a stream');
    const garbage = new GarbageValueError({ key: "aviary:routing", field: "canaryWeight", found: { type: "string", size: 6, prefix: "banana" }, expected: "an integer 0..100" }, "set a weight");
    expect(garbage.message).toBe('Redis key aviary:routing field canaryWeight is a string of 6 bytes starting "banana", expected an integer 0..100; nothing changed: set a weight');
    expect([new RedisUnreachableError("h:1", "timed out"), new RedisKeyError("k", new Error("x"))].map((e) => [e instanceof StateError, e.code, e.message])).toEqual([
      [true, "unreachable", "cannot reach Redis at h:1 (timed out)"],
      [true, "key-failed", "Redis key k: x"],
    ]);
  });
});

describe("on a real redis-server", () => {
  const db = useRedis();

  test("a 10 MB junk notice reaches subscribers as a size and a prefix, not in full", async () => {
    const problems: string[] = [];
    const close = await subscribeChanges(db.server.url, () => undefined, { onProblem: (p) => problems.push(p) });
    try {
      await db.redis.publish(channels.changes, "j".repeat(10 * 1024 * 1024));
      const deadline = Date.now() + 15_000;
      while (problems.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(problems).toEqual([expect.stringMatching(/over 1024 characters: 10485760 characters starting "j{40}"$/)]);
      expect(problems[0].length).toBeLessThan(200);
    } finally {
      await close();
    }
  });

  test("reading a wrong-type event stream names the key", async () => {
    await db.redis.set(keys.events, "junk");
    await expect(readEvents(db.redis)).rejects.toThrow('Redis key aviary:events is a string of 4 bytes starting "junk", expected a stream');
  });
});
