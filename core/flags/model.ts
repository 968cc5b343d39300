/**
 * The feature-flag model: one JSON document per flag and per segment, validated with zod on every
 * write and every read. Pure (no I/O); state/flags.ts and state/segments.ts store them,
 * core/flags/evaluate.ts evaluates them.
 */
import * as z from "zod";
import { MAX_SEMVER_LENGTH, parseSemver } from "./semver";

/** `number` is any finite number (a float); `integer` only safe integers; `object` any JSON object or array. */
export const FLAG_TYPES = ["boolean", "string", "number", "integer", "object"] as const;
export type FlagType = (typeof FLAG_TYPES)[number];

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonStructure = JsonValue[] | { [key: string]: JsonValue };
export type FlagValue = boolean | string | number | JsonStructure;

/** Rollout percentages have 0.01 % granularity: buckets 0..9999. */
export const BUCKETS = 10000;
/** Largest JSON text of one object variant, and its deepest nesting. */
export const MAX_VARIANT_JSON = 8 * 1024;
export const MAX_VARIANT_DEPTH = 10;

export const flagKeySchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "must be 1-64 chars of a-z 0-9 . _ - (starting with a letter or digit)");
/** Segments are named like flags. */
export const segmentNameSchema = flagKeySchema;
const variantNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1-64 chars of A-Z a-z 0-9 . _ - (starting with a letter or digit)");
/** Any context attribute name, spaces included; no control characters. */
export const attributeSchema = z
  .string()
  .min(1, "must not be empty")
  .max(128)
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]+$/, "must not contain control characters");
const scalarSchema = z.union([z.string().max(256), z.number().finite(), z.boolean()], { error: "must be a string of at most 256 characters, a finite number, true or false" });
export type Scalar = z.output<typeof scalarSchema>;

export const percentageSchema = z
  .number()
  .min(0)
  .max(100)
  .refine((p) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-6, "must have at most 2 decimals");

/** MAJOR.MINOR.PATCH with optional -prerelease and +build (semver.org 2.0.0), an optional leading v: what evaluation can order. */
const semverSchema = z
  .string()
  .max(MAX_SEMVER_LENGTH)
  .refine((s) => parseSemver(s) !== undefined, "must be a semantic version like 2.1.0 or 3.0.0-beta.1");

export const EQUALITY_OPS = ["equals", "notEquals"] as const;
export const LIST_OPS = ["in", "notIn"] as const;
export const NUMBER_OPS = ["lt", "lte", "gt", "gte"] as const;
export const STRING_OPS = ["startsWith", "endsWith", "contains", "notStartsWith", "notEndsWith", "notContains"] as const;
export const SEMVER_OPS = ["semverEq", "semverNe", "semverLt", "semverLte", "semverGt", "semverGte"] as const;
export const SEGMENT_OPS = ["inSegment", "notInSegment"] as const;

const attributeConditions = [
  z.strictObject({ attribute: attributeSchema, op: z.enum(EQUALITY_OPS), value: scalarSchema }),
  z.strictObject({ attribute: attributeSchema, op: z.enum(LIST_OPS), values: z.array(scalarSchema).min(1).max(1000) }),
  z.strictObject({ attribute: attributeSchema, op: z.enum(NUMBER_OPS), value: z.number().finite() }),
  z.strictObject({ attribute: attributeSchema, op: z.enum(STRING_OPS), value: z.string().min(1).max(256) }),
  z.strictObject({ attribute: attributeSchema, op: z.enum(SEMVER_OPS), value: semverSchema }),
] as const;
const segmentCondition = z.strictObject({ op: z.enum(SEGMENT_OPS), segment: segmentNameSchema });

// Discriminated by `op`, so a bad condition is reported field by field (`value: expected number`)
// rather than as a union that matched nothing.
/** A test on one context attribute (what segments are made of). */
export const attributeConditionSchema = z.discriminatedUnion("op", attributeConditions);
/** A test on one context attribute, or membership of a named segment (what rules are made of). */
export const conditionSchema = z.discriminatedUnion("op", [...attributeConditions, segmentCondition]);

export const MATCH_MODES = ["all", "any"] as const;
export type MatchMode = (typeof MATCH_MODES)[number];

