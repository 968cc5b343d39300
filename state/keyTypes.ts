// The Redis type each of Aviary's keys must hold: finding keys that hold another (named with
// badKeyMessage: type found vs expected, size and a short prefix, never the whole value), and
// repairing one a command failed on.
import type Redis from "ioredis";
import { keys } from "./keys";
import { badKeyMessage, foundValue, LUA_BAD_KEY, type FoundValue } from "./badKey";
import { keyError, WrongTypeError } from "./errors";

export type RedisType = "string" | "hash" | "set" | "zset" | "list" | "stream";

/** The keys one part of the state lives in: fixed keys, and optionally one key per index member. */
export interface KeyFamily {
  keys: readonly { key: string; type: RedisType }[];
  items?: { index: string; key: (member: string) => string; type: RedisType };
}

export const KEY_FAMILIES = {
  routing: { keys: [{ key: keys.routing, type: "hash" }] },
  backends: { keys: [{ key: keys.backends, type: "set" }], items: { index: keys.backends, key: keys.backend, type: "hash" } },
  flags: { keys: [{ key: keys.flags, type: "set" }], items: { index: keys.flags, key: keys.flag, type: "string" } },
  segments: { keys: [{ key: keys.segments, type: "set" }], items: { index: keys.segments, key: keys.segment, type: "string" } },
  events: { keys: [{ key: keys.events, type: "stream" }] },
  rollout: { keys: [{ key: keys.rollout, type: "string" }] },
} as const satisfies Record<string, KeyFamily>;

/** Members of an index checked per call: enough for any real fleet, bounded for a flooded set. */
const MAX_ITEMS = 1000;

const DESCRIBE_SCRIPT = `
${LUA_BAD_KEY}
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return false end
return describe_key(KEYS[1], t)
`;

/** What `key` holds (type, size, prefix), or undefined when it does not exist. */
export async function describeKey(redis: Redis, key: string): Promise<FoundValue | undefined> {
  const reply = (await redis.eval(DESCRIBE_SCRIPT, 1, key)) as unknown[] | null;
  return reply ? foundValue(reply) : undefined;
}

/** One message per key of `family` that holds the wrong type (absent keys are fine). */
export async function findWrongTypes(redis: Redis, family: KeyFamily): Promise<string[]> {
  const expected = new Map(family.keys.map((k) => [k.key, k.type]));
  if (family.items) {
    const { index, key, type } = family.items;
    if ((await redis.type(index)) === "set") {
      const [, members] = await redis.sscan(index, "0", "COUNT", MAX_ITEMS);
      for (const m of members.slice(0, MAX_ITEMS)) expected.set(key(m), type);
    }
  }
  const names = [...expected.keys()];
  const types = await Promise.all(names.map((k) => redis.type(k)));
  const problems: string[] = [];
  for (const [i, key] of names.entries()) {
    const want = expected.get(key)!;
    if (types[i] === "none" || types[i] === want) continue;
    const found = await describeKey(redis, key);
    if (found && found.type !== want) problems.push(badKeyMessage({ key, found, expected: `a ${want}` }));
  }
  return problems;
}

/**
 * Runs a reader's command on `key`; a WRONGTYPE reply becomes a problem naming what the key holds
 * (a reader reports another type as garbage like any other; the next write repairs it).
 */
export async function readOfType<T>(redis: Redis, key: string, type: RedisType, read: () => Promise<T>): Promise<{ value: T } | { problem: string }> {
  try {
    return { value: await read() };
  } catch (err) {
    if (!isWrongType(err)) throw err;
    const found = await describeKey(redis, key);
    return { problem: new WrongTypeError(key, found ?? { type: await redis.type(key), size: 0 }, type).message };
  }
}

const isWrongType = (err: unknown): boolean => (err as Error)?.message?.startsWith("WRONGTYPE") === true;

// Deletes the key only if it (still) has another type than expected.
const REPAIR_TYPE_SCRIPT = `
${LUA_BAD_KEY}
local key, expected = KEYS[1], ARGV[1]
local t = redis.call('TYPE', key).ok
if t == 'none' or t == expected then return false end
return delete_described(key, t)
`;

/**
 * Runs `op` on `key`; if Redis answers WRONGTYPE, deletes the key (reported through `onRepair`)
 * and runs `op` once more on the now empty key. Any other failure is rethrown naming the key.
 */
export async function repairingType<T>(
  redis: Redis,
  key: string,
  type: "hash" | "string" | "stream" | "set",
  op: () => Promise<T>,
  onRepair: (problem: string) => void,
): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (!isWrongType(err)) throw keyError(key, err);
  }
  const reply = (await redis.eval(REPAIR_TYPE_SCRIPT, 1, key, type)) as unknown[] | null;
  if (reply) onRepair(badKeyMessage({ key, found: foundValue(reply), expected: `a ${type}` }, "repaired (deleted)"));
  try {
    return await op();
  } catch (err) {
    throw keyError(key, err);
  }
}
