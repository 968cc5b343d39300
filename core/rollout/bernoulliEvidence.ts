// Evidence against a hypothesis about error (or slow-response) proportions that stays sound however
// often it is looked at: e-values, each a test supermartingale's current value, computed from
// cumulative counts only.
//
// Method: universal inference with a mixture numerator (Wasserman, Ramdas & Balakrishnan,
// "Universal inference", PNAS 2020, the running-mixture form). The numerator is the Beta(½,½)
// (Jeffreys) mixture of the Bernoulli likelihood of each stream — Robbins' mixture likelihood ratio
// (1970), the construction behind the mSPRT of Johari, Pekelis & Walsh ("Always valid inference",
// 2017) — and the denominator is the likelihood maximised over the null. For the true parameter θ0
// in the null, mixture / L(θ0) is a nonnegative martingale with mean 1 whatever order requests
// arrive in, and our value is at most that, so by Ville's inequality (1939)
// P(the value ever reaches 1/α) ≤ α: looking every second does not inflate false rejections.
// Exact for any counts: no normal approximation (the mSPRT's plug-in-variance form over-rejects at
// 1 % error rates and tens of requests, where a count's tail is Poisson, not normal).
// The price of exactness: about ½·ln(n) nats per stream of extra evidence needed (the mixture's
// regret), so it decides a few seconds later than a fixed-horizon test would at its one look.
//
// What the anchors do instead: Flagger checks each metric against an absolute thresholdRange once
// per analysis interval (fluxcd.io/flagger/usage/metrics); Argo Rollouts hands a fixed interval to
// Kayenta's Mann–Whitney judge (argoproj.github.io/argo-rollouts/analysis/kayenta). Both are
// fixed-horizon answers, not made for being asked every second; nothing here is taken from them.

/** ln Γ(x) for x ≥ ½ (Lanczos, g = 7, nine coefficients: about 15 significant digits). */
function lnGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const z = x - 1;
  let sum = c[0];
  for (let i = 1; i < 9; i++) sum += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const lnBeta = (a: number, b: number): number => lnGamma(a) + lnGamma(b) - lnGamma(a + b);

/** Jeffreys prior Beta(½, ½). */
const PRIOR = 0.5;

/** ln of the Beta(½,½) mixture likelihood of one sequence with k events in n trials. */
function lnMixture(k: number, n: number): number {
  return lnBeta(PRIOR + k, PRIOR + n - k) - lnBeta(PRIOR, PRIOR);
}

/** c·ln(x), with 0·ln(anything) = 0 (a term with no observations contributes nothing). */
const term = (c: number, x: number): number => (c === 0 ? 0 : c * Math.log(x));

/** ln of the Bernoulli likelihood of k events in n trials at rate p. */
function lnLikelihood(k: number, n: number, p: number): number {
  return term(k, p) + term(n - k, 1 - p);
}

export interface Proportion {
  /** Events (5xx answers, slow answers). */
  events: number;
  trials: number;
}

/** Which side of the bound the null hypothesis puts the proportion (or difference) on. */
export type NullSide = "atMost" | "atLeast";

/**
 * ln of the e-value against H0: p ≤ p0 ("atMost") or p ≥ p0 ("atLeast") for one stream. The
 * likelihood over H0 is largest at the observed rate clamped into H0.
 */
export function lnEValueOne(x: Proportion, p0: number, side: NullSide): number {
  const rate = x.trials === 0 ? p0 : x.events / x.trials;
  const inNull = side === "atMost" ? Math.min(rate, p0) : Math.max(rate, p0);
  return lnMixture(x.events, x.trials) - lnLikelihood(x.events, x.trials, inNull);
}

/** Bisection steps: enough to pin a rate in [0, 1] to double precision. */
const STEPS = 80;

/**
 * The largest joint ln-likelihood of two streams with p_a = q + delta (q the rate of b): the
 * function of q is concave, so its derivative's sign change is found by bisection.
 */
function lnLikelihoodOnBoundary(a: Proportion, b: Proportion, delta: number): number {
  const slope = (q: number): number => {
    let d = 0;
    if (a.events > 0) d += a.events / (q + delta);
    if (a.trials > a.events) d -= (a.trials - a.events) / (1 - q - delta);
    if (b.events > 0) d += b.events / q;
    if (b.trials > b.events) d -= (b.trials - b.events) / (1 - q);
    return d;
  };
  let lo = 0;
  let hi = 1 - delta;
  for (let i = 0; i < STEPS; i++) {
    const mid = (lo + hi) / 2;
    if (slope(mid) > 0) lo = mid;
    else hi = mid;
  }
  const q = (lo + hi) / 2;
  return lnLikelihood(a.events, a.trials, q + delta) + lnLikelihood(b.events, b.trials, q);
}

/**
 * ln of the e-value against H0: p_a − p_b ≤ delta ("atMost") or ≥ delta ("atLeast"), for two
 * independent streams, delta in [0, 1). The joint likelihood over H0 is largest at the observed
 * rates when they are in H0, else on the boundary p_a − p_b = delta (a concave function over a
 * half-plane).
 */
export function lnEValueDifference(a: Proportion, b: Proportion, delta: number, side: NullSide): number {
  const numerator = lnMixture(a.events, a.trials) + lnMixture(b.events, b.trials);
  const rateA = a.trials === 0 ? 0 : a.events / a.trials;
  const rateB = b.trials === 0 ? 0 : b.events / b.trials;
  const diff = rateA - rateB;
  const inNull = side === "atMost" ? diff <= delta : diff >= delta;
  const denominator = inNull ? lnLikelihood(a.events, a.trials, rateA) + lnLikelihood(b.events, b.trials, rateB) : lnLikelihoodOnBoundary(a, b, delta);
  return numerator - denominator;
}
