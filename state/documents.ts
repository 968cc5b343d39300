/**
 * JSON documents in Redis, as flags and segments are kept: one string key per document (validated
 * with zod on every read, garbage reported and never returned), indexed by a set, and written by
 * one compare-and-set script per change (value + index + one event + one change notice).
 */
import type Redis from "ioredis";
import * as z from "zod";
import { issuesLine } from "../core/validation/issues";
import { InvalidInputError, InvariantError } from "../core/errors";
import { preview } from "./bounds";
import { ConflictError } from "./errors";
import { runWrite, storedReason, writeScript, type WriteOutcome, type WriteScript } from "./writeScript";

/** Who changed it last, when, and a counter: what every stored document carries. */
export interface Bookkeeping {
  updatedBy: string;
  updatedAt: string;
  version: number;
}

/** One kind of document. */
export interface DocumentStore<S extends Bookkeeping> {
  /** The event and notice kind, and the word for one document in messages. */
  kind: "flag" | "segment";
  /** The field naming the document, in the document and in its events ("key", "name"). */
  idField: string;
  key: (name: string) => string;
  index: string;
  /** Largest JSON accepted, on write and on read. */
  maxJson: number;
  nameSchema: z.ZodType<string>;
  storedSchema: z.ZodType<S>;
  nameOf: (doc: S) => string;
  /** The typed error for invalid input to this store (nothing written). */
  invalid: (message: string) => InvalidInputError;
  /** What is written as JSON, when it differs from the document itself (read back, it parses to the same). */
  storedForm?: (doc: S) => unknown;
}

/** Stand-in for a key holding a non-string type, so compare-and-set still detects races on it. */
const WRONG_TYPE = "\u0000wrongtype";
const bySchema = z.string().trim().min(1).max(200);

/** Throws the store's validation error if `name` is not a valid name. */
export function checkName<S extends Bookkeeping>(store: DocumentStore<S>, name: string): void {
  const parsed = store.nameSchema.safeParse(name);
  if (!parsed.success) throw store.invalid(`Invalid ${store.kind} ${store.idField} ${JSON.stringify(name)}: ${parsed.error.issues[0].message}`);
}

/** Parses one stored document; returns a problem string instead of throwing on garbage. */
export function parseStored<S extends Bookkeeping>(store: DocumentStore<S>, name: string, raw: string): S | string {
  const key = store.key(name);
  if (raw.length > store.maxJson) return `${key}: over the ${store.maxJson}-character limit (${preview(raw)})`;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return `${key}: not JSON`;
  }
  const parsed = store.storedSchema.safeParse(json);
  if (!parsed.success) return `${key} ${issuesLine(parsed.error.issues)}`;
  if (store.nameOf(parsed.data) !== name) return `${key} ${store.idField}: field says ${preview(store.nameOf(parsed.data))}`;
  return parsed.data;
}

async function readRaw<S extends Bookkeeping>(redis: Redis, store: DocumentStore<S>, name: string): Promise<string | undefined> {
  try {
    return (await redis.get(store.key(name))) ?? undefined;
  } catch (err) {
    if (/WRONGTYPE/.test((err as Error).message)) return WRONG_TYPE;
    throw err;
  }
}

/** One document; `doc` is undefined when absent or garbage (then `problems` says why). */
export async function readDocument<S extends Bookkeeping>(redis: Redis, store: DocumentStore<S>, name: string): Promise<{ doc: S | undefined; problems: string[] }> {
  checkName(store, name);
  const raw = await readRaw(redis, store, name);
  if (raw === undefined) return { doc: undefined, problems: [] };
  if (raw === WRONG_TYPE) return { doc: undefined, problems: [`${store.key(name)}: not a string value`] };
  const parsed = parseStored(store, name, raw);
  return typeof parsed === "string" ? { doc: undefined, problems: [parsed] } : { doc: parsed, problems: [] };
}

/**
 * Every valid document, sorted by name; garbage entries are reported and skipped (`invalidNames`
 * names them, so a cache can keep its last good version of exactly those).
 */
export async function readDocuments<S extends Bookkeeping>(redis: Redis, store: DocumentStore<S>): Promise<{ docs: S[]; problems: string[]; invalidNames: string[] }> {
  const members = (await redis.smembers(store.index)).sort();
  const problems: string[] = [];
  const invalidNames: string[] = [];
  const valid = members.filter((m) => {
    const ok = store.nameSchema.safeParse(m).success;
    if (!ok) problems.push(`${store.index}: invalid member ${JSON.stringify(m)}`);
    return ok;
  });
  if (valid.length === 0) return { docs: [], problems, invalidNames };
  const pipeline = redis.pipeline();
  for (const name of valid) pipeline.get(store.key(name));
  const replies = (await pipeline.exec()) ?? [];
  const docs: S[] = [];
  valid.forEach((name, i) => {
    const [err, raw] = replies[i] ?? [new InvariantError("no reply"), null];
    if (err) {
      problems.push(`${store.key(name)}: ${err.message}`);
      invalidNames.push(name);
      return;
    }
    if (raw === null) return; // indexed but never written (or deleted by hand): nothing to serve
    const parsed = parseStored(store, name, raw as string);
    if (typeof parsed === "string") {
      problems.push(parsed);
      invalidNames.push(name);
    } else {
      docs.push(parsed);
    }
  });
  return { docs, problems, invalidNames };
}

