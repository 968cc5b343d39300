// The Redis type each of Aviary's keys must hold, and a message naming a key that holds another
// (type found vs expected; for a string, its size and a short prefix, never the whole value).
import type Redis from "ioredis";
import { keys } from "./keys";
import { boundedText } from "./boundedText";

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
  events: { keys: [{ key: keys.events, type: "stream" }] },
} as const satisfies Record<string, KeyFamily>;

/** Members of an index checked per call: enough for any real fleet, bounded for a flooded set. */
const MAX_ITEMS = 1000;
const PREFIX_BYTES = 32;

export function describeWrongType(key: string, found: string, expected: RedisType, sample?: { bytes: number; prefix: string }): string {
  const value = sample === undefined ? "" : ` (${boundedText(sample.prefix, PREFIX_BYTES, sample.bytes)})`;
  return `${key} is a ${found}${value}, expected a ${expected}`;
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
    const found = types[i];
    const want = expected.get(key)!;
    if (found === "none" || found === want) continue;
    const sample = found === "string" ? { bytes: await redis.strlen(key), prefix: await redis.getrange(key, 0, PREFIX_BYTES - 1) } : undefined;
    problems.push(describeWrongType(key, found, want, sample));
  }
  return problems;
}
