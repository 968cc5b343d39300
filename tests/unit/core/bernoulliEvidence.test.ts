// The judge's evidence: e-values whose expectation under any null point is at most 1 (what makes
// "reject at 1/α" sound, however often it is looked at), and whose null maximum is really the maximum.
import { lnEValueDifference, lnEValueOne, type NullSide, type Proportion } from "../../../core/rollout/bernoulliEvidence";

/** ln C(n, k). */
const lnChoose = (n: number, k: number): number => {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log((n - k + i) / i);
  return s;
};
/** P(k events in n trials at rate p). */
const pmf = (n: number, k: number, p: number): number => Math.exp(lnChoose(n, k) + (k === 0 ? 0 : k * Math.log(p)) + (n - k === 0 ? 0 : (n - k) * Math.log(1 - p)));
const lnL = (x: Proportion, p: number): number => (x.events === 0 ? 0 : x.events * Math.log(p)) + (x.trials - x.events === 0 ? 0 : (x.trials - x.events) * Math.log(1 - p));

test.each([
  // One Jeffreys-mixture answer: P(no event in 1 trial) = ½; the null's best rate is 0.
  [{ events: 0, trials: 1 }, 0.5, "atMost", Math.log(0.5)],
  [{ events: 0, trials: 0 }, 0.1, "atMost", 0],
  // Mixture of 1 event in 1 trial is ½; the best rate ≤ 0.25 is 0.25.
  [{ events: 1, trials: 1 }, 0.25, "atMost", Math.log(0.5 / 0.25)],
])("lnEValueOne(%j, %d, %s) = %d", (x, p0, side, expected) => {
  expect(lnEValueOne(x as Proportion, p0 as number, side as NullSide)).toBeCloseTo(expected as number, 12);
});

test.each<[number, number, NullSide]>([
  [20, 0.01, "atMost"],
  [20, 0.3, "atMost"],
  [200, 0.05, "atMost"],
  [50, 0.01, "atLeast"],
  [50, 0.5, "atLeast"],
])("one stream: E[e-value] ≤ 1 at the null's edge (n = %d, p = %d, %s)", (n, p, side) => {
  let mean = 0;
  for (let k = 0; k <= n; k++) mean += pmf(n, k, p) * Math.exp(lnEValueOne({ events: k, trials: n }, p, side));
  expect(mean).toBeLessThanOrEqual(1 + 1e-9);
});

test.each<[number, number, number, number, NullSide]>([
  [10, 30, 0.1, 0, "atMost"],
  [10, 30, 0.01, 0, "atMost"],
  [15, 60, 0.1, 0.05, "atMost"],
  [15, 60, 0.02, 0.05, "atLeast"],
  [20, 20, 0.3, 0.2, "atLeast"],
])("two streams: E[e-value] ≤ 1 on the boundary p_a − p_b = delta (n_a %d, n_b %d, p_b %d, delta %d, %s)", (na, nb, pb, delta, side) => {
  let mean = 0;
  for (let ka = 0; ka <= na; ka++)
    for (let kb = 0; kb <= nb; kb++) mean += pmf(na, ka, pb + delta) * pmf(nb, kb, pb) * Math.exp(lnEValueDifference({ events: ka, trials: na }, { events: kb, trials: nb }, delta, side));
  expect(mean).toBeLessThanOrEqual(1 + 1e-9);
});

test.each<[Proportion, Proportion, number]>([
  [{ events: 60, trials: 1000 }, { events: 100, trials: 10_000 }, 0.005],
  [{ events: 3, trials: 20 }, { events: 0, trials: 200 }, 0],
  [{ events: 40, trials: 40 }, { events: 1, trials: 100 }, 0.5],
  [{ events: 500, trials: 1000 }, { events: 100, trials: 1000 }, 0.02],
])("the null's best likelihood on the boundary is found (%j against %j, delta %d)", (a, b, delta) => {
  // Observed p_a − p_b > delta: "atLeast" holds the unconstrained maximum, "atMost" the boundary's,
  // over the same mixture, so their difference is ln(max likelihood / best on the boundary).
  const glr = lnEValueDifference(a, b, delta, "atMost") - lnEValueDifference(a, b, delta, "atLeast");
  const max = lnL(a, a.events / a.trials) + lnL(b, b.events / b.trials);
  let grid = -Infinity;
  for (let i = 1; i < 100_000; i++) grid = Math.max(grid, lnL(a, ((1 - delta) * i) / 100_000 + delta) + lnL(b, ((1 - delta) * i) / 100_000));
  expect(glr).toBeGreaterThan(0);
  // No grid point beats the boundary maximum found, and the grid comes close to it.
  expect(glr).toBeLessThanOrEqual(max - grid + 1e-9);
  expect(glr).toBeGreaterThan(max - grid - 1e-3);
});