const ruleFields = {
  /** Optional label shown with the rule. */
  name: z.string().trim().min(1).max(100).optional(),
  /** all: every condition holds (AND); any: at least one holds (OR). */
  match: z.enum(MATCH_MODES).default("all"),
  conditions: z.array(conditionSchema).min(1).max(20),
  variant: variantNameSchema,
  /**
   * Serve `variant` only to this share of the matching users (stable bucket of flag key +
   * targetingKey, the same bucket as the flag's rollout); the others fall through to the next rule.
   */
  percentage: percentageSchema.optional(),
};
const ruleSchema = z.strictObject(ruleFields);

/**
 * Rules as stored before conditions existed: `{attribute, op: equals|in, value(s), variant}`. They
 * are read as a one-condition rule, so their problems are reported like any other rule's.
 */
type LegacyRule = { attribute: string; op: "equals" | "in"; value?: Scalar; values?: Scalar[]; variant: string };
function fromLegacy(input: unknown): unknown {
  if (typeof input !== "object" || input === null || "conditions" in input || !("attribute" in input)) return input;
  const { variant, ...condition } = input as Record<string, unknown>;
  return { match: "all", conditions: [condition], variant };
}
const anyRuleSchema = z.preprocess(fromLegacy, ruleSchema) as z.ZodType<z.output<typeof ruleSchema>, z.input<typeof ruleSchema> | LegacyRule>;

const rolloutSchema = z.strictObject({ percentage: percentageSchema, variant: variantNameSchema });

/** A team's own flag metadata, returned with every evaluation (OpenFeature flag metadata). */
const metadataSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, "must be a name like team or ticket"), z.union([z.string().max(256), z.number().finite(), z.boolean()]))
  .refine((m) => Object.keys(m).length <= 20, "must have at most 20 entries");

/** Any JSON value, bounded in nesting; its size is checked on the whole variant. */
const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number().finite(), z.string(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]),
);
const variantValueSchema = z.union([z.boolean(), z.string().max(1024), z.number().finite(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]);

const definitionFields = {
  key: flagKeySchema,
  type: z.enum(FLAG_TYPES),
  /** false = killed: every evaluation returns the caller's own default value with reason DISABLED. */
  enabled: z.boolean(),
  variants: z.record(variantNameSchema, variantValueSchema),
  /** Served when no rule matches and the user is outside the rollout (a disabled flag serves no variant). */
  defaultVariant: variantNameSchema,
  /** Evaluated in order; the first match wins. */
  rules: z.array(anyRuleSchema).max(50).default([]),
  /** Users whose bucket (stable hash of key + targetingKey) is below percentage·100 get variant. */
  rollout: rolloutSchema.optional(),
  description: z.string().max(500).default(""),
  owner: z.string().trim().min(1, "is required (who to ask about this flag)").max(100),
  /** The team's own metadata; absent = none. */
  metadata: metadataSchema.optional(),
};

function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf));
  if (typeof v === "object" && v !== null) return 1 + Math.max(0, ...Object.values(v).map(depthOf));
  return 0;
}

/** Whether `value` fits a flag of `type`, or what is wrong with it. */
export function variantProblem(type: FlagType, value: FlagValue): string | undefined {
  switch (type) {
    case "boolean":
    case "string":
    case "number":
      return typeof value === type ? undefined : `must be a ${type} (flag type), got ${JSON.stringify(value).slice(0, 60)}`;
    case "integer":
      return Number.isSafeInteger(value) ? undefined : `must be an integer (flag type), got ${JSON.stringify(value).slice(0, 60)}`;
    case "object": {
      if (typeof value !== "object" || value === null) return `must be a JSON object or array (flag type), got ${JSON.stringify(value).slice(0, 60)}`;
      const size = JSON.stringify(value).length;
      if (size > MAX_VARIANT_JSON) return `is ${size} characters of JSON, over the ${MAX_VARIANT_JSON}-character limit`;
      if (depthOf(value) > MAX_VARIANT_DEPTH) return `nests deeper than ${MAX_VARIANT_DEPTH} levels`;
      return undefined;
    }
  }
}