/**
 * The write script of a store: compare-and-set on the raw value (a document of the wrong type is
 * moved aside, the write replaces it whole; an index of the wrong type is refused), then `check`
 * (Lua that may `return noop(reason)`), then value + index + one event + one notice.
 * Params: expected, json, name, by, reason, cause, version, summary.
 */
export function documentWriteScript(store: Pick<DocumentStore<Bookkeeping>, "kind" | "idField">, check = ""): WriteScript {
  return writeScript({
    keys: [
      { name: "doc", type: "string", onWrongType: "set-aside" },
      { name: "index", type: "set" },
    ],
    prepare: `
local cur = ''
if W.doc then cur = '\\0wrongtype' elseif redis.call('EXISTS', K.doc) == 1 then cur = redis.call('GET', K.doc) end
if cur ~= P.expected then return noop('conflict') end
${check}
event('${store.kind}', P.by, P.reason, {'cause', P.cause, '${store.idField}', P.name, 'version', P.version, 'change', P.summary}, {kind = '${store.kind}', id = P.name})
`,
    mutate: `
redis.call('SET', K.doc, P.json)
redis.call('SADD', K.index, P.name)
`,
  });
}

/** What one attempt of a read-modify-write sees: the raw value (for compare-and-set) and the valid document. */
export interface Current<S> {
  /** The raw value, "" when absent (compared inside the script). */
  expected: string;
  exists: boolean;
  old: S | undefined;
}

/**
 * Read-modify-write loop: `attempt` gets what is stored now and writes with a compare-and-set
 * script; a "conflict" noop (another writer got in between) reads again and retries.
 */
export async function withCurrent<S extends Bookkeeping, T>(
  redis: Redis,
  store: DocumentStore<S>,
  name: string,
  attempt: (current: Current<S>) => Promise<T | "conflict">,
): Promise<T> {
  for (let i = 0; i < 20; i++) {
    const raw = await readRaw(redis, store, name);
    const parsed = raw === undefined || raw === WRONG_TYPE ? undefined : parseStored(store, name, raw);
    const result = await attempt({ expected: raw ?? "", exists: raw !== undefined, old: typeof parsed === "string" ? undefined : parsed });
    if (result !== "conflict") return result;
  }
  throw new ConflictError(`${store.kind} "${name}" is being changed concurrently; try again`);
}

export interface DocumentChange<S, N = S> {
  eventId: string;
  old: S | undefined;
  new: N;
  /** Human-readable list of what changed, as recorded in the event. */
  summary: string;
  /** What the write found broken and fixed on the way (e.g. a blocked event stream moved aside). */
  repairs: string[];
}

/** A field's value in a change summary: strings as they are, "none" for absent, anything else as JSON. */
export function showValue(v: unknown): string {
  return v === undefined ? "none" : typeof v === "string" ? v : JSON.stringify(v);
}

/** Who made a change, and why. */
export interface ChangeOptions {
  by: string;
  reason?: string;
}

/** Checks `opts`: `by` is required; a reason is cut to fit, never refused. */
export function changeOptions<S extends Bookkeeping>(store: DocumentStore<S>, opts: ChangeOptions): { by: string; reason: string } {
  const by = bySchema.safeParse(opts?.by);
  if (!by.success) throw store.invalid(`Invalid by: ${by.error.issues[0].message} (who made the change is required)`);
  return { by: by.data, reason: storedReason(opts.reason) };
}

/**
 * One attempt at storing `def` (already validated) over `current` with `script` (built by
 * documentWriteScript): bookkeeping added, size checked, compare-and-set run. Returns the change,
 * "conflict", or the script's other noop result for the caller to turn into an error.
 */
export async function storeDocument<S extends Bookkeeping>(
  redis: Redis,
  store: DocumentStore<S>,
  write: {
    script: WriteScript;
    name: string;
    def: Omit<S, keyof Bookkeeping>;
    current: Current<S>;
    by: string;
    reason: string;
    cause: string;
    summary: string;
    params?: Record<string, unknown>;
    readKeys?: readonly string[];
  },
): Promise<DocumentChange<S> | { refused: unknown } | "conflict"> {
  const { name, current } = write;
  const stored = { ...write.def, updatedBy: write.by, updatedAt: new Date().toISOString(), version: (current.old?.version ?? 0) + 1 } as S;
  const json = JSON.stringify(store.storedForm ? store.storedForm(stored) : stored);
  if (json.length > store.maxJson) {
    throw store.invalid(`Invalid ${store.kind} "${name}": its definition is ${json.length} characters, over the ${store.maxJson}-character limit`);
  }
  const outcome: WriteOutcome<unknown> = await runWrite(
    redis,
    write.script,
    [store.key(name), store.index],
    { ...write.params, expected: current.expected, json, name, by: write.by, reason: write.reason, at: stored.updatedAt, cause: write.cause, summary: write.summary, version: String(stored.version) },
    write.readKeys,
  );
  if (outcome.status === "ok") return { eventId: outcome.eventIds[0], old: current.old, new: stored, summary: write.summary, repairs: outcome.repairs };
  return outcome.result === "conflict" ? "conflict" : { refused: outcome.result };
}
