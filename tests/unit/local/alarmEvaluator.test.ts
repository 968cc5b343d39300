// The local evaluator reads the very alarm definitions the Pulumi program declares.
import { canaryAlarms, prodAlarms, type AlarmDefinition } from "../../../core/alarms/definitions";
import { DEFAULT_THRESHOLDS } from "../../../core/config/defaults";
import { AlarmEvaluator, cloudWatchMessage, metricKey } from "../../../local/alarmEvaluator";
import { compileMetricMath } from "../../../local/metricMath";
import { parseAlarmMessage } from "../../../lambda/alarmMessage";
import { actionOf } from "../../../core/controller/decide";

const DEPLOYMENT = "local";
const FACTOR = 10; // 10 s canary periods → 1 s, 60 s prod periods → 6 s
const canary = canaryAlarms<string>(DEFAULT_THRESHOLDS, { deployment: DEPLOYMENT });
const prod = prodAlarms<string>(DEFAULT_THRESHOLDS, { deployment: DEPLOYMENT, autoScalingGroupName: "local-fleet" });
const byKey = (defs: AlarmDefinition<string>[], key: string): AlarmDefinition<string> => defs.find((d) => d.key === key)!;
const rate = byKey(canary, "canary-5xx-rate");
const [requestsKey, errorsKey] = rate.metrics.map(metricKey);

/** Feeds `perSecond` samples (requests, errors) into consecutive 1 s periods starting at t0. */
function feed(ev: AlarmEvaluator, t0: number, perSecond: [number, number][]): void {
  perSecond.forEach(([req, err], i) => {
    const at = t0 + i * 1000 + 500;
    ev.record(requestsKey, at, req);
    ev.record(errorsKey, at, err);
  });
}

describe("metric math", () => {
  const f = compileMetricMath(rate.expression!);
  test.each([
    [{ requests: 100, errors: 5 }, 5],
    [{ requests: 0, errors: 0 }, 0],
    [{ requests: 3, errors: 3 }, 100],
  ])("%j → %d", (values, expected) => expect(f(values)).toBe(expected));
  test("unknown metric id and unsupported syntax are named", () => {
    expect(() => compileMetricMath("a + b")({ a: 1 })).toThrow(/no value for metric id "b"/);
    expect(() => compileMetricMath("SUM(a)")({ a: 1 })).toThrow(/only IF/);
  });
});

describe("canary 5xx rate (threshold 5%, 2 of 2 periods)", () => {
  const t0 = 1_000_000;
  test("two breaching 1 s periods → ALARM; healthy periods → OK", () => {
    const ev = new AlarmEvaluator([rate], DEPLOYMENT, FACTOR, t0);
    feed(ev, t0, [[100, 0], [100, 1]]);
    expect(ev.evaluate(t0 + 2000)).toEqual([expect.objectContaining({ name: "local-canary-5xx-rate", oldState: "INSUFFICIENT_DATA", newState: "OK" })]);
    feed(ev, t0 + 2000, [[100, 10], [50, 25]]);
    expect(ev.evaluate(t0 + 3000)).toEqual([]); // one breaching period is not enough
    const alarm = ev.evaluate(t0 + 4000);
    expect(alarm).toEqual([expect.objectContaining({ oldState: "OK", newState: "ALARM" })]);
    expect(alarm[0].reason).toMatch(/2 of the last 2 datapoints/);
    feed(ev, t0 + 4000, [[100, 0]]);
    expect(ev.evaluate(t0 + 5000)).toEqual([expect.objectContaining({ newState: "OK" })]);
  });

  test("exactly at the threshold breaches (GreaterThanOrEqualToThreshold); just under does not", () => {
    const at = new AlarmEvaluator([rate], DEPLOYMENT, FACTOR, t0);
    feed(at, t0, [[100, 5], [100, 5]]);
    expect(at.evaluate(t0 + 2000).map((t) => t.newState)).toEqual(["ALARM"]);
    const under = new AlarmEvaluator([rate], DEPLOYMENT, FACTOR, t0);
    feed(under, t0, [[1000, 49], [1000, 49]]);
    expect(under.evaluate(t0 + 2000).map((t) => t.newState)).toEqual(["OK"]);
  });

  test("no requests is not evidence: missing data is not breaching", () => {
    const ev = new AlarmEvaluator([rate], DEPLOYMENT, FACTOR, t0);
    expect(ev.evaluate(t0 + 5000).map((t) => t.newState)).toEqual(["OK"]);
  });

  test("setState (re-arm) holds until the next period, then a still-breaching alarm fires again", () => {
    const ev = new AlarmEvaluator([rate], DEPLOYMENT, FACTOR, t0);
    feed(ev, t0, [[10, 10], [10, 10], [10, 10], [10, 10]]);
    expect(ev.evaluate(t0 + 2000).map((t) => t.newState)).toEqual(["ALARM"]);
    expect(ev.setState("local-canary-5xx-rate", "OK", "re-armed", t0 + 2100)).toEqual(expect.objectContaining({ oldState: "ALARM", newState: "OK" }));
    expect(ev.evaluate(t0 + 2500)).toEqual([]);
    expect(ev.evaluate(t0 + 3000).map((t) => t.newState)).toEqual(["ALARM"]);
  });
});

