/**
 * Segments in Redis: `aviary:segment:<name>` (JSON, see core/flags/model.ts) indexed by the
 * `aviary:segments` set; named sets of users that the rules of many flags refer to. Validated on
 * write (nothing stored on error) and on read (garbage reported in `problems`, never returned).
 * Each write is one Lua script: compare-and-set + index + event + notice; a delete is refused
 * while a flag's rules use the segment (checked in the same script).
 */
import type Redis from "ioredis";
import { SEGMENT_OPS, segmentDefinitionSchema, segmentNameSchema, storedSegmentSchema, type SegmentDefinition, type SegmentDefinitionInput, type StoredSegment } from "../core/flags/model";
import { issuesLine, type Issue } from "../core/validation/issues";
import { InvalidInputError, InvariantError, NotFoundError } from "../core/errors";
import { MAX_SEGMENT_JSON } from "./bounds";
import { changeOptions, checkName, showValue, documentWriteScript, readDocument, readDocuments, storeDocument, withCurrent, type ChangeOptions, type DocumentChange, type DocumentStore } from "./documents";
import { keys } from "./keys";
import { runWrite, writeScript } from "./writeScript";

export type SegmentChangeOptions = ChangeOptions;
/** A put or update: `new` is the stored segment; a delete: `new` is undefined. */
export type SegmentChange<N extends StoredSegment | undefined = StoredSegment> = DocumentChange<StoredSegment, N>;

/** A segment definition or name that fails validation: nothing was written. */
export class SegmentValidationError extends InvalidInputError {}

/** A delete refused because flags' rules still use the segment: nothing was written. */
export class SegmentInUseError extends InvalidInputError {
  constructor(
    readonly segment: string,
    readonly flags: readonly string[],
  ) {
    super(`segment "${segment}" is used by the rules of ${flags.length === 1 ? "flag" : "flags"} ${flags.join(", ")}: remove those rules first`);
  }
}

const SEGMENTS: DocumentStore<StoredSegment> = {
  kind: "segment", idField: "name", key: keys.segment, index: keys.segments, maxJson: MAX_SEGMENT_JSON,
  nameSchema: segmentNameSchema, storedSchema: storedSegmentSchema, nameOf: (s) => s.name, invalid: (message) => new SegmentValidationError(message),
};

/** One segment; `segment` is undefined when absent or garbage (then `problems` says why). */
export async function readSegment(redis: Redis, name: string): Promise<{ segment: StoredSegment | undefined; problems: string[] }> {
  const { doc, problems } = await readDocument(redis, SEGMENTS, name);
  return { segment: doc, problems };
}

/**
 * Every valid segment, sorted by name; garbage entries are reported and skipped (`invalidNames`
 * names them, so a cache can keep its last good version of exactly those).
 */
export async function readSegments(redis: Redis): Promise<{ segments: StoredSegment[]; problems: string[]; invalidNames: string[] }> {
  const { docs, problems, invalidNames } = await readDocuments(redis, SEGMENTS);
  return { segments: docs, problems, invalidNames };
}

const SEGMENT_IN_SEGMENT = "a segment is made of attribute tests only: it cannot use another segment (inSegment / notInSegment)";

/** zod's "Invalid discriminator value" for a condition's op, said plainly when the condition tests a segment. */
function plainIssue(input: unknown, issue: Issue): Issue {
  const [field, i, leaf] = issue.path;
  if (field !== "conditions" || issue.path.length !== 3 || typeof i !== "number" || leaf !== "op") return issue;
  const op = (input as { conditions: { op?: unknown }[] }).conditions[i]?.op;
  return (SEGMENT_OPS as readonly unknown[]).includes(op) ? { path: ["conditions", i], message: SEGMENT_IN_SEGMENT } : issue;
}

/** Validates a definition; throws one error naming every bad field. */
export function validateSegmentDefinition(input: unknown): SegmentDefinition {
  const parsed = segmentDefinitionSchema.safeParse(input);
  if (!parsed.success) {
    const name = typeof input === "object" && input !== null && "name" in input ? ` ${JSON.stringify((input as { name: unknown }).name)}` : "";
    throw new SegmentValidationError(`Invalid segment${name}: ${issuesLine(parsed.error.issues.map((issue) => plainIssue(input, issue)))}`);
  }
  return parsed.data;
}

const FIELDS = ["description", "match", "conditions", "included", "excluded"] as const;

/** "field old → new" for each field that differs; "created …" for a new segment. */
export function summarizeSegment(old: SegmentDefinition | undefined, next: SegmentDefinition): string {
  if (old === undefined) return `created segment, ${next.conditions.length} conditions (${next.match}), ${next.included.length} included, ${next.excluded.length} excluded`;
  const parts = FIELDS.filter((f) => JSON.stringify(old[f]) !== JSON.stringify(next[f])).map((f) => `${f} ${showValue(old[f])} → ${showValue(next[f])}`);
  return parts.length === 0 ? "no change" : parts.join("; ");
}

const WRITE_SCRIPT = documentWriteScript(SEGMENTS);

