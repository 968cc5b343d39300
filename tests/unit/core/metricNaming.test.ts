import { FLEET_METRICS, fleetDimensions, PROXY_METRICS, PROXY_NAMESPACE, proxyDatums, proxyDimensions } from "../../../core/metrics/naming";

// The published names are what existing dashboards, alarms and IAM conditions match on.
test.each([
  ["proxy namespace", PROXY_NAMESPACE, "Aviary/Proxy"],
  ["requests", PROXY_METRICS.requests, "Requests"],
  ["5xx", PROXY_METRICS.errors5xx, "Errors5xx"],
  ["p99 latency", PROXY_METRICS.latencyP99, "LatencyP99Ms"],
  ["fleet CPU", `${FLEET_METRICS.cpu.namespace}/${FLEET_METRICS.cpu.metricName}`, "AWS/EC2/CPUUtilization"],
  ["fleet memory", `${FLEET_METRICS.memory.namespace}/${FLEET_METRICS.memory.metricName}`, "CWAgent/mem_used_percent"],
])("%s is named %s", (_what, actual, expected) => {
  expect(actual).toBe(expected);
});

test.each([
  ["proxy, canary", proxyDimensions("aviary-prod", "canary"), { Deployment: "aviary-prod", Role: "canary" }],
  ["proxy, prod", proxyDimensions("d", "prod"), { Deployment: "d", Role: "prod" }],
  ["fleet", fleetDimensions("asg-1"), { AutoScalingGroupName: "asg-1" }],
])("dimensions: %s", (_what, actual, expected) => {
  expect(actual).toEqual(expected);
});

test.each([
  [
    "with latency",
    { requests: 10, errors5xx: 2, latencyP99Ms: 120 },
    [
      { metricName: "Requests", unit: "Count", value: 10 },
      { metricName: "Errors5xx", unit: "Count", value: 2 },
      { metricName: "LatencyP99Ms", unit: "Milliseconds", value: 120 },
    ],
  ],
  [
    "without latency (no traffic): no latency point",
    { requests: 0, errors5xx: 0, latencyP99Ms: null },
    [
      { metricName: "Requests", unit: "Count", value: 0 },
      { metricName: "Errors5xx", unit: "Count", value: 0 },
    ],
  ],
  [
    "the canary's with the judge's abort count (0 too: the alarm sees the judge running)",
    { requests: 5, errors5xx: 1, latencyP99Ms: null, judgeAborts: 0 },
    [
      { metricName: "Requests", unit: "Count", value: 5 },
      { metricName: "Errors5xx", unit: "Count", value: 1 },
      { metricName: "CanaryJudgeAborts", unit: "Count", value: 0 },
    ],
  ],
])("datums %s", (_what, sample, expected) => {
  expect(proxyDatums(sample)).toEqual(expected);
});
