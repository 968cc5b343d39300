// Publishes the agent's per-role proxy metrics to CloudWatch (high resolution, so the 10 s canary
// alarms have data points to evaluate).
import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from "@aws-sdk/client-cloudwatch";
import { PROXY_METRICS, PROXY_NAMESPACE } from "../alarms/definitions";
import type { RoleMetrics } from "./metrics";

/** Port for wherever metrics go; CloudWatch on AWS, something else in local mode. */
export interface MetricsSink {
  publish(m: readonly RoleMetrics[]): Promise<void>;
}

/** Sends all roles' metrics in one PutMetricData call (6 datums, far below the 1000 per-call limit). */
export async function publishMetrics(client: CloudWatchClient, deployment: string, metrics: readonly RoleMetrics[]): Promise<void> {
  const data: MetricDatum[] = [];
  for (const m of metrics) {
    // Dimensions must match the alarm definitions exactly or the alarms read nothing.
    const base = { Dimensions: [{ Name: "Deployment", Value: deployment }, { Name: "Role", Value: m.role }], Timestamp: m.at, StorageResolution: 1 };
    data.push({ ...base, MetricName: PROXY_METRICS.requests, Unit: "Count", Value: m.requests });
    data.push({ ...base, MetricName: PROXY_METRICS.errors5xx, Unit: "Count", Value: m.errors5xx });
    // No traffic → no latency datum; the alarm's treatMissingData handles the gap.
    if (m.latencyP99Ms !== null) data.push({ ...base, MetricName: PROXY_METRICS.latencyP99, Unit: "Milliseconds", Value: m.latencyP99Ms });
  }
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
