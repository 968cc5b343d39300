// Aviary's alarms as plain data. The Monitoring component turns them into CloudWatch alarms and
// the local runner evaluates the very same objects, so local mode and AWS cannot drift apart.
// Each one is built from its catalogue entry (key, role, action, threshold field, description)
// plus what CloudWatch reads and how it judges, which is the part written here.
import { ALARM_CATALOGUE, thresholdOf, type AlarmAction, type AlarmKey, type AlarmThresholds } from "./catalogue";
import { FLEET_METRICS, fleetDimensions, PROXY_METRICS, PROXY_NAMESPACE, proxyDimensions } from "../metrics/naming";
import type { Role } from "../routing/role";

export type Comparison =
  | "GreaterThanOrEqualToThreshold"
  | "GreaterThanThreshold"
  | "LessThanThreshold"
  | "LessThanOrEqualToThreshold";
export type TreatMissingData = "missing" | "ignore" | "breaching" | "notBreaching";
export type Statistic = "Average" | "Sum" | "Maximum" | "Minimum" | "SampleCount";

/** One metric an alarm reads. `D` is the dimension value type: string locally, pulumi.Input<string> on AWS. */
export interface MetricStat<D> {
  id: string;
  namespace: string;
  metricName: string;
  stat: Statistic;
  dimensions: Record<string, D>;
}

export interface AlarmDefinition<D = string> {
  key: AlarmKey;
  role: Role;
  action: AlarmAction;
  description: string;
  metrics: MetricStat<D>[];
  /** Metric math over `metrics` ids; when absent the alarm reads the single metric directly. */
  expression?: string;
  periodSeconds: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparison: Comparison;
  treatMissingData: TreatMissingData;
}

/** Where the metrics come from: the prod fleet's ASG, and the deployment whose proxy publishes. */
export interface AlarmSources<D> {
  autoScalingGroupName: D;
  deployment: D;
}

/** What CloudWatch reads and how it judges: everything of an alarm that its catalogue entry does not say. */
type AlarmShape<D> = Pick<
  AlarmDefinition<D>,
  "metrics" | "expression" | "periodSeconds" | "evaluationPeriods" | "datapointsToAlarm" | "comparison" | "treatMissingData"
>;

function fromCatalogue<D>(key: AlarmKey, t: AlarmThresholds, shape: AlarmShape<D>): AlarmDefinition<D> {
  const entry = ALARM_CATALOGUE[key];
  const threshold = thresholdOf(entry, t);
  return {
    key,
    role: entry.role,
    action: entry.action,
    description: entry.describe(threshold),
    metrics: shape.metrics,
    ...(shape.expression === undefined ? {} : { expression: shape.expression }),
    periodSeconds: shape.periodSeconds,
    evaluationPeriods: shape.evaluationPeriods,
    datapointsToAlarm: shape.datapointsToAlarm,
    threshold,
    comparison: shape.comparison,
    treatMissingData: shape.treatMissingData,
  };
}

export function prodAlarms<D>(t: AlarmThresholds, src: AlarmSources<D>): AlarmDefinition<D>[] {
  const fleet = fleetDimensions(src.autoScalingGroupName);
  const cpu: MetricStat<D> = { id: "cpu", ...FLEET_METRICS.cpu, stat: "Average", dimensions: fleet };
  return [
    fromCatalogue("prod-cpu-high", t, {
      metrics: [cpu],
      periodSeconds: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparison: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    }),
    fromCatalogue("prod-cpu-low", t, {
      metrics: [cpu],
      periodSeconds: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparison: "LessThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    }),
    fromCatalogue("prod-memory-high", t, {
      metrics: [{ id: "mem", ...FLEET_METRICS.memory, stat: "Maximum", dimensions: fleet }],
      periodSeconds: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparison: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    }),
  ];
}

export function canaryAlarms<D>(t: AlarmThresholds, src: Pick<AlarmSources<D>, "deployment">): AlarmDefinition<D>[] {
  const canary = proxyDimensions(src.deployment, "canary" as D);
  const metric = (id: string, metricName: string, stat: Statistic): MetricStat<D> => ({
    id,
    namespace: PROXY_NAMESPACE,
    metricName,
    stat,
    dimensions: canary,
  });
  return [
    fromCatalogue("canary-5xx-rate", t, {
      metrics: [metric("requests", PROXY_METRICS.requests, "Sum"), metric("errors", PROXY_METRICS.errors5xx, "Sum")],
      // No requests means no evidence either way, not an error rate of 0/0.
      expression: "IF(requests > 0, 100 * errors / requests, 0)",
      periodSeconds: 10,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      comparison: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    }),
    fromCatalogue("canary-p99-latency", t, {
      metrics: [metric("p99", PROXY_METRICS.latencyP99, "Maximum")],
      periodSeconds: 10,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparison: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    }),
    // One abort is the whole signal: the first 10 s period holding it alarms.
    fromCatalogue("canary-judge-abort", t, {
      metrics: [metric("aborts", PROXY_METRICS.judgeAborts, "Sum")],
      periodSeconds: 10,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    }),
  ];
}