/**
 * Read-modify-write of one segment: `mutate` gets the current valid definition (undefined if
 * absent or garbage) and returns the new one, validated before anything is written. Retries when
 * another writer got in between (compare-and-set on the raw value).
 */
export async function updateSegment(redis: Redis, name: string, mutate: (current: SegmentDefinition | undefined) => SegmentDefinitionInput, opts: SegmentChangeOptions & { cause: string }): Promise<SegmentChange> {
  checkName(SEGMENTS, name);
  const { by, reason } = changeOptions(SEGMENTS, opts);
  return withCurrent(redis, SEGMENTS, name, async (current) => {
    const def = current.old === undefined ? undefined : toSegmentDefinition(current.old);
    const next = validateSegmentDefinition(mutate(def));
    if (next.name !== name) throw new SegmentValidationError(`Invalid segment "${name}": name: definition says ${JSON.stringify(next.name)}`);
    const result = await storeDocument(redis, SEGMENTS, { script: WRITE_SCRIPT, name, def: next, current, by, reason, cause: opts.cause, summary: summarizeSegment(def, next) });
    if (result !== "conflict" && !("eventId" in result)) throw new InvariantError(`updateSegment: unexpected refusal ${JSON.stringify(result.refused)}`);
    return result;
  });
}

/** Creates or replaces a whole segment. */
export async function putSegment(redis: Redis, input: SegmentDefinitionInput, opts: SegmentChangeOptions): Promise<SegmentChange> {
  const def = validateSegmentDefinition(input);
  return updateSegment(redis, def.name, () => def, { ...opts, cause: "define" });
}

// Compare-and-set on the raw value (any type: a delete removes a wrong-type key too). R[1] is the
// flag index, R[1 + i] the key of P.flags[i]: the index must hold exactly P.flags (else another
// writer got in between), and no flag's rules may name the segment.
const DELETE_SCRIPT = writeScript({
  keys: [
    { name: "doc", type: "any" },
    { name: "index", type: "set" },
  ],
  prepare: `
local t = key_type(K.doc)
local cur = ''
if t == 'string' then cur = redis.call('GET', K.doc) elseif t ~= 'none' then cur = '\\0wrongtype' end
if cur ~= P.expected then return noop('conflict') end
local ft = key_type(R[1])
if ft ~= 'none' and ft ~= 'set' then return refuse_wrong_type(R[1], ft, 'set') end
if (ft == 'none' and #P.flags > 0) or (ft == 'set' and redis.call('SCARD', R[1]) ~= #P.flags) then return noop('conflict') end
local function uses(def)
  if type(def) ~= 'table' or type(def.rules) ~= 'table' then return false end
  for _, rule in ipairs(def.rules) do
    if type(rule) == 'table' and type(rule.conditions) == 'table' then
      for _, c in ipairs(rule.conditions) do
        if type(c) == 'table' and c.segment == P.name then return true end
      end
    end
  end
  return false
end
local users = {}
for i, flag in ipairs(P.flags) do
  if redis.call('SISMEMBER', R[1], flag) == 0 then return noop('conflict') end
  if key_type(R[i + 1]) == 'string' then
    local ok, def = pcall(cjson.decode, redis.call('GET', R[i + 1]))
    if ok and uses(def) then table.insert(users, flag) end
  end
end
if #users > 0 then return noop({users = users}) end
event('segment', P.by, P.reason, {'cause', 'delete', 'name', P.name, 'version', P.version, 'change', 'deleted'}, {kind = 'segment', id = P.name})
`,
  mutate: `
redis.call('DEL', K.doc)
redis.call('SREM', K.index, P.name)
`,
});

/**
 * Deletes a segment (a garbage one too). Refused with SegmentInUseError naming every flag whose
 * stored rules use it, and with NotFoundError when there is no such segment.
 */
export async function deleteSegment(redis: Redis, name: string, opts: SegmentChangeOptions): Promise<SegmentChange<undefined>> {
  checkName(SEGMENTS, name);
  const { by, reason } = changeOptions(SEGMENTS, opts);
  return withCurrent(redis, SEGMENTS, name, async (current) => {
    if (!current.exists) throw new NotFoundError(`segment "${name}" does not exist`);
    // The script refuses a wrong-type index itself, naming it.
    const flags = (await redis.type(keys.flags)) === "set" ? (await redis.smembers(keys.flags)).sort() : [];
    const outcome = await runWrite<unknown>(
      redis,
      DELETE_SCRIPT,
      [keys.segment(name), keys.segments],
      { expected: current.expected, name, by, reason, flags, version: String((current.old?.version ?? 0) + 1) },
      [keys.flags, ...flags.map(keys.flag)],
    );
    if (outcome.status === "ok") return { eventId: outcome.eventIds[0], old: current.old, new: undefined, summary: "deleted", repairs: outcome.repairs };
    if (outcome.result === "conflict") return "conflict";
    throw new SegmentInUseError(name, ((outcome.result as { users: string[] }).users ?? []).sort());
  });
}

/** Drops the bookkeeping fields of a stored segment. */
export function toSegmentDefinition(stored: StoredSegment): SegmentDefinition {
  const { updatedBy: _by, updatedAt: _at, version: _v, ...def } = stored;
  return def;
}
