// The agent's metrics loop: every interval, one sample (show stat + the latency table) and the
// canary judge's abort count go to the sink.
import type { Logger } from "pino";
import type { MetricsSink } from "./ports";
import type { MetricsSampler } from "./metrics";

/** The canary alarms read 10 s high-resolution periods (core/alarms/definitions.ts). */
export const METRICS_INTERVAL_MS = 10_000;

export interface MetricsLoopOptions {
  sampler: Pick<MetricsSampler, "sample">;
  sink: MetricsSink;
  logger: Logger;
  intervalMs?: number;
  /** Rollouts the proxy's judge aborted since the last call (rolloutJudge.ts takeAborts), published with the canary's metrics. */
  judgeAborts?: () => number;
}

/** Starts sampling; returns a stop function. */
export function startMetricsLoop(o: MetricsLoopOptions): () => void {
  const timer = setInterval(() => {
    o.sampler
      .sample()
      .then((m) => {
        if (m.length === 0) return undefined;
        // Taken only with an interval to publish it in; a failed publish loses it (the canary is already off, only the alarm misses).
        const aborts = o.judgeAborts?.();
        return o.sink.publish(aborts === undefined ? m : m.map((r) => (r.role === "canary" ? { ...r, judgeAborts: aborts } : r)));
      })
      // A missed sample only delays an alarm; routing must never depend on metrics.
      .catch((err: Error) => o.logger.warn({ err: err.message }, "metrics sample or publish failed"));
  }, o.intervalMs ?? METRICS_INTERVAL_MS);
  return () => clearInterval(timer);
}
