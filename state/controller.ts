// The controller's own Redis state: message dedupe, the decision lock, its memory (cooldown
// timestamps and last seen alarm transitions) and its audit events.
import { randomBytes } from "node:crypto";
import type Redis from "ioredis";
import { isAlarmState, type AlarmState } from "../core/alarms/state";
import { keys } from "./keys";
import { badKeyMessage, foundValue, LUA_BAD_KEY, textFound } from "./badKey";
import { PREVIEW_CHARS } from "./bounds";
import { InvariantError } from "../core/errors";
import { ConflictError, keyError, RedisKeyError } from "./errors";
import { repairingType } from "./keyTypes";
import { tokenSchema } from "./rolloutSchema";
import { runWrite, storedReason, writeScript } from "./writeScript";

export interface StoredControllerMemory {
  lastScaleOutAt?: string;
  lastScaleInAt?: string;
  alarms: Record<string, { state: AlarmState; at: string }>;
  judgeAbortNotified?: string;
}

const ALARM_FIELD = "alarm:";
const validTime = (v: string | undefined): v is string => v !== undefined && !Number.isNaN(Date.parse(v));

/** In-progress markers expire on their own if the process dies before commit/release. */
export const DEDUPE_PENDING_SECONDS = 120;
/** SNS redelivers for at most about a day (and the DLQ holds failures): markers outlive that. */
export const DEDUPE_DONE_SECONDS = 2 * 24 * 3600;

/** Where a message stands after a claim: this caller owns it now, another delivery does, or it is done. */
export interface Claim {
  status: "claimed" | "pending" | "done";
  /** Set when the marker was garbage (replaced by this caller's claim): names the key and what was there. */
  repaired?: string;
}

// Lua: `marker` = "pending" or "done" if the key holds one this module writes (a string expiring
// within its window), else nil. Expects locals key, pending_s, done_s.
const LUA_VALID_MARKER = `
local marker = nil
if redis.call('TYPE', key).ok == 'string' then
  local v, ttl = redis.call('GET', key), redis.call('PTTL', key)
  if v == 'pending' and ttl > 0 and ttl <= pending_s * 1000 then marker = 'pending' end
  if v == 'done' and ttl > 0 and ttl <= done_s * 1000 then marker = 'done' end
end
`;

const MARKER_ARGS = `local key, pending_s, done_s = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])`;

// SET NX EX, and in the same step: any other marker is garbage and replaced by the claim.
const CLAIM_SCRIPT = `
${LUA_BAD_KEY}
${MARKER_ARGS}
if redis.call('SET', key, 'pending', 'EX', pending_s, 'NX') then return {'claimed'} end
${LUA_VALID_MARKER}
if marker then return {marker} end
local found = describe_key(key, redis.call('TYPE', key).ok)
redis.call('SET', key, 'pending', 'EX', pending_s)
return {'claimed', found[1], found[2], found[3]}
`;

/** Claims a message (SET NX EX); a garbage marker never blocks it. */
export async function claimMessage(redis: Redis, messageId: string): Promise<Claim> {
  const key = keys.dedupe(messageId);
  const reply = (await redis.eval(CLAIM_SCRIPT, 1, key, DEDUPE_PENDING_SECONDS, DEDUPE_DONE_SECONDS)) as unknown[];
  const status = reply[0] as Claim["status"];
  if (reply.length === 1) return { status };
  const expected = `a "pending" or "done" marker (a string expiring within ${DEDUPE_DONE_SECONDS} s)`;
  return { status, repaired: badKeyMessage({ key, found: foundValue(reply.slice(1)), expected }, "repaired (replaced by this delivery's claim)") };
}

const MARKER_SCRIPT = `
${MARKER_ARGS}
${LUA_VALID_MARKER}
return marker or false
`;

/** The dedupe marker of a message: "pending" (claimed, in progress or its handler died), "done", or undefined (none, or garbage). */
export async function messageMarker(redis: Redis, messageId: string): Promise<"pending" | "done" | undefined> {
  return ((await redis.eval(MARKER_SCRIPT, 1, keys.dedupe(messageId), DEDUPE_PENDING_SECONDS, DEDUPE_DONE_SECONDS)) as "pending" | "done" | null) ?? undefined;
}

export async function commitMessage(redis: Redis, messageId: string): Promise<void> {
  const key = keys.dedupe(messageId);
  await redis.set(key, "done", "EX", DEDUPE_DONE_SECONDS).catch((err: unknown) => {
    throw keyError(key, err);
  });
}

