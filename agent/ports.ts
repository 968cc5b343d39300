// What the agent's metrics loop needs from the outside world: somewhere to put each sample.
// AWS: CloudWatch (adapters/metricsSink/aws.ts); local mode: the alarm evaluator (adapters/metricsSink/local.ts).
import type { RoleMetrics } from "./metrics";

/** Where the per-role proxy metrics of one sampling interval go. */
export interface MetricsSink {
  publish(m: readonly RoleMetrics[]): Promise<void>;
}
