// What a state write did to a real redis-server: every key byte for byte, and the change notices
// it published. Equal snapshots before and after mean nothing at all was written.
import type Redis from "ioredis";
import { connect } from "../../state/connection";
import { channels } from "../../state/keys";
import type { RedisHandle } from "./useRedis";

/** Every key with its type and DUMP bytes. */
export async function snapshot(redis: Redis): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of (await redis.keys("*")).sort()) {
    out[key] = `${await redis.type(key)} ${(await redis.dumpBuffer(key))?.toString("hex")}`;
  }
  return out;
}

/** Notices published on aviary:changes while `fn` runs (a sentinel publish marks the end), and what it threw. */
export async function noticesDuring(db: RedisHandle, fn: () => Promise<unknown>): Promise<{ notices: string[]; error: unknown }> {
  const sub = connect(db.server.url);
  const seen: string[] = [];
  let sentinel!: () => void;
  const done = new Promise<void>((r) => (sentinel = r));
  sub.on("message", (_c: string, m: string) => (m === "sentinel" ? sentinel() : seen.push(m)));
  await sub.subscribe(channels.changes);
  let error: unknown;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  await db.redis.publish(channels.changes, "sentinel");
  await done;
  sub.disconnect();
  return { notices: seen, error };
}
