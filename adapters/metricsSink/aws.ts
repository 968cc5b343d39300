// The agent's metrics sink on AWS: per-role proxy metrics to CloudWatch (high resolution, so the
// 10 s canary alarms have data points to evaluate).
import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from "@aws-sdk/client-cloudwatch";
import type { RoleMetrics } from "../../agent/metrics";
import type { MetricsSink } from "../../agent/ports";
import { PROXY_NAMESPACE, proxyDatums, proxyDimensions } from "../../core/metrics/naming";

/** Sends all roles' metrics in one PutMetricData call (6 datums, far below the 1000 per-call limit). */
export async function publishMetrics(client: CloudWatchClient, deployment: string, metrics: readonly RoleMetrics[]): Promise<void> {
  const data: MetricDatum[] = metrics.flatMap((m) => {
    const Dimensions = Object.entries(proxyDimensions(deployment, m.role)).map(([Name, Value]) => ({ Name, Value }));
    return proxyDatums(m).map((d) => ({ Dimensions, Timestamp: m.at, StorageResolution: 1, MetricName: d.metricName, Unit: d.unit, Value: d.value }));
  });
  if (data.length === 0) return;
  await client.send(new PutMetricDataCommand({ Namespace: PROXY_NAMESPACE, MetricData: data }));
}

export class CloudWatchMetricsSink implements MetricsSink {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly deployment: string,
  ) {}

  publish(m: readonly RoleMetrics[]): Promise<void> {
    return publishMetrics(this.client, this.deployment, m);
  }
}
