/**
 * Pure flag evaluation. Order (first that applies wins):
 *   1. disabled (kill switch)             → no variant: the caller's own default value, DISABLED
 *   2. targeting rules, in order          → the first rule whose conditions hold (all / any) and,
 *      when it has a percentage, whose bucket < percentage·100 → its variant: TARGETING_MATCH, or
 *      SPLIT with a percentage. A rule with a percentage needs a targetingKey; a rule that does not
 *      match falls through to the next one.
 *   3. rollout, user bucket < percent·100 → rollout variant, SPLIT (outside: defaultVariant, SPLIT)
 *      rollout without a targetingKey    → defaultVariant, DEFAULT (no stable identity to bucket)
 *   4. no rules and no rollout            → defaultVariant, STATIC; otherwise DEFAULT
 * Rules and flag rollout use the same bucket, so raising either percentage only adds users.
 * Conditions (conditions.ts) never throw, whatever the context holds. Results are precomputed per
 * flag, so an evaluation allocates next to nothing.
 */
import { compileConditions, type CompiledSegment, type ConditionTest, type EvaluationContext, type SegmentLookup } from "./conditions";
import { murmur3 } from "./hash";
import { BUCKETS, type FlagDefinition, type FlagValue, type JsonValue, type SegmentDefinition } from "./model";

export type { CompiledSegment, EvaluationContext, SegmentLookup } from "./conditions";

/** The OpenFeature standard reasons this evaluator produces. */
export type EvaluationReason = "STATIC" | "DEFAULT" | "TARGETING_MATCH" | "SPLIT" | "DISABLED";

/** A variant the flag serves. */
export interface VariantEvaluation {
  readonly value: FlagValue;
  readonly variant: string;
  readonly reason: Exclude<EvaluationReason, "DISABLED">;
  /** Which rule (index into the flag's rules) served it; absent when no rule did. */
  readonly ruleIndex?: number;
}

/**
 * A disabled flag serves no variant: the value the caller passed in code applies, with reason
 * DISABLED (OpenFeature: a disabled flag resolves to the caller's default value).
 */
export interface CallerDefaultEvaluation {
  readonly reason: "DISABLED";
  readonly useCallerDefault: true;
  readonly value?: undefined;
  readonly variant?: undefined;
  readonly ruleIndex?: undefined;
}

export type Evaluation = VariantEvaluation | CallerDefaultEvaluation;

const DISABLED: CallerDefaultEvaluation = Object.freeze({ reason: "DISABLED", useCallerDefault: true });

interface CompiledRule {
  readonly holds: ConditionTest;
  /** Buckets below this are served; undefined = every user the conditions hold for. */
  readonly threshold: number | undefined;
  readonly result: VariantEvaluation;
}

export interface CompiledFlag {
  readonly definition: Readonly<FlagDefinition>;
  readonly rules: readonly CompiledRule[];
  /** Buckets below this are in the rollout; undefined = no rollout. */
  readonly threshold: number | undefined;
  readonly results: { readonly static: VariantEvaluation; readonly fallback: VariantEvaluation; readonly splitIn: VariantEvaluation | undefined; readonly splitOut: VariantEvaluation };
}

/** Bucket 0..9999 of a user for a flag: same inputs, same bucket, on every machine. */
export function bucketOf(flagKey: string, targetingKey: string): number {
  return murmur3(`${flagKey}/${targetingKey}`) % BUCKETS;
}

const thresholdOf = (percentage: number): number => Math.round(percentage * 100);

/** A deep-frozen copy, so a caller changing a served object value cannot change the flag. */
function frozen(value: FlagValue): FlagValue {
  if (typeof value !== "object") return value;
  const deepFreeze = (v: JsonValue): JsonValue => {
    if (typeof v === "object" && v !== null) for (const child of Object.values(v)) deepFreeze(child);
    return Object.freeze(v) as JsonValue;
  };
  return deepFreeze(structuredClone(value)) as FlagValue;
}

/** Prepares a validated definition for fast repeated evaluation. */
export function compileFlag(def: FlagDefinition): CompiledFlag {
  const values = new Map(Object.entries(def.variants).map(([name, value]) => [name, frozen(value)]));
  const result = (variant: string, reason: VariantEvaluation["reason"], ruleIndex?: number): VariantEvaluation =>
    Object.freeze(ruleIndex === undefined ? { value: values.get(variant)!, variant, reason } : { value: values.get(variant)!, variant, reason, ruleIndex });
  const rules = def.rules.map(
    (r, i): CompiledRule => ({
      holds: compileConditions(r.match, r.conditions),
      threshold: r.percentage === undefined ? undefined : thresholdOf(r.percentage),
      result: result(r.variant, r.percentage === undefined ? "TARGETING_MATCH" : "SPLIT", i),
    }),
  );
  return Object.freeze({
    definition: def,
    rules,
    threshold: def.rollout === undefined ? undefined : thresholdOf(def.rollout.percentage),
    results: {
      static: result(def.defaultVariant, "STATIC"),
      fallback: result(def.defaultVariant, "DEFAULT"),
      splitIn: def.rollout === undefined ? undefined : result(def.rollout.variant, "SPLIT"),
      splitOut: result(def.defaultVariant, "SPLIT"),
    },
  });
}

/** Prepares a validated segment for the lookup evaluations test rules' inSegment conditions against. */
export function compileSegment(seg: SegmentDefinition): CompiledSegment {
  const included = new Set(seg.included);
  const excluded = new Set(seg.excluded);
  const holds = compileConditions(seg.match, seg.conditions);
  const contains = (ctx: EvaluationContext): boolean => {
    const tk = ctx.targetingKey;
    const known = typeof tk === "string";
    if (known && excluded.has(tk)) return false;
    return (known && included.has(tk)) || holds(ctx, undefined);
  };
  return Object.freeze({ name: seg.name, contains });
}

const NO_BUCKET = -1;

export function evaluate(flag: CompiledFlag, ctx: EvaluationContext, segments?: SegmentLookup): Evaluation {
  const { results } = flag;
  if (!flag.definition.enabled) return DISABLED;
  const tk = ctx.targetingKey;
  const keyed = typeof tk === "string" && tk !== "";
  let bucket = NO_BUCKET;
  for (const rule of flag.rules) {
    if (!rule.holds(ctx, segments)) continue;
    if (rule.threshold === undefined) return rule.result;
    if (!keyed) continue;
    if (bucket === NO_BUCKET) bucket = bucketOf(flag.definition.key, tk);
    if (bucket < rule.threshold) return rule.result;
  }
  if (flag.threshold !== undefined && results.splitIn !== undefined) {
    if (!keyed) return results.fallback;
    if (bucket === NO_BUCKET) bucket = bucketOf(flag.definition.key, tk);
    return bucket < flag.threshold ? results.splitIn : results.splitOut;
  }
  return flag.rules.length === 0 ? results.static : results.fallback;
}
