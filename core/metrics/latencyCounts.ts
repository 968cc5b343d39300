// The shape of one role's latency histogram over an interval, as HAProxy's latency stick table
// gives it (haproxy/config.ts latencyBoundsMs; the agent reads it in agent/latencyHistogram.ts).
// It lives in core/ so the canary judge reads the same shape the agent produces.

/**
 * Cumulative latency counts: counts[0] = responses timed, counts[i] = those that took >= boundsMs[i - 1]
 * ms (so counts has boundsMs.length + 1 entries and never increases along the array).
 */
export interface LatencyCounts {
  boundsMs: readonly number[];
  counts: readonly number[];
}
