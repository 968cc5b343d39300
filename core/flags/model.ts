/**
 * The feature-flag model: one JSON document per flag, validated with zod on every write and
 * every read. Pure (no I/O); state/flags.ts stores it, core/flags/evaluate.ts evaluates it.
 */
import * as z from "zod";

export const FLAG_TYPES = ["boolean", "string", "number"] as const;
export type FlagType = (typeof FLAG_TYPES)[number];
export type FlagValue = boolean | string | number;

/** Rollout percentages have 0.01 % granularity: buckets 0..9999. */
export const BUCKETS = 10000;

export const flagKeySchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "must be 1-64 chars of a-z 0-9 . _ - (starting with a letter or digit)");
const variantNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1-64 chars of A-Z a-z 0-9 . _ - (starting with a letter or digit)");
const attributeSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, "must be an attribute name like country, version or targetingKey");
const attributeValueSchema = z.union([z.string().max(256), z.number().finite(), z.boolean()]);
const variantValueSchema = z.union([z.boolean(), z.string().max(1024), z.number().finite()]);

export const percentageSchema = z
  .number()
  .min(0)
  .max(100)
  .refine((p) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-6, "must have at most 2 decimals");

const ruleSchema = z.discriminatedUnion("op", [
  z.strictObject({ attribute: attributeSchema, op: z.literal("equals"), value: attributeValueSchema, variant: variantNameSchema }),
  z.strictObject({
    attribute: attributeSchema,
    op: z.literal("in"),
    values: z.array(attributeValueSchema).min(1).max(1000),
    variant: variantNameSchema,
  }),
]);

const rolloutSchema = z.strictObject({ percentage: percentageSchema, variant: variantNameSchema });

const definitionFields = {
  key: flagKeySchema,
  type: z.enum(FLAG_TYPES),
  /** false = killed: every evaluation returns the caller's own default value with reason DISABLED. */
  enabled: z.boolean(),
  variants: z.record(variantNameSchema, variantValueSchema),
  /** Served when no rule matches and the user is outside the rollout (a disabled flag serves no variant). */
  defaultVariant: variantNameSchema,
  /** Evaluated in order; the first match wins. */
  rules: z.array(ruleSchema).max(50).default([]),
  /** Users whose bucket (stable hash of key + targetingKey) is below percentage·100 get variant. */
  rollout: rolloutSchema.optional(),
  description: z.string().max(500).default(""),
  owner: z.string().trim().min(1, "is required (who to ask about this flag)").max(100),
};

/** Cross-field rules that a schema per field cannot express. */
function checkVariants(d: { type: FlagType; variants: Record<string, FlagValue>; defaultVariant: string; rules: { variant: string }[]; rollout?: { variant: string } }, ctx: z.RefinementCtx): void {
  const names = Object.keys(d.variants);
  if (names.length === 0 || names.length > 20) {
    ctx.addIssue({ code: "custom", path: ["variants"], message: "must have 1 to 20 variants" });
  }
  for (const [name, value] of Object.entries(d.variants)) {
    if (typeof value !== d.type) {
      ctx.addIssue({ code: "custom", path: ["variants", name], message: `must be a ${d.type} (flag type), got ${JSON.stringify(value)}` });
    }
  }
  const known = (v: string): boolean => Object.prototype.hasOwnProperty.call(d.variants, v);
  const list = names.join(", ");
  if (!known(d.defaultVariant)) {
    ctx.addIssue({ code: "custom", path: ["defaultVariant"], message: `"${d.defaultVariant}" is not one of the variants (${list})` });
  }
  d.rules.forEach((r, i) => {
    if (!known(r.variant)) ctx.addIssue({ code: "custom", path: ["rules", i, "variant"], message: `"${r.variant}" is not one of the variants (${list})` });
  });
  if (d.rollout && !known(d.rollout.variant)) {
    ctx.addIssue({ code: "custom", path: ["rollout", "variant"], message: `"${d.rollout.variant}" is not one of the variants (${list})` });
  }
}

/** What an operator writes (CLI --file, API). */
export const flagDefinitionSchema = z.strictObject(definitionFields).superRefine(checkVariants);

/** What is stored: the definition plus who changed it last, when, and a counter. */
export const storedFlagSchema = z
  .strictObject({
    ...definitionFields,
    updatedBy: z.string().min(1).max(200),
    updatedAt: z.iso.datetime(),
    version: z.number().int().min(1),
  })
  .superRefine(checkVariants);

export type FlagRule = z.output<typeof ruleSchema>;
export type FlagDefinition = z.output<typeof flagDefinitionSchema>;
export type FlagDefinitionInput = z.input<typeof flagDefinitionSchema>;
export type StoredFlag = z.output<typeof storedFlagSchema>;

/** The usual boolean flag: variants on/off, off by default, owned by `owner`. */
export function booleanFlag(key: string, owner: string): FlagDefinition {
  return { key, type: "boolean", enabled: true, variants: { on: true, off: false }, defaultVariant: "off", rules: [], description: "", owner };
}
