import type Redis from "ioredis";
// zod/mini: same validation as "zod", a fraction of the size in the controller Lambda's bundle.
import * as z from "zod/mini";
import { channels, EVENTS_MAXLEN, keys } from "./keys";
import { LUA_APPEND_EVENT } from "./events";
import { describeIssues as describe } from "./zodIssues";

/** The canary split as stored in `aviary:routing`. */
export interface RoutingState {
  /** Percent of new sessions sent to the canary, integer 0..100. */
  canaryWeight: number;
  /** false = canary drained to 0 without forgetting canaryWeight (re-enable restores it). */
  canaryEnabled: boolean;
  reason?: string;
  changedBy: string;
  changedAt: string;
}

/**
 * State reported when `aviary:routing` does not exist yet. Enabled is true so that
 * `canary weight 25` alone turns the split on; weight 0 means no traffic reaches the canary.
 */
export const DEFAULT_ROUTING: Readonly<RoutingState> = Object.freeze({
  canaryWeight: 0,
  canaryEnabled: true,
  changedBy: "default",
  changedAt: new Date(0).toISOString(),
});

const weightSchema = z.int("must be an integer 0..100").check(z.gte(0, "must be an integer 0..100"), z.lte(100, "must be an integer 0..100"));
const bySchema = z.string().check(z.trim(), z.minLength(1, "must not be empty"), z.maxLength(200, "must be at most 200 characters"));
const reasonSchema = z.string().check(z.maxLength(500, "must be at most 500 characters"));

/** Redis hash fields are strings; this is the on-disk shape. */
const storedSchema = z.object({
  canaryWeight: z.pipe(z.pipe(z.string().check(z.regex(/^\d{1,3}$/, "must be an integer 0..100")), z.transform(Number)), weightSchema),
  canaryEnabled: z.pipe(z.enum(["true", "false"], 'must be "true" or "false"'), z.transform((v) => v === "true")),
  reason: z.optional(reasonSchema),
  changedBy: bySchema,
  changedAt: z.iso.datetime("must be an ISO 8601 time"),
});

/**
 * Reads `aviary:routing`. Garbage is never returned as state: `state` is undefined and
 * `problems` names each bad field, so callers keep their last good state (and log problems).
 */
export async function readRouting(redis: Redis): Promise<{ state: RoutingState | undefined; problems: string[] }> {
  const raw = await redis.hgetall(keys.routing);
  if (Object.keys(raw).length === 0) return { state: { ...DEFAULT_ROUTING }, problems: [] };
  const parsed = storedSchema.safeParse(raw);
  if (!parsed.success) {
    return { state: undefined, problems: describe(parsed.error.issues).map((p) => `${keys.routing} ${p}`) };
  }
  const { reason, ...rest } = parsed.data;
  return { state: reason === undefined ? rest : { ...rest, reason }, problems: [] };
}

export interface ChangeOptions {
  by: string;
  reason?: string;
}

export interface RoutingChange {
  eventId: string;
  old: { canaryWeight: number; canaryEnabled: boolean };
  new: { canaryWeight: number; canaryEnabled: boolean };
}

/**
 * One atomic step: read old values, write the full hash, XADD the event, PUBLISH the notice.
 * A garbage old weight/enabled is replaced by the default rather than carried forward.
 */
const ROUTING_SCRIPT = `
local routing_key, events_key = KEYS[1], KEYS[2]
local cause, value, by, reason, at, maxlen, channel = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local cur = redis.call('HMGET', routing_key, 'canaryWeight', 'canaryEnabled')
local old_w, old_e = cur[1], cur[2]
if not old_w or not string.match(old_w, '^%d+$') or tonumber(old_w) > 100 then old_w = '0' end
if old_e ~= 'true' and old_e ~= 'false' then old_e = 'true' end
local new_w, new_e = old_w, old_e
if cause == 'weight' then new_w = value
elseif cause == 'disable' then new_e = 'false'
elseif cause == 'enable' then new_e = 'true'
else return redis.error_reply('unknown cause ' .. cause) end
redis.call('HSET', routing_key, 'canaryWeight', new_w, 'canaryEnabled', new_e, 'changedBy', by, 'changedAt', at)
if reason ~= '' then redis.call('HSET', routing_key, 'reason', reason) else redis.call('HDEL', routing_key, 'reason') end
local kind = 'routing'
local detail = {'cause', cause, 'oldWeight', old_w, 'newWeight', new_w, 'oldEnabled', old_e, 'newEnabled', new_e}
local notice = {kind = 'routing'}
${LUA_APPEND_EVENT}
return {event_id, old_w, old_e, new_w, new_e}
`;

async function change(
  redis: Redis,
  cause: "weight" | "enable" | "disable",
  value: string,
  opts: ChangeOptions,
): Promise<RoutingChange> {
  const by = bySchema.safeParse(opts?.by);
  if (!by.success) throw new Error(`Invalid by: ${by.error.issues[0].message} (who made the change is required)`);
  const reason = z.optional(reasonSchema).safeParse(opts.reason);
  if (!reason.success) throw new Error(`Invalid reason: ${reason.error.issues[0].message}`);
  const at = new Date().toISOString();
  const reply = (await redis.eval(
    ROUTING_SCRIPT,
    2,
    keys.routing,
    keys.events,
    cause,
    value,
    by.data,
    reason.data ?? "",
    at,
    EVENTS_MAXLEN,
    channels.changes,
  )) as [string, string, string, string, string];
  const [eventId, oldW, oldE, newW, newE] = reply;
  return {
    eventId,
    old: { canaryWeight: Number(oldW), canaryEnabled: oldE === "true" },
    new: { canaryWeight: Number(newW), canaryEnabled: newE === "true" },
  };
}

/** Sets the canary weight (0..100 integer). Invalid input throws before anything is written. */
export function setCanaryWeight(redis: Redis, weight: number, opts: ChangeOptions): Promise<RoutingChange> {
  const parsed = weightSchema.safeParse(weight);
  if (!parsed.success) {
    return Promise.reject(
      new Error(`Invalid canaryWeight ${JSON.stringify(weight)}: must be an integer from 0 to 100`),
    );
  }
  return change(redis, "weight", String(parsed.data), opts);
}

/** Sends no traffic to the canary but keeps canaryWeight for a later enableCanary. */
export function disableCanary(redis: Redis, opts: ChangeOptions): Promise<RoutingChange> {
  return change(redis, "disable", "", opts);
}

/** Re-enables the split at the stored canaryWeight. */
export function enableCanary(redis: Redis, opts: ChangeOptions): Promise<RoutingChange> {
  return change(redis, "enable", "", opts);
}
