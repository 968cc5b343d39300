// A rollout as the controller stores it, with real verdicts: the judge itself judges the windows,
// so the numbers the dashboard shows are the judge's, not made up next to it.
import { DEFAULT_ANALYSIS, judge, type RoleWindow } from "../../core/rollout/judge";
import type { RolloutState, StepResult } from "../../core/rollout/model";

const BOUNDS = [50, 100, 250, 500, 1000];

/** A role's window: `requests` answers, `errors` of them 5xx, every answer timed in the bucket starting at `bucketMs`. */
export function roleWindow(requests: number, errors: number, bucketMs: number): RoleWindow {
  return { requests, errors5xx: errors, latency: { boundsMs: BOUNDS, counts: [requests, ...BOUNDS.map((b) => (b <= bucketMs ? requests : 0))] } };
}

export function stepResult(step: number, weight: number, canary: RoleWindow, production: RoleWindow, at: string): StepResult {
  const judgement = judge({ canary, production }, DEFAULT_ANALYSIS);
  return { step, weight, verdict: judgement.verdict, judgedBy: "controller", at, judgement };
}

/** Three steps (5 %, 25 %, 50 %); step 1 passed and the rollout is in step 2 since `stepStartedAt`. */
export function progressingRollout(stepStartedAt: Date): RolloutState {
  const at = stepStartedAt.toISOString();
  return {
    id: `1.1.0@${new Date(stepStartedAt.getTime() - 120_000).toISOString()}`,
    appVersion: "1.1.0",
    plan: { steps: [{ weight: 5, pauseSeconds: 120 }, { weight: 25, pauseSeconds: 300 }, { weight: 50, pauseSeconds: 300 }], analysis: DEFAULT_ANALYSIS, autoPromote: false },
    status: "progressing",
    step: 1,
    stepStartedAt: at,
    results: [stepResult(0, 5, roleWindow(20000, 4, 50), roleWindow(380000, 150, 50), at)],
    reason: "step 1 passed",
    updatedAt: at,
    updatedBy: "controller",
    revision: 2,
  };
}
