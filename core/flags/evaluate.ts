/**
 * Pure flag evaluation. Order (first that applies wins):
 *   1. disabled (kill switch)             → no variant: the caller's own default value, DISABLED
 *   2. targeting rules, in order          → rule's variant, TARGETING_MATCH
 *   3. rollout, user bucket < percent·100 → rollout variant, SPLIT (outside: defaultVariant, SPLIT)
 *      rollout without a targetingKey    → defaultVariant, DEFAULT (no stable identity to bucket)
 *   4. no rules and no rollout            → defaultVariant, STATIC; otherwise DEFAULT
 * Results are precomputed per flag, so an evaluation allocates nothing.
 */
import { murmur3 } from "./hash";
import { BUCKETS, type FlagDefinition, type FlagValue } from "./model";

/** The OpenFeature standard reasons this evaluator produces. */
export type EvaluationReason = "STATIC" | "DEFAULT" | "TARGETING_MATCH" | "SPLIT" | "DISABLED";

/** A variant the flag serves. */
export interface VariantEvaluation {
  readonly value: FlagValue;
  readonly variant: string;
  readonly reason: Exclude<EvaluationReason, "DISABLED">;
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
}

export type Evaluation = VariantEvaluation | CallerDefaultEvaluation;

const DISABLED: CallerDefaultEvaluation = Object.freeze({ reason: "DISABLED", useCallerDefault: true });

/** OpenFeature-style evaluation context: targetingKey plus flat attributes. */
export type EvaluationContext = Readonly<Record<string, unknown>> & { readonly targetingKey?: string };

interface CompiledRule {
  readonly attribute: string;
  readonly matches: (value: unknown) => boolean;
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

function result(def: FlagDefinition, variant: string, reason: VariantEvaluation["reason"]): VariantEvaluation {
  return Object.freeze({ value: def.variants[variant], variant, reason });
}

/** Attribute values compare strictly (no "1" == 1), matching what the operator wrote. */
function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/** Prepares a validated definition for fast repeated evaluation. */
export function compileFlag(def: FlagDefinition): CompiledFlag {
  const rules = def.rules.map((r): CompiledRule => {
    if (r.op === "equals") {
      const expected = r.value;
      return { attribute: r.attribute, matches: (v) => v === expected, result: result(def, r.variant, "TARGETING_MATCH") };
    }
    const set = new Set<string | number | boolean>(r.values);
    return { attribute: r.attribute, matches: (v) => isScalar(v) && set.has(v), result: result(def, r.variant, "TARGETING_MATCH") };
  });
  return Object.freeze({
    definition: def,
    rules,
    threshold: def.rollout === undefined ? undefined : Math.round(def.rollout.percentage * 100),
    results: {
      static: result(def, def.defaultVariant, "STATIC"),
      fallback: result(def, def.defaultVariant, "DEFAULT"),
      splitIn: def.rollout === undefined ? undefined : result(def, def.rollout.variant, "SPLIT"),
      splitOut: result(def, def.defaultVariant, "SPLIT"),
    },
  });
}

export function evaluate(flag: CompiledFlag, ctx: EvaluationContext): Evaluation {
  const { results } = flag;
  if (!flag.definition.enabled) return DISABLED;
  for (const rule of flag.rules) {
    if (rule.matches(ctx[rule.attribute])) return rule.result;
  }
  if (flag.threshold !== undefined && results.splitIn !== undefined) {
    const tk = ctx.targetingKey;
    if (typeof tk !== "string" || tk === "") return results.fallback;
    return bucketOf(flag.definition.key, tk) < flag.threshold ? results.splitIn : results.splitOut;
  }
  return flag.rules.length === 0 ? results.static : results.fallback;
}
