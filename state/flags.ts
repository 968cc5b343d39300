/**
 * Feature-flag definitions in Redis: `aviary:flag:<key>` (JSON, see core/flags/model.ts) indexed by the
 * `aviary:flags` set. Validated on write (nothing stored on error) and on read (garbage reported in
 * `problems`, never returned). Each write is one Lua script: compare-and-set + index + event + notice,
 * refused when a rule names a segment that does not exist.
 */
import type Redis from "ioredis";
import { flagDefinitionSchema, flagKeySchema, segmentsUsed, storedFlagSchema, storedForm, type FlagDefinition, type FlagDefinitionInput, type FlagRule, type StoredFlag } from "../core/flags/model";
import { issuesLine } from "../core/validation/issues";
import { MAX_FLAG_JSON } from "./bounds";
import { InvalidInputError } from "../core/errors";
import { changeOptions, checkName, showValue, documentWriteScript, parseStored, readDocument, readDocuments, storeDocument, withCurrent, type ChangeOptions, type DocumentChange, type DocumentStore } from "./documents";
import { keys } from "./keys";

export type FlagChangeOptions = ChangeOptions;
export type FlagChange = DocumentChange<StoredFlag>;

/** A definition or key that fails validation: nothing was written. */
export class FlagValidationError extends InvalidInputError {}

const FLAGS: DocumentStore<StoredFlag> = {
  kind: "flag", idField: "key", key: keys.flag, index: keys.flags, maxJson: MAX_FLAG_JSON,
  nameSchema: flagKeySchema, storedSchema: storedFlagSchema, nameOf: (f) => f.key, invalid: (message) => new FlagValidationError(message),
  storedForm,
};

/** Throws a FlagValidationError naming `key` if it is not a valid flag key. */
export function checkFlagKey(key: string): void {
  checkName(FLAGS, key);
}

/** Parses one stored definition; returns a problem string instead of throwing on garbage. */
export function parseStoredFlag(key: string, raw: string): StoredFlag | string {
  return parseStored(FLAGS, key, raw);
}

/** One flag; `flag` is undefined when absent or garbage (then `problems` says why). */
export async function readFlag(redis: Redis, key: string): Promise<{ flag: StoredFlag | undefined; problems: string[] }> {
  const { doc, problems } = await readDocument(redis, FLAGS, key);
  return { flag: doc, problems };
}

/**
 * Every valid flag, sorted by key; garbage entries are reported and skipped (`invalidKeys` names
 * them, so a cache can keep its last good version of exactly those).
 */
export async function readFlags(redis: Redis): Promise<{ flags: StoredFlag[]; problems: string[]; invalidKeys: string[] }> {
  const { docs, problems, invalidNames } = await readDocuments(redis, FLAGS);
  return { flags: docs, problems, invalidKeys: invalidNames };
}

// R[1] is the segment index, R[1 + i] the key of P.segments[i]: each must be indexed and exist.
const WRITE_SCRIPT = documentWriteScript(FLAGS, `
if #P.segments > 0 then
  local t = key_type(R[1])
  if t ~= 'none' and t ~= 'set' then return refuse_wrong_type(R[1], t, 'set') end
  local missing = {}
  for i, name in ipairs(P.segments) do
    if t == 'none' or redis.call('SISMEMBER', R[1], name) == 0 or redis.call('EXISTS', R[i + 1]) == 0 then table.insert(missing, name) end
  end
  if #missing > 0 then return noop({missing = missing}) end
end
`);

const FIELDS = ["type", "enabled", "defaultVariant", "variants", "rollout", "description", "owner", "metadata"] as const;

/** "rule 2 added: …", "rule 1 changed: … → …", "rule 3 removed: …" for each position that differs. */
function rulesChange(old: readonly FlagRule[], next: readonly FlagRule[]): string[] {
  const parts: string[] = [];
  for (let i = 0; i < Math.max(old.length, next.length); i++) {
    const [a, b] = [old[i], next[i]];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (a === undefined) parts.push(`rule ${i + 1} added: ${showValue(b)}`);
    else if (b === undefined) parts.push(`rule ${i + 1} removed: ${showValue(a)}`);
    else parts.push(`rule ${i + 1} changed: ${showValue(a)} → ${showValue(b)}`);
  }
  return parts;
}

