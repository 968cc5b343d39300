// The dashboard's chart data: the collector's per-tick points folded into fixed time buckets over
// the last few minutes, as rates per second, so the chart has a real time axis and the same
// meaning at any tick length.
import type { TrafficPoint } from "../../adapters/metricsSink/local";

export interface ChartSeries {
  /** Bucket start times, seconds since the epoch (what uPlot's time axis expects). */
  t: number[];
  prodRps: number[];
  canaryRps: number[];
  /** null = no canary request in the bucket (a gap, not a 0 %). */
  canary5xxPct: (number | null)[];
  /** Highest per-tick canary p99 in the bucket; null without canary latency data. */
  canaryP99Ms: (number | null)[];
  /** The alarm thresholds the chart draws (from the alarm definitions). */
  thresholds: { canary5xxPct: number; canaryP99Ms: number };
  windowSeconds: number;
  stepSeconds: number;
}

export function chartSeries(points: readonly TrafficPoint[], now: number, o: { windowSeconds: number; stepSeconds: number; thresholds: ChartSeries["thresholds"] }): ChartSeries {
  const stepMs = o.stepSeconds * 1000;
  // The bucket still filling is left out: its rate would read low until it completes.
  const last = Math.floor(now / stepMs) - 1;
  const count = Math.ceil(o.windowSeconds / o.stepSeconds);
  const first = last - count + 1;
  const buckets = Array.from({ length: count }, () => ({ prod: 0, canary: 0, errors: 0, p99: null as number | null }));
  for (const p of points) {
    const i = Math.floor(p.at / stepMs) - first;
    if (i < 0 || i >= count) continue;
    const b = buckets[i];
    b.prod += p.prod.requests;
    b.canary += p.canary.requests;
    b.errors += p.canary.errors5xx;
    if (p.canary.latencyP99Ms !== null) b.p99 = Math.max(b.p99 ?? 0, p.canary.latencyP99Ms);
  }
  return {
    t: buckets.map((_, i) => ((first + i) * stepMs) / 1000),
    prodRps: buckets.map((b) => b.prod / o.stepSeconds),
    canaryRps: buckets.map((b) => b.canary / o.stepSeconds),
    canary5xxPct: buckets.map((b) => (b.canary > 0 ? (100 * b.errors) / b.canary : null)),
    canaryP99Ms: buckets.map((b) => b.p99),
    thresholds: o.thresholds,
    windowSeconds: count * o.stepSeconds,
    stepSeconds: o.stepSeconds,
  };
}
