// The metrics loop publishes the judge's abort count with the canary's interval, once.
import pino from "pino";
import { startMetricsLoop } from "../../../agent/metricsLoop";
import type { RoleMetrics } from "../../../agent/metrics";

const at = new Date(0);
const interval: RoleMetrics[] = [
  { role: "prod", requests: 100, errors5xx: 0, latencyP99Ms: 20, at },
  { role: "canary", requests: 10, errors5xx: 3, latencyP99Ms: 20, at },
];

test("each interval carries the aborts since the previous one on the canary's metrics only", async () => {
  const published: (readonly RoleMetrics[])[] = [];
  let aborts = 1;
  const stop = startMetricsLoop({
    sampler: { sample: () => Promise.resolve(interval) },
    sink: { publish: (m) => (published.push(m), Promise.resolve()) },
    logger: pino({ level: "silent" }),
    intervalMs: 20,
    judgeAborts: () => {
      const n = aborts;
      aborts = 0;
      return n;
    },
  });
  await new Promise((r) => setTimeout(r, 70));
  stop();
  expect(published.length).toBeGreaterThanOrEqual(2);
  expect(published[0].map((m) => [m.role, m.judgeAborts])).toEqual([["prod", undefined], ["canary", 1]]);
  expect(published[1].map((m) => [m.role, m.judgeAborts])).toEqual([["prod", undefined], ["canary", 0]]);
});
