// EventBridge Scheduler's one-time schedule rules (awsRules/oneTimeSchedule.ts) as tables.
import { atExpression, checkSchedulerName, fireMinute, MIN_LEAD_MS, ScheduleNameError, wakeScheduleName } from "../../../awsRules/oneTimeSchedule";

const now = new Date("2026-12-01T16:00:00.000Z");

describe("fireMinute: the whole minute at or after the pause's end, never sooner than a minute from now", () => {
  test.each([
    // at, fires in the minute starting
    ["2026-12-01T16:05:00.000Z", "2026-12-01T16:05:00.000Z"],
    ["2026-12-01T16:05:00.001Z", "2026-12-01T16:06:00.000Z"],
    ["2026-12-01T16:05:30.000Z", "2026-12-01T16:06:00.000Z"],
    ["2026-12-01T16:05:59.999Z", "2026-12-01T16:06:00.000Z"],
    // Already passed, or too close: a minute from now at the earliest.
    ["2026-12-01T15:00:00.000Z", "2026-12-01T16:01:00.000Z"],
    ["2026-12-01T16:00:20.000Z", "2026-12-01T16:01:00.000Z"],
  ])("at %s fires in the minute from %s", (at, minute) => {
    const fired = fireMinute(new Date(at), now);
    expect(fired.toISOString()).toBe(minute);
    // Scheduler may fire anywhere in that minute: never before the pause ended.
    expect(fired.getTime()).toBeGreaterThanOrEqual(Date.parse(at));
    expect(fired.getTime()).toBeGreaterThanOrEqual(now.getTime() + MIN_LEAD_MS);
  });
});

test.each([
  ["2026-12-01T16:06:00.000Z", "at(2026-12-01T16:06:00)"],
  ["2027-01-09T03:04:00.000Z", "at(2027-01-09T03:04:00)"],
])("atExpression(%s) = %s (UTC, no zone suffix, seconds present)", (minute, expression) => {
  expect(atExpression(new Date(minute))).toBe(expression);
  expect(expression).toMatch(/^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/);
});

describe("schedule names", () => {
  test.each([
    ["a", true],
    ["rollout-0123456789abcdef-20261201T1606", true],
    ["x".repeat(64), true],
    ["x".repeat(65), false],
    ["", false],
    ["1.4.2@2026-12-01T16:00:00.000Z", false],
    ["has space", false],
    ["under_score.dot-dash", true],
  ])("%j valid: %p", (name, valid) => {
    if (valid) expect(checkSchedulerName(name)).toBe(name);
    else expect(() => checkSchedulerName(name)).toThrow(ScheduleNameError);
  });

  test("a wake-up's name: valid for any rollout id, the same for the same wake-up, new for another minute or rollout", () => {
    const minute = new Date("2026-12-01T16:06:00.000Z");
    const id = "1.4.2+build.7@2026-12-01T16:00:00.000Z";
    const name = wakeScheduleName(id, minute);
    expect(name).toMatch(/^rollout-[0-9a-f]{16}-20261201T1606$/);
    expect(wakeScheduleName(id, minute)).toBe(name);
    expect(wakeScheduleName(id, new Date("2026-12-01T16:07:00.000Z"))).not.toBe(name);
    expect(wakeScheduleName("1.4.3@2026-12-01T16:00:00.000Z", minute)).not.toBe(name);
    expect(wakeScheduleName(`${"v".repeat(64)}@2026-12-01T16:00:00.000Z`, minute).length).toBeLessThanOrEqual(64);
  });
});
