// An agent's judge turns the canary off itself (state/rollout.ts abortByJudge); subscribers hear of
// it from the controller, when the canary-judge-abort alarm reaches it: which rollout, which proxy
// judged, and the numbers the verdict rests on.
import { judgementReason } from "../rollout/judgementReason";
import type { RolloutState, StepResult } from "../rollout/model";

/** judgedBy of a verdict an agent reached on its own window (see StepResult). */
const AGENT_JUDGE = "agent ";

/** The notice for a rollout an agent's judge aborted, or undefined when the stored rollout is not one. */
export function judgeAbortNotice(rollout: RolloutState | null | undefined): { rolloutId: string; judgedBy: string; subject: string; message: string } | undefined {
  if (!rollout || rollout.status !== "aborted") return undefined;
  const last: StepResult | undefined = rollout.results.at(-1);
  if (!last || last.verdict !== "fail" || !last.judgedBy.startsWith(AGENT_JUDGE)) return undefined;
  return {
    rolloutId: rollout.id,
    judgedBy: last.judgedBy,
    subject: `Aviary: canary turned off by the judge, rollout aborted (${rollout.appVersion})`,
    message:
      `The canary judge in ${last.judgedBy} failed the canary against production at ${last.at} and turned it off; rollout ${rollout.id} ` +
      `is aborted at step ${last.step + 1} of ${rollout.plan.steps.length} (weight ${last.weight}%).\n` +
      `Numbers: ${judgementReason(last.judgement)}\n` +
      `After a fix, "npx aviary rollout retry" starts the rollout again from step 1.`,
  };
}
