// The flags and segment local mode starts with (created only when absent, so a developer's changes
// survive while the stack runs), the dashboard's view of them, and its on/off toggle.
import type Redis from "ioredis";
import { booleanFlag, flagsUsing, type FlagDefinition, type SegmentDefinition, type StoredFlag, type StoredSegment } from "../core/flags/model";
import { ruleInWords, segmentInWords } from "../core/flags/ruleText";
import { putFlag, readFlags, updateFlag } from "../state/flags";
import { putSegment, readSegments } from "../state/segments";
import { InvalidInputError, NotFoundError } from "../core/errors";

/** The segment the sample app's banner targets: anyone with an @example.com email, plus named testers. */
export function startingSegments(): SegmentDefinition[] {
  return [
    {
      name: "beta-testers",
      description: "People who try features first: our own @example.com accounts and invited testers",
      match: "any",
      conditions: [{ attribute: "email", op: "endsWith", value: "@example.com" }],
      included: ["tester-1", "tester-2"],
      excluded: [],
    },
  ];
}

/** The sample app's JSON flag (its /banner route): beta testers see the beta banner, and a fifth of pro users. */
function bannerFlag(owner: string): FlagDefinition {
  return {
    key: "banner",
    type: "object",
    enabled: true,
    variants: {
      standard: { text: "Welcome to Aviary", color: "#2563eb" },
      beta: { text: "You are trying the new checkout (beta)", color: "#d97706" },
    },
    defaultVariant: "standard",
    rules: [
      { name: "beta testers", match: "all", conditions: [{ op: "inSegment", segment: "beta-testers" }], variant: "beta" },
      { name: "a fifth of pro users", match: "all", conditions: [{ attribute: "plan", op: "equals", value: "pro" }], variant: "beta", percentage: 20 },
    ],
    description: "The sample app's /banner (a JSON flag): what the banner says and its colour",
    owner,
  };
}

/** The sample app's flag, and the demo's fault flags (numbers; a rule `version equals X` scopes them). */
export function startingFlags(owner: string): FlagDefinition[] {
  const fault = (key: string, description: string, on: number): FlagDefinition => ({
    key,
    type: "number",
    enabled: true,
    variants: { none: 0, on },
    defaultVariant: "none",
    rules: [],
    description,
    owner,
  });
  return [
    { ...booleanFlag("hiddenfeature", owner), description: "Serves /hiddenfeature (404 while off)" },
    bannerFlag(owner),
    fault("demo-error-rate", "Demo only: % of requests the app answers with 500", 50),
    fault("demo-latency-ms", "Demo only: delay added to every response, ms", 2000),
    fault("demo-memory-growth-mb", "Demo only: MB of memory retained per second", 16),
  ];
}

/** Segments first: a flag whose rules name a missing segment is refused. */
export async function ensureFlags(redis: Redis, by: string): Promise<void> {
  const segments = new Set((await readSegments(redis)).segments.map((s) => s.name));
  for (const def of startingSegments()) {
    if (!segments.has(def.name)) await putSegment(redis, def, { by, reason: "local mode starting segments" });
  }
  const existing = new Set((await readFlags(redis)).flags.map((f) => f.key));
  for (const def of startingFlags(by)) {
    if (!existing.has(def.key)) await putFlag(redis, def, { by, reason: "local mode starting flags" });
  }
}

/** The one action the dashboard offers for a flag: a killed flag can only be un-killed. */
export type FlagAction = { kind: "unkill"; label: "un-kill" } | { kind: "toggle"; on: boolean; label: "turn on" | "turn off" };

export interface FlagSummary {
  key: string;
  type: StoredFlag["type"];
  /** Every evaluation returns the caller's own default value (the one in code). */
  killed: boolean;
  /** Boolean flags: what a request without matching rules or rollout gets (false while killed). */
  on: boolean;
  summary: string;
  /** Each rule in words, in evaluation order. */
  rules: string[];
  /** Object flags: each variant's value as pretty JSON (shown read-only; changed with the CLI). */
  json?: { variant: string; text: string }[];
  /** Absent for a live non-boolean flag (changed with the CLI). */
  action?: FlagAction;
  description: string;
  owner: string;
  updatedBy: string;
}

function summarize(f: StoredFlag): string {
  if (!f.enabled) return "KILLED: every request gets the code's default value";
  // An object's value is in the JSON view, not on this line.
  const parts = [f.type === "object" ? `serves ${f.defaultVariant}` : `serves ${f.defaultVariant} (${JSON.stringify(f.variants[f.defaultVariant])})`];
  if (f.rollout) parts.push(`${f.rollout.percentage}% → ${f.rollout.variant}`);
  return parts.join("; ");
}

function actionFor(f: StoredFlag, on: boolean): FlagAction | undefined {
  if (!f.enabled) return { kind: "unkill", label: "un-kill" };
  if (f.type !== "boolean") return undefined;
  return on ? { kind: "toggle", on: false, label: "turn off" } : { kind: "toggle", on: true, label: "turn on" };
}

export function describeFlags(flags: readonly StoredFlag[]): FlagSummary[] {
  return flags
    .map((f): FlagSummary => {
      const on = f.enabled && f.variants[f.defaultVariant] === true;
      const action = actionFor(f, on);
      return {
        key: f.key,
        type: f.type,
        killed: !f.enabled,
        on,
        summary: summarize(f),
        rules: f.rules.map(ruleInWords),
        ...(f.type === "object" ? { json: Object.entries(f.variants).map(([variant, v]) => ({ variant, text: JSON.stringify(v, null, 2) })) } : {}),
        ...(action === undefined ? {} : { action }),
        description: f.description,
        owner: f.owner,
        updatedBy: f.updatedBy,
      };
    })
    .sort((a, b) => a.key.localeCompare(b.key));
}

export interface SegmentSummary {
  name: string;
  description: string;
  inWords: string;
  /** How many targetingKeys are always in it, and never. */
  included: number;
  excluded: number;
  /** The flags whose rules use it. */
  usedBy: string[];
}

export function describeSegments(segments: readonly StoredSegment[], flags: readonly StoredFlag[]): SegmentSummary[] {
  return segments
    .map((s) => ({
      name: s.name,
      description: s.description,
      inWords: segmentInWords(s),
      included: s.included.length,
      excluded: s.excluded.length,
      usedBy: flagsUsing(s.name, flags),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Like `aviary flags set <key> on|off`: serve that variant by default, lifting a kill. */
export async function setBooleanFlag(redis: Redis, key: string, on: boolean, by: string, reason: string): Promise<void> {
  await updateFlag(
    redis,
    key,
    (current) => {
      if (current === undefined) throw new NotFoundError(`flag "${key}" does not exist`);
      if (current.type !== "boolean") throw new InvalidInputError(`flag "${key}" is a ${current.type} flag, not boolean`);
      const variant = Object.entries(current.variants).find(([, v]) => v === on)?.[0];
      if (variant === undefined) throw new InvalidInputError(`flag "${key}" has no ${on} variant`);
      return { ...current, defaultVariant: variant, enabled: true };
    },
    { by, reason, cause: "set" },
  );
}

/** Like `aviary flags unkill <key>`: serve the flag's default variant, rules and rollout again. */
export async function unkillFlag(redis: Redis, key: string, by: string, reason: string): Promise<void> {
  await updateFlag(
    redis,
    key,
    (current) => {
      if (current === undefined) throw new NotFoundError(`flag "${key}" does not exist`);
      if (current.enabled) throw new InvalidInputError(`flag "${key}" is not killed`);
      return { ...current, enabled: true };
    },
    { by, reason, cause: "unkill" },
  );
}
