// The backend registry heals itself: heartbeats rebuild a deleted index, garbage is reported, not
// silently dropped, and an absent or foreign hash is never half-revived by a heartbeat.
import { keys } from "../../../state/keys";
import { WrongTypeError } from "../../../state/errors";
import { heartbeat, listBackends, registerBackend } from "../../../state/registry";
import { useRedis } from "../../support/useRedis";

const db = useRedis();

const reg = (id: string, role: "prod" | "canary" = "prod") => ({ id, role, address: "127.0.0.1:9001", version: "1.0.0", ttlSeconds: 30 });

test("a deleted index is rebuilt by the next heartbeat of each live backend, TTL refreshed", async () => {
  await registerBackend(db.redis, reg("p1"));
  await registerBackend(db.redis, reg("p2"));
  await db.redis.del(keys.backends);
  expect((await listBackends(db.redis)).backends).toEqual([]);
  await db.redis.expire(keys.backend("p1"), 5);
  expect(await heartbeat(db.redis, "p1", 30)).toBe(true);
  expect(await heartbeat(db.redis, "p2", 30)).toBe(true);
  const list = await listBackends(db.redis);
  expect(list.backends.map((b) => b.id)).toEqual(["p1", "p2"]);
  expect(list.ttlMs.get("p1")).toBeGreaterThan(25_000);
});

test("heartbeat of an absent hash creates nothing: no hash, no index entry", async () => {
  expect(await heartbeat(db.redis, "gone", 30)).toBe(false);
  expect(await db.redis.exists(keys.backend("gone"))).toBe(0);
  expect(await db.redis.sismember(keys.backends, "gone")).toBe(0);
});

test.each([
  ["a string at the backend key", async () => void (await db.redis.set(keys.backend("p1"), "junk"))],
  ["another backend's hash", async () => void (await db.redis.hset(keys.backend("p1"), { id: "p9", role: "prod", address: "127.0.0.1:1", version: "1", registeredAt: new Date().toISOString() }))],
  ["a hash missing fields", async () => void (await db.redis.hset(keys.backend("p1"), { id: "p1", role: "prod" }))],
])("heartbeat over %s answers false (the app registers again) and indexes nothing foreign", async (_what, plant) => {
  await plant();
  const foreign = (await db.redis.type(keys.backend("p1"))) !== "hash" || (await db.redis.hget(keys.backend("p1"), "id")) !== "p1";
  expect(await heartbeat(db.redis, "p1", 30)).toBe(false);
  if (foreign) expect(await db.redis.sismember(keys.backends, "p1")).toBe(0);
  // The app's answer to false: register again, which rewrites the entry whole.
  await registerBackend(db.redis, reg("p1"));
  expect(await heartbeat(db.redis, "p1", 30)).toBe(true);
  expect((await listBackends(db.redis)).backends.map((b) => b.id)).toEqual(["p1"]);
});

test("listBackends reports ids whose hash is missing (pruned) and garbage ones, bounded", async () => {
  await registerBackend(db.redis, reg("p1"));
  await db.redis.sadd(keys.backends, "expired-one", "x".repeat(100_000), "p2");
  await db.redis.set(keys.backend("p2"), "not a hash");
  const list = await listBackends(db.redis);
  expect(list.backends.map((b) => b.id)).toEqual(["p1"]);
  expect(list.missing).toEqual(["expired-one"]);
  expect(list.problems).toHaveLength(2);
  expect(list.problems.find((p) => p.includes(keys.backend("p2")))).toMatch(/WRONGTYPE/);
  const invalid = list.problems.find((p) => p.includes("invalid id"));
  expect(invalid).toMatch(/100000 characters starting "x{40}"$/);
  expect(invalid!.length).toBeLessThan(300);
  expect(await db.redis.sismember(keys.backends, "expired-one")).toBe(0);
});

test("a non-set index is named in the error, and the next heartbeat replaces it", async () => {
  await registerBackend(db.redis, reg("p1"));
  await db.redis.del(keys.backends);
  await db.redis.set(keys.backends, "junk");
  await expect(listBackends(db.redis)).rejects.toThrow(WrongTypeError);
  await expect(listBackends(db.redis)).rejects.toThrow(`Redis key aviary:backends is a string of 4 bytes starting "junk", expected a set`);
  expect(await heartbeat(db.redis, "p1", 30)).toBe(true);
  expect((await listBackends(db.redis)).backends.map((b) => b.id)).toEqual(["p1"]);
});
