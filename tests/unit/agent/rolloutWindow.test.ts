// The agent's judge window: what HAProxy counted since the step began, per role, as the judge reads it.
import { windowSince } from "../../../agent/rolloutWindow";
import type { CounterReading } from "../../../agent/metrics";

const bounds = [100, 500];
const reading = (prod: [number, number], canary: [number, number], latency?: Record<string, number[]>): CounterReading => ({
  totals: [
    { role: "prod", requests: prod[0], errors5xx: prod[1] },
    { role: "canary", requests: canary[0], errors5xx: canary[1] },
  ],
  latency: latency === undefined ? undefined : { boundsMs: bounds, entries: new Map(Object.entries(latency)) },
});

test.each([
  ["counts since the baseline, per role", reading([1000, 10], [50, 1]), reading([1900, 19], [150, 9]), { production: [900, 9], canary: [100, 8] }],
  ["nothing new: an empty window", reading([1000, 10], [50, 1]), reading([1000, 10], [50, 1]), { production: [0, 0], canary: [0, 0] }],
  // stot counts a request when it starts, hrsp_5xx when it is answered.
  ["5xx of requests counted before the baseline never exceed the window's requests", reading([10, 0], [10, 0]), reading([10, 0], [12, 5]), { production: [0, 0], canary: [2, 2] }],
] as const)("%s", (_name, baseline, now, want) => {
  const w = windowSince(baseline, now)!;
  expect([w.production.requests, w.production.errors5xx]).toEqual(want.production);
  expect([w.canary.requests, w.canary.errors5xx]).toEqual(want.canary);
});

test.each([
  ["production's requests", reading([1000, 10], [50, 1]), reading([20, 0], [60, 1])],
  ["the canary's 5xx", reading([1000, 10], [50, 4]), reading([1100, 10], [60, 1])],
])("%s going backwards (HAProxy restarted) gives no window, so the caller starts a new one", (_name, baseline, now) => {
  expect(windowSince(baseline, now)).toBeUndefined();
});

test("latency is the slots' histograms since the baseline, summed per role", () => {
  const before = reading([0, 0], [0, 0], { prod1: [10, 5, 1], prod2: [4, 0, 0], canary1: [3, 3, 0] });
  const after = reading([0, 0], [0, 0], { prod1: [30, 10, 2], prod2: [14, 1, 0], canary1: [13, 9, 4] });
  const w = windowSince(before, after)!;
  expect(w.production.latency).toEqual({ boundsMs: bounds, counts: [30, 6, 1] });
  expect(w.canary.latency).toEqual({ boundsMs: bounds, counts: [10, 6, 4] });
});

test("without a latency table the window carries an empty histogram (the judge's latency check stays inconclusive)", () => {
  const w = windowSince(reading([0, 0], [0, 0]), reading([5, 0], [5, 0]))!;
  expect(w.canary.latency).toEqual({ boundsMs: [], counts: [0] });
  expect(w.production.latency).toEqual({ boundsMs: [], counts: [0] });
});
