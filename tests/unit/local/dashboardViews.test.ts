// The dashboard's pure parts: who may use it (Host / Origin), what decided an alarm's state and how
// it is shown, the split window after a routing change, and the chart's time buckets.
import { canaryAlarms, prodAlarms, type AlarmDefinition } from "../../../core/alarms/definitions";
import { DEFAULT_THRESHOLDS } from "../../../core/config/defaults";
import type { FleetState } from "../../../core/controller/decide";
import { REARM_REASON } from "../../../core/controller/decide";
import { AlarmEvaluator, metricKey, type AlarmStatus } from "../../../local/alarmEvaluator";
import type { TrafficPoint } from "../../../adapters/metricsSink/local";
import { alarmView } from "../../../local/dashboard/alarmView";
import { checkHost, checkWrite } from "../../../local/dashboard/origin";
import { chartSeries } from "../../../local/dashboard/series";
import { splitView } from "../../../local/dashboard/split";
import type { RoutingState } from "../../../state/routing";

const prod = prodAlarms<string>(DEFAULT_THRESHOLDS, { deployment: "local", autoScalingGroupName: "local-fleet" });
const canary = canaryAlarms<string>(DEFAULT_THRESHOLDS, { deployment: "local" });
const byKey = (defs: AlarmDefinition<string>[], key: string): AlarmDefinition<string> => defs.find((d) => d.key === key)!;

