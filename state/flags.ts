/**
 * Feature-flag definitions in Redis: `aviary:flag:<key>` (JSON, see core/flags/model.ts) indexed by the
 * `aviary:flags` set. Validated on write (nothing stored on error) and on read (garbage reported in
 * `problems`, never returned). Each write is one Lua script: compare-and-set + index + event + notice.
 */
import type Redis from "ioredis";
import * as z from "zod";
import { flagDefinitionSchema, flagKeySchema, storedFlagSchema, type FlagDefinition, type FlagDefinitionInput, type StoredFlag } from "../core/flags/model";
import { issuesLine } from "../core/validation/issues";
import { MAX_FLAG_JSON, preview } from "./bounds";
import { InvalidInputError, InvariantError } from "../core/errors";
import { ConflictError } from "./errors";
import { keys } from "./keys";
import { runWrite, storedReason, writeScript } from "./writeScript";

export interface FlagChangeOptions {
  by: string;
  reason?: string;
}

export interface FlagChange {
  eventId: string;
  old: StoredFlag | undefined;
  new: StoredFlag;
  /** Human-readable list of what changed, as recorded in the event. */
  summary: string;
  /** What the write found broken and fixed on the way (e.g. a blocked event stream moved aside). */
  repairs: string[];
}

/** A definition or key that fails validation: nothing was written. */
export class FlagValidationError extends InvalidInputError {}

/** Throws a FlagValidationError naming `key` if it is not a valid flag key. */
export function checkFlagKey(key: string): void {
  const k = flagKeySchema.safeParse(key);
  if (!k.success) throw new FlagValidationError(`Invalid flag key ${JSON.stringify(key)}: ${k.error.issues[0].message}`);
}

const bySchema = z.string().trim().min(1).max(200);
/** Stand-in for a key holding a non-string type, so compare-and-set still detects races on it. */
const WRONG_TYPE = "\u0000wrongtype";

/** Parses one stored definition; returns a problem string instead of throwing on garbage. */
export function parseStoredFlag(key: string, raw: string): StoredFlag | string {
  if (raw.length > MAX_FLAG_JSON) return `${keys.flag(key)}: over the ${MAX_FLAG_JSON}-character limit (${preview(raw)})`;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return `${keys.flag(key)}: not JSON`;
  }
  const parsed = storedFlagSchema.safeParse(json);
  if (!parsed.success) return `${keys.flag(key)} ${issuesLine(parsed.error.issues)}`;
  if (parsed.data.key !== key) return `${keys.flag(key)} key: field says ${preview(parsed.data.key)}`;
  return parsed.data;
}

async function readRaw(redis: Redis, key: string): Promise<string | undefined> {
  try {
    return (await redis.get(keys.flag(key))) ?? undefined;
  } catch (err) {
    if (/WRONGTYPE/.test((err as Error).message)) return WRONG_TYPE;
    throw err;
  }
}

/** One flag; `flag` is undefined when absent or garbage (then `problems` says why). */
export async function readFlag(redis: Redis, key: string): Promise<{ flag: StoredFlag | undefined; problems: string[] }> {
  checkFlagKey(key);
  const raw = await readRaw(redis, key);
  if (raw === undefined) return { flag: undefined, problems: [] };
  if (raw === WRONG_TYPE) return { flag: undefined, problems: [`${keys.flag(key)}: not a string value`] };
  const parsed = parseStoredFlag(key, raw);
  return typeof parsed === "string" ? { flag: undefined, problems: [parsed] } : { flag: parsed, problems: [] };
}

/**
 * Every valid flag, sorted by key; garbage entries are reported and skipped (`invalidKeys` names
 * them, so a cache can keep its last good version of exactly those).
 */
export async function readFlags(redis: Redis): Promise<{ flags: StoredFlag[]; problems: string[]; invalidKeys: string[] }> {
  const members = (await redis.smembers(keys.flags)).sort();
  const problems: string[] = [];
  const invalidKeys: string[] = [];
  const valid = members.filter((m) => {
    const ok = flagKeySchema.safeParse(m).success;
    if (!ok) problems.push(`${keys.flags}: invalid member ${JSON.stringify(m)}`);
    return ok;
  });
  if (valid.length === 0) return { flags: [], problems, invalidKeys };
  const pipeline = redis.pipeline();
  for (const key of valid) pipeline.get(keys.flag(key));
  const replies = (await pipeline.exec()) ?? [];
  const flags: StoredFlag[] = [];
  valid.forEach((key, i) => {
    const [err, raw] = replies[i] ?? [new InvariantError("no reply"), null];
    if (err) {
      problems.push(`${keys.flag(key)}: ${err.message}`);
      invalidKeys.push(key);
      return;
    }
    if (raw === null) return; // indexed but never written (or deleted by hand): nothing to serve
    const parsed = parseStoredFlag(key, raw as string);
    if (typeof parsed === "string") {
      problems.push(parsed);
      invalidKeys.push(key);
    } else {
      flags.push(parsed);
    }
  });
  return { flags, problems, invalidKeys };
}

