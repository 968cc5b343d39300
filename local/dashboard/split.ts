// The traffic-split panel's numbers: the measured share is counted only since the last routing
// change (at most the last windowSeconds), so a disabled canary never shows the share it had before
// the disable; beside it the weight the routing state asks for, now and over the chart's window.
import type { AviaryEvent } from "../../state/events";
import type { RoutingState } from "../../state/routing";
import type { TrafficPoint } from "../../adapters/metricsSink/local";

export interface SplitView {
  /** ISO start of the counted window: the later of now - windowSeconds and the last routing change. */
  since: string;
  windowSeconds: number;
  prod: number;
  canary: number;
  /** Measured canary share in the window; null without requests in it. */
  canaryPct: number | null;
  /** The canary share routing asks for now: its weight when enabled, 0 when disabled; null if unreadable. */
  effectiveWeight: number | null;
}

export function splitView(points: readonly TrafficPoint[], routing: RoutingState | null, now: number, windowSeconds: number): SplitView {
  const changed = routing ? Date.parse(routing.changedAt) : NaN;
  const from = Math.max(now - windowSeconds * 1000, Number.isFinite(changed) ? changed : -Infinity);
  const inWindow = points.filter((p) => p.at > from && p.at <= now);
  const prod = inWindow.reduce((n, p) => n + p.prod.requests, 0);
  const canary = inWindow.reduce((n, p) => n + p.canary.requests, 0);
  return {
    since: new Date(from).toISOString(),
    windowSeconds: Math.round((now - from) / 100) / 10,
    prod,
    canary,
    canaryPct: prod + canary > 0 ? (100 * canary) / (prod + canary) : null,
    effectiveWeight: routing ? (routing.canaryEnabled ? routing.canaryWeight : 0) : null,
  };
}

/** A routing event's effective canary weight after (or, `before`, ahead of) it: 0 when disabled. */
function effective(e: AviaryEvent, side: "old" | "new"): number | null {
  const weight = Number(e.detail[`${side}Weight`]);
  const enabled = e.detail[`${side}Enabled`];
  if (!Number.isFinite(weight) || (enabled !== "true" && enabled !== "false")) return null;
  return enabled === "true" ? weight : 0;
}

/** A routing write, or a rollout write that moved routing in the same script (its event carries the routing detail). */
export function changesRouting(e: AviaryEvent): boolean {
  const kind: string = e.kind;
  return kind === "routing" || (kind === "rollout" && e.detail.newWeight !== undefined);
}

/**
 * The canary share routing asked for at each time t (seconds): the state after the last routing
 * change at or before t, else the state ahead of the first one after t, else today's routing. Null
 * where none of them says (routing unreadable, no event in reach).
 */
export function askedWeightOverTime(t: readonly number[], events: readonly AviaryEvent[], routing: RoutingState | null): (number | null)[] {
  const changes = events.filter(changesRouting).map((e) => ({ at: Date.parse(e.at) / 1000, e })).filter((c) => Number.isFinite(c.at)).sort((a, b) => a.at - b.at);
  const now = routing ? (routing.canaryEnabled ? routing.canaryWeight : 0) : null;
  return t.map((x) => {
    const before = changes.filter((c) => c.at <= x).at(-1);
    if (before) return effective(before.e, "new");
    const after = changes.find((c) => c.at > x);
    return after ? effective(after.e, "old") : now;
  });
}
