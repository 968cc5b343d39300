// The dashboard's chart data: the collector's per-tick points folded into fixed time buckets over
// the last few minutes, as rates per second, so the chart has a real time axis and the same
// meaning at any tick length. Canary and production side by side, over the same buckets, with the
// share routing asked for and the event markers over the same span.
import type { TrafficPoint } from "../../adapters/metricsSink/local";
import type { AviaryEvent } from "../../state/events";
import type { RoutingState } from "../../state/routing";
import type { Activity } from "../activity";
import { chartMarkers, type ChartMarker } from "./markers";
import { askedWeightOverTime } from "./split";

export interface ChartSeries {
  /** Bucket start times, seconds since the epoch (what uPlot's time axis expects). */
  t: number[];
  prodRps: number[];
  canaryRps: number[];
  /** Measured canary share of all requests, %; null without requests in the bucket. */
  canarySharePct: (number | null)[];
  /** null = no request of that role in the bucket (a gap, not a 0 %). */
  canary5xxPct: (number | null)[];
  prod5xxPct: (number | null)[];
  /** Highest per-tick p99 of the role in the bucket; null without latency data. */
  canaryP99Ms: (number | null)[];
  prodP99Ms: (number | null)[];
  /** The canary share routing asked for at the bucket's end, % (0 while disabled); null if unknown. */
  askedWeightPct: (number | null)[];
  /** Routing, rollout, controller and alarm moments within the window. */
  markers: ChartMarker[];
  /** Production fleet size at the bucket's last tick; null without a tick in it. */
  fleetSize: (number | null)[];
  /** The alarm thresholds the chart draws (from the alarm definitions). */
  thresholds: { canary5xxPct: number; canaryP99Ms: number };
  windowSeconds: number;
  stepSeconds: number;
}

interface Bucket {
  prod: number;
  canary: number;
  prodErrors: number;
  canaryErrors: number;
  prodP99: number | null;
  canaryP99: number | null;
  fleet: { at: number; size: number } | null;
}

const higher = (a: number | null, b: number | null): number | null => (b === null ? a : Math.max(a ?? 0, b));
const pct = (part: number, whole: number): number | null => (whole > 0 ? (100 * part) / whole : null);

export interface ChartSources {
  windowSeconds: number;
  stepSeconds: number;
  thresholds: ChartSeries["thresholds"];
  routing: RoutingState | null;
  /** The event stream's latest events, oldest first. */
  events: readonly AviaryEvent[];
  activity: readonly Activity[];
}

export function chartSeries(points: readonly TrafficPoint[], now: number, o: ChartSources): ChartSeries {
  const stepMs = o.stepSeconds * 1000;
  // The bucket still filling is left out: its rate would read low until it completes.
  const last = Math.floor(now / stepMs) - 1;
  const count = Math.ceil(o.windowSeconds / o.stepSeconds);
  const first = last - count + 1;
  const buckets: Bucket[] = Array.from({ length: count }, () => ({ prod: 0, canary: 0, prodErrors: 0, canaryErrors: 0, prodP99: null, canaryP99: null, fleet: null }));
  for (const p of points) {
    const i = Math.floor(p.at / stepMs) - first;
    if (i < 0 || i >= count) continue;
    const b = buckets[i];
    b.prod += p.prod.requests;
    b.canary += p.canary.requests;
    b.prodErrors += p.prod.errors5xx;
    b.canaryErrors += p.canary.errors5xx;
    b.prodP99 = higher(b.prodP99, p.prod.latencyP99Ms);
    b.canaryP99 = higher(b.canaryP99, p.canary.latencyP99Ms);
    if (b.fleet === null || p.at >= b.fleet.at) b.fleet = { at: p.at, size: p.fleetSize };
  }
  const t = buckets.map((_, i) => ((first + i) * stepMs) / 1000);
  return {
    t,
    prodRps: buckets.map((b) => b.prod / o.stepSeconds),
    canaryRps: buckets.map((b) => b.canary / o.stepSeconds),
    canarySharePct: buckets.map((b) => pct(b.canary, b.prod + b.canary)),
    canary5xxPct: buckets.map((b) => pct(b.canaryErrors, b.canary)),
    prod5xxPct: buckets.map((b) => pct(b.prodErrors, b.prod)),
    canaryP99Ms: buckets.map((b) => b.canaryP99),
    prodP99Ms: buckets.map((b) => b.prodP99),
    askedWeightPct: askedWeightOverTime(t.map((x) => x + o.stepSeconds), o.events, o.routing),
    markers: chartMarkers(o.events, o.activity, t[0], now / 1000),
    fleetSize: buckets.map((b) => b.fleet?.size ?? null),
    thresholds: o.thresholds,
    windowSeconds: count * o.stepSeconds,
    stepSeconds: o.stepSeconds,
  };
}
