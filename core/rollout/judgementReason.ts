// A verdict in words with the numbers it rests on, for a rollout's reason, its notices and logs.
import type { Judgement } from "./judge";

/** "<verdict>: 5xx <counts and rates>; latency <buckets>", one line. */
export function judgementReason(j: Judgement): string {
  return `${j.verdict}: 5xx ${j.errorRate.reason}; latency ${j.latency.reason}`;
}