// Compare-and-set on the raw value; a definition of the wrong type is moved aside (the write
// replaces the whole value anyway), an index of the wrong type is refused.
const WRITE_SCRIPT = writeScript({
  keys: [
    { name: "flag", type: "string", onWrongType: "set-aside" },
    { name: "index", type: "set" },
  ],
  prepare: `
local cur = ''
if W.flag then cur = '\\0wrongtype' elseif redis.call('EXISTS', K.flag) == 1 then cur = redis.call('GET', K.flag) end
if cur ~= P.expected then return noop('conflict') end
event('flag', P.by, P.reason, {'cause', P.cause, 'key', P.key, 'version', P.version, 'change', P.summary}, {kind = 'flag', id = P.key})
`,
  mutate: `
redis.call('SET', K.flag, P.json)
redis.call('SADD', K.index, P.key)
`,
});

const FIELDS = ["type", "enabled", "defaultVariant", "variants", "rules", "rollout", "description", "owner"] as const;

/** "field old → new" for each field that differs; "created …" for a new flag. */
export function summarize(old: FlagDefinition | undefined, next: FlagDefinition): string {
  const show = (v: unknown): string => (v === undefined ? "none" : typeof v === "string" ? v : JSON.stringify(v));
  if (old === undefined) {
    const rollout = next.rollout ? `, rollout ${next.rollout.percentage}% → ${next.rollout.variant}` : "";
    return `created ${next.type} flag, default ${next.defaultVariant}, ${next.enabled ? "enabled" : "disabled"}${rollout}`;
  }
  const parts = FIELDS.filter((f) => JSON.stringify(old[f]) !== JSON.stringify(next[f])).map(
    (f) => `${f} ${show(old[f])} → ${show(next[f])}`,
  );
  return parts.length === 0 ? "no change" : parts.join("; ");
}

function validateOpts(opts: FlagChangeOptions): { by: string; reason: string } {
  const by = bySchema.safeParse(opts?.by);
  if (!by.success) throw new FlagValidationError(`Invalid by: ${by.error.issues[0].message} (who made the change is required)`);
  return { by: by.data, reason: storedReason(opts.reason) };
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

/**
 * Read-modify-write of one flag: `mutate` gets the current valid definition (undefined if absent
 * or garbage) and returns the new one, which is validated before anything is written. Retries when
 * another writer got in between (compare-and-set on the raw value).
 */
export async function updateFlag(
  redis: Redis,
  key: string,
  mutate: (current: FlagDefinition | undefined) => FlagDefinitionInput,
  opts: FlagChangeOptions & { cause: string },
): Promise<FlagChange> {
  checkFlagKey(key);
  const { by, reason } = validateOpts(opts);
  for (let attempt = 0; attempt < 20; attempt++) {
    const raw = await readRaw(redis, key);
    const parsedOld = raw === undefined || raw === WRONG_TYPE ? undefined : parseStoredFlag(key, raw);
    const old = typeof parsedOld === "string" ? undefined : parsedOld;
    const current = old === undefined ? undefined : toDefinition(old);
    const next = validateFlagDefinition(mutate(current));
    if (next.key !== key) throw new FlagValidationError(`Invalid flag "${key}": key: definition says ${JSON.stringify(next.key)}`);
    const stored: StoredFlag = { ...next, updatedBy: by, updatedAt: new Date().toISOString(), version: (old?.version ?? 0) + 1 };
    const json = JSON.stringify(stored);
    if (json.length > MAX_FLAG_JSON) throw new FlagValidationError(`Invalid flag "${key}": its definition is ${json.length} characters, over the ${MAX_FLAG_JSON}-character limit`);
    const summary = summarize(current, next);
    const outcome = await runWrite(redis, WRITE_SCRIPT, [keys.flag(key), keys.flags], {
      expected: raw ?? "",
      json,
      key,
      by,
      reason,
      at: stored.updatedAt,
      cause: opts.cause,
      summary,
      version: String(stored.version),
    });
    if (outcome.status === "ok") return { eventId: outcome.eventIds[0], old, new: stored, summary, repairs: outcome.repairs };
  }
  throw new ConflictError(`flag "${key}" is being changed concurrently; try again`);
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
