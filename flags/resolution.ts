/**
 * From what the provider holds for a key to OpenFeature resolution details (spec section 2.2 and
 * types.md "Resolution Details"): value, variant, reason, error code and message, flag metadata.
 * Pure and synchronous; the provider's resolve* methods wrap it.
 *
 * Types: each SDK method answers only flags of its own type; anything else is TYPE_MISMATCH with
 * the caller's default. The JS SDK has one number method for both numeric flag types, so
 * resolveNumberEvaluation answers `integer` flags (always an integer: the model refuses any
 * other variant value on write and on read) and `number` flags (floats). SDKs with separate
 * methods (Java, Go, .NET: getInteger / getDouble) would map an integer request to `integer`
 * flags only, never truncating a float, and a float request to both.
 */
import { ErrorCode, StandardResolutionReasons, type EvaluationContext, type ResolutionDetails } from "@openfeature/server-sdk";
import { evaluate, type SegmentLookup } from "../core/flags/evaluate";
import type { FlagType } from "../core/flags/model";
import type { FlagSlot } from "./flagSet";

/** The four typed resolvers of the server SDK. */
export type RequestedType = "boolean" | "string" | "number" | "object";

const ANSWERS: Readonly<Record<RequestedType, readonly FlagType[]>> = {
  boolean: ["boolean"],
  string: ["string"],
  number: ["number", "integer"],
  object: ["object"],
};

/** Whether a flag of `flagType` answers an evaluation of `requested`. */
export function answers(flagType: FlagType, requested: RequestedType): boolean {
  return ANSWERS[requested].includes(flagType);
}

/** An error result: the caller's default, reason ERROR, no variant (spec 1.4.8, 1.4.9, 2.2.7). */
export function errorDetails<T>(defaultValue: T, errorCode: ErrorCode, errorMessage: string): ResolutionDetails<T> {
  return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode, errorMessage };
}

/**
 * Resolves one key from what the provider holds (`slot`, undefined when the key is unknown).
 * Never throws: evaluation is total over any context.
 */
export function resolveSlot<T>(
  key: string,
  slot: FlagSlot | undefined,
  requested: RequestedType,
  defaultValue: T,
  context: EvaluationContext,
  segments: SegmentLookup,
): ResolutionDetails<T> {
  if (slot === undefined) return errorDetails(defaultValue, ErrorCode.FLAG_NOT_FOUND, `flag "${key}" not found`);
  if ("unreadable" in slot) return errorDetails(defaultValue, ErrorCode.PARSE_ERROR, `flag "${key}" is stored but cannot be read: ${slot.unreadable}`);
  const { stored, compiled, metadata } = slot.flag;
  if (!answers(stored.type, requested)) {
    return { ...errorDetails(defaultValue, ErrorCode.TYPE_MISMATCH, `flag "${key}" is a ${stored.type} flag, asked for ${requested}`), flagMetadata: metadata };
  }
  const e = evaluate(compiled, context, segments);
  if ("useCallerDefault" in e) return { value: defaultValue, reason: StandardResolutionReasons.DISABLED, flagMetadata: metadata };
  return { value: e.value as T, variant: e.variant, reason: e.reason, flagMetadata: metadata };
}
