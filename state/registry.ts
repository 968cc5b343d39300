import type Redis from "ioredis";
// zod/mini: same validation as "zod", a fraction of the size in the controller Lambda's bundle.
import * as z from "zod/mini";
import { InvalidInputError, InvariantError } from "../core/errors";
import { WrongTypeError } from "./errors";
import { describeKey } from "./keyTypes";
import { keys } from "./keys";
import { runWrite, storedReason, writeScript, type WriteScript } from "./writeScript";
import { boundProblem, preview } from "./bounds";
import { ROLES, type Role } from "../core/routing/role";
import { issuesLine, type Issue } from "../core/validation/issues";

const idSchema = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be 1-64 chars of A-Z a-z 0-9 . _ - (starting alphanumeric)"));
const addressSchema = z.string().check(
  z.regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})):(\d{1,5})$/, "must be host:port"),
  z.refine((a) => {
    const port = Number(a.slice(a.lastIndexOf(":") + 1));
    return port >= 1 && port <= 65535;
  }, "port must be 1-65535"),
);
const versionSchema = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/, "must be a version label like 1.4.2 or v2-rc1"));
const roleSchema = z.enum(ROLES, 'must be "prod" or "canary"');
const ttlSchema = z.int("must be an integer from 1 to 86400").check(z.gte(1, "must be an integer from 1 to 86400"), z.lte(86400, "must be an integer from 1 to 86400"));

export interface BackendRegistration {
  id: string;
  role: Role;
  /** host:port the proxy should send traffic to. */
  address: string;
  version: string;
  /** The entry disappears unless heartbeat() runs within this many seconds. */
  ttlSeconds: number;
}

export interface Backend {
  id: string;
  role: Role;
  address: string;
  version: string;
  registeredAt: string;
  /** Set by the controller before it removes the instance: the proxy stops sending it new requests. */
  draining?: true;
}

const registrationSchema = z.object({
  id: idSchema,
  role: roleSchema,
  address: addressSchema,
  version: versionSchema,
  ttlSeconds: ttlSchema,
});

const storedSchema = z.object({
  id: idSchema,
  role: roleSchema,
  address: addressSchema,
  version: versionSchema,
  registeredAt: z.iso.datetime("must be an ISO 8601 time"),
  draining: z.optional(z.pipe(z.literal("true"), z.transform(() => true as const))),
});

function fail(what: string, issues: readonly Issue[]): Error {
  return new InvalidInputError(`Invalid ${what}: ${issuesLine(issues, { root: "(value)", separator: " " })}`);
}

// A registration replaces the whole entry: a backend key of the wrong type is moved aside.
const REGISTER_SCRIPT = writeScript({
  keys: [
    { name: "backend", type: "hash", onWrongType: "set-aside" },
    { name: "index", type: "set" },
  ],
  prepare: `
event('backend', P.id, '', {'cause', 'register', 'id', P.id, 'role', P.role, 'address', P.address, 'version', P.version}, {kind = 'backend', id = P.id})
`,
  mutate: `
redis.call('DEL', K.backend)
redis.call('HSET', K.backend, 'id', P.id, 'role', P.role, 'address', P.address, 'version', P.version, 'registeredAt', P.at)
redis.call('EXPIRE', K.backend, P.ttl)
redis.call('SADD', K.index, P.id)
`,
});

// Not registered: nothing is written (listBackends prunes a stale index entry).
const DEREGISTER_SCRIPT = writeScript({
  keys: [
    { name: "backend", type: "any" },
    { name: "index", type: "set" },
  ],
  prepare: `
if redis.call('EXISTS', K.backend) == 0 then return noop(false) end
event('backend', P.by, P.reason, {'cause', 'deregister', 'id', P.id}, {kind = 'backend', id = P.id})
`,
  mutate: `
redis.call('DEL', K.backend)
redis.call('SREM', K.index, P.id)
`,
});

