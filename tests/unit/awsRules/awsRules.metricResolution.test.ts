// The alarm-resolution rule on its own: periods, publishers, M of N and missing data.
import { cloudWatchAgentPublisher, ec2MonitoringPublisher, groupMetricsPublisher, judgeAlarm, putMetricDataPublisher, type AlarmShape, type MetricPublisher } from "../../../awsRules/metricResolution";
import type { TreatMissingData } from "../../../core/alarms/definitions";

const alarm = (periodSeconds: number, n: number, m: number, treatMissingData: TreatMissingData = "notBreaching"): AlarmShape => ({
  name: "a", metrics: [{ namespace: "NS", metricName: "M", periodSeconds }], evaluationPeriods: n, datapointsToAlarm: m, treatMissingData,
});
const basic = ec2MonitoringPublisher("fleet", false);
const detailed = ec2MonitoringPublisher("fleet", true);
const agent60 = cloudWatchAgentPublisher("fleet", 60);
const agent10 = cloudWatchAgentPublisher("fleet", 10);
const proxy = putMetricDataPublisher("proxy agent", 10, 1);
const proxyStandard = putMetricDataPublisher("proxy agent", 10, 60);
const group = groupMetricsPublisher("fleet", "1Minute");

test.each<[string, AlarmShape, MetricPublisher | undefined, boolean, boolean]>([
  // [case, alarm, publisher, every period backed, can reach ALARM]
  ["60 s 2-of-3 on basic EC2 monitoring (one point per 5 min)", alarm(60, 3, 2), basic, false, false],
  ["60 s 5-of-5 on basic EC2 monitoring", alarm(60, 5, 5), basic, false, false],
  ["60 s 1-of-3 on basic monitoring: backed nowhere near every period, yet one point can breach", alarm(60, 3, 1), basic, false, true],
  ["60 s 2-of-3 on detailed monitoring", alarm(60, 3, 2), detailed, true, true],
  ["300 s 2-of-3 on basic monitoring", alarm(300, 3, 2), basic, true, true],
  ["600 s over 10 points of 300 s, 2 per period", alarm(600, 2, 2), basic, true, true],
  ["60 s 2-of-3 on basic monitoring with breaching: fires on silence", alarm(60, 3, 2, "breaching"), basic, false, true],
  ["60 s 2-of-3 on basic monitoring with missing: still no 2 real points in 3 minutes", alarm(60, 3, 2, "missing"), basic, false, false],
  ["CWAgent every 60 s at 60 s periods", alarm(60, 3, 2), agent60, true, true],
  ["CWAgent every 10 s at 10 s periods (high resolution below 60 s)", alarm(10, 3, 2), agent10, true, true],
  ["CWAgent every 60 s at 10 s periods: standard resolution", alarm(10, 3, 2), agent60, false, false],
  ["proxy agent every 10 s, StorageResolution 1, at 10 s periods", alarm(10, 2, 2), proxy, true, true],
  ["proxy agent at 20 s periods", alarm(20, 3, 2), proxy, true, true],
  ["proxy agent without StorageResolution 1 at 10 s periods", alarm(10, 2, 2), proxyStandard, false, false],
  ["proxy agent every 10 s at 60 s periods", alarm(60, 3, 2), proxy, true, true],
  ["ASG group metrics at 60 s periods", alarm(60, 5, 5), group, true, true],
  ["a period of 45 s is not one CloudWatch accepts", alarm(45, 3, 2), proxy, false, false],
  ["more than a day of 60 s periods", alarm(60, 1441, 2), detailed, false, false],
  ["nothing publishes the metric", alarm(60, 3, 2), undefined, false, false],
  ["datapointsToAlarm above evaluationPeriods", alarm(60, 2, 3), detailed, false, false],
])("%s", (_case, shape, publisher, backed, reachable) => {
  const verdict = judgeAlarm(shape, () => publisher);
  expect([verdict.everyPeriodBacked, verdict.canReachAlarm]).toEqual([backed, reachable]);
  expect(verdict.problems.length === 0).toBe(backed && reachable);
});

test("a metric-math alarm is only as good as its worst input", () => {
  const shape: AlarmShape = {
    name: "rate",
    metrics: [{ namespace: "Aviary/Proxy", metricName: "Requests", periodSeconds: 10 }, { namespace: "AWS/EC2", metricName: "CPUUtilization", periodSeconds: 10 }],
    evaluationPeriods: 2, datapointsToAlarm: 2, treatMissingData: "notBreaching",
  };
  const verdict = judgeAlarm(shape, (m) => (m.namespace === "Aviary/Proxy" ? proxy : detailed));
  expect(verdict).toMatchObject({ everyPeriodBacked: false, canReachAlarm: false });
  expect(verdict.problems.join("\n")).toMatch(/CPUUtilization needs StorageResolution 1, but EC2 detailed monitoring of fleet stores it per minute/);
});

test("the messages name the alarm, the publisher and what it lacks", () => {
  const verdict = judgeAlarm({ ...alarm(60, 3, 2), name: "aviary-prod-prod-cpu-high" }, () => basic);
  expect(verdict.problems).toEqual([
    "aviary-prod-prod-cpu-high: NS/M at 60 s periods, but EC2 basic monitoring of fleet gives a datapoint only every 300 s",
    "aviary-prod-prod-cpu-high: 2 of 3 breaching datapoints needed, at most 1 of the 3 periods hold one (treatMissingData notBreaching)",
  ]);
});

test("publishers refuse what AWS refuses", () => {
  expect(() => groupMetricsPublisher("fleet", "5Minute")).toThrow(/must be 1Minute/);
  expect(() => putMetricDataPublisher("proxy agent", 10, 5)).toThrow(/StorageResolution must be 1 or 60/);
});
