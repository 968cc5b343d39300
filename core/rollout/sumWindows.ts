// Several proxies' windows of one rollout step as one: each proxy counts only the traffic it
// proxied, so the step's window is the sum (counts add; cumulative latency histograms add bucket
// by bucket, which keeps them cumulative). Used by the controller to judge a step's end.
import type { LatencyCounts } from "../metrics/latencyCounts";
import type { JudgeInput, RoleWindow } from "./judge";

/** A window with nothing in it: what no proxy reported sums to (the judge calls it inconclusive). */
export const EMPTY_WINDOW: JudgeInput = Object.freeze({
  canary: { requests: 0, errors5xx: 0, latency: { boundsMs: [], counts: [0] } },
  production: { requests: 0, errors5xx: 0, latency: { boundsMs: [], counts: [0] } },
});

const sameBounds = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
/** No bounds and nothing timed: adds to anything. */
const isEmpty = (h: LatencyCounts): boolean => h.boundsMs.length === 0 && h.counts[0] === 0;

function addLatency(a: LatencyCounts, b: LatencyCounts): LatencyCounts {
  if (isEmpty(a)) return b;
  if (isEmpty(b)) return a;
  return { boundsMs: a.boundsMs, counts: a.counts.map((c, i) => c + b.counts[i]) };
}

function addRole(a: RoleWindow, b: RoleWindow): RoleWindow {
  return { requests: a.requests + b.requests, errors5xx: a.errors5xx + b.errors5xx, latency: addLatency(a.latency, b.latency) };
}

const histograms = (w: JudgeInput): LatencyCounts[] => [w.canary.latency, w.production.latency].filter((h) => !isEmpty(h));

/**
 * The sum of `windows` (valid windows, as the stored schema checks them). A window whose latency
 * bounds differ from those summed so far cannot be added bucket-wise: it is left out and its index
 * returned in `mismatched` (proxies on different HAProxy configs during a config change).
 */
export function sumWindows(windows: readonly JudgeInput[]): { sum: JudgeInput; mismatched: number[] } {
  let sum: JudgeInput = EMPTY_WINDOW;
  const mismatched: number[] = [];
  for (const [i, w] of windows.entries()) {
    const bounds = [...histograms(sum), ...histograms(w)].map((h) => h.boundsMs);
    if (!bounds.every((b) => sameBounds(b, bounds[0]))) {
      mismatched.push(i);
      continue;
    }
    sum = { canary: addRole(sum.canary, w.canary), production: addRole(sum.production, w.production) };
  }
  return { sum, mismatched };
}
