// The charts' event markers: what changed traffic or judged it, at the moment it happened — routing
// writes, rollout transitions and controller actions from the event stream, and alarm transitions
// from the alarm topic. One marker list for every chart, so a line in one chart lines up with the
// same moment in the others.
import type { AviaryEvent } from "../../state/events";
import type { Activity } from "../activity";
import { changesRouting } from "./split";

export type MarkerKind = "routing" | "rollout" | "controller" | "alarm";

export interface ChartMarker {
  /** Seconds since the epoch (the charts' x). */
  t: number;
  kind: MarkerKind;
  label: string;
}

const onOff = (enabled: string | undefined): string => (enabled === "true" ? "on" : "off");

function routingLabel(d: Record<string, string>): string {
  const weight = d.oldWeight === d.newWeight ? `weight ${d.newWeight}` : `weight ${d.oldWeight}→${d.newWeight}`;
  const enabled = d.oldEnabled === d.newEnabled ? "" : `, canary ${onOff(d.newEnabled)}`;
  return `routing: ${weight}${enabled}`;
}

function eventMarker(e: AviaryEvent): ChartMarker | undefined {
  const t = Date.parse(e.at) / 1000;
  const why = e.reason ? ` (${e.reason})` : "";
  // The event kinds are those the stream reader accepts; "rollout" arrives with the rollout state.
  const kind: string = e.kind;
  if (kind === "routing") return { t, kind: "routing", label: `${routingLabel(e.detail)} by ${e.by}${why}` };
  if (kind === "rollout") {
    const d = e.detail;
    const step = d.step === undefined || d.step === "" ? "" : ` step ${Number(d.step) + 1}`;
    const verdict = d.verdict ? ` ${d.verdict}` : "";
    const moved = changesRouting(e) ? `, ${routingLabel(d)}` : "";
    return { t, kind: "rollout", label: `rollout: ${d.oldStatus || "none"}→${d.newStatus || "none"}${step}${verdict}${moved} by ${e.by}${why}` };
  }
  if (kind === "controller") return { t, kind: "controller", label: `controller: ${Object.values(e.detail).join(" ")} by ${e.by}${why}` };
  return undefined;
}

/** Markers with from ≤ t ≤ to (seconds), oldest first. */
export function chartMarkers(events: readonly AviaryEvent[], activity: readonly Activity[], from: number, to: number): ChartMarker[] {
  const alarms = activity.filter((a) => a.kind === "alarm").map((a): ChartMarker => ({ t: Date.parse(a.at) / 1000, kind: "alarm", label: `alarm ${a.title}` }));
  const fromEvents = events.map(eventMarker).filter((m): m is ChartMarker => m !== undefined);
  return [...fromEvents, ...alarms].filter((m) => Number.isFinite(m.t) && m.t >= from && m.t <= to).sort((a, b) => a.t - b.t);
}
