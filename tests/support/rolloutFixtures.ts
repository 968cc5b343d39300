// Rollout states, step results and proxy windows as the controller and the agent build them, for
// the state, store and controller tests (the judgements come from the real judge).
import { DEFAULT_ANALYSIS, judge, type JudgeInput, type RoleWindow } from "../../core/rollout/judge";
import type { RolloutState, StepResult } from "../../core/rollout/model";

export const BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 1500, 2500, 5000];

/** One role's window: `requests` answers with `errors` 5xx, all timed, `slow` of them at ≥ 1000 ms, the rest under 5 ms. */
export function roleWindow(requests: number, errors: number, slow = 0): RoleWindow {
  const counts = [requests, ...BOUNDS_MS.map((b) => (b <= 1000 ? slow : 0))];
  return { requests, errors5xx: errors, latency: { boundsMs: BOUNDS_MS, counts } };
}

export function window(canary: RoleWindow, production: RoleWindow): JudgeInput {
  return { canary, production };
}

/** A result judged on `input` at `step`, by `judgedBy`. */
export function stepResult(step: number, input: JudgeInput, judgedBy = "controller", weight = 5): StepResult {
  const judgement = judge(input, DEFAULT_ANALYSIS);
  return { step, weight, verdict: judgement.verdict, judgedBy, at: "2026-12-01T10:05:00.000Z", judgement };
}

/** A failing result: the canary answers 10 % 5xx, production none. */
export const failing = (step = 0, judgedBy = "agent proxy-1"): StepResult => stepResult(step, window(roleWindow(1000, 100), roleWindow(5000, 0)), judgedBy);

/** A three-step rollout at `step`, in `status`, at `revision`. */
export function rolloutState(over: Partial<RolloutState> = {}): RolloutState {
  return {
    id: "2.0.0@2026-12-01T10:00:00.000Z",
    appVersion: "2.0.0",
    plan: {
      steps: [
        { weight: 5, pauseSeconds: 120 },
        { weight: 25, pauseSeconds: 300 },
        { weight: 50, pauseSeconds: 300 },
      ],
      analysis: DEFAULT_ANALYSIS,
      autoPromote: false,
    },
    status: "progressing",
    step: 0,
    stepStartedAt: "2026-12-01T10:00:00.000Z",
    results: [],
    reason: "started",
    updatedAt: "2026-12-01T10:00:00.000Z",
    updatedBy: "controller",
    revision: 0,
    ...over,
  };
}