test("scale-in alarm needs 5 of 5 low-CPU periods (6 s each at factor 10)", () => {
  const low = byKey(prod, "prod-cpu-low");
  const t0 = 6_000_000;
  const ev = new AlarmEvaluator([low], DEPLOYMENT, FACTOR, t0);
  const key = metricKey(low.metrics[0]);
  for (let s = 0; s < 24; s++) ev.record(key, t0 + s * 1000 + 100, 5);
  expect(ev.evaluate(t0 + 24_000)).toEqual([]); // 4 complete periods: undecided
  ev.record(key, t0 + 25_000, 5);
  expect(ev.evaluate(t0 + 30_000).map((t) => t.newState)).toEqual(["ALARM"]);
});

test("the SNS message the local evaluator emits is what the controller's parser accepts", () => {
  const ev = new AlarmEvaluator([rate], DEPLOYMENT, FACTOR, 0);
  feed(ev, 0, [[10, 10], [10, 10]]);
  const [t] = ev.evaluate(2000);
  const parsed = parseAlarmMessage(cloudWatchMessage(t));
  expect(parsed).toEqual(expect.objectContaining({ AlarmName: "local-canary-5xx-rate", NewStateValue: "ALARM", OldStateValue: "INSUFFICIENT_DATA" }));
  expect(new Date(Date.parse(parsed.StateChangeTime)).getTime()).toBe(2000);
});

describe("canary judge abort (≥ 1 abort in one 10 s period)", () => {
  const t0 = 1_000_000;
  const aborts = byKey(canary, "canary-judge-abort");
  const key = metricKey(aborts.metrics[0]);
  test("one abort in one period → ALARM, whose message the controller parses as a rollback; zero aborts → OK", () => {
    const ev = new AlarmEvaluator([aborts], DEPLOYMENT, FACTOR, t0);
    ev.record(key, t0 + 500, 0);
    expect(ev.evaluate(t0 + 1000).map((t) => t.newState)).toEqual(["OK"]);
    ev.record(key, t0 + 1500, 1);
    const alarm = ev.evaluate(t0 + 2000);
    expect(alarm.map((t) => t.newState)).toEqual(["ALARM"]);
    const parsed = parseAlarmMessage(cloudWatchMessage(alarm[0]));
    expect(parsed).toMatchObject({ AlarmName: "local-canary-judge-abort", NewStateValue: "ALARM" });
    expect(actionOf(parsed.AlarmName)).toEqual({ key: "canary-judge-abort", action: "rollbackCanary" });
    ev.record(key, t0 + 2500, 0);
    expect(ev.evaluate(t0 + 3000).map((t) => t.newState)).toEqual(["OK"]);
  });
});