// Only a pending marker is released: a committed message stays deduplicated.
const RELEASE_MESSAGE_SCRIPT = `if redis.call('TYPE', KEYS[1]).ok == 'string' and redis.call('GET', KEYS[1]) == 'pending' then return redis.call('DEL', KEYS[1]) end return 0`;

export async function releaseMessage(redis: Redis, messageId: string): Promise<void> {
  await redis.eval(RELEASE_MESSAGE_SCRIPT, 1, keys.dedupe(messageId));
}

// Deletes the lock only if this holder still owns it (it may have expired and been taken).
const UNLOCK_SCRIPT = `if redis.call('TYPE', KEYS[1]).ok == 'string' and redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface LockOptions {
  /** The lock expires after this long even if its holder dies (keep above the Lambda timeout). */
  ttlMs: number;
  /** Give up (throw) after waiting this long. */
  waitMs: number;
}

const TOKEN_BYTES = 16;

// Every holder sets a string token of TOKEN_BYTES random bytes in hex that expires within ttlMs.
// Anything else (another type, another value, no TTL or a longer one) would block every decision
// until it expires, if ever: it is deleted, atomically, and described for the log.
const CHECK_LOCK_SCRIPT = `
${LUA_BAD_KEY}
local key, max_ttl = KEYS[1], tonumber(ARGV[1])
local t = redis.call('TYPE', key).ok
if t == 'none' then return 'free' end
if t == 'string' then
  local v, ttl = redis.call('GET', key), redis.call('PTTL', key)
  if string.len(v) == ${TOKEN_BYTES * 2} and string.match(v, '^%x+$') and ttl > 0 and ttl <= max_ttl then return 'held' end
