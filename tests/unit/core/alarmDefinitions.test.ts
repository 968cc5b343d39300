import { canaryAlarms, prodAlarms } from "../../../core/alarms/definitions";
import { ALARM_KEYS, alarmKeyOf, alarmName } from "../../../core/alarms/catalogue";
import { DEFAULT_THRESHOLDS } from "../../../core/config/stackConfig";

const thresholds = { ...DEFAULT_THRESHOLDS, scaleOutCpu: 65, canaryErrorRate: 2 };

test("every alarm key is declared exactly once across the prod and canary sets", () => {
  const keys = [...prodAlarms(thresholds, { autoScalingGroupName: "asg", deployment: "d" }), ...canaryAlarms(thresholds, { deployment: "d" })].map((a) => a.key);
  expect(keys.sort()).toEqual([...ALARM_KEYS].sort());
});

test("thresholds come from stack config", () => {
  const prod = prodAlarms(thresholds, { autoScalingGroupName: "asg", deployment: "d" });
  expect(prod.find((a) => a.key === "prod-cpu-high")?.threshold).toBe(65);
  expect(prod.find((a) => a.key === "prod-cpu-high")?.metrics[0].dimensions).toEqual({ AutoScalingGroupName: "asg" });
  const rate = canaryAlarms(thresholds, { deployment: "aviary-prod" }).find((a) => a.key === "canary-5xx-rate");
  expect(rate?.threshold).toBe(2);
  expect(rate?.metrics.map((m) => m.dimensions)).toEqual([
    { Deployment: "aviary-prod", Role: "canary" },
    { Deployment: "aviary-prod", Role: "canary" },
  ]);
  // Every id the expression names is one of the metrics it reads.
  for (const id of rate?.expression?.match(/[a-z]+(?= [>*/])/g) ?? []) expect(rate?.metrics.map((m) => m.id)).toContain(id);
});

test("alarm names map back to their keys, and unknown names to nothing", () => {
  for (const key of ALARM_KEYS) expect(alarmKeyOf(alarmName("aviary-prod", key))).toBe(key);
  expect(alarmKeyOf("someone-elses-alarm")).toBeUndefined();
});

test("the judge-abort alarm sums the agents' abort counts over one 10 s period and fires on the first", () => {
  const abort = canaryAlarms(thresholds, { deployment: "aviary-prod" }).find((a) => a.key === "canary-judge-abort");
  expect(abort).toMatchObject({
    action: "rollbackCanary",
    metrics: [{ namespace: "Aviary/Proxy", metricName: "CanaryJudgeAborts", stat: "Sum", dimensions: { Deployment: "aviary-prod", Role: "canary" } }],
    periodSeconds: 10,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    threshold: 1,
    comparison: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
  });
});
