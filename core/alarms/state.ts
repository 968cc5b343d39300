// The states a CloudWatch alarm reports (StateValue), as local mode's evaluator reports them too.

export const ALARM_STATES = ["OK", "ALARM", "INSUFFICIENT_DATA"] as const;

export type AlarmState = (typeof ALARM_STATES)[number];

export function isAlarmState(value: unknown): value is AlarmState {
  return (ALARM_STATES as readonly unknown[]).includes(value);
}
