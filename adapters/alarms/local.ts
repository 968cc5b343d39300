// Alarms port in local mode: the local alarm evaluator stands in for CloudWatch alarms.
import type { AlarmState } from "../../core/alarms/state";
import type { Alarms } from "../../controller/ports";
import type { AlarmEvaluator, AlarmTransition } from "../../local/alarmEvaluator";

export class LocalAlarms implements Alarms {
  constructor(
    /** The evaluator starts after the fleet; no alarm reaches the controller before it does. */
    private readonly evaluator: () => AlarmEvaluator,
    /** Delivers a transition as the alarm's topic would. */
    private readonly publish: (t: AlarmTransition) => Promise<void>,
  ) {}

  async rearm(alarmName: string, reason: string): Promise<void> {
    const t = this.evaluator().setState(alarmName, "OK", reason, Date.now());
    // CloudWatch notifies on SetAlarmState too; deliver it after the current invocation returns.
    if (t) setImmediate(() => void this.publish(t));
  }

  async states(alarmNames: string[]): Promise<Record<string, AlarmState>> {
    return Object.fromEntries(this.evaluator().states().filter((s) => alarmNames.includes(s.name)).map((s) => [s.name, s.state]));
  }
}
