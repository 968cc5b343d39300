// The restart policy local mode mirrors from the instances' systemd units (pure).
import { describeExit, nextStart, SYSTEMD_RESTART } from "../local/keepAlive";
import { shouldApplyWeight } from "../local/keptState";

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
