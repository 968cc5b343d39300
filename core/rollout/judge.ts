// The canary judge: the canary against production over the same window, from the proxy's per-role
// counters (requests, 5xx) and latency histograms (haproxy/config.ts latencyBoundsMs, the shape in
// core/metrics/latencyCounts.ts). One pure function, so every caller — the agent looking every
// second, the controller at a step's end, local mode — reaches the same verdict from the same counts.
//
// Each metric is judged by two always-valid tests (bernoulliEvidence.ts): "fail" when the evidence
// that the canary is worse than allowed reaches k/α, "pass" when the evidence that it is within the
// allowance does, else "inconclusive" (also below the minimum sample, whatever the counts say). The
// k metrics share α (Bonferroni), so over a whole rollout, however often it is judged, a canary that
// is no worse than allowed fails with probability at most α.
//
// What a histogram can tell: only whether a quantile lies below or above a bucket bound. The canary
// fails on latency when its quantile is confidently at or above the first bound B that is at least
// ratio × the upper end of production's quantile bucket — so the canary is then more than ratio ×
// slower — and passes when it is confidently below B. A slowdown that stays under B (×1.5 within a
// 2.5× bucket, say) cannot be seen. Production's quantile is read as a point (its bucket; it has the
// larger sample), only the canary's side is tested.
import { InvalidInputError } from "../errors";
import type { LatencyCounts } from "../metrics/latencyCounts";
import { lnEValueDifference, lnEValueOne } from "./bernoulliEvidence";

export interface AnalysisSettings {
  /** How many percentage points the canary's 5xx rate may exceed production's (e.g. 0.5). */
  maxErrorRateIncreasePoints: number;
  /** The latency quantile compared, in (0, 1) (e.g. 0.99). */
  latencyQuantile: number;
  /** How many times production's quantile the canary's may be (e.g. 1.5). */
  maxLatencyRatio: number;
  /** Requests (and timed responses) each role needs in the window before any verdict but inconclusive. */
  minRequests: number;
  /** The chance, over a whole rollout, of failing a canary that is within the allowances (e.g. 0.01). */
  alpha: number;
}

/** The analysis the bench and a rollout without its own settings use. */
export const DEFAULT_ANALYSIS: AnalysisSettings = { maxErrorRateIncreasePoints: 0.5, latencyQuantile: 0.99, maxLatencyRatio: 1.5, minRequests: 100, alpha: 0.01 };

/** One role's counters over the window (the same window for both roles). */
export interface RoleWindow {
  requests: number;
  errors5xx: number;
  latency: LatencyCounts;
}

export interface JudgeInput {
  canary: RoleWindow;
  production: RoleWindow;
}

export type Verdict = "pass" | "fail" | "inconclusive";

/** The evidence one metric's verdict rests on: ln e-values against each side and the bar they must reach. */
export interface Evidence {
  /** ln of the evidence that the canary is worse than allowed. */
  lnFail: number;
  /** ln of the evidence that it is within the allowance. */
  lnPass: number;
  /** ln(k/α): either reaching it decides. */
  lnThreshold: number;
}

export interface ErrorRateJudgement {
  metric: "5xx";
  verdict: Verdict;
  canary: { requests: number; errors5xx: number; ratePercent: number };
  production: { requests: number; errors5xx: number; ratePercent: number };
  /** Canary's rate minus production's, in points. */
  differencePoints: number;
  allowedPoints: number;
  evidence: Evidence;
  reason: string;
}

export interface LatencyJudgement {
  metric: "latency";
  verdict: Verdict;
  quantile: number;
  /** The histogram bucket each role's quantile lies in, ms: [from, to), to null above the top bound. */
  canary: { timed: number; quantileMs: { from: number; to: number | null } | null; atOrAboveBound: number };
  production: { timed: number; quantileMs: { from: number; to: number | null } | null };
  /** The bound B the canary's quantile is tested against; null when the histogram cannot resolve ratio × production's. */
  boundMs: number | null;
  allowedRatio: number;
  evidence: Evidence | null;
  reason: string;
}

export interface Judgement {
  /** fail if any metric fails, pass if all pass, else inconclusive. */
  verdict: Verdict;
  errorRate: ErrorRateJudgement;
  latency: LatencyJudgement;
}

/** Metrics sharing α. */
const METRICS = 2;