/** "field old → new" for each field that differs, rules one by one; "created …" for a new flag. */
export function summarize(old: FlagDefinition | undefined, next: FlagDefinition): string {
  if (old === undefined) {
    const rollout = next.rollout ? `, rollout ${next.rollout.percentage}% → ${next.rollout.variant}` : "";
    const rules = next.rules.length > 0 ? `, ${next.rules.length} rule${next.rules.length === 1 ? "" : "s"}` : "";
    return `created ${next.type} flag, default ${next.defaultVariant}, ${next.enabled ? "enabled" : "disabled"}${rollout}${rules}`;
  }
  const parts = FIELDS.filter((f) => JSON.stringify(old[f]) !== JSON.stringify(next[f])).map((f) => `${f} ${showValue(old[f])} → ${showValue(next[f])}`);
  parts.push(...rulesChange(old.rules, next.rules));
  return parts.length === 0 ? "no change" : parts.join("; ");
}

/** Validates a definition; throws one error naming every bad field. */
export function validateFlagDefinition(input: unknown): FlagDefinition {
  const parsed = flagDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    const key = typeof input === "object" && input !== null && "key" in input ? ` ${JSON.stringify((input as { key: unknown }).key)}` : "";
    throw new FlagValidationError(`Invalid flag${key}: ${issuesLine(parsed.error.issues)}`);
  }
  return parsed.data;
}

/** Where `segment` is first used in `def`'s rules, as a field path (rules.2.conditions.0.segment). */
function segmentPath(def: FlagDefinition, segment: string): string {
  for (const [i, rule] of def.rules.entries()) {
    const j = rule.conditions.findIndex((c) => "segment" in c && c.segment === segment);
    if (j >= 0) return `rules.${i}.conditions.${j}.segment`;
  }
  return "rules";
}

/**
 * Read-modify-write of one flag: `mutate` gets the current valid definition (undefined if absent
 * or garbage) and returns the new one, which is validated before anything is written. Retries when
 * another writer got in between (compare-and-set on the raw value). Segments the new definition
 * names that the current one does not must exist (checked in the same script); a flag that keeps
 * using a segment someone removed by hand can still be changed (a kill is never blocked).
 */
export async function updateFlag(
  redis: Redis,
  key: string,
  mutate: (current: FlagDefinition | undefined) => FlagDefinitionInput,
  opts: FlagChangeOptions & { cause: string },
): Promise<FlagChange> {
  checkFlagKey(key);
  const { by, reason } = changeOptions(FLAGS, opts);
  return withCurrent(redis, FLAGS, key, async (current) => {
    const def = current.old === undefined ? undefined : toDefinition(current.old);
    const next = validateFlagDefinition(mutate(def));
    if (next.key !== key) throw new FlagValidationError(`Invalid flag "${key}": key: definition says ${JSON.stringify(next.key)}`);
    const had = new Set(def === undefined ? [] : segmentsUsed(def));
    const added = segmentsUsed(next).filter((s) => !had.has(s));
    const result = await storeDocument(redis, FLAGS, {
      script: WRITE_SCRIPT,
      name: key,
      def: next,
      current,
      by,
      reason,
      cause: opts.cause,
      summary: summarize(def, next),
      params: { segments: added },
      readKeys: [keys.segments, ...added.map(keys.segment)],
    });
    if (result === "conflict" || "eventId" in result) return result;
    const { missing } = result.refused as { missing: string[] };
    const problems = missing.map((s) => `${segmentPath(next, s)}: segment "${s}" does not exist (create it with aviary flags segment set ${s} …)`);
    throw new FlagValidationError(`Invalid flag "${key}": ${problems.join("; ")}`);
  });
}

/** Creates or replaces a whole definition. */
export async function putFlag(redis: Redis, input: FlagDefinitionInput, opts: FlagChangeOptions): Promise<FlagChange> {
  const def = validateFlagDefinition(input);
  return updateFlag(redis, def.key, () => def, { ...opts, cause: "define" });
}

/** Drops the bookkeeping fields of a stored flag. */
export function toDefinition(stored: StoredFlag): FlagDefinition {
  const { updatedBy: _by, updatedAt: _at, version: _v, ...def } = stored;
  return def;
}
