// What the dashboard shows: one consistent snapshot of routing, backends (with HAProxy's view of
// each), the fleet, flags, alarms, activity, events and the chart.
import type Redis from "ioredis";
import { parseShowStat } from "../agent/metrics";
import { runtimeCommand } from "../agent/runtimeApi";
import type { LocalCollector } from "../adapters/metricsSink/local";
import type { LocalFleet } from "../adapters/fleet/local";
import type { FleetState } from "../core/controller/decide";
import { BACKEND } from "../haproxy/config";
import { slotRole } from "../core/routing/slots";
import type { AviaryEvent } from "../state/events";
import type { RoutingState } from "../state/routing";
import { readRollout } from "../state/rollout";
import { readSection, type SectionHealth } from "../state/section";
import { backendsSection, eventsSection, flagsSection, routingSection, segmentsSection } from "../state/statusSections";
import type { Activity, ActivityFeed } from "./activity";
import type { AlarmEvaluator } from "./alarmEvaluator";
import type { ProdVersion } from "./promotion";
import type { LocalConfig } from "./config";
import { alarmView, type AlarmView } from "./dashboard/alarmView";
import { rolloutView, type RolloutView } from "./dashboard/rolloutView";
import { chartSeries, type ChartSeries } from "./dashboard/series";
import { splitView, type SplitView } from "./dashboard/split";
import { describeFlags, describeSegments, type FlagSummary, type SegmentSummary } from "./flags";

/** The dashboard chart's span and bucket. */
const CHART_WINDOW_SECONDS = 300;
const CHART_STEP_SECONDS = 2;

/** History the collector keeps for the chart at this tick. */
export function chartHistorySize(tickMs: number): number {
  return Math.ceil((CHART_WINDOW_SECONDS * 1000) / tickMs) + 1;
}

export interface LocalStatus {
  /** Increases with every status; the page never renders an older one over a newer one. */
  snapshot: number;
  at: string;
  proxyUrl: string;
  deployment: string;
  periodFactor: number;
  versions: { prod: string; canary: string };
  /** Which parts could be read: a broken one names its key and shows as empty (routing: null). */
  sections: Record<"routing" | "backends" | "flags" | "segments" | "events" | "proxy", SectionHealth>;
  routing: RoutingState | null;
  split: SplitView;
  /** proxyWeight: the HAProxy server weight the agent applied (null when not in the proxy). */
  backends: { id: string; role: string; version: string; address: string; draining: boolean; proxyStatus: string; proxyWeight: number | null }[];
  fleet: FleetState;
  flags: FlagSummary[];
  segments: SegmentSummary[];
  alarms: AlarmView[];
  activity: Activity[];
  events: AviaryEvent[];
  chart: ChartSeries;
  /** The stored rollout as the panel shows it; null when there is none (no panel). */
  rollout: RolloutView | null;
}

/** HAProxy's view of each slot's server address in backend "app": status ("UP", "DOWN", "MAINT", ...) and weight. */
async function proxyServers(socket: string): Promise<Map<string, { status: string; weight: number }>> {
  const rows = parseShowStat(await runtimeCommand(socket, "show stat"));
  return new Map(rows.filter((r) => r.pxname === BACKEND && slotRole(r.svname) !== undefined && r.addr).map((r) => [r.addr, { status: r.status, weight: Number(r.weight) }]));
}

export async function proxyStatuses(socket: string): Promise<Map<string, string>> {
  return new Map([...(await proxyServers(socket))].map(([addr, s]) => [addr, s.status]));
}

export interface StatusSources {
  config: LocalConfig;
  deployment: string;
  periodFactor: number;
  proxyUrl: string;
  socket: string;
  redis: Redis;
  fleet: LocalFleet;
  /** Production's version now (a promotion changes it). */
  prodVersion: ProdVersion;
  evaluator: AlarmEvaluator;
  collector: LocalCollector;
  activity: ActivityFeed;
  /** Runs the read between ticks, so no alarm, controller action or routing write lands half-way through it. */
  betweenTicks: <T>(f: () => Promise<T>) => Promise<T>;
}

export function statusReader(s: StatusSources): () => Promise<LocalStatus> {
  const { canary } = s.config;
  let snapshot = 0;
  const canaryThresholds = { canary5xxPct: canary.thresholds.canaryErrorRate, canaryP99Ms: canary.thresholds.canaryP99Ms };
  return () => s.betweenTicks(async () => {
    const [routing, backends, flags, segments, events, proxy, fleetState, rollout] = await Promise.all([
      routingSection(s.redis),
      backendsSection(s.redis),
      flagsSection(s.redis),
      segmentsSection(s.redis),
      eventsSection(s.redis, 30),
      readSection(async () => ({ value: await proxyServers(s.socket), problems: [] }), undefined),
      s.fleet.describe(),
      // Unreadable (wrong type, garbage) shows as such; the fallback undefined is "garbage".
      readSection(async () => {
        const r = await readRollout(s.redis);
        return { value: r.state, problems: r.problems };
      }, undefined),
    ]);
    const now = Date.now();
    const history = s.collector.history();
    snapshot += 1;
    return {
      snapshot,
      at: new Date(now).toISOString(),
      proxyUrl: s.proxyUrl,
      deployment: s.deployment,
      periodFactor: s.periodFactor,
      versions: { prod: s.prodVersion.current(), canary: canary.appVersion },
      sections: { routing: routing.health, backends: backends.health, flags: flags.health, segments: segments.health, events: events.health, proxy: proxy.health },
      routing: routing.value,
      split: splitView(history, routing.value, now, 10),
      backends: backends.value.map((b) => {
        const p = proxy.value?.get(b.address);
        return { id: b.id, role: b.role, version: b.version, address: b.address, draining: b.draining === true, proxyStatus: p?.status ?? (proxy.value ? "not in proxy" : "unknown"), proxyWeight: p?.weight ?? null };
      }),
      fleet: fleetState,
      flags: describeFlags(flags.value),
      segments: describeSegments(segments.value, flags.value),
      alarms: s.evaluator.states().map((a) => alarmView(a, fleetState)),
      activity: s.activity.recent(50),
      events: events.value,
      chart: chartSeries(history, now, { windowSeconds: CHART_WINDOW_SECONDS, stepSeconds: CHART_STEP_SECONDS, thresholds: canaryThresholds, routing: routing.value, events: events.value, activity: s.activity.recent(50) }),
      rollout: rolloutView({ state: rollout.value, problems: rollout.health.problems }, now),
    };
  });
}
