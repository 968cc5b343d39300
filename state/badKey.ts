// A key that holds something Aviary never writes (another type, a garbage value): described by
// type, size and a short prefix (never in full), repaired by deleting it, and named in the message.
import type Redis from "ioredis";

/** Longest prefix of a bad value that reaches a log line. */
export const PREFIX_CHARS = 40;

/**
 * Lua fragment: describes the key `key` of type `t` as the table `found` = {type, size, prefix}.
 * Only counts and one element are read, so a huge value costs no more than a small one.
 */
export const LUA_DESCRIBE_KEY = `
local size, sample = 0, ''
if t == 'string' then size = redis.call('STRLEN', key); sample = redis.call('GETRANGE', key, 0, ${PREFIX_CHARS - 1})
elseif t == 'hash' then size = redis.call('HLEN', key); sample = redis.call('HSCAN', key, 0, 'COUNT', 1)[2][1] or ''
elseif t == 'list' then size = redis.call('LLEN', key); sample = redis.call('LINDEX', key, 0) or ''
elseif t == 'set' then size = redis.call('SCARD', key); sample = redis.call('SSCAN', key, 0, 'COUNT', 1)[2][1] or ''
elseif t == 'zset' then size = redis.call('ZCARD', key); sample = redis.call('ZRANGE', key, 0, 0)[1] or ''
elseif t == 'stream' then size = redis.call('XLEN', key) end
local found = {t, size, string.sub(sample, 1, ${PREFIX_CHARS})}
`;

export interface FoundValue {
  type: string;
  size: number;
  prefix: string;
}

const UNITS: Record<string, string> = { string: "bytes", hash: "fields", list: "items", set: "members", zset: "members", stream: "entries" };

/** "a string of 7 bytes starting "garbage"" */
export function describeFound({ type, size, prefix }: FoundValue): string {
  const start = prefix === "" ? "" : ` starting ${JSON.stringify(prefix.slice(0, PREFIX_CHARS))}`;
  return `a ${type} of ${size} ${UNITS[type] ?? "elements"}${start}`;
}

/** A text value read from Redis, bounded for a log line. */
export function describeText(value: string): string {
  return describeFound({ type: "string", size: Buffer.byteLength(value), prefix: value.slice(0, PREFIX_CHARS) });
}

/** The log line of a repair: names the key, what was there and what was expected. */
export function repairedMessage(key: string, found: FoundValue, expected: string, repair = "deleted"): string {
  return `aviary: Redis key ${key} is ${describeFound(found)}, expected ${expected}; repaired (${repair})`;
}

/** Parses the {type, size, prefix} table LUA_DESCRIBE_KEY builds (returned from a script). */
export function foundValue(reply: unknown[]): FoundValue {
  return { type: String(reply[0]), size: Number(reply[1]), prefix: String(reply[2] ?? "") };
}

/** An operation on a named key failed; the message names the key. */
export class RedisKeyError extends Error {
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`aviary: Redis key ${key}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "RedisKeyError";
  }
}

const isWrongType = (err: unknown): boolean => (err as Error)?.message?.startsWith("WRONGTYPE") === true;

// Deletes the key only if it (still) has another type than expected.
const REPAIR_TYPE_SCRIPT = `
local key, expected = KEYS[1], ARGV[1]
local t = redis.call('TYPE', key).ok
if t == 'none' or t == expected then return false end
${LUA_DESCRIBE_KEY}
redis.call('DEL', key)
return found
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
    if (!isWrongType(err)) throw new RedisKeyError(key, err);
  }
  const reply = (await redis.eval(REPAIR_TYPE_SCRIPT, 1, key, type)) as unknown[] | null;
  if (reply) onRepair(repairedMessage(key, foundValue(reply), `a ${type}`));
  try {
    return await op();
  } catch (err) {
    throw new RedisKeyError(key, err);
  }
}
