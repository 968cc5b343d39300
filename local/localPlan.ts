// A rollout plan as local mode runs it: each pause divided by the period factor, as the alarm
// periods and the controller's cooldowns are (local/config.ts), so a 120 s step takes 12 s. Scaled
// before the start, so the controller decides on, and the dashboard shows, the pauses that run.
import type { RolloutPlan } from "../core/rollout/model";

export function localPlan(plan: RolloutPlan, periodFactor: number): RolloutPlan {
  return { ...plan, steps: plan.steps.map((s) => ({ ...s, pauseSeconds: Math.max(1, Math.round(s.pauseSeconds / periodFactor)) })) };
}
