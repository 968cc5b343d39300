// Aviary's alarms as plain data. The Monitoring component turns them into CloudWatch alarms and
// the local runner evaluates the very same objects, so local mode and AWS cannot drift apart.
import type { Thresholds } from "../core/config/stackConfig";
import { FLEET_METRICS, fleetDimensions, PROXY_METRICS, PROXY_NAMESPACE, proxyDimensions } from "../core/metrics/naming";
import type { Role } from "../core/routing/role";

export type Comparison =
  | "GreaterThanOrEqualToThreshold"
  | "GreaterThanThreshold"
  | "LessThanThreshold"
  | "LessThanOrEqualToThreshold";
export type TreatMissingData = "missing" | "ignore" | "breaching" | "notBreaching";
export type Statistic = "Average" | "Sum" | "Maximum" | "Minimum" | "SampleCount";

/** What the controller does when the alarm enters ALARM. */
export type AlarmAction = "scaleOut" | "scaleIn" | "notify" | "rollbackCanary";

export const ALARM_KEYS = ["prod-cpu-high", "prod-cpu-low", "prod-memory-high", "canary-5xx-rate", "canary-p99-latency"] as const;
export type AlarmKey = (typeof ALARM_KEYS)[number];

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

export function prodAlarms<D>(t: Thresholds, src: AlarmSources<D>): AlarmDefinition<D>[] {
  const fleet = fleetDimensions(src.autoScalingGroupName);
  const cpu: MetricStat<D> = { id: "cpu", ...FLEET_METRICS.cpu, stat: "Average", dimensions: fleet };
  return [
    {
      key: "prod-cpu-high",
      role: "prod",
      action: "scaleOut",
      description: `Production fleet average CPU >= ${t.scaleOutCpu}%: the controller adds instances.`,
      metrics: [cpu],
      periodSeconds: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      threshold: t.scaleOutCpu,
      comparison: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    },
    {
      key: "prod-cpu-low",
      role: "prod",
      action: "scaleIn",
      description: `Production fleet average CPU <= ${t.scaleInCpu}% for 5 minutes: the controller removes the newest instance.`,
      metrics: [cpu],
      periodSeconds: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      threshold: t.scaleInCpu,
      comparison: "LessThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    },
    {
      key: "prod-memory-high",
      role: "prod",
      action: "notify",
      description: `A production instance uses >= ${t.memory}% of its memory: a person should look.`,
      metrics: [{ id: "mem", ...FLEET_METRICS.memory, stat: "Maximum", dimensions: fleet }],
      periodSeconds: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      threshold: t.memory,
      comparison: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    },
  ];
}

export function canaryAlarms<D>(t: Thresholds, src: Pick<AlarmSources<D>, "deployment">): AlarmDefinition<D>[] {
  const canary = proxyDimensions(src.deployment, "canary" as D);
  const metric = (id: string, metricName: string, stat: Statistic): MetricStat<D> => ({
    id,
    namespace: PROXY_NAMESPACE,
    metricName,
    stat,
    dimensions: canary,
  });
  return [
    {
      key: "canary-5xx-rate",
      role: "canary",
      action: "rollbackCanary",
      description: `Canary 5xx responses >= ${t.canaryErrorRate}% of its requests: the controller turns the canary off.`,
      metrics: [metric("requests", PROXY_METRICS.requests, "Sum"), metric("errors", PROXY_METRICS.errors5xx, "Sum")],
      // No requests means no evidence either way, not an error rate of 0/0.
      expression: "IF(requests > 0, 100 * errors / requests, 0)",
      periodSeconds: 10,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      threshold: t.canaryErrorRate,
      comparison: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    },
    {
      key: "canary-p99-latency",
      role: "canary",
      action: "rollbackCanary",
      description: `Canary p99 latency >= ${t.canaryP99Ms} ms: the controller turns the canary off.`,
      metrics: [metric("p99", PROXY_METRICS.latencyP99, "Maximum")],
      periodSeconds: 10,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      threshold: t.canaryP99Ms,
      comparison: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    },
  ];
}

/** CloudWatch alarm names are `<deployment>-<key>`; the controller maps a name back to its definition. */
export function alarmName(deployment: string, key: AlarmKey): string {
  return `${deployment}-${key}`;
}

export function alarmKeyOf(name: string): AlarmKey | undefined {
  return ALARM_KEYS.find((key) => name.endsWith(`-${key}`));
}
