// How the dashboard presents a rollout: the plan's steps as a timeline (done, current, still to
// come), the current step's time left, the status and why, and each judged step's verdict with the
// numbers it used — canary against production 5xx rates and the p99 buckets, and the judge's
// reasons. Garbage in the stored rollout is shown as such, naming the bad fields.
import type { ErrorRateJudgement, Judgement, Verdict } from "../../core/rollout/judge";
import type { RolloutState, RolloutStatus, StepResult } from "../../core/rollout/model";

export interface VerdictView {
  verdict: Verdict;
  judgedBy: string;
  at: string;
  canary5xx: ErrorRateJudgement["canary"];
  production5xx: ErrorRateJudgement["production"];
  differencePoints: ErrorRateJudgement["differencePoints"];
  allowedPoints: ErrorRateJudgement["allowedPoints"];
  /** e.g. "p99". */
  quantileLabel: string;
  /** The histogram bucket each role's quantile lies in, e.g. "[100, 250) ms"; "no data" without timed responses. */
  canaryLatency: string;
  productionLatency: string;
  errorRateReason: string;
  latencyReason: string;
}

export type StepPhase = "done" | "current" | "pending";

export interface StepView {
  index: number;
  weight: number;
  pauseSeconds: number;
  phase: StepPhase;
  /** The step's verdicts, oldest first (a paused step may be judged again after a resume). */
  verdicts: VerdictView[];
}

export type RolloutView =
  | { kind: "unreadable"; problems: string[] }
  | {
      kind: "rollout";
      id: string;
      appVersion: string;
      status: RolloutStatus;
      reason: string;
      updatedAt: string;
      updatedBy: string;
      autoPromote: boolean;
      /** Index of the current step. */
      step: number;
      stepStartedAt: string;
      /** When the current step's pause ends; null unless the rollout is progressing. */
      stepEndsAt: string | null;
      /** Seconds until then at the snapshot's time (0 once due); null unless progressing. */
      secondsLeft: number | null;
      steps: StepView[];
    };

type Bucket = Judgement["latency"]["canary"]["quantileMs"];
const bucket = (q: Bucket): string => (q === null ? "no data" : q.to === null ? `≥ ${q.from} ms` : `[${q.from}, ${q.to}) ms`);

function verdictView(r: StepResult): VerdictView {
  const { errorRate: e, latency: l } = r.judgement;
  return {
    verdict: r.verdict,
    judgedBy: r.judgedBy,
    at: r.at,
    canary5xx: e.canary,
    production5xx: e.production,
    differencePoints: e.differencePoints,
    allowedPoints: e.allowedPoints,
    quantileLabel: `p${Number((l.quantile * 100).toFixed(1))}`,
    canaryLatency: bucket(l.canary.quantileMs),
    productionLatency: bucket(l.production.quantileMs),
    errorRateReason: e.reason,
    latencyReason: l.reason,
  };
}

/** Which part of the timeline step i is in: every step is done once the rollout is promotable or promoted. */
function phase(i: number, r: RolloutState): StepPhase {
  if (r.status === "promotable" || r.status === "promoted") return "done";
  return i < r.step ? "done" : i === r.step ? "current" : "pending";
}

/** null: no rollout stored (the panel is hidden); undefined state: garbage, shown with its problems. */
export function rolloutView(read: { state: RolloutState | null | undefined; problems: string[] }, now: number): RolloutView | null {
  if (read.state === null) return null;
  if (read.state === undefined) return { kind: "unreadable", problems: read.problems };
  const r = read.state;
  const current = r.plan.steps[r.step];
  const endsAt = r.status === "progressing" && current ? Date.parse(r.stepStartedAt) + current.pauseSeconds * 1000 : NaN;
  const timed = Number.isFinite(endsAt);
  return {
    kind: "rollout",
    id: r.id,
    appVersion: r.appVersion,
    status: r.status,
    reason: r.reason,
    updatedAt: r.updatedAt,
    updatedBy: r.updatedBy,
    autoPromote: r.plan.autoPromote,
    step: r.step,
    stepStartedAt: r.stepStartedAt,
    stepEndsAt: timed ? new Date(endsAt).toISOString() : null,
    secondsLeft: timed ? Math.max(0, Math.ceil((endsAt - now) / 1000)) : null,
    steps: r.plan.steps.map((s, i) => ({ index: i, weight: s.weight, pauseSeconds: s.pauseSeconds, phase: phase(i, r), verdicts: r.results.filter((x) => x.step === i).map(verdictView) })),
  };
}
