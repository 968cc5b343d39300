// Evaluates the alarm definitions that the Pulumi program declares (core/alarms/definitions.ts) the way
// CloudWatch does: per-period statistics, metric math, M-of-N datapoints, missing-data policy.
// Local periods are the declared ones divided by one factor, so a 10 s alarm period is 1 s locally.
import type { AlarmDefinition, MetricStat, Statistic } from "../core/alarms/definitions";
import type { AlarmState } from "../core/alarms/state";
import { alarmName } from "../core/alarms/catalogue";
import { compileMetricMath } from "./metricMath";
import { InvalidInputError, InvariantError, NotFoundError } from "../core/errors";

/** Identity of a metric stream: namespace, name and dimensions (stat-independent). */
export function metricKey(m: Pick<MetricStat<string>, "namespace" | "metricName" | "dimensions">): string {
  const dims = Object.keys(m.dimensions).sort().map((k) => `${k}=${m.dimensions[k]}`).join(",");
  return `${m.namespace}/${m.metricName}{${dims}}`;
}

function statistic(stat: Statistic, xs: readonly number[]): number {
  switch (stat) {
    case "Sum": return xs.reduce((a, b) => a + b, 0);
    case "Average": return xs.reduce((a, b) => a + b, 0) / xs.length;
    case "Maximum": return Math.max(...xs);
    case "Minimum": return Math.min(...xs);
    case "SampleCount": return xs.length;
  }
}

function breaches(def: AlarmDefinition<string>, v: number): boolean {
  switch (def.comparison) {
    case "GreaterThanOrEqualToThreshold": return v >= def.threshold;
    case "GreaterThanThreshold": return v > def.threshold;
    case "LessThanThreshold": return v < def.threshold;
    case "LessThanOrEqualToThreshold": return v <= def.threshold;
  }
}

export interface AlarmStatus {
  name: string;
  definition: AlarmDefinition<string>;
  state: AlarmState;
  reason: string;
  /** ms epoch of the last state change. */
  since: number;
  /** The newest complete period's value, if it had data (also while a SetAlarmState holds the state). */
  lastValue?: number;
  /** What put the alarm in its current state; absent until the first transition. */
  decision?: AlarmDecision;
}

/**
 * Why an alarm is in its state: either the datapoints of the evaluation that changed it (oldest
 * first, undefined = missing) or a SetAlarmState by someone (the controller re-arming it), which
 * says nothing about the metric (CloudWatch API reference, SetAlarmState: "Temporarily sets the
 * state of an alarm ... Metric alarms return to their actual state quickly").
 */
export type AlarmDecision =
  | { by: "evaluation"; at: number; datapoints: (number | undefined)[]; breaching: number; needed: number }
  | { by: "setAlarmState"; at: number; reason: string };

export interface AlarmTransition {
  name: string;
  definition: AlarmDefinition<string>;
  oldState: AlarmState;
  newState: AlarmState;
  reason: string;
  at: number;
}

interface Tracked extends AlarmStatus {
  periodMs: number;
  evaluate: (values: Readonly<Record<string, number>>) => number;
  /** Set by setState: no evaluation until this period index has completed (CloudWatch waits for the next period too). */
  holdUntilPeriod: number;
}

/** Samples older than this many periods of the slowest alarm are dropped. */
const KEEP_PERIODS = 2;

export class AlarmEvaluator {
  private readonly samples = new Map<string, { at: number; value: number }[]>();
  private readonly alarms: Tracked[];
  private readonly startPeriodOf: (periodMs: number) => number;
  private readonly horizonMs: number;

  constructor(definitions: readonly AlarmDefinition<string>[], deployment: string, periodFactor: number, startedAt: number) {
    if (!(periodFactor >= 1)) throw new InvalidInputError(`AlarmEvaluator: periodFactor must be >= 1 (got ${periodFactor})`);
    this.alarms = definitions.map((d) => {
      const single = d.metrics[0];
      if (!d.expression && d.metrics.length !== 1) throw new InvariantError(`alarm ${d.key}: without an expression it must read exactly one metric`);
      return {
        name: alarmName(deployment, d.key),
        definition: d,
        state: "INSUFFICIENT_DATA",
        reason: "Unchecked: initial alarm creation",
        since: startedAt,
        periodMs: (d.periodSeconds * 1000) / periodFactor,
        evaluate: d.expression ? compileMetricMath(d.expression) : (values) => values[single.id],
        holdUntilPeriod: -Infinity,
      };
    });
    // Periods that began before the evaluator existed have no samples: they are not datapoints.
    this.startPeriodOf = (periodMs) => Math.ceil(startedAt / periodMs);
    this.horizonMs = Math.max(...this.alarms.map((a) => a.periodMs * (a.definition.evaluationPeriods + KEEP_PERIODS)), 1000);
  }

  /** One raw observation of a metric stream (e.g. requests in the last second). */
  record(key: string, at: number, value: number): void {
    if (!Number.isFinite(value)) return;
    const list = this.samples.get(key) ?? [];
    list.push({ at, value });
    while (list.length > 0 && list[0].at < at - this.horizonMs) list.shift();
    this.samples.set(key, list);
  }

