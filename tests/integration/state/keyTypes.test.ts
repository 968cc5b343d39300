// The one message for a key holding the wrong type or a garbage value: the key (and field), the
// type found with its size and a short prefix (never the whole value), the type expected, and
// what was done. The Lua copy that scripts write into Redis says the same words.
import type Redis from "ioredis";
import { badKeyMessage, describeFound, LUA_BAD_KEY, textFound, type BadKey } from "../../../state/badKey";
import { describeKey, findWrongTypes, KEY_FAMILIES } from "../../../state/keyTypes";
import { keys } from "../../../state/keys";
import { useRedis } from "../../support/useRedis";

describe("describeFound", () => {
  test.each([
    [{ type: "string", size: 5000, prefix: "junk-junk-" }, 'a string of 5000 bytes starting "junk-junk-"'],
    [{ type: "hash", size: 3, prefix: "f" }, 'a hash of 3 fields starting "f"'],
    [{ type: "set", size: 1, prefix: "m" }, 'a set of 1 member starting "m"'],
    [{ type: "stream", size: 2, prefix: "" }, "a stream of 2 entries"],
    [{ type: "string", size: 100, prefix: "p".repeat(100) }, `a string of 100 bytes starting "${"p".repeat(40)}"`],
    [{ type: "list" }, "a list"],
  ])("%j", (found, text) => expect(describeFound(found)).toBe(text));
});

const messages: [BadKey, string | undefined, string][] = [
  [{ key: "aviary:backends", found: { type: "list", size: 2, prefix: "p1" }, expected: "a set" }, undefined, 'Redis key aviary:backends is a list of 2 items starting "p1", expected a set'],
  [{ key: "aviary:routing", found: { type: "string", size: 7, prefix: "garbage" }, expected: "a hash" }, "repaired (deleted)", 'Redis key aviary:routing is a string of 7 bytes starting "garbage", expected a hash; repaired (deleted)'],
  [
    { key: "aviary:events", found: { type: "string", size: 10_485_760, prefix: "z".repeat(40) }, expected: "a stream" },
    undefined,
    `Redis key aviary:events is a string of 10485760 bytes starting "${"z".repeat(40)}", expected a stream`,
  ],
  [
    { key: "aviary:routing", field: "canaryWeight", found: { type: "string", size: 6, prefix: "ba/na\"na" }, expected: "an integer 0..100" },
    "nothing changed: set a weight",
    'Redis key aviary:routing field canaryWeight is a string of 6 bytes starting "ba/na\\"na", expected an integer 0..100; nothing changed: set a weight',
  ],
  [{ key: "aviary:routing", field: "canaryWeight", found: "missing", expected: "an integer 0..100" }, undefined, "Redis key aviary:routing field canaryWeight is missing, expected an integer 0..100"],
  [{ key: "aviary:events", found: { type: "stream", size: 0, prefix: "" }, expected: "a stream below the last ID" }, "repaired (moved to x)", "Redis key aviary:events is a stream of 0 entries, expected a stream below the last ID; repaired (moved to x)"],
];

test.each(messages)("badKeyMessage(%j, %j)", (bad, outcome, text) => {
  expect(badKeyMessage(bad, outcome)).toBe(text);
});

test("a text value read in TypeScript is its size in bytes and a prefix", () => {
  expect(textFound("é".repeat(100))).toEqual({ type: "string", size: 200, prefix: "é".repeat(40) });
});

describe("on a real redis-server", () => {
  const db = useRedis();

  // Lua side of the same table: found tables as Lua literals, nil for missing.
  const luaString = (s: string): string => JSON.stringify(s);
  const luaFound = (b: BadKey): string => (b.found === "missing" ? "nil" : `{${luaString(b.found.type)}, ${b.found.size}, ${luaString(b.found.prefix ?? "")}}`);

  test.each(messages)("the Lua bad_key_message says the same words: %j", async (bad, outcome, text) => {
    const args = [luaString(bad.key), bad.field === undefined ? "nil" : luaString(bad.field), luaFound(bad), luaString(bad.expected), outcome === undefined ? "nil" : luaString(outcome)];
    expect(await db.redis.eval(`${LUA_BAD_KEY}\nreturn bad_key_message(${args.join(", ")})`, 0)).toBe(text);
  });

  test.each<[string, (r: Redis) => Promise<unknown>, string]>([
    ["a string", (r) => r.set("k", "x".repeat(5000)), `a string of 5000 bytes starting "${"x".repeat(40)}"`],
    ["a hash", (r) => r.hset("k", "f", "v"), 'a hash of 1 field starting "f"'],
    ["a list", (r) => r.rpush("k", "a", "b"), 'a list of 2 items starting "a"'],
    ["a zset", (r) => r.zadd("k", 1, "m"), 'a zset of 1 member starting "m"'],
    ["a stream", (r) => r.xadd("k", "*", "f", "v"), "a stream of 1 entry"],
  ])("the Lua describe_key reads %s as TypeScript describes it", async (_label, plant, text) => {
    await plant(db.redis);
    const found = await describeKey(db.redis, "k");
    expect(found && describeFound(found)).toBe(text);
  });

  test("a wrong-type key of a family is named with its size and a short prefix; absent keys are fine", async () => {
    await db.redis.set(keys.events, "y".repeat(1 << 20));
    expect(await findWrongTypes(db.redis, KEY_FAMILIES.events)).toEqual([`Redis key aviary:events is a string of 1048576 bytes starting "${"y".repeat(40)}", expected a stream`]);
    expect(await findWrongTypes(db.redis, KEY_FAMILIES.routing)).toEqual([]);
  });

  test("segments: the index and each indexed definition are checked", async () => {
    await db.redis.sadd(keys.segments, "beta", "gone");
    await db.redis.hset(keys.segment("beta"), "name", "beta");
    expect(await findWrongTypes(db.redis, KEY_FAMILIES.segments)).toEqual(['Redis key aviary:segment:beta is a hash of 1 field starting "name", expected a string']);
    await db.redis.del(keys.segments);
    await db.redis.rpush(keys.segments, "beta");
    expect(await findWrongTypes(db.redis, KEY_FAMILIES.segments)).toEqual(['Redis key aviary:segments is a list of 1 item starting "beta", expected a set']);
  });
});
