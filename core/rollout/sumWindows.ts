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

/** The bounds most of the windows' histograms have (the first of the most common on a tie). */
function commonBounds(windows: readonly JudgeInput[]): readonly number[] | undefined {
  const seen = new Map<string, { bounds: readonly number[]; n: number }>();
  for (const h of windows.flatMap(histograms)) {
    const k = h.boundsMs.join(",");
    seen.set(k, { bounds: h.boundsMs, n: (seen.get(k)?.n ?? 0) + 1 });
  }
  let best: { bounds: readonly number[]; n: number } | undefined;
  for (const v of seen.values()) if (!best || v.n > best.n) best = v;
  return best?.bounds;
}

/**
 * The sum of `windows` (valid windows, as the stored schema checks them). Histograms add bucket by
 * bucket only over the same bounds: a window with other bounds than most (a proxy on another
 * HAProxy config during a config change) is left out and its index returned in `mismatched`.
 */
export function sumWindows(windows: readonly JudgeInput[]): { sum: JudgeInput; mismatched: number[] } {
  const bounds = commonBounds(windows);
  let sum: JudgeInput = EMPTY_WINDOW;
  const mismatched: number[] = [];
  for (const [i, w] of windows.entries()) {
    if (!histograms(w).every((h) => sameBounds(h.boundsMs, bounds!))) {
      mismatched.push(i);
      continue;
    }
    sum = { canary: addRole(sum.canary, w.canary), production: addRole(sum.production, w.production) };
  }
  return { sum, mismatched };
}
