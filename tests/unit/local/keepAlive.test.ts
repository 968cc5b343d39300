// The restart policy local mode mirrors from the instances' systemd units (pure).
import { describeExit, KeepAlive, nextStart, SYSTEMD_RESTART } from "../../../local/keepAlive";
import { shouldApplyWeight } from "../../../local/keptState";
import { SERVICE_UNIT_TAIL } from "../../../components/systemdUnit";

const s = 1000;

test.each<[string, number[], number, ReturnType<typeof nextStart>]>([
  ["first crash: RestartSec=2", [0], 100 * s, { restart: true, delayMs: 2 * s }],
  ["second start within the window: the delay doubles", [0, 3 * s], 5 * s, { restart: true, delayMs: 4 * s }],
  ["fourth start within the window: 16 s", [0, 3 * s, 8 * s, 17 * s], 18 * s, { restart: true, delayMs: 16 * s }],
  ["fifth start within the window: the start limit, no more restarts", [0, 3 * s, 8 * s, 17 * s, 34 * s], 35 * s, { restart: false, reason: "started 5 times within 60 s" }],
  ["starts older than the window do not count: back to 2 s", [0, 3 * s, 8 * s, 17 * s, 34 * s], 200 * s, { restart: true, delayMs: 2 * s }],
])("%s", (_name, starts, now, expected) => {
  expect(nextStart(starts, now, SYSTEMD_RESTART)).toEqual(expected);
});

test("local mode restarts as the instances' units say: Restart=always, the same RestartSec", () => {
  expect(SERVICE_UNIT_TAIL).toMatch(/^Restart=always$/m);
  expect(SERVICE_UNIT_TAIL).toMatch(new RegExp(`^RestartSec=${SYSTEMD_RESTART.restartMs / 1000}$`, "m"));
});

test("the delay never exceeds RestartMaxDelaySec", () => {
  expect(nextStart([0, 1, 2, 3, 4, 5, 6], 7, { ...SYSTEMD_RESTART, burst: 100 })).toEqual({ restart: true, delayMs: SYSTEMD_RESTART.maxDelayMs });
});

test("an exit is described by its signal, else its code", () => {
  expect([describeExit(null, "SIGKILL"), describeExit(1, null), describeExit(0, null)]).toEqual(["signal SIGKILL", "code 1", "code 0"]);
});

test.each<[string, number, { canaryWeight: number } | undefined, boolean, boolean]>([
  ["first start (nothing applied yet)", 25, undefined, false, true],
  ["config unchanged: the weight in Redis (CLI, rollback) is kept", 25, { canaryWeight: 25 }, true, false],
  ["config changed since the last start: applied", 30, { canaryWeight: 25 }, true, true],
  ["Redis lost its routing: applied even if unchanged", 25, { canaryWeight: 25 }, false, true],
])("weight at start: %s", (_name, config, last, inRedis, apply) => {
  expect(shouldApplyWeight(config, last, inRedis)).toBe(apply);
});

describe("KeepAlive", () => {
  const policy = { restartMs: 10, maxDelayMs: 40, burst: 3, intervalMs: 60_000 };
  const record = () => {
    const seen: string[] = [];
    return { seen, hooks: { restarted: (n: string, how: string) => seen.push(`restarted ${n} ${how}`), gaveUp: (n: string, how: string, why: string) => seen.push(`gave up ${n} ${how}: ${why}`), failed: (n: string, e: Error) => seen.push(`failed ${n}: ${e.message}`) } };
  };
  const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test("a process that crashes at once is restarted with growing delays, then given up on", async () => {
    const { seen, hooks } = record();
    const keeper = new KeepAlive(hooks, policy);
    const start = (): void => {
      keeper.started("app");
      setImmediate(() => keeper.exited("app", 1, null, start)); // crashes right after each start
    };
    start();
    await settle(500);
    expect(seen).toEqual(["restarted app code 1", "restarted app code 1", "gave up app code 1: started 3 times within 60 s"]);
  });

  test("a start that throws counts as a start and is retried within the limit", async () => {
    const { seen, hooks } = record();
    const keeper = new KeepAlive(hooks, policy);
    keeper.started("redis");
    keeper.exited("redis", null, "SIGKILL", () => {
      keeper.started("redis");
      throw new Error("port busy");
    });
    await settle(500);
    expect(seen).toEqual(["failed redis: port busy", "failed redis: port busy", "gave up redis signal SIGKILL: started 3 times within 60 s"]);
  });

  test("stop() cancels a pending restart and ignores later exits", async () => {
    const { seen, hooks } = record();
    const keeper = new KeepAlive(hooks, policy);
    let starts = 0;
    keeper.started("agent");
    keeper.exited("agent", null, "SIGTERM", () => void (starts += 1));
    keeper.stop();
    keeper.exited("agent", 0, null, () => void (starts += 1));
    await settle(100);
    expect({ starts, seen }).toEqual({ starts: 0, seen: [] });
  });
});
