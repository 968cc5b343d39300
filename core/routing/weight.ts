// The canary weight: the percent of new sessions sent to the canary, an integer from 0 to 100.
// zod/mini: the controller Lambda's bundle uses this schema too.
import * as z from "zod/mini";

export const MIN_WEIGHT = 0;
export const MAX_WEIGHT = 100;

/** The rule in words, for messages ("must be " + one of these). */
export const WEIGHT_RULE = `an integer from ${MIN_WEIGHT} to ${MAX_WEIGHT}`;
/** The short form the Redis state messages use. */
export const WEIGHT_RULE_SHORT = `an integer ${MIN_WEIGHT}..${MAX_WEIGHT}`;

export function isWeight(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= MIN_WEIGHT && (value as number) <= MAX_WEIGHT;
}

/** The weight rule as a schema; `message` replaces zod's own wording for every failure. */
export function weightSchema(message?: string) {
  return z.int(message).check(z.gte(MIN_WEIGHT, message), z.lte(MAX_WEIGHT, message));
}

/** A computed weight brought into range: rounded, then clamped to 0..100. */
export function clampWeight(weight: number): number {
  return Math.min(MAX_WEIGHT, Math.max(MIN_WEIGHT, Math.round(weight)));
}
