// What reaches the controller and cannot be acted on fails with a typed error (same messages):
// callers decide by class or code, never by text.
import { ConfigError, InvalidInputError, InvariantError } from "../../../core/errors";
import { decide } from "../../../core/controller/decide";
import { parseAlarmMessage, parseConfigInvocation } from "../../../lambda/alarmMessage";
import { handler } from "../../../lambda/handler";

describe("invalid input to the controller is an InvalidInputError", () => {
  test.each([
    ["an SNS body that is not JSON", () => parseAlarmMessage("not json"), /^alarm message is not JSON: /],
    ["an alarm message without its fields", () => parseAlarmMessage("{}"), /^alarm message is invalid: AlarmName: /],
    ["a configuration invocation with a weight over 100", () => parseConfigInvocation({ action: "setCanaryWeight", weight: 101 }), /^configuration invocation is invalid: weight: /],
    ["an unknown configuration action", () => parseConfigInvocation({ action: "canaryOn" }), /^configuration invocation is invalid: action: /],
  ])("%s", (_label, run, message) => {
    expect(run).toThrow(InvalidInputError);
    expect(run).toThrow(message);
  });
});

test("a scale decision without the fleet state is a bug in the caller: InvariantError", () => {
  const change = { alarmName: "aviary-prod-prod-cpu-high", oldState: "OK" as const, newState: "ALARM" as const, reason: "r", at: "2026-11-24T10:00:00.000Z" };
  const input = { event: { kind: "alarm" as const, change }, now: change.at, memory: { alarms: {} }, canary: { enabled: true, weight: 0 } };
  expect(() => decide(input, { step: 1, scaleOutCooldownSeconds: 0, scaleInCooldownSeconds: 0 })).toThrow(InvariantError);
});

describe("the Lambda without its environment", () => {
  const saved = process.env.REDIS_URL;
  beforeEach(() => delete process.env.REDIS_URL);
  afterEach(() => (saved === undefined ? delete process.env.REDIS_URL : (process.env.REDIS_URL = saved)));

  test("a configuration invocation fails with a ConfigError naming the variable", async () => {
    await expect(handler({ action: "canaryOff", reason: "abort" })).rejects.toBeInstanceOf(ConfigError);
    await expect(handler({ action: "canaryOff", reason: "abort" })).rejects.toThrow("controller: environment variable REDIS_URL is not set");
  });
});
