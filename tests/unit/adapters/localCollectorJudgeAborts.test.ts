// In local mode the judge-abort alarm gets its data from the collector: the aborts it is handed are
// recorded as the canary's CanaryJudgeAborts, which the local evaluator reads as the AWS alarm does.
import { LocalCollector } from "../../../adapters/metricsSink/local";
import type { RoleMetrics } from "../../../agent/metrics";
import { canaryAlarms } from "../../../core/alarms/definitions";
import { DEFAULT_THRESHOLDS } from "../../../core/config/defaults";
import { AlarmEvaluator } from "../../../local/alarmEvaluator";

const abortAlarm = canaryAlarms<string>(DEFAULT_THRESHOLDS, { deployment: "local" }).filter((a) => a.key === "canary-judge-abort");

test("an abort handed to the collector puts canary-judge-abort into ALARM; none leaves it OK", async () => {
  const t0 = 1_000_000;
  const evaluator = new AlarmEvaluator(abortAlarm, "local", 10, t0);
  let now = t0;
  const sample = (): Promise<RoleMetrics[]> => Promise.resolve((["prod", "canary"] as const).map((role) => ({ role, requests: 10, errors5xx: 0, latencyP99Ms: null, at: new Date(now) })));
  let aborts = 0;
  const collector = new LocalCollector({ deployment: "local", autoScalingGroupName: "local-fleet", sampler: { sample }, fleetPids: () => new Map(), judgeAborts: () => Promise.resolve(aborts) }, evaluator);
  now = t0 + 500;
  await collector.tick(now);
  expect(evaluator.evaluate(t0 + 1000).map((t) => t.newState)).toEqual(["OK"]);
  aborts = 1;
  now = t0 + 1500;
  await collector.tick(now);
  expect(evaluator.evaluate(t0 + 2000).map((t) => [t.name, t.newState])).toEqual([["local-canary-judge-abort", "ALARM"]]);
});
