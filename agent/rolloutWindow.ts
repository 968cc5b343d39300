// The agent's judge window: HAProxy's cumulative per-role counters and latency histogram now minus
// what they were when the agent first saw the rollout's step, as the judge (core/rollout/judge.ts)
// reads them. Pure; rolloutJudge.ts adds the socket reads, the timer and Redis.
import type { JudgeInput, RoleWindow } from "../core/rollout/judge";
import type { Role } from "../core/routing/role";
import { roleLatency } from "./latencyHistogram";
import type { CounterReading } from "./metrics";

/** No latency table: an empty histogram, on which the judge's latency check stays inconclusive. */
const NO_LATENCY = { boundsMs: [], counts: [0] } as const;

function roleWindow(role: Role, baseline: CounterReading, now: CounterReading, latency: Map<Role, RoleWindow["latency"]> | undefined): RoleWindow | undefined {
  const before = baseline.totals.find((t) => t.role === role) ?? { requests: 0, errors5xx: 0 };
  const after = now.totals.find((t) => t.role === role) ?? { requests: 0, errors5xx: 0 };
  const requests = after.requests - before.requests;
  const errors5xx = after.errors5xx - before.errors5xx;
  if (requests < 0 || errors5xx < 0) return undefined;
  // In-flight requests count in stot before their answer: never more 5xx than requests.
  return { requests, errors5xx: Math.min(errors5xx, requests), latency: latency?.get(role) ?? NO_LATENCY };
}

/**
 * Both roles' counts since `baseline`. undefined when a counter went backwards: HAProxy restarted,
 * its counters began again at 0, and the caller takes a new baseline.
 */
export function windowSince(baseline: CounterReading, now: CounterReading): JudgeInput | undefined {
  // A table that appeared since the baseline (a reload) has counted only since then: its counts are the window.
  const latency = now.latency === undefined ? undefined : roleLatency(baseline.latency, now.latency);
  const canary = roleWindow("canary", baseline, now, latency);
  const production = roleWindow("prod", baseline, now, latency);
  return canary === undefined || production === undefined ? undefined : { canary, production };
}
