// The canary stack's `aviary:rollout`: the weight steps a progressive rollout walks, how each step
// is judged (the judge's settings, each defaulting to DEFAULT_ANALYSIS) and whether the last
// step's pass promotes by itself. Without it the canary sits at its fixed `canaryWeight`.
import * as z from "zod";
import { DEFAULT_ANALYSIS } from "../rollout/judge";
import type { RolloutPlan } from "../rollout/model";
import { booleanFlag, integerIn, numberIn, numeric } from "./zodValues";

export const MAX_ROLLOUT_STEPS = 10;
export const DEFAULT_AUTO_PROMOTE = false;

const step = z
  .object({
    weight: integerIn(1, 100),
    /** Long enough for a window worth judging, short enough to fit one day's window TTL. */
    pauseSeconds: integerIn(10, 86_400),
  })
  .strict();

const isStepWeight = (w: unknown): w is number => Number.isInteger(w) && (w as number) >= 1 && (w as number) <= 100;

const stepsError = `must list 1 to ${MAX_ROLLOUT_STEPS} steps ({weight, pauseSeconds} each)`;
const steps = z
  .array(step, { error: stepsError })
  .min(1, { error: stepsError })
  .max(MAX_ROLLOUT_STEPS, { error: stepsError })
  .superRefine((list, ctx) => {
    // Weights only go up: a step that lowered the weight would shrink the sample it is judged on.
    // Only valid neighbours are compared, so a bad weight gives one line, its own.
    for (let i = 1; i < list.length; i++) {
      const [prev, cur] = [list[i - 1]?.weight, list[i]?.weight];
      if (isStepWeight(prev) && isStepWeight(cur) && cur <= prev) {
        ctx.addIssue({ code: "custom", path: [i, "weight"], message: `must be greater than the previous step's weight (${prev}): weights increase from step to step` });
      }
    }
  });

const pointsError = "must be a number of points above 0 and at most 50";
const analysis = z
  .object({
    maxErrorRateIncreasePoints: numeric(z.number({ error: pointsError }).gt(0, { error: pointsError }).lte(50, { error: pointsError })).default(DEFAULT_ANALYSIS.maxErrorRateIncreasePoints),
    latencyQuantile: numberIn(0.5, 0.999).default(DEFAULT_ANALYSIS.latencyQuantile),
    maxLatencyRatio: numberIn(1.05, 10).default(DEFAULT_ANALYSIS.maxLatencyRatio),
    minRequests: integerIn(20, 1_000_000).default(DEFAULT_ANALYSIS.minRequests),
    alpha: numberIn(0.0001, 0.1).default(DEFAULT_ANALYSIS.alpha),
  })
  .strict();

export const rolloutSchema = z
  .object({
    steps,
    analysis: analysis.default(() => ({ ...DEFAULT_ANALYSIS })),
    autoPromote: booleanFlag.default(DEFAULT_AUTO_PROMOTE),
  })
  .strict()
  .transform((plan): RolloutPlan => plan);

/**
 * The canaryWeight-vs-rollout rule, for the canary stack: with a rollout the canary starts at the
 * first step's weight, so a canaryWeight may be left out and, if given, must say the same. Returns
 * the problem with canaryWeight, if any; a value that is itself invalid is left to its own rule.
 */
export function canaryWeightProblem(canaryWeight: unknown, rollout: unknown): string | undefined {
  const first = (rollout as { steps?: { weight?: unknown }[] } | undefined)?.steps?.[0]?.weight;
  if (rollout === undefined) return canaryWeight === undefined ? "is required (or set aviary:rollout, whose first step's weight the canary then starts at)" : undefined;
  if (canaryWeight === undefined || !Number.isInteger(canaryWeight) || !isStepWeight(first) || canaryWeight === first) return undefined;
  return `contradicts aviary:rollout, whose first step's weight is ${first}: leave canaryWeight out or set it to ${first}`;
}
