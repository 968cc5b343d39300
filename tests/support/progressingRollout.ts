// The rollout the dashboard tests show: three steps (5 %, 25 %, 50 %), in step 2 since `started`,
// step 1 passed with a verdict from the real judge (canary 4/20000 5xx against production's
// 150/380000, every answer under 5 ms).
import type { RolloutState } from "../../core/rollout/model";
import { roleWindow, rolloutState, stepResult, window } from "./rolloutFixtures";

export function progressingRollout(started: Date): RolloutState {
  const passed = { ...stepResult(0, window(roleWindow(20000, 4), roleWindow(380000, 150))), at: started.toISOString() };
  return rolloutState({ appVersion: "1.1.0", id: `1.1.0@${started.toISOString()}`, step: 1, stepStartedAt: started.toISOString(), results: [passed], reason: "step 1 passed", updatedAt: started.toISOString() });
}