/** Cross-field rules that a schema per field cannot express. */
function checkVariants(
  d: { type: FlagType; variants: Record<string, FlagValue>; defaultVariant: string; rules: { variant: string }[]; rollout?: { variant: string } },
  ctx: z.RefinementCtx,
): void {
  const names = Object.keys(d.variants);
  if (names.length === 0 || names.length > 20) {
    ctx.addIssue({ code: "custom", path: ["variants"], message: "must have 1 to 20 variants" });
  }
  for (const [name, value] of Object.entries(d.variants)) {
    const problem = variantProblem(d.type, value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", path: ["variants", name], message: problem });
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

const bookkeeping = {
  updatedBy: z.string().min(1).max(200),
  updatedAt: z.iso.datetime(),
  version: z.number().int().min(1),
};

/** What is stored: the definition plus who changed it last, when, and a counter. */
export const storedFlagSchema = z.strictObject({ ...definitionFields, ...bookkeeping }).superRefine(checkVariants);

const segmentFields = {
  name: segmentNameSchema,
  description: z.string().max(500).default(""),
  /** How `conditions` combine; a segment without conditions holds only its `included` keys. */
  match: z.enum(MATCH_MODES).default("all"),
  /** Attribute tests only: a segment never refers to another segment (no cycles to resolve). */
  conditions: z.array(attributeConditionSchema).max(50).default([]),
  /** targetingKeys always in the segment. */
  included: z.array(z.string().min(1).max(256)).max(1000).default([]),
  /** targetingKeys never in the segment (wins over `included` and the conditions). */
  excluded: z.array(z.string().min(1).max(256)).max(1000).default([]),
};

/** A named, reusable set of users, kept in Redis and referred to by rules of many flags. */
export const segmentDefinitionSchema = z.strictObject(segmentFields);
export const storedSegmentSchema = z.strictObject({ ...segmentFields, ...bookkeeping });

export type Condition = z.output<typeof conditionSchema>;
export type AttributeCondition = z.output<typeof attributeConditionSchema>;
export type FlagRule = z.output<typeof ruleSchema>;
export type FlagRuleInput = z.input<typeof anyRuleSchema>;
export type FlagMetadataValues = z.output<typeof metadataSchema>;
export type FlagDefinition = z.output<typeof flagDefinitionSchema>;
export type FlagDefinitionInput = z.input<typeof flagDefinitionSchema>;
export type StoredFlag = z.output<typeof storedFlagSchema>;
export type SegmentDefinition = z.output<typeof segmentDefinitionSchema>;
export type SegmentDefinitionInput = z.input<typeof segmentDefinitionSchema>;
export type StoredSegment = z.output<typeof storedSegmentSchema>;

/**
 * The JSON a flag is stored as: each rule that the previous release's reader can express (one
 * `equals` or `in` condition, no name, no percentage) in that reader's shape, so apps not yet
 * upgraded keep reading the flag, its kill switch included; every other rule as it is (those apps
 * then keep their last good version of the flag). Reading either shape gives the same flag.
 */
export function storedForm(flag: StoredFlag): unknown {
  if (!flag.rules.some(isLegacyExpressible)) return flag;
  return { ...flag, rules: flag.rules.map((r) => (isLegacyExpressible(r) ? legacyShape(r) : r)) };
}

function isLegacyExpressible(r: FlagRule): boolean {
  return r.conditions.length === 1 && r.name === undefined && r.percentage === undefined && (r.conditions[0].op === "equals" || r.conditions[0].op === "in");
}

function legacyShape(r: FlagRule): LegacyRule {
  const c = r.conditions[0] as { attribute: string; op: "equals"; value: Scalar } | { attribute: string; op: "in"; values: Scalar[] };
  return c.op === "equals" ? { attribute: c.attribute, op: "equals", value: c.value, variant: r.variant } : { attribute: c.attribute, op: "in", values: c.values, variant: r.variant };
}

/** The segments a flag's rules refer to, each once, in order of first use. */
export function segmentsUsed(def: Pick<FlagDefinition, "rules">): string[] {
  const names = new Set<string>();
  for (const rule of def.rules) for (const c of rule.conditions) if ("segment" in c) names.add(c.segment);
  return [...names];
}

/** Keys of the flags whose rules name `segment`, sorted. */
export function flagsUsing(segment: string, flags: readonly Pick<FlagDefinition, "key" | "rules">[]): string[] {
  return flags
    .filter((f) => segmentsUsed(f).includes(segment))
    .map((f) => f.key)
    .sort();
}

/** The usual boolean flag: variants on/off, off by default, owned by `owner`. */
export function booleanFlag(key: string, owner: string): FlagDefinition {
  return { key, type: "boolean", enabled: true, variants: { on: true, off: false }, defaultVariant: "off", rules: [], description: "", owner };
}