function settingsProblems(s: AnalysisSettings): string[] {
  const p: string[] = [];
  const inRange = (name: keyof AnalysisSettings, ok: boolean, want: string): void => {
    if (!ok) p.push(`settings.${name} must be ${want}, got ${s[name]}`);
  };
  inRange("maxErrorRateIncreasePoints", Number.isFinite(s.maxErrorRateIncreasePoints) && s.maxErrorRateIncreasePoints >= 0 && s.maxErrorRateIncreasePoints < 100, "a number of points in [0, 100)");
  inRange("latencyQuantile", s.latencyQuantile > 0 && s.latencyQuantile < 1, "in (0, 1)");
  inRange("maxLatencyRatio", Number.isFinite(s.maxLatencyRatio) && s.maxLatencyRatio >= 1, "a finite ratio ≥ 1");
  inRange("minRequests", Number.isSafeInteger(s.minRequests) && s.minRequests >= 1, "an integer ≥ 1");
  inRange("alpha", s.alpha > 0 && s.alpha < 1, "in (0, 1)");
  return p;
}

const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

function histogramProblems(name: string, h: LatencyCounts): string[] {
  const p: string[] = [];
  if (!h.boundsMs.every((b, i) => Number.isFinite(b) && b > 0 && (i === 0 || b > h.boundsMs[i - 1]))) p.push(`${name}.latency.boundsMs must be positive and increasing`);
  if (h.counts.length !== h.boundsMs.length + 1) p.push(`${name}.latency.counts has ${h.counts.length} entries, its ${h.boundsMs.length} bounds need ${h.boundsMs.length + 1}`);
  else if (!h.counts.every(isCount)) p.push(`${name}.latency.counts must be counts (integers ≥ 0)`);
  else if (!h.counts.every((c, i) => i === 0 || c <= h.counts[i - 1])) p.push(`${name}.latency.counts must not increase along the buckets (they are cumulative)`);
  return p;
}

function roleProblems(name: string, r: RoleWindow): string[] {
  const p: string[] = [];
  if (!isCount(r.requests)) p.push(`${name}.requests must be a count (an integer ≥ 0), got ${r.requests}`);
  if (!isCount(r.errors5xx)) p.push(`${name}.errors5xx must be a count (an integer ≥ 0), got ${r.errors5xx}`);
  else if (isCount(r.requests) && r.errors5xx > r.requests) p.push(`${name}.errors5xx (${r.errors5xx}) exceeds ${name}.requests (${r.requests})`);
  return [...p, ...histogramProblems(name, r.latency)];
}

/** Every problem with an input and its settings, one line each; empty when the judge can run. */
function judgeInputProblems(input: JudgeInput, settings: AnalysisSettings): string[] {
  const p = [...settingsProblems(settings), ...roleProblems("canary", input.canary), ...roleProblems("production", input.production)];
  const a = input.canary.latency.boundsMs;
  const b = input.production.latency.boundsMs;
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) p.push(`canary.latency.boundsMs (${a.join(",")}) differ from production.latency.boundsMs (${b.join(",")}): the histograms cannot be compared`);
  return p;
}

const percent = (k: number, n: number): number => (n === 0 ? 0 : (100 * k) / n);

function decide(e: Evidence): Verdict {
  if (e.lnFail >= e.lnThreshold) return "fail";
  return e.lnPass >= e.lnThreshold ? "pass" : "inconclusive";
}

function judgeErrorRate(c: RoleWindow, p: RoleWindow, s: AnalysisSettings, lnThreshold: number): ErrorRateJudgement {
  const canary = { events: c.errors5xx, trials: c.requests };
  const production = { events: p.errors5xx, trials: p.requests };
  const delta = s.maxErrorRateIncreasePoints / 100;
  const evidence = { lnFail: lnEValueDifference(canary, production, delta, "atMost"), lnPass: lnEValueDifference(canary, production, delta, "atLeast"), lnThreshold };
  const enough = c.requests >= s.minRequests && p.requests >= s.minRequests;
  const verdict = enough ? decide(evidence) : "inconclusive";
  const cRate = percent(c.errors5xx, c.requests);
  const pRate = percent(p.errors5xx, p.requests);
  const counts = `canary ${c.errors5xx}/${c.requests} 5xx (${cRate.toFixed(2)} %), production ${p.errors5xx}/${p.requests} (${pRate.toFixed(2)} %)`;
  const reason = !enough
    ? `${counts}: needs ${s.minRequests} requests per role`
    : `${counts}: ${verdict === "fail" ? "more" : verdict === "pass" ? "no more" : "not yet known whether more"} than ${s.maxErrorRateIncreasePoints} points worse`;
  return { metric: "5xx", verdict, canary: { requests: c.requests, errors5xx: c.errors5xx, ratePercent: cRate }, production: { requests: p.requests, errors5xx: p.errors5xx, ratePercent: pRate }, differencePoints: cRate - pRate, allowedPoints: s.maxErrorRateIncreasePoints, evidence, reason };
}

