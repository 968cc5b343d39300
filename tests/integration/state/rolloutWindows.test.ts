// The proxies' windows of a rollout step, on a real redis-server: each proxy's counts are kept
// (a day), the controller reads their sum, and garbage entries are skipped and named.
import { InvalidInputError } from "../../../core/errors";
import { EMPTY_WINDOW } from "../../../core/rollout/sumWindows";
import { keys } from "../../../state/keys";
import { readWindows, recordWindow, WINDOW_TTL_SECONDS } from "../../../state/rollout";
import { BOUNDS_MS, roleWindow, window } from "../../support/rolloutFixtures";
import { snapshot } from "../../support/redisWrites";
import { useRedis } from "../../support/useRedis";

const db = useRedis();
const id = "2.0.0@2026-12-01T10:00:00.000Z";
const key = keys.rolloutWindow(id, 1);
const started = "2026-12-01T10:02:00.000Z";

describe("recordWindow and readWindows", () => {
  test("sums every proxy's counts, latency bucket by bucket", async () => {
    await recordWindow(db.redis, id, 1, started, "proxy-1", window(roleWindow(100, 2, 10), roleWindow(1000, 1, 5)));
    await recordWindow(db.redis, id, 1, started, "proxy-2", window(roleWindow(50, 1, 0), roleWindow(900, 0, 1)));
    await recordWindow(db.redis, id, 1, started, "proxy-3", window(roleWindow(0, 0), roleWindow(0, 0)));
    const r = await readWindows(db.redis, id, 1, started);
    expect(r).toEqual({ sum: window(roleWindow(150, 3, 10), roleWindow(1900, 1, 6)), proxies: 3, problems: [] });
  });

  test("a proxy's later window replaces its earlier one (they are cumulative), and the key expires a day after the last write", async () => {
    await recordWindow(db.redis, id, 1, started, "proxy-1", window(roleWindow(10, 0), roleWindow(100, 0)));
    await db.redis.expire(key, 5);
    await recordWindow(db.redis, id, 1, started, "proxy-1", window(roleWindow(20, 1), roleWindow(200, 0)));
    expect((await readWindows(db.redis, id, 1, started)).sum).toEqual(window(roleWindow(20, 1), roleWindow(200, 0)));
    const ttl = await db.redis.ttl(key);
    expect(ttl).toBeGreaterThan(WINDOW_TTL_SECONDS - 60);
    expect(ttl).toBeLessThanOrEqual(WINDOW_TTL_SECONDS);
  });

  test("windows of another step or rollout are not summed", async () => {
    await recordWindow(db.redis, id, 0, started, "proxy-1", window(roleWindow(10, 0), roleWindow(100, 0)));
    await recordWindow(db.redis, "other@x", 1, started, "proxy-1", window(roleWindow(10, 0), roleWindow(100, 0)));
    expect(await readWindows(db.redis, id, 1, started)).toEqual({ sum: EMPTY_WINDOW, proxies: 0, problems: [] });
  });

  test("a resumed step sums only the windows of its new run: a proxy's window of the run before the resume is left out", async () => {
    const resumed = "2026-12-01T10:07:00.000Z";
    // proxy-1 saw the resume and starts again; proxy-2 still reports the run before it.
    await recordWindow(db.redis, id, 1, started, "proxy-1", window(roleWindow(500, 40), roleWindow(5000, 0)));
    await recordWindow(db.redis, id, 1, resumed, "proxy-1", window(roleWindow(30, 0), roleWindow(300, 0)));
    await recordWindow(db.redis, id, 1, started, "proxy-2", window(roleWindow(700, 50), roleWindow(7000, 0)));
    expect(await readWindows(db.redis, id, 1, resumed)).toEqual({ sum: window(roleWindow(30, 0), roleWindow(300, 0)), proxies: 1, problems: [] });
    // Once proxy-2 sees the resume too, its new window counts.
    await recordWindow(db.redis, id, 1, resumed, "proxy-2", window(roleWindow(20, 0), roleWindow(200, 0)));
    expect(await readWindows(db.redis, id, 1, resumed)).toEqual({ sum: window(roleWindow(50, 0), roleWindow(500, 0)), proxies: 2, problems: [] });
  });

  test("garbage entries are skipped, each named by its field; the rest are summed", async () => {
    await recordWindow(db.redis, id, 1, started, "good", window(roleWindow(100, 2), roleWindow(1000, 1)));
    const valid = JSON.parse((await db.redis.hget(key, "good"))!) as Record<string, unknown>;
    const other = [...BOUNDS_MS.slice(0, -1), 9000];
    await db.redis.hset(key, {
      notjson: "{junk",
      toomany: JSON.stringify({ ...valid, canary: { ...roleWindow(10, 0), errors5xx: 11 } }),
      increasing: JSON.stringify({ ...valid, production: { ...roleWindow(10, 0), latency: { boundsMs: BOUNDS_MS, counts: [1, 2, ...BOUNDS_MS.slice(1).map(() => 0)] } } }),
      shape: JSON.stringify({ ...valid, canary: { requests: -1, errors5xx: 0, latency: { boundsMs: [5], counts: [1] } } }),
      nowhen: JSON.stringify({ canary: valid.canary, production: valid.production }),
      huge: "x".repeat(20_000),
      otherbounds: JSON.stringify({ ...valid, canary: { requests: 5, errors5xx: 0, latency: { boundsMs: other, counts: [5, ...other.map(() => 0)] } }, production: { requests: 5, errors5xx: 0, latency: { boundsMs: other, counts: [5, ...other.map(() => 0)] } } }),
    });
    const r = await readWindows(db.redis, id, 1, started);
    expect(r.sum).toEqual(window(roleWindow(100, 2), roleWindow(1000, 1)));
    expect(r.proxies).toBe(1);
    const at = `${key} field`;
    expect(r.problems.sort()).toEqual(
      [
        `${at} "notjson": not JSON (5 characters starting "{junk"); skipped`,
        `${at} "toomany": canary.errors5xx: must not exceed requests; skipped`,
        `${at} "increasing": production.latency.counts: must not increase along the buckets (they are cumulative); skipped`,
        `${at} "shape": canary.requests: must be a count (an integer ≥ 0); canary.latency.counts: must have one more entry than boundsMs; skipped`,
        `${at} "nowhen": stepStartedAt: must be an ISO 8601 time; at: must be an ISO 8601 time; skipped`,
        `${at} "huge": over the 16384-byte limit (20000 bytes starting "${"x".repeat(40)}"); skipped`,
        `${at} "otherbounds": latency bounds differ from the other proxies'; skipped`,
      ].sort(),
    );
  });

  test("a window key of another type reads as no windows, named; the next record replaces it", async () => {
    await db.redis.set(key, "junk");
    expect(await readWindows(db.redis, id, 1, started)).toEqual({ sum: EMPTY_WINDOW, proxies: 0, problems: [`Redis key ${key} is a string of 4 bytes starting "junk", expected a hash`] });
    const repairs: string[] = [];
    await recordWindow(db.redis, id, 1, started, "proxy-1", window(roleWindow(10, 0), roleWindow(100, 0)), (p) => repairs.push(p));
    expect(repairs).toEqual([`Redis key ${key} is a string of 4 bytes starting "junk", expected a hash; repaired (deleted)`]);
    expect((await readWindows(db.redis, id, 1, started)).proxies).toBe(1);
  });

  test.each([
    ["an empty rollout id", "", 1, started, "p1", window(roleWindow(1, 0), roleWindow(1, 0)), /Invalid rolloutId/],
    ["a fractional step", id, 1.5, started, "p1", window(roleWindow(1, 0), roleWindow(1, 0)), /Invalid step 1.5/],
    ["a proxy id with a space", id, 1, started, "p 1", window(roleWindow(1, 0), roleWindow(1, 0)), /Invalid proxy id/],
    ["a step start that is not a time", id, 1, "yesterday", "p1", window(roleWindow(1, 0), roleWindow(1, 0)), /Invalid window: stepStartedAt: must be an ISO 8601 time/],
    ["more errors than requests", id, 1, started, "p1", window(roleWindow(1, 2), roleWindow(1, 0)), /Invalid window: canary\.errors5xx: must not exceed requests/],
  ])("invalid input (%s) writes nothing", async (_label, rolloutId, step, stepStartedAt, proxy, w, message) => {
    const before = await snapshot(db.redis);
    await expect(recordWindow(db.redis, rolloutId, step, stepStartedAt, proxy, w)).rejects.toThrow(InvalidInputError);
    await expect(recordWindow(db.redis, rolloutId, step, stepStartedAt, proxy, w)).rejects.toThrow(message);
    expect(await snapshot(db.redis)).toEqual(before);
  });
});