  /** Re-evaluates every alarm over its complete periods; returns the state changes. */
  evaluate(now: number): AlarmTransition[] {
    const out: AlarmTransition[] = [];
    for (const a of this.alarms) {
      const d = a.definition;
      const lastComplete = Math.floor(now / a.periodMs) - 1;
      const newest = lastComplete >= this.startPeriodOf(a.periodMs) ? this.datapoint(a, lastComplete) : undefined;
      a.lastValue = newest;
      if (lastComplete < a.holdUntilPeriod) continue;
      const first = Math.max(lastComplete - d.evaluationPeriods + 1, this.startPeriodOf(a.periodMs));
      let breaching = 0;
      let counted = 0;
      const datapoints: (number | undefined)[] = [];
      for (let p = first; p <= lastComplete; p++) {
        const v = this.datapoint(a, p);
        datapoints.push(v);
        if (v === undefined) {
          if (d.treatMissingData === "breaching") { breaching++; counted++; }
          else if (d.treatMissingData === "notBreaching") counted++;
          continue;
        }
        counted++;
        if (breaches(d, v)) breaching++;
      }
      const shown = newest === undefined ? "missing" : String(Number(newest.toFixed(2)));
      let next: AlarmState;
      let reason: string;
      if (breaching >= d.datapointsToAlarm) {
        next = "ALARM";
        reason = `Threshold Crossed: ${breaching} of the last ${d.evaluationPeriods} datapoints breached ${d.comparison} ${d.threshold} (newest ${shown}).`;
      } else if (counted > 0 && (counted >= d.evaluationPeriods || breaching + (d.evaluationPeriods - counted) < d.datapointsToAlarm)) {
        next = "OK";
        reason = `Threshold Crossed: ${breaching} of the last ${d.evaluationPeriods} datapoints breached ${d.comparison} ${d.threshold} (newest ${shown}).`;
      } else {
        continue; // not enough periods yet to decide either way
      }
      if (next !== a.state) {
        out.push({ name: a.name, definition: d, oldState: a.state, newState: next, reason, at: now });
        a.state = next;
        a.reason = reason;
        a.since = now;
        a.decision = { by: "evaluation", at: now, datapoints, breaching, needed: d.datapointsToAlarm };
      }
    }
    return out;
  }

  /** SetAlarmState: forces a state until the next complete period is evaluated. */
  setState(name: string, state: AlarmState, reason: string, now: number): AlarmTransition | undefined {
    const a = this.alarms.find((x) => x.name === name);
    if (!a) throw new NotFoundError(`no local alarm named ${name}`);
    a.holdUntilPeriod = Math.floor(now / a.periodMs);
    if (a.state === state) return undefined;
    const t: AlarmTransition = { name, definition: a.definition, oldState: a.state, newState: state, reason, at: now };
    a.state = state;
    a.reason = reason;
    a.since = now;
    a.decision = { by: "setAlarmState", at: now, reason };
    return t;
  }

  states(): AlarmStatus[] {
    return this.alarms.map(({ name, definition, state, reason, since, lastValue, decision }) => ({
      name, definition, state, reason, since,
      ...(lastValue === undefined ? {} : { lastValue }),
      ...(decision === undefined ? {} : { decision }),
    }));
  }

  private datapoint(a: Tracked, period: number): number | undefined {
    const from = period * a.periodMs;
    const to = from + a.periodMs;
    const values: Record<string, number> = {};
    for (const m of a.definition.metrics) {
      const xs = (this.samples.get(metricKey(m)) ?? []).filter((s) => s.at >= from && s.at < to).map((s) => s.value);
      if (xs.length === 0) return undefined;
      values[m.id] = statistic(m.stat, xs);
    }
    const v = a.evaluate(values);
    return Number.isFinite(v) ? v : undefined;
  }
}

/** The JSON CloudWatch puts in the SNS message of an alarm state change, for the same handler. */
export function cloudWatchMessage(t: AlarmTransition, region = "local"): string {
  const d = t.definition;
  const single = d.expression ? undefined : d.metrics[0];
  return JSON.stringify({
    AlarmName: t.name,
    AlarmDescription: d.description,
    AWSAccountId: "000000000000",
    NewStateValue: t.newState,
    NewStateReason: t.reason,
    StateChangeTime: new Date(t.at).toISOString().replace("Z", "+0000"),
    Region: region,
    AlarmArn: `arn:aws:cloudwatch:${region}:000000000000:alarm:${t.name}`,
    OldStateValue: t.oldState,
    Trigger: {
      ...(single
        ? {
            MetricName: single.metricName,
            Namespace: single.namespace,
            Statistic: single.stat.toUpperCase(),
            Dimensions: Object.entries(single.dimensions).map(([name, value]) => ({ name, value })),
          }
        : { Metrics: d.metrics.map((m) => ({ Id: m.id, MetricStat: { Metric: { Namespace: m.namespace, MetricName: m.metricName }, Stat: m.stat } })) }),
      Period: d.periodSeconds,
      EvaluationPeriods: d.evaluationPeriods,
      DatapointsToAlarm: d.datapointsToAlarm,
      ComparisonOperator: d.comparison,
      Threshold: d.threshold,
      TreatMissingData: d.treatMissingData,
    },
  });
}