/**
 * The bucket [from, to) holding the nearest-rank q-quantile: to is the first bound that more than
 * q of the responses were below; null when nothing was timed.
 */
function quantileBucket(h: LatencyCounts, q: number): { from: number; to: number | null } | null {
  const total = h.counts[0];
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  const i = h.boundsMs.findIndex((_b, j) => total - h.counts[j + 1] >= rank);
  if (i < 0) return { from: h.boundsMs[h.boundsMs.length - 1], to: null };
  return { from: i === 0 ? 0 : h.boundsMs[i - 1], to: h.boundsMs[i] };
}

function judgeLatency(c: LatencyCounts, p: LatencyCounts, s: AnalysisSettings, lnThreshold: number): LatencyJudgement {
  const q = s.latencyQuantile;
  const prodBucket = quantileBucket(p, q);
  const canaryBucket = quantileBucket(c, q);
  const prodTo = prodBucket?.to ?? null;
  const boundIndex = prodTo === null ? -1 : c.boundsMs.findIndex((b) => b >= s.maxLatencyRatio * prodTo);
  const boundMs = boundIndex < 0 ? null : c.boundsMs[boundIndex];
  const atOrAboveBound = boundIndex < 0 ? 0 : c.counts[boundIndex + 1];
  const base = { metric: "latency" as const, quantile: q, canary: { timed: c.counts[0], quantileMs: canaryBucket, atOrAboveBound }, production: { timed: p.counts[0], quantileMs: prodBucket }, boundMs, allowedRatio: s.maxLatencyRatio };
  const show = (b: { from: number; to: number | null } | null): string => (b === null ? "none timed" : `${b.from}–${b.to ?? "∞"} ms`);
  const buckets = `p${100 * q} canary ${show(canaryBucket)} (${c.counts[0]} timed), production ${show(prodBucket)} (${p.counts[0]} timed)`;
  if (boundMs === null) return { ...base, verdict: "inconclusive", evidence: null, reason: `${buckets}: no bucket bound at ${s.maxLatencyRatio} × production's, the histogram cannot tell` };
  // The canary's quantile is ≥ B exactly when more than 1 − q of its responses took ≥ B.
  const slow = { events: atOrAboveBound, trials: c.counts[0] };
  const evidence = { lnFail: lnEValueOne(slow, 1 - q, "atMost"), lnPass: lnEValueOne(slow, 1 - q, "atLeast"), lnThreshold };
  const enough = c.counts[0] >= s.minRequests && p.counts[0] >= s.minRequests;
  const verdict = enough ? decide(evidence) : "inconclusive";
  const reason = !enough
    ? `${buckets}: needs ${s.minRequests} timed responses per role`
    : `${buckets}, ${atOrAboveBound} canary responses ≥ ${boundMs} ms: canary p${100 * q} ${verdict === "fail" ? "is" : verdict === "pass" ? "is not" : "not yet known whether"} ≥ ${boundMs} ms (${s.maxLatencyRatio} × production's bucket top ${prodTo} ms, rounded up to a bound)`;
  return { ...base, verdict, evidence, reason };
}

/**
 * The canary against production over one window. Throws InvalidInputError (every problem, one per
 * line) for input no proxy could produce; any valid input gets a verdict.
 */
export function judge(input: JudgeInput, settings: AnalysisSettings): Judgement {
  const problems = judgeInputProblems(input, settings);
  if (problems.length > 0) throw new InvalidInputError(`judge: ${problems.join("\n")}`);
  const lnThreshold = Math.log(METRICS / settings.alpha);
  const errorRate = judgeErrorRate(input.canary, input.production, settings, lnThreshold);
  const latency = judgeLatency(input.canary.latency, input.production.latency, settings, lnThreshold);
  const verdicts = [errorRate.verdict, latency.verdict];
  const verdict = verdicts.includes("fail") ? "fail" : verdicts.every((v) => v === "pass") ? "pass" : "inconclusive";
  return { verdict, errorRate, latency };
}
