// The configuration invocation the canary stack sends the controller Lambda, built in one place: the
// canary stack's aws.lambda.Invocation sends it, and local mode hands it to the same handler at
// start, so the two cannot drift. Without a rollout plan it sets the fixed weight; with one it
// starts the rollout (whose first step sets the weight).
import type { RolloutPlan } from "../core/rollout/model";
import type { ConfigInvocation } from "./alarmMessage";

export type CanaryWeightInvocation = Extract<ConfigInvocation, { action: "setCanaryWeight" }>;
export type StartRolloutInvocation = Extract<ConfigInvocation, { action: "startRollout" }>;

/** With lifecycleScope "CRUD", aws.lambda.Invocation adds `tf` (the lifecycle action) to it. */
export function canaryWeightInvocation(weight: number, appVersion: string): CanaryWeightInvocation {
  return { action: "setCanaryWeight", weight, appVersion };
}

/** The canary stack's invocation: a rollout's start when the stack has aviary:rollout, else its weight. */
export function canaryInvocation(weight: number, appVersion: string, rollout?: RolloutPlan): CanaryWeightInvocation | StartRolloutInvocation {
  return rollout ? { action: "startRollout", plan: rollout, appVersion } : canaryWeightInvocation(weight, appVersion);
}
