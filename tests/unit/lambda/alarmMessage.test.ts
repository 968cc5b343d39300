// The Lambda's parsers: the CloudWatch alarm messages SNS delivers, and the configuration invocations.
import { parseAlarmMessage, parseConfigInvocation } from "../../../lambda/alarmMessage";

const alarmJson = (name: string, state = "ALARM") =>
  JSON.stringify({
    AlarmName: name,
    NewStateValue: state,
    OldStateValue: "OK",
    NewStateReason: "Threshold Crossed",
    StateChangeTime: "2026-11-23T16:00:00.000+0000",
    Trigger: { MetricName: "CPUUtilization", Namespace: "AWS/EC2" },
  });
describe("parseAlarmMessage", () => {
  it("parses a CloudWatch state change", () => {
    expect(parseAlarmMessage(alarmJson("aviary-prod-prod-cpu-high"))).toMatchObject({ AlarmName: "aviary-prod-prod-cpu-high", NewStateValue: "ALARM" });
  });
  it("names what is wrong", () => {
    expect(() => parseAlarmMessage("not json")).toThrow(/not JSON/);
    expect(() => parseAlarmMessage(JSON.stringify({ AlarmName: "x" }))).toThrow(/NewStateValue/);
    expect(() => parseAlarmMessage(alarmJson("x", "BROKEN"))).toThrow(/NewStateValue/);
  });
});

describe("parseConfigInvocation: rolloutTick", () => {
  test.each([
    // The heartbeat names no rollout (the stored one); a step's one-time schedule names its own.
    [{ action: "rolloutTick" }, { action: "rolloutTick" }],
    [{ action: "rolloutTick", rolloutId: "2.0.0@2026-12-01T16:00:00.000Z" }, { action: "rolloutTick", rolloutId: "2.0.0@2026-12-01T16:00:00.000Z" }],
  ])("%j is accepted", (input, parsed) => {
    expect(parseConfigInvocation(input)).toEqual(parsed);
  });

  test.each([
    [{ action: "rolloutTick", rolloutId: "" }, /rolloutId/],
    [{ action: "rolloutTick", rolloutId: "2.0.0 now" }, /rolloutId/],
    [{ action: "rolloutTick", rolloutId: 7 }, /rolloutId/],
  ])("%j is refused naming the field", (input, message) => {
    expect(() => parseConfigInvocation(input)).toThrow(message);
  });
});