end
return delete_described(key, t)
`;

/**
 * Runs `fn` under `aviary:controller:lock`; throws (naming the key) if a live holder keeps it
 * for waitMs. A garbage lock is repaired at once and reported through `onRepair`.
 */
export async function withControllerLock<T>(
  redis: Redis,
  opts: LockOptions,
  fn: () => Promise<T>,
  onRepair: (problem: string) => void = () => undefined,
): Promise<T> {
  const key = keys.controllerLock;
  const token = randomBytes(TOKEN_BYTES).toString("hex");
  const deadline = Date.now() + opts.waitMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 100)) {
    if ((await redis.set(key, token, "PX", opts.ttlMs, "NX")) === "OK") break;
    const check = (await redis.eval(CHECK_LOCK_SCRIPT, 1, key, opts.ttlMs)) as string | unknown[];
    if (Array.isArray(check)) {
      const expected = `a lock token (${TOKEN_BYTES * 2} hex digits) expiring within ${opts.ttlMs} ms`;
      onRepair(badKeyMessage({ key, found: foundValue(check), expected }, "repaired (deleted)"));
      continue;
    }
    if (check === "free") continue;
    if (Date.now() >= deadline) throw new ConflictError(`aviary: Redis key ${key} is busy: another decision held it for the whole ${opts.waitMs} ms wait`);
    await new Promise((r) => setTimeout(r, delay));
  }
  try {
    return await fn();
  } finally {
    await redis.eval(UNLOCK_SCRIPT, 1, key, token);
  }
}

/** At most this many problems of one read are reported (the rest are counted). */
const MAX_PROBLEMS = 10;

function bounded(problems: string[]): string[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  return [...problems.slice(0, MAX_PROBLEMS), `... and ${problems.length - MAX_PROBLEMS} more`];
}

/**
 * Reads the memory; unparseable fields are left out and reported (a missing field only means
 * "never"), a key of another type is deleted and reported: the memory is then empty.
 */
export async function readControllerMemory(redis: Redis): Promise<{ memory: StoredControllerMemory; problems: string[] }> {
  const problems: string[] = [];
  const raw = await repairingType(redis, keys.controller, "hash", () => redis.hgetall(keys.controller), (p) => problems.push(p));
  const memory: StoredControllerMemory = { alarms: {} };
  for (const [field, value] of Object.entries(raw)) {
    const bad = (expected: string): string => badKeyMessage({ key: keys.controller, field: field.slice(0, PREVIEW_CHARS), found: textFound(value), expected }, "ignored");
    if (field === "lastScaleOutAt" || field === "lastScaleInAt") {
      if (validTime(value)) memory[field] = value;
      else problems.push(bad("an ISO 8601 time"));
    } else if (field === "judgeAbortNotified") {
      if (tokenSchema.safeParse(value).success) memory.judgeAbortNotified = value;
      else problems.push(bad("a rollout id"));
    } else if (field.startsWith(ALARM_FIELD)) {
      const [state, at] = value.split(" ");
      if (isAlarmState(state) && validTime(at)) memory.alarms[field.slice(ALARM_FIELD.length)] = { state, at };
      else problems.push(bad('"<state> <time>"'));
    } else {
      problems.push(`${keys.controller} ${field.slice(0, PREVIEW_CHARS)}: unknown field`);
    }
  }
  return { memory, problems: bounded(problems) };
}

/** Replaces the memory in one step (DEL + HSET in MULTI): whatever was at the key, of any type, is gone. */
export async function writeControllerMemory(redis: Redis, memory: StoredControllerMemory): Promise<void> {
  const fields: string[] = [];
  if (memory.lastScaleOutAt) fields.push("lastScaleOutAt", memory.lastScaleOutAt);
  if (memory.lastScaleInAt) fields.push("lastScaleInAt", memory.lastScaleInAt);
  if (memory.judgeAbortNotified) fields.push("judgeAbortNotified", memory.judgeAbortNotified);
  for (const [name, a] of Object.entries(memory.alarms)) fields.push(`${ALARM_FIELD}${name}`, `${a.state} ${a.at}`);
  const tx = redis.multi().del(keys.controller);
  if (fields.length > 0) tx.hset(keys.controller, ...fields);
  const replies = await tx.exec();
  const failed = replies?.find(([err]) => err);
  if (failed) throw keyError(keys.controller, failed[0]);
  if (!replies) throw new RedisKeyError(keys.controller, "transaction aborted");
}

type OnProblem = (problem: string) => void;
const ignore: OnProblem = () => undefined;

/** Follow-ups are opaque JSON here; the controller validates what it reads back. */
export async function saveFollowUps(redis: Redis, messageId: string, json: string, onProblem: OnProblem = ignore): Promise<void> {
  await repairingType(redis, keys.controllerFollowUps, "hash", () => redis.hset(keys.controllerFollowUps, messageId, json), onProblem);
}

/** All stored follow-ups; a key of another type is deleted and reported (none are then pending). */
export async function readFollowUps(redis: Redis): Promise<{ followUps: Record<string, string>; problems: string[] }> {
  const problems: string[] = [];
  const followUps = await repairingType(redis, keys.controllerFollowUps, "hash", () => redis.hgetall(keys.controllerFollowUps), (p) => problems.push(p));
  return { followUps, problems };
}

export async function clearFollowUps(redis: Redis, messageId: string, onProblem: OnProblem = ignore): Promise<void> {
  await repairingType(redis, keys.controllerFollowUps, "hash", () => redis.hdel(keys.controllerFollowUps, messageId), onProblem);
}

export interface ControllerEvent {
  /** What was done, e.g. scaleOut, scaleIn, setCanaryWeight. */
  action: string;
  by: string;
  reason: string;
  detail: Record<string, string>;
}

// All events in one script, so a batch is recorded whole or not at all.
const RECORD_SCRIPT = writeScript({
  keys: [],
  prepare: `
for _, e in ipairs(P.events) do event('controller', e.by, e.reason, e.detail, {kind = 'controller'}) end
`,
  mutate: "",
});

/**
 * Appends one `controller` event per entry (detail gets `action` first) and publishes a notice each.
 * Reasons are cut to fit (a rollback is never refused for a long alarm reason); `onRepair` is told
 * what was fixed on the way (e.g. a blocked event stream moved aside).
 */
export async function recordControllerEvents(redis: Redis, events: ControllerEvent[], onRepair?: (note: string) => void): Promise<string[]> {
  if (events.length === 0) return [];
  const outcome = await runWrite(redis, RECORD_SCRIPT, [], {
    events: events.map((e) => ({ by: e.by, reason: storedReason(e.reason), detail: Object.entries({ action: e.action, ...e.detail }).flat() })),
  });
  if (outcome.status !== "ok") throw new InvariantError("recordControllerEvents: script wrote nothing");
  outcome.repairs.forEach((note) => onRepair?.(note));
  return outcome.eventIds;
}
