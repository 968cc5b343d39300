// The Lambda's parser of the CloudWatch alarm messages SNS delivers.
import { parseAlarmMessage } from "../../../lambda/alarmMessage";

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