describe("Host and Origin", () => {
  test.each([
    ["127.0.0.1:8080", true],
    ["localhost:8080", true],
    ["LOCALHOST:8080", true],
    ["[::1]:8080", true],
    ["127.0.0.1:8081", false],
    ["127.0.0.1", false],
    ["evil.example:8080", false],
    ["rebind.test:8080", false],
    ["", false],
    [undefined, false],
  ])("Host %j → allowed %s", (host, ok) => {
    expect(checkHost(host, 8080).ok).toBe(ok);
  });

  test.each([
    ["127.0.0.1:8080", "http://127.0.0.1:8080", true],
    ["localhost:8080", "http://localhost:8080", true],
    ["127.0.0.1:8080", "http://evil.example", false],
    ["127.0.0.1:8080", "http://127.0.0.1:9999", false],
    ["127.0.0.1:8080", "null", false],
    ["127.0.0.1:8080", undefined, false],
    ["evil.example:8080", "http://127.0.0.1:8080", false],
  ])("write with Host %j, Origin %j → allowed %s", (host, origin, ok) => {
    expect(checkWrite(host, origin, 8080).ok).toBe(ok);
  });

  test("a refusal is a 403 that says where the dashboard is", () => {
    expect(checkHost("evil.example:8080", 8080)).toEqual({ ok: false, status: 403, message: expect.stringMatching(/not this dashboard's origin.*http:\/\/127\.0\.0\.1:8080/) });
  });
});

describe("alarms show what decided their state", () => {
  const cpuHigh = byKey(prod, "prod-cpu-high");
  const fleet: FleetState = { desired: 3, min: 2, max: 6, instances: [] };
  const cpuKey = metricKey(cpuHigh.metrics[0]);
  const periodMs = (cpuHigh.periodSeconds * 1000) / 10;

  test("an alarm re-armed to OK by the controller says so, and keeps the latest datapoint apart", () => {
    const t0 = 60_000 * 1000;
    const ev = new AlarmEvaluator([cpuHigh], "local", 10, t0);
    for (let p = 0; p < cpuHigh.evaluationPeriods; p++) ev.record(cpuKey, t0 + p * periodMs + 10, 95.1);
    const fired = ev.evaluate(t0 + cpuHigh.evaluationPeriods * periodMs);
    expect(fired.map((t) => t.newState)).toEqual(["ALARM"]);
    const [alarm] = ev.states();
    expect(alarm.decision).toEqual({ by: "evaluation", at: expect.any(Number), datapoints: Array(cpuHigh.evaluationPeriods).fill(95.1), breaching: cpuHigh.evaluationPeriods, needed: cpuHigh.datapointsToAlarm });

    ev.setState(alarm.name, "OK", REARM_REASON, t0 + cpuHigh.evaluationPeriods * periodMs + 5);
    const rearmed = ev.states()[0];
    expect(rearmed.decision).toEqual({ by: "setAlarmState", at: expect.any(Number), reason: REARM_REASON });
    const view = alarmView(rearmed, fleet);
    expect(view).toEqual(expect.objectContaining({ state: "OK", tone: "ok", lastValue: 95.1, threshold: 70 }));
    expect(view.decidedBy).toMatch(/SetAlarmState \(re-armed by controller.*not a measurement/);
  });

  test("an OK decided by datapoints names them and how many breached (M of N)", () => {
    const status: AlarmStatus = {
      name: "local-canary-5xx-rate", definition: { ...byKey(canary, "canary-5xx-rate"), evaluationPeriods: 3, datapointsToAlarm: 2 }, state: "OK", reason: "", since: 0, lastValue: 32.9,
      decision: { by: "evaluation", at: 0, datapoints: [0, 0, 32.9], breaching: 1, needed: 2 },
    };
    expect(alarmView(status, fleet).decidedBy).toBe("evaluated at 00:00:00Z: datapoints [0, 0, 32.9], 1 of 3 ≥ 5 (ALARM needs 2 of 3)");
  });

  test.each([
    ["prod-cpu-low", "ALARM", 2, "info", "at minimum (2): nothing to scale in"],
    ["prod-cpu-low", "ALARM", 3, "alarm", ""],
    ["prod-cpu-low", "OK", 2, "ok", ""],
    ["prod-cpu-high", "ALARM", 2, "alarm", ""],
    ["canary-5xx-rate", "INSUFFICIENT_DATA", 2, "unknown", ""],
  ] as const)("%s in %s with the fleet at %i (min 2) → tone %s", (key, state, desired, tone, note) => {
    const status: AlarmStatus = { name: `local-${key}`, definition: byKey([...prod, ...canary], key), state, reason: "", since: 0 };
    expect(alarmView(status, { desired, min: 2, max: 6, instances: [] })).toEqual(expect.objectContaining({ state, tone, note }));
  });
});

const point = (at: number, prodN: number, canaryN: number, errors = 0, p99: number | null = null): TrafficPoint => ({
  at, prod: { requests: prodN, errors5xx: 0, latencyP99Ms: null }, canary: { requests: canaryN, errors5xx: errors, latencyP99Ms: p99 }, canaryErrorRatePct: null, fleetCpuPct: null, fleetSize: 2,
});

describe("split", () => {
  const now = 1_000_000;
  const before = Array.from({ length: 8 }, (_, i) => point(now - 9500 + i * 1000, 77, 23));
  const after = [point(now - 1500, 100, 1), point(now - 500, 100, 0)];
  const routing = (enabled: boolean, changedAt: number): RoutingState => ({ canaryWeight: 25, canaryEnabled: enabled, changedBy: "controller", changedAt: new Date(changedAt).toISOString() });

  test("after a disable only traffic since the change counts, and the effective weight is 0", () => {
    const v = splitView([...before, ...after], routing(false, now - 2000), now, 10);
    expect(v).toEqual({ since: new Date(now - 2000).toISOString(), windowSeconds: 2, prod: 200, canary: 1, canaryPct: (100 * 1) / 201, effectiveWeight: 0 });
  });
  test("long after a change the window is the last 10 s", () => {
    const v = splitView(before, routing(true, now - 60_000), now, 10);
    expect(v).toEqual(expect.objectContaining({ windowSeconds: 10, prod: 8 * 77, canary: 8 * 23, canaryPct: 23, effectiveWeight: 25 }));
  });
  test("unreadable routing: the last 10 s, no effective weight", () => {
    expect(splitView(before, null, now, 10)).toEqual(expect.objectContaining({ windowSeconds: 10, effectiveWeight: null }));
  });
});

test("chart series: fixed buckets over the window as rates, gaps as null, thresholds carried", () => {
  const now = 1_000_000; // 2 s buckets: the last complete one is [998, 1000) s
  const points = [point(now - 4000, 10, 2, 1, 40), point(now - 3000, 10, 2, 0, 60), point(now - 100, 6, 0), point(now - 400_000, 999, 999)];
  const c = chartSeries(points, now, { windowSeconds: 300, stepSeconds: 2, thresholds: { canary5xxPct: 5, canaryP99Ms: 1500 } });
  expect(c.t).toHaveLength(150);
  expect(c.t.at(-1)).toBe(998);
  expect(c.t[0]).toBe(998 - 149 * 2);
  const i = c.t.indexOf(996);
  expect([c.prodRps[i], c.canaryRps[i], c.canary5xxPct[i], c.canaryP99Ms[i]]).toEqual([10, 2, 25, 60]);
  expect(c.prodRps.at(-1)).toBe(3);
  expect(c.canary5xxPct.at(-1)).toBeNull();
  expect(c.prodRps.reduce((a, b) => a + b, 0)).toBe(13); // the point older than the window is left out
  expect(c.thresholds).toEqual({ canary5xxPct: 5, canaryP99Ms: 1500 });
});
