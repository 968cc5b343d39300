// The dashboard's pure parts: who may use it (Host / Origin), what decided an alarm's state and how
// it is shown, the split window after a routing change, the chart's time buckets (canary and
// production side by side, the share asked for over time) and its event markers.
import { canaryAlarms, prodAlarms, type AlarmDefinition } from "../../../core/alarms/definitions";
import { DEFAULT_THRESHOLDS } from "../../../core/config/defaults";
import type { FleetState } from "../../../core/controller/decide";
import { REARM_REASON } from "../../../core/controller/decide";
import { AlarmEvaluator, metricKey, type AlarmStatus } from "../../../local/alarmEvaluator";
import type { TrafficPoint } from "../../../adapters/metricsSink/local";
import { alarmView } from "../../../local/dashboard/alarmView";
import { checkHost, checkWrite } from "../../../local/dashboard/origin";
import { chartSeries } from "../../../local/dashboard/series";
import { chartMarkers } from "../../../local/dashboard/markers";
import { askedWeightOverTime, splitView } from "../../../local/dashboard/split";
import type { Activity } from "../../../local/activity";
import type { AviaryEvent } from "../../../state/events";
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

const point = (at: number, prodN: number, canaryN: number, errors = 0, p99: number | null = null, prod?: { errors: number; p99: number | null; fleet: number }): TrafficPoint => ({
  at, prod: { requests: prodN, errors5xx: prod?.errors ?? 0, latencyP99Ms: prod?.p99 ?? null }, canary: { requests: canaryN, errors5xx: errors, latencyP99Ms: p99 }, canaryErrorRatePct: null, fleetCpuPct: null, fleetSize: prod?.fleet ?? 2,
});

