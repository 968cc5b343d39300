// A progressive rollout: the plan (from the canary stack's `aviary:rollout`), and the state the
// controller keeps in Redis while it runs. Types only; the plan's rules live in
// core/config/rollout.ts, the decisions in core/rollout/decide.ts, the storage in state/rollout.ts.
import type { AnalysisSettings, Judgement } from "./judge";

export interface RolloutStep {
  /** Canary weight during the step, integer 1..100, increasing from step to step. */
  weight: number;
  /** How long the step runs before it is judged and the next one starts. */
  pauseSeconds: number;
}

export interface RolloutPlan {
  steps: RolloutStep[];
  analysis: AnalysisSettings;
  /** After the last step passes: true dispatches the promote workflow; false waits for a person. */
  autoPromote: boolean;
}

export const ROLLOUT_STATUSES = ["progressing", "paused", "promotable", "aborted", "promoted"] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

/** The numbers one verdict used (a Judgement as the judge returned it), and who judged. */
export interface StepResult {
  /** Index into plan.steps. */
  step: number;
  weight: number;
  verdict: Judgement["verdict"];
  /** "controller" at a step's end (all proxies' windows summed), or "agent <proxy id>" for a fast abort. */
  judgedBy: string;
  at: string;
  judgement: Judgement;
}

export interface RolloutState {
  /** Unique per start: `<appVersion>@<start time ISO>`; windows and schedules are keyed by it. */
  id: string;
  appVersion: string;
  plan: RolloutPlan;
  status: RolloutStatus;
  /** Index into plan.steps of the step running (or, when promotable/promoted, the last one). */
  step: number;
  /** When the current step started (its window and its pause are counted from here). */
  stepStartedAt: string;
  /** Results of judged steps, oldest first. */
  results: StepResult[];
  /**
   * A person asked to promote (`aviary rollout promote`); the controller, which holds the means to
   * (the promote workflow's token, local mode's fleet), carries it out on its next tick.
   */
  promoteRequested?: { by: string; at: string };
  /** Why the status is what it is (abort reason, pause reason, "all steps passed"…). */
  reason: string;
  updatedAt: string;
  updatedBy: string;
  /** Incremented by every write; a write names the revision it read (compare-and-set). */
  revision: number;
}
