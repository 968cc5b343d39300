// Alarms port on CloudWatch.
import { CloudWatchClient, DescribeAlarmsCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import type { AlarmState } from "../../core/alarms/state";
import type { Alarms } from "../../controller/ports";

export class AwsAlarms implements Alarms {
  constructor(private readonly client: CloudWatchClient) {}

  async rearm(alarmName: string, reason: string): Promise<void> {
    await this.client.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: "OK", StateReason: reason }));
  }

  async states(alarmNames: string[]): Promise<Record<string, AlarmState>> {
    if (alarmNames.length === 0) return {};
    const out = await this.client.send(new DescribeAlarmsCommand({ AlarmNames: alarmNames, AlarmTypes: ["MetricAlarm"] }));
    const states: Record<string, AlarmState> = {};
    for (const a of out.MetricAlarms ?? []) if (a.AlarmName && a.StateValue) states[a.AlarmName] = a.StateValue;
    return states;
  }
}