const routingEvent = (atMs: number, from: [number, boolean], to: [number, boolean], reason?: string): AviaryEvent => ({
  id: `${atMs}-0`, at: new Date(atMs).toISOString(), kind: "routing", by: "controller", ...(reason ? { reason } : {}),
  detail: { cause: "weight", oldWeight: String(from[0]), oldEnabled: String(from[1]), newWeight: String(to[0]), newEnabled: String(to[1]) },
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
  const c = chartSeries(points, now, { windowSeconds: 300, stepSeconds: 2, thresholds: { canary5xxPct: 5, canaryP99Ms: 1500 }, routing: null, events: [], activity: [] });
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

test("chart series: production beside the canary in the same buckets, the share, and the fleet size at each bucket's last tick", () => {
  const now = 1_000_000;
  const points = [
    point(now - 4000, 90, 10, 1, 40, { errors: 0, p99: 20, fleet: 2 }),
    point(now - 3000, 90, 10, 0, 60, { errors: 9, p99: 25, fleet: 3 }),
  ];
  const c = chartSeries(points, now, { windowSeconds: 300, stepSeconds: 2, thresholds: { canary5xxPct: 5, canaryP99Ms: 1500 }, routing: null, events: [], activity: [] });
  const i = c.t.indexOf(996);
  expect([c.canarySharePct[i], c.canary5xxPct[i], c.prod5xxPct[i], c.canaryP99Ms[i], c.prodP99Ms[i], c.fleetSize[i]]).toEqual([10, 5, 5, 60, 25, 3]);
  expect([c.canarySharePct[i - 1], c.prod5xxPct[i - 1], c.prodP99Ms[i - 1], c.fleetSize[i - 1]]).toEqual([null, null, null, null]);
});

describe("the share routing asked for, over time", () => {
  const t0 = 1_000_000_000; // ms
  const events = [routingEvent(t0, [5, true], [25, true]), routingEvent(t0 + 10_000, [25, true], [25, false], "canary alarm")];
  const now: RoutingState = { canaryWeight: 25, canaryEnabled: false, changedBy: "controller", changedAt: new Date(t0 + 10_000).toISOString() };
  test.each([
    ["before the first change: what it changed from", t0 / 1000 - 5, 5],
    ["at the change", t0 / 1000, 25],
    ["between the changes", t0 / 1000 + 5, 25],
    ["after the disable: 0, the kept weight is not asked for", t0 / 1000 + 11, 0],
  ])("%s", (_what, t, want) => {
    expect(askedWeightOverTime([t], events, now)).toEqual([want]);
  });
  test("a rollout write that moved routing counts as a change; one that did not, does not", () => {
    const moved = { ...routingEvent(t0 + 20_000, [25, false], [50, true]), kind: "rollout", detail: { ...routingEvent(0, [25, false], [50, true]).detail, oldStatus: "paused", newStatus: "progressing", step: "2" } } as unknown as AviaryEvent;
    const still = { ...moved, at: new Date(t0 + 30_000).toISOString(), detail: { oldStatus: "progressing", newStatus: "paused", step: "2" } } as unknown as AviaryEvent;
    expect(askedWeightOverTime([t0 / 1000 + 21, t0 / 1000 + 31], [...events, moved, still], now)).toEqual([50, 50]);
  });
  test("without routing events: today's routing; unreadable routing and no events: unknown", () => {
    expect(askedWeightOverTime([1, 2], [], { ...now, canaryEnabled: true })).toEqual([25, 25]);
    expect(askedWeightOverTime([1], [], null)).toEqual([null]);
  });
  test("an event whose detail is garbage says nothing rather than a wrong number", () => {
    const bad: AviaryEvent = { ...events[0], detail: { newWeight: "x", newEnabled: "maybe" } };
    expect(askedWeightOverTime([t0 / 1000 + 1], [bad], now)).toEqual([null]);
  });
});

describe("event markers", () => {
  const t0 = 1_000_000_000;
  const alarm: Activity = { at: new Date(t0 + 2000).toISOString(), kind: "alarm", title: "canary-5xx-rate → ALARM", text: "threshold crossed" };
  const note: Activity = { at: new Date(t0 + 3000).toISOString(), kind: "notification", title: "sent", text: "" };
  const flag: AviaryEvent = { id: "f", at: new Date(t0 + 1000).toISOString(), kind: "flag", by: "dashboard", detail: { key: "x" } };
  const rollout = { id: "r", at: new Date(t0 + 4000).toISOString(), kind: "rollout", by: "controller", reason: "step 1 passed", detail: { oldStatus: "progressing", newStatus: "progressing", step: "1", weight: "25" } } as unknown as AviaryEvent;

  test("routing, rollout and alarm moments in the window, oldest first, each saying what happened; flags and notifications are not markers", () => {
    const m = chartMarkers([routingEvent(t0, [5, true], [25, true], "step 2"), flag, rollout], [alarm, note], t0 / 1000 - 1, t0 / 1000 + 10);
    expect(m).toEqual([
      { t: t0 / 1000, kind: "routing", label: "routing: weight 5→25 by controller (step 2)" },
      { t: t0 / 1000 + 2, kind: "alarm", label: "alarm canary-5xx-rate → ALARM" },
      { t: t0 / 1000 + 4, kind: "rollout", label: "rollout: progressing→progressing step 2 by controller (step 1 passed)" },
    ]);
  });
  test("a rollout write names its verdict and the routing it moved", () => {
    const abort = { ...rollout, by: "agent proxy-1", reason: "canary 30/1000 5xx", detail: { oldStatus: "progressing", newStatus: "aborted", step: "1", verdict: "fail", ...routingEvent(0, [25, true], [25, false]).detail } } as unknown as AviaryEvent;
    expect(chartMarkers([abort], [], 0, t0).map((m) => m.label)).toEqual([
      "rollout: progressing→aborted step 2 fail, routing: weight 25, canary off by agent proxy-1 (canary 30/1000 5xx)",
    ]);
  });
  test("a disable names it; moments outside the window are left out", () => {
    const m = chartMarkers([routingEvent(t0, [25, true], [25, false]), routingEvent(t0 - 60_000, [5, true], [25, true])], [], t0 / 1000 - 10, t0 / 1000);
    expect(m.map((x) => x.label)).toEqual(["routing: weight 25, canary off by controller"]);
  });
});
