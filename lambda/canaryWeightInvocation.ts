// The configuration invocation that sets the canary weight, built in one place: the canary stack's
// aws.lambda.Invocation sends it to the controller Lambda, and local mode hands it to the same
// handler at start, so the two cannot drift.
import type { ConfigInvocation } from "./alarmMessage";

export type CanaryWeightInvocation = Extract<ConfigInvocation, { action: "setCanaryWeight" }>;

/** With lifecycleScope "CRUD", aws.lambda.Invocation adds `tf` (the lifecycle action) to it. */
export function canaryWeightInvocation(weight: number, appVersion: string): CanaryWeightInvocation {
  return { action: "setCanaryWeight", weight, appVersion };
}
