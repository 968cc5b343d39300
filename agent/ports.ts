// What the agent needs from the outside world. Each port has its implementations under adapters/:
// the metrics sink (AWS: CloudWatch, adapters/metricsSink/aws.ts; local mode: the alarm evaluator,
// adapters/metricsSink/local.ts) and the routing backend (HAProxy, adapters/routingBackend/haproxy.ts).
import type { SlotAssignment } from "../core/routing/weights";
import type { RoleMetrics } from "./metrics";

/** Where the per-role proxy metrics of one sampling interval go. */
export interface MetricsSink {
  publish(m: readonly RoleMetrics[]): Promise<void>;
}

/** The proxy's data plane: takes the slot assignments that changed; throws if they did not all apply. */
export interface RoutingBackend {
  apply(changed: readonly SlotAssignment[]): Promise<void>;
}
