// The stored-flag schema of the release before rules had conditions (core/flags/model.ts at
// 3d461af, trimmed to what parsing needs): what an app not yet upgraded reads a flag with, so tests
// can show which stored flags it still understands.
import * as z from "zod";

const variantName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
const attribute = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/);
const attributeValue = z.union([z.string().max(256), z.number().finite(), z.boolean()]);
const percentage = z.number().min(0).max(100);

const rule = z.discriminatedUnion("op", [
  z.strictObject({ attribute, op: z.literal("equals"), value: attributeValue, variant: variantName }),
  z.strictObject({ attribute, op: z.literal("in"), values: z.array(attributeValue).min(1).max(1000), variant: variantName }),
]);

export const previousStoredFlagSchema = z.strictObject({
  key: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  type: z.enum(["boolean", "string", "number"]),
  enabled: z.boolean(),
  variants: z.record(variantName, z.union([z.boolean(), z.string().max(1024), z.number().finite()])),
  defaultVariant: variantName,
  rules: z.array(rule).max(50).default([]),
  rollout: z.strictObject({ percentage, variant: variantName }).optional(),
  description: z.string().max(500).default(""),
  owner: z.string().trim().min(1).max(100),
  updatedBy: z.string().min(1).max(200),
  updatedAt: z.iso.datetime(),
  version: z.number().int().min(1),
});
