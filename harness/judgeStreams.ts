// Simulated rollouts for the canary judge (core/rollout/judge.ts): per-second request streams of a
// canary and production, with 5xx answers and latencies drawn from a seeded PRNG, judged every
// second on the counts since the start, as the agent will judge HAProxy's live counters. Shared by
// the judge's simulation test and its bench section, so both measure the same streams.
import type { AnalysisSettings, Judgement } from "../core/rollout/judge";
import { judge } from "../core/rollout/judge";

/** mulberry32: a small, fast 32-bit PRNG; the same seed gives the same stream on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface StreamSpec {
  seconds: number;
  canaryPerSecond: number;
  productionPerSecond: number;
  /** 5xx probability of each answer. */
  productionErrorRate: number;
  canaryErrorRate: number;
  /** Latency is log-normal: this median (ms) and sigma of its log, production's; the canary's median is `canaryLatencyFactor` times it. */
  latencyMedianMs: number;
  latencySigma: number;
  canaryLatencyFactor: number;
  boundsMs: readonly number[];
  /** Seconds [from, to) when both roles answer 5xx at `errorRate` instead (a shared dependency failing). */
  sharedIncident?: { from: number; to: number; errorRate: number };
}

/** Where a stream's first fail (and first pass) came, and what the canary had served by the fail. */
export interface StreamOutcome {
  /** Seconds from the start to the look that failed; null when no look did. */
  failAt: number | null;
  passAt: number | null;
  /** When the canary's first 5xx was answered, seconds from the start; null when it answered none by the end (or the fail). */
  firstCanaryErrorAt: number | null;
  /** Canary requests and 5xx answered by the failing look (or by the end). */
  canaryRequests: number;
  canaryErrors: number;
  /** The failing judgement (or the last one). */
  last: Judgement | null;
}

/** Standard normal upper tail P(Z ≥ z) (Abramowitz & Stegun 7.1.26; error below 1.5e-7, plenty for a simulation). */
function normalTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** A Binomial(n, p) draw by inversion, one uniform (by symmetry for p > ½, so the walk stays short). */
function binomial(rand: () => number, n: number, p: number): number {
  if (p <= 0 || n === 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rand, n, 1 - p);
  const u = rand();
  const odds = p / (1 - p);
  let pk = (1 - p) ** n;
  let cdf = pk;
  let k = 0;
  while (u > cdf && k < n) {
    pk *= ((n - k) / (k + 1)) * odds;
    k++;
    cdf += pk;
  }
  return k;
}

/** One role's running counts: requests, 5xx and the cumulative latency histogram. */
class Role {
  requests = 0;
  errors = 0;
  readonly counts: number[];
  /** P(latency ≥ bound i | latency ≥ bound i − 1): the histogram is drawn bucket by bucket. */
  private readonly conditional: number[];
  constructor(
    private readonly rand: () => number,
    readonly errorRate: number,
    medianMs: number,
    sigma: number,
    boundsMs: readonly number[],
  ) {
    this.counts = new Array<number>(boundsMs.length + 1).fill(0);
    const tail = boundsMs.map((b) => normalTail(Math.log(b / medianMs) / sigma));
    this.conditional = tail.map((t, i) => (i === 0 ? t : tail[i - 1] === 0 ? 0 : t / tail[i - 1]));
  }
  /**
   * One second's `n` answers, 5xx at `errorRate`. The 5xx are drawn one answer at a time only when `onError` wants each
   * one's place in the second; the latencies are drawn as a multinomial over the buckets.
   */
  second(n: number, errorRate: number, onError?: (index: number) => void): void {
    this.requests += n;
    if (onError === undefined) this.errors += binomial(this.rand, n, errorRate);
    else
      for (let i = 0; i < n; i++)
        if (this.rand() < errorRate) {
          this.errors++;
          onError(i);
        }
    this.counts[0] += n;
    let left = n;
    for (let i = 0; i < this.conditional.length && left > 0; i++) {
      left = binomial(this.rand, left, this.conditional[i]);
      this.counts[i + 1] += left;
    }
  }
  window(boundsMs: readonly number[]): { requests: number; errors5xx: number; latency: { boundsMs: readonly number[]; counts: readonly number[] } } {
    return { requests: this.requests, errors5xx: this.errors, latency: { boundsMs, counts: [...this.counts] } };
  }
}

/** Runs one stream, judging after every second, until a look fails or the stream ends. */
export function runStream(spec: StreamSpec, settings: AnalysisSettings, seed: number): StreamOutcome {
  const rand = prng(seed);
  const canary = new Role(rand, spec.canaryErrorRate, spec.latencyMedianMs * spec.canaryLatencyFactor, spec.latencySigma, spec.boundsMs);
  const production = new Role(rand, spec.productionErrorRate, spec.latencyMedianMs, spec.latencySigma, spec.boundsMs);
  let firstCanaryErrorAt: number | null = null;
  let passAt: number | null = null;
  let last: Judgement | null = null;
  for (let s = 0; s < spec.seconds; s++) {
    const incident = spec.sharedIncident !== undefined && s >= spec.sharedIncident.from && s < spec.sharedIncident.to ? spec.sharedIncident.errorRate : undefined;
    canary.second(spec.canaryPerSecond, incident ?? canary.errorRate, (i) => (firstCanaryErrorAt ??= s + (i + 1) / spec.canaryPerSecond));
    production.second(spec.productionPerSecond, incident ?? production.errorRate);
    last = judge({ canary: canary.window(spec.boundsMs), production: production.window(spec.boundsMs) }, settings);
    if (last.verdict === "pass" && passAt === null) passAt = s + 1;
    if (last.verdict === "fail") return { failAt: s + 1, passAt, firstCanaryErrorAt, canaryRequests: canary.requests, canaryErrors: canary.errors, last };
  }
  return { failAt: null, passAt, firstCanaryErrorAt, canaryRequests: canary.requests, canaryErrors: canary.errors, last };
}
