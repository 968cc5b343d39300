// The controller's own Redis state: message dedupe, the decision lock, its memory (cooldown
// timestamps and last seen alarm transitions) and its audit events.
import { randomBytes } from "node:crypto";
import type Redis from "ioredis";
import { keys } from "./keys";
import { runWrite, storedReason, writeScript } from "./writeScript";

export type StoredAlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA";

export interface StoredControllerMemory {
  lastScaleOutAt?: string;
  lastScaleInAt?: string;
  alarms: Record<string, { state: StoredAlarmState; at: string }>;
}

const ALARM_FIELD = "alarm:";
const STATES: readonly string[] = ["OK", "ALARM", "INSUFFICIENT_DATA"];
const validTime = (v: string | undefined): v is string => v !== undefined && !Number.isNaN(Date.parse(v));

/** In-progress markers expire on their own if the process dies before commit/release. */
export const DEDUPE_PENDING_SECONDS = 120;
/** SNS redelivers for at most about a day (and the DLQ holds failures): markers outlive that. */
export const DEDUPE_DONE_SECONDS = 2 * 24 * 3600;

/** SET NX EX: true if this caller owns the message now. */
export async function claimMessage(redis: Redis, messageId: string): Promise<boolean> {
  return (await redis.set(keys.dedupe(messageId), "pending", "EX", DEDUPE_PENDING_SECONDS, "NX")) === "OK";
}

/** The dedupe marker of a message: "pending" (claimed, in progress or its handler died), "done", or undefined. */
export async function messageMarker(redis: Redis, messageId: string): Promise<string | undefined> {
  return (await redis.get(keys.dedupe(messageId))) ?? undefined;
}

export async function commitMessage(redis: Redis, messageId: string): Promise<void> {
  await redis.set(keys.dedupe(messageId), "done", "EX", DEDUPE_DONE_SECONDS);
}

// Only a pending marker is released: a committed message stays deduplicated.
const RELEASE_MESSAGE_SCRIPT = `if redis.call('GET', KEYS[1]) == 'pending' then return redis.call('DEL', KEYS[1]) end return 0`;

export async function releaseMessage(redis: Redis, messageId: string): Promise<void> {
  await redis.eval(RELEASE_MESSAGE_SCRIPT, 1, keys.dedupe(messageId));
}

// Deletes the lock only if this holder still owns it (it may have expired and been taken).
const UNLOCK_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface LockOptions {
  /** The lock expires after this long even if its holder dies (keep above the Lambda timeout). */
  ttlMs: number;
  /** Give up (throw) after waiting this long. */
  waitMs: number;
}

// Every lock this module takes expires (PX); one without a TTL is garbage that would block every
// decision forever, so it is removed (atomically, only while it still has no TTL).
const DROP_UNEXPIRING_LOCK_SCRIPT = `if redis.call('PTTL', KEYS[1]) == -1 then return redis.call('DEL', KEYS[1]) end return 0`;

/** Runs `fn` under `aviary:controller:lock`; throws if the lock cannot be taken within waitMs. */
export async function withControllerLock<T>(redis: Redis, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const token = randomBytes(16).toString("hex");
  const deadline = Date.now() + opts.waitMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 100)) {
    if ((await redis.set(keys.controllerLock, token, "PX", opts.ttlMs, "NX")) === "OK") break;
    if ((await redis.eval(DROP_UNEXPIRING_LOCK_SCRIPT, 1, keys.controllerLock)) === 1) continue;
    if (Date.now() >= deadline) throw new Error(`controller lock busy for ${opts.waitMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
  }
  try {
    return await fn();
  } finally {
    await redis.eval(UNLOCK_SCRIPT, 1, keys.controllerLock, token);
  }
}

/** Reads the memory; unparseable fields are left out and reported (a missing field only means "never"). */
export async function readControllerMemory(redis: Redis): Promise<{ memory: StoredControllerMemory; problems: string[] }> {
  const raw = await redis.hgetall(keys.controller);
  const memory: StoredControllerMemory = { alarms: {} };
  const problems: string[] = [];
  for (const [field, value] of Object.entries(raw)) {
    if (field === "lastScaleOutAt" || field === "lastScaleInAt") {
      if (validTime(value)) memory[field] = value;
      else problems.push(`${keys.controller} ${field}: not a time (${JSON.stringify(value)})`);
    } else if (field.startsWith(ALARM_FIELD)) {
      const [state, at] = value.split(" ");
      if (STATES.includes(state) && validTime(at)) memory.alarms[field.slice(ALARM_FIELD.length)] = { state: state as StoredAlarmState, at };
      else problems.push(`${keys.controller} ${field}: not "<state> <time>" (${JSON.stringify(value)})`);
    } else {
      problems.push(`${keys.controller} ${field}: unknown field`);
    }
  }
  return { memory, problems };
}

/** Replaces the memory in one step (DEL + HSET in MULTI). */
export async function writeControllerMemory(redis: Redis, memory: StoredControllerMemory): Promise<void> {
  const fields: string[] = [];
  if (memory.lastScaleOutAt) fields.push("lastScaleOutAt", memory.lastScaleOutAt);
  if (memory.lastScaleInAt) fields.push("lastScaleInAt", memory.lastScaleInAt);
  for (const [name, a] of Object.entries(memory.alarms)) fields.push(`${ALARM_FIELD}${name}`, `${a.state} ${a.at}`);
  const tx = redis.multi().del(keys.controller);
  if (fields.length > 0) tx.hset(keys.controller, ...fields);
  const replies = await tx.exec();
  const failed = replies?.find(([err]) => err);
  if (!replies || failed) throw new Error(`writeControllerMemory: ${failed?.[0]?.message ?? "transaction aborted"}`);
}

/** Follow-ups are opaque JSON here; the controller validates what it reads back. */
export async function saveFollowUps(redis: Redis, messageId: string, json: string): Promise<void> {
  await redis.hset(keys.controllerFollowUps, messageId, json);
}

export async function readFollowUps(redis: Redis): Promise<Record<string, string>> {
  return redis.hgetall(keys.controllerFollowUps);
}

export async function clearFollowUps(redis: Redis, messageId: string): Promise<void> {
  await redis.hdel(keys.controllerFollowUps, messageId);
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
  if (outcome.status !== "ok") throw new Error("recordControllerEvents: script wrote nothing");
  outcome.repairs.forEach((note) => onRepair?.(note));
  return outcome.eventIds;
}
