// How Aviary names its CloudWatch metrics: namespaces, metric names and dimensions. The agent
// publishes under these names, local mode records under them and the alarms read them, so a
// rename here moves all three together (an alarm reading a name nobody publishes sees nothing).

/** Metrics that the proxy agent publishes (high resolution, per role). */
export const PROXY_NAMESPACE = "Aviary/Proxy";
export const PROXY_METRICS = { requests: "Requests", errors5xx: "Errors5xx", latencyP99: "LatencyP99Ms", judgeAborts: "CanaryJudgeAborts" } as const;

/** Metrics of the production fleet: EC2's own CPU, and memory from the CloudWatch agent. */
export const FLEET_METRICS = {
  cpu: { namespace: "AWS/EC2", metricName: "CPUUtilization" },
  memory: { namespace: "CWAgent", metricName: "mem_used_percent" },
} as const;

/** Dimensions of a proxy metric. `D` is the value type: string at run time, pulumi.Input<string> on AWS. */
export function proxyDimensions<D>(deployment: D, role: D): { Deployment: D; Role: D } {
  return { Deployment: deployment, Role: role };
}

/** Dimensions of a fleet metric (the CloudWatch agent aggregates memory by the same one). */
export function fleetDimensions<D>(autoScalingGroupName: D): { AutoScalingGroupName: D } {
  return { AutoScalingGroupName: autoScalingGroupName };
}

/** One interval of one role's proxy numbers, as the agent samples them. */
export interface ProxyRoleSample {
  requests: number;
  errors5xx: number;
  latencyP99Ms: number | null;
  /** Canary role only: rollouts this proxy's judge aborted in the interval (absent for production). */
  judgeAborts?: number;
}

export interface ProxyDatum {
  metricName: (typeof PROXY_METRICS)[keyof typeof PROXY_METRICS];
  unit: "Count" | "Milliseconds";
  value: number;
}

/** The data points one role's sample becomes. No traffic → no latency point; the alarm's treatMissingData handles the gap. */
export function proxyDatums(s: ProxyRoleSample): ProxyDatum[] {
  const data: ProxyDatum[] = [
    { metricName: PROXY_METRICS.requests, unit: "Count", value: s.requests },
    { metricName: PROXY_METRICS.errors5xx, unit: "Count", value: s.errors5xx },
  ];
  if (s.latencyP99Ms !== null) data.push({ metricName: PROXY_METRICS.latencyP99, unit: "Milliseconds", value: s.latencyP99Ms });
  if (s.judgeAborts !== undefined) data.push({ metricName: PROXY_METRICS.judgeAborts, unit: "Count", value: s.judgeAborts });
  return data;
}