// Only an existing entry can drain; a re-registration (new hash) starts undrained again.
const DRAIN_SCRIPT = writeScript({
  keys: [{ name: "backend", type: "hash" }],
  prepare: `
if redis.call('EXISTS', K.backend) == 0 then return noop(false) end
event('backend', P.by, P.reason, {'cause', 'drain', 'id', P.id}, {kind = 'backend', id = P.id})
`,
  mutate: `
redis.call('HSET', K.backend, 'draining', 'true')
`,
});

// Removes an index entry only if its hash is still gone, so a concurrent re-register is not lost.
const PRUNE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return redis.call('SREM', KEYS[2], ARGV[1]) end
return 0
`;

/** Atomically writes the backend hash with its TTL, indexes it, records an event and publishes. */
export async function registerBackend(redis: Redis, reg: BackendRegistration): Promise<{ eventId: string; repairs: string[] }> {
  const parsed = registrationSchema.safeParse(reg);
  if (!parsed.success) throw fail("backend registration", parsed.error.issues);
  const { ttlSeconds, ...r } = parsed.data;
  const outcome = await runWrite(redis, REGISTER_SCRIPT, [keys.backend(r.id), keys.backends], { ...r, ttl: String(ttlSeconds) });
  if (outcome.status !== "ok") throw new InvariantError(`register ${r.id}: script wrote nothing`);
  return { eventId: outcome.eventIds[0], repairs: outcome.repairs };
}

// Refreshes a live registration and re-indexes it in one step, so a lost or deleted index is rebuilt
// by the next heartbeat of every live backend. An absent hash, or one that is not this backend's
// (wrong type, other id), is left alone: the caller registers again, which rewrites it whole.
// A non-set value at the index key is garbage that would block every registration: it is replaced.
const HEARTBEAT_SCRIPT = `
local backend_key, index_key = KEYS[1], KEYS[2]
local id, ttl = ARGV[1], ARGV[2]
if redis.call('TYPE', backend_key).ok ~= 'hash' or redis.call('HGET', backend_key, 'id') ~= id then return false end
local index_type = redis.call('TYPE', index_key).ok
if index_type ~= 'set' and index_type ~= 'none' then redis.call('DEL', index_key) end
redis.call('EXPIRE', backend_key, ttl)
redis.call('SADD', index_key, id)
return redis.call('HGETALL', backend_key)
`;

/**
 * Refreshes the TTL and re-adds the id to the index. Returns false if the entry had already expired,
 * was deregistered or is not a valid registration: the caller must registerBackend again.
 * Heartbeats are not audited (too noisy).
 */
export async function heartbeat(redis: Redis, id: string, ttlSeconds: number): Promise<boolean> {
  const parsedId = idSchema.safeParse(id);
  if (!parsedId.success) throw fail("backend id", parsedId.error.issues);
  const ttl = ttlSchema.safeParse(ttlSeconds);
  if (!ttl.success) throw fail("ttlSeconds", ttl.error.issues);
  const reply = (await redis.eval(HEARTBEAT_SCRIPT, 2, keys.backend(id), keys.backends, id, ttl.data)) as string[] | null;
  if (reply === null) return false;
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) hash[reply[i]] = reply[i + 1];
  return storedSchema.safeParse(hash).success;
}

export interface BackendChangeOptions {
  by: string;
  reason?: string;
  /** Told what the write found broken and fixed on the way (e.g. a blocked event stream). */
  onRepair?: (note: string) => void;
}

/** Runs a per-backend change script (keys: the backend hash, then `extraKeys`); false if not registered. */
async function changeBackend(redis: Redis, script: WriteScript, extraKeys: string[], id: string, opts: BackendChangeOptions, verb: string): Promise<boolean> {
  const parsedId = idSchema.safeParse(id);
  if (!parsedId.success) throw fail("backend id", parsedId.error.issues);
  if (typeof opts?.by !== "string" || opts.by.trim() === "") throw new InvalidInputError(`Invalid by: who ${verb} is required`);
  const outcome = await runWrite(redis, script, [keys.backend(id), ...extraKeys], { id, by: opts.by, reason: storedReason(opts.reason) });
  if (outcome.status !== "ok") return false;
  outcome.repairs.forEach((note) => opts.onRepair?.(note));
  return true;
}

/** Removes a backend now. Returns false (and records nothing) if it was not registered. */
export function deregisterBackend(redis: Redis, id: string, opts: BackendChangeOptions): Promise<boolean> {
  return changeBackend(redis, DEREGISTER_SCRIPT, [keys.backends], id, opts, "deregisters");
}

/** Marks a backend as draining (it keeps its TTL). Returns false if it is not registered. */
export function drainBackend(redis: Redis, id: string, opts: BackendChangeOptions): Promise<boolean> {
  return changeBackend(redis, DRAIN_SCRIPT, [], id, opts, "drains");
}

export interface BackendList {
  /** Live, valid backends sorted by id. */
  backends: Backend[];
  /** One line per unusable entry (garbage hash, wrong type, invalid id), naming its key. */
  problems: string[];
  /** Indexed ids whose hash is gone (expired, or Redis lost it); pruned from the index. */
  missing: string[];
  /** Remaining TTL in ms of each live backend's hash at the time of the read (-1: none). */
  ttlMs: ReadonlyMap<string, number>;
}

/**
 * Reads every indexed backend. Index entries whose hash expired are pruned and listed in `missing`;
 * entries that fail validation are reported in `problems` (bounded) and left alone.
 */
export async function listBackends(redis: Redis): Promise<BackendList> {
  let ids: string[];
  try {
    ids = (await redis.smembers(keys.backends)).sort();
  } catch (err) {
    if (!/WRONGTYPE/.test((err as Error).message)) throw err;
    // Every registration and heartbeat fails on it too; the next heartbeat replaces it.
    const found = await describeKey(redis, keys.backends);
    throw new WrongTypeError(keys.backends, found ?? { type: await redis.type(keys.backends), size: 0 }, "set");
  }
  const backends: Backend[] = [];
  const problems: string[] = [];
  const missing: string[] = [];
  const ttlMs = new Map<string, number>();
  const valid = ids.filter((id) => {
    if (idSchema.safeParse(id).success) return true;
    problems.push(`${keys.backends} holds an invalid id ${preview(id)}`);
    return false;
  });
  if (valid.length === 0) return { backends, problems, missing, ttlMs };
  const pipeline = redis.pipeline();
  for (const id of valid) pipeline.hgetall(keys.backend(id)).pttl(keys.backend(id));
  const replies = (await pipeline.exec()) ?? [];
  valid.forEach((id, i) => {
    const [err, raw] = replies[2 * i] ?? [new InvariantError("no reply"), null];
    if (err) {
      problems.push(`${keys.backend(id)}: ${boundProblem(err.message)}`);
      return;
    }
    const hash = raw as Record<string, string>;
    if (Object.keys(hash).length === 0) {
      missing.push(id);
      return;
    }
    const parsed = storedSchema.safeParse(hash);
    if (!parsed.success) {
      problems.push(`${keys.backend(id)} ${issuesLine(parsed.error.issues, { root: "" })}`);
    } else if (parsed.data.id !== id) {
      problems.push(`${keys.backend(id)} id: field says ${JSON.stringify(parsed.data.id)}`);
    } else {
      backends.push(parsed.data);
      const [ttlErr, ttl] = replies[2 * i + 1] ?? [new InvariantError("no reply"), null];
      const t = ttlErr ? -1 : Number(ttl);
      // -2: gone since the HGETALL, so it expires now.
      ttlMs.set(id, t === -2 ? 0 : t);
    }
  });
  for (const id of missing) await redis.eval(PRUNE_SCRIPT, 2, keys.backend(id), keys.backends, id);
  return { backends, problems, missing, ttlMs };
}
