// The controller's store over the rollout (adapters/store/redis.ts), on a real redis-server: it
// writes as its own `by`, reports garbage through onProblem and never returns it as a rollout.
import { RedisControllerStore } from "../../../adapters/store/redis";
import { RolloutConflictError } from "../../../state/errors";
import { readEvents } from "../../../state/events";
import { keys } from "../../../state/keys";
import { recordWindow } from "../../../state/rollout";
import { readRouting } from "../../../state/routing";
import { roleWindow, rolloutState, window } from "../../support/rolloutFixtures";
import { useRedis } from "../../support/useRedis";

const db = useRedis();

function store(): { store: RedisControllerStore; problems: string[] } {
  const problems: string[] = [];
  return { store: new RedisControllerStore(db.redis, "controller", { ttlMs: 1000, waitMs: 300 }, (p) => problems.push(...p)), problems };
}

describe("the controller store's rollout", () => {
  test("writeRollout writes as the store's by, with the reason, and readRollout reads it back", async () => {
    const { store: s, problems } = store();
    expect(await s.readRollout()).toBeNull();
    const w = await s.writeRollout(rolloutState({ updatedBy: "someone" }), { weight: 5, enabled: true }, "start 2.0.0", null);
    expect(w.routing?.new).toEqual({ canaryWeight: 5, canaryEnabled: true });
    expect(await s.readRollout()).toEqual(rolloutState({ updatedBy: "controller", revision: 1 }));
    expect((await readRouting(db.redis)).state).toMatchObject({ changedBy: "controller", reason: "start 2.0.0" });
    expect((await readEvents(db.redis)).events).toEqual([expect.objectContaining({ id: w.eventId, kind: "rollout", by: "controller", reason: "start 2.0.0" })]);
    await expect(s.writeRollout(rolloutState({ step: 1 }), { weight: 25 }, "next", null)).rejects.toBeInstanceOf(RolloutConflictError);
    expect(problems).toEqual([]);
  });

  test("garbage reads as undefined and is reported", async () => {
    const { store: s, problems } = store();
    await db.redis.set(keys.rollout, "{junk");
    expect(await s.readRollout()).toBeUndefined();
    expect(problems).toEqual(['aviary:rollout: not JSON (5 characters starting "{junk")']);
  });

  test("readWindows sums the step's windows and reports the garbage ones", async () => {
    const { store: s, problems } = store();
    const { id, stepStartedAt } = rolloutState();
    await recordWindow(db.redis, id, 0, stepStartedAt, "proxy-1", window(roleWindow(10, 1), roleWindow(100, 0)));
    await recordWindow(db.redis, id, 0, stepStartedAt, "proxy-2", window(roleWindow(20, 0), roleWindow(200, 2)));
    await db.redis.hset(keys.rolloutWindow(id, 0), "proxy-3", "junk");
    const r = await s.readWindows(id, 0, stepStartedAt);
    expect(r.sum).toEqual(window(roleWindow(30, 1), roleWindow(300, 2)));
    expect(r.proxies).toBe(2);
    expect(problems).toEqual([`${keys.rolloutWindow(id, 0)} field "proxy-3": not JSON (4 characters starting "junk"); skipped`]);
  });
});
