// How the dashboard presents an alarm: its CloudWatch state, what decided that state (the
// datapoints of the transition, or a SetAlarmState by the controller, which measures nothing),
// the latest datapoint on its own, and a tone. A scale-in alarm in ALARM while the fleet is at its
// minimum is informational: the alarm keeps its CloudWatch state (it must, to scale in later), but
// there is nothing for anyone to do.
import type { AlarmState } from "../../core/alarms/state";
import type { FleetState } from "../../core/controller/decide";
import type { AlarmStatus } from "../alarmEvaluator";

export type AlarmTone = "ok" | "alarm" | "info" | "unknown";

export interface AlarmView {
  name: string;
  key: string;
  state: AlarmState;
  tone: AlarmTone;
  reason: string;
  since: string;
  threshold: number;
  comparison: string;
  /** The newest complete period's datapoint, whatever decided the state. */
  lastValue?: number;
  /** One line: what put the alarm in its state, with the deciding values. */
  decidedBy: string;
  /** Extra context for the tone (e.g. why an ALARM is not red); empty when none. */
  note: string;
}

const OP: Record<string, string> = {
  GreaterThanOrEqualToThreshold: "≥",
  GreaterThanThreshold: ">",
  LessThanThreshold: "<",
  LessThanOrEqualToThreshold: "≤",
};

const num = (v: number | undefined): string => (v === undefined ? "missing" : String(Number(v.toFixed(1))));
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19) + "Z";

function decidedBy(a: AlarmStatus): string {
  const d = a.decision;
  if (!d) return "not evaluated yet";
  if (d.by === "setAlarmState") return `set to ${a.state} at ${clock(d.at)} by SetAlarmState (${d.reason}); not a measurement`;
  const op = OP[a.definition.comparison] ?? a.definition.comparison;
  return `evaluated at ${clock(d.at)}: datapoints [${d.datapoints.map(num).join(", ")}], ${d.breaching} of ${d.datapoints.length} ${op} ${a.definition.threshold} (ALARM needs ${d.needed} of ${a.definition.evaluationPeriods})`;
}

export function alarmView(a: AlarmStatus, fleet: FleetState): AlarmView {
  const atMin = a.definition.action === "scaleIn" && a.state === "ALARM" && fleet.desired <= fleet.min;
  const tone: AlarmTone = atMin ? "info" : a.state === "ALARM" ? "alarm" : a.state === "OK" ? "ok" : "unknown";
  return {
    name: a.name,
    key: a.definition.key,
    state: a.state,
    tone,
    reason: a.reason,
    since: new Date(a.since).toISOString(),
    threshold: a.definition.threshold,
    comparison: OP[a.definition.comparison] ?? a.definition.comparison,
    ...(a.lastValue === undefined ? {} : { lastValue: a.lastValue }),
    decidedBy: decidedBy(a),
    note: atMin ? `at minimum (${fleet.min}): nothing to scale in` : "",
  };
}
