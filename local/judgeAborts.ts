// Local mode's stand-in for the agents' CanaryJudgeAborts metric: the agent process publishes no
// metrics locally (no AVIARY_DEPLOYMENT), so the collector counts the aborts it finds in the
// rollout state instead — each step result failed by an agent (judgedBy "agent <proxy id>") once.
import type { RolloutState } from "../core/rollout/model";

const AGENT = /^agent /;

/** Keys of the agent-judged fail results in a rollout state. */
function agentAborts(state: RolloutState | null | undefined): string[] {
  if (state === null || state === undefined) return [];
  return state.results.flatMap((r, i) => (r.verdict === "fail" && AGENT.test(r.judgedBy) ? [`${state.id}#${i}`] : []));
}

/**
 * Wraps a rollout read into "agent aborts since the last call". The first call only takes what is
 * already stored as seen (a restarted local stack does not alarm again on an old abort); a read
 * that fails or finds garbage counts nothing and forgets nothing.
 */
export function judgeAbortCounter(read: () => Promise<RolloutState | null | undefined>): () => Promise<number> {
  let seen: Set<string> | undefined;
  return async () => {
    const keys = agentAborts(await read());
    if (seen === undefined) {
      seen = new Set(keys);
      return 0;
    }
    const fresh = keys.filter((k) => !seen!.has(k));
    for (const k of fresh) seen.add(k);
    return fresh.length;
  };
}
