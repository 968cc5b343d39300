// One part of a status report (routing, backends, flags, …) read on its own: a bad key breaks
// only its section, with a message naming the key; only an unreachable Redis fails the report.
import type Redis from "ioredis";
import { findWrongTypes, type KeyFamily } from "./keyTypes";
import { RedisUnreachableError } from "./unreachable";
import { boundProblem } from "./bounds";

/** What the report says about one section: ok, or broken with one message per problem. */
export interface SectionHealth {
  ok: boolean;
  problems: string[];
}

export interface Section<T> {
  value: T;
  health: SectionHealth;
}


const WRONGTYPE = /WRONGTYPE/;

/**
 * Runs `read`; on a Redis error other than "unreachable" the section is broken and shows
 * `fallback`. WRONGTYPE replies (thrown, or reported per item) are replaced by messages naming
 * the key, the type it holds and the type expected, found by checking `family`'s keys.
 */
export async function readSection<T>(
  read: () => Promise<{ value: T; problems: readonly string[] }>,
  fallback: T,
  source?: { redis: Redis; family: KeyFamily },
): Promise<Section<T>> {
  let value = fallback;
  let problems: string[];
  try {
    const r = await read();
    value = r.value;
    problems = [...r.problems];
  } catch (err) {
    if (err instanceof RedisUnreachableError) throw err;
    problems = [(err as Error).message];
  }
  if (source && problems.some((p) => WRONGTYPE.test(p))) {
    const wrong = await findWrongTypes(source.redis, source.family);
    if (wrong.length > 0) problems = [...problems.filter((p) => !WRONGTYPE.test(p)), ...wrong];
  }
  problems = problems.map(boundProblem);
  return { value, health: { ok: problems.length === 0, problems } };
}
