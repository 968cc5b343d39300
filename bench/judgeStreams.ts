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

/** One role's running counts: requests, 5xx and the cumulative latency histogram. */
class Role {
  requests = 0;
  errors = 0;
  readonly counts: number[];
  /** The bounds as standard-normal thresholds of the log-latency. */
  private readonly z: number[];
  constructor(
    private readonly rand: () => number,
    private readonly errorRate: number,
    medianMs: number,
    sigma: number,
    boundsMs: readonly number[],
  ) {
    this.counts = new Array<number>(boundsMs.length + 1).fill(0);
    this.z = boundsMs.map((b) => Math.log(b / medianMs) / sigma);
  }
  /** One answer; whether it was a 5xx. */
  answer(): boolean {
    this.requests++;
    const error = this.rand() < this.errorRate;
    if (error) this.errors++;
    // Box–Muller: one standard normal from two uniforms.
    const n = Math.sqrt(-2 * Math.log(1 - this.rand())) * Math.cos(2 * Math.PI * this.rand());
    this.counts[0]++;
    for (let i = 0; i < this.z.length && n >= this.z[i]; i++) this.counts[i + 1]++;
    return error;
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
    for (let i = 0; i < spec.canaryPerSecond; i++) {
      if (canary.answer() && firstCanaryErrorAt === null) firstCanaryErrorAt = s + (i + 1) / spec.canaryPerSecond;
    }
    for (let i = 0; i < spec.productionPerSecond; i++) production.answer();
    last = judge({ canary: canary.window(spec.boundsMs), production: production.window(spec.boundsMs) }, settings);
    if (last.verdict === "pass" && passAt === null) passAt = s + 1;
    if (last.verdict === "fail") return { failAt: s + 1, passAt, firstCanaryErrorAt, canaryRequests: canary.requests, canaryErrors: canary.errors, last };
  }
  return { failAt: null, passAt, firstCanaryErrorAt, canaryRequests: canary.requests, canaryErrors: canary.errors, last };
}
