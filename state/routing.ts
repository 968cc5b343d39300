import type Redis from "ioredis";
// zod/mini: same validation as "zod", a fraction of the size in the controller Lambda's bundle.
import * as z from "zod/mini";
import { MAX_WEIGHT, WEIGHT_RULE, WEIGHT_RULE_SHORT, weightSchema as weightRule } from "../core/routing/weight";
import { describeIssues } from "../core/validation/issues";
import { MAX_REASON } from "../core/bounds";
import { InvalidInputError, InvariantError } from "../core/errors";
import { readOfType } from "./keyTypes";
import { keys } from "./keys";
import { runWrite, storedReason, writeScript, type KeySpec } from "./writeScript";

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

const weightSchema = weightRule(`must be ${WEIGHT_RULE_SHORT}`);
const bySchema = z.string().check(z.trim(), z.minLength(1, "must not be empty"), z.maxLength(200, "must be at most 200 characters"));
const reasonSchema = z.string().check(z.maxLength(MAX_REASON, `must be at most ${MAX_REASON} characters`));

/** Redis hash fields are strings; this is the on-disk shape. */
const storedSchema = z.object({
  canaryWeight: z.pipe(z.pipe(z.string().check(z.regex(/^\d{1,3}$/, `must be ${WEIGHT_RULE_SHORT}`)), z.transform(Number)), weightSchema),
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
  const read = await readOfType(redis, keys.routing, "hash", () => redis.hgetall(keys.routing));
  if ("problem" in read) return { state: undefined, problems: [read.problem] };
  const raw = read.value;
  if (Object.keys(raw).length === 0) return { state: { ...DEFAULT_ROUTING }, problems: [] };
  const parsed = storedSchema.safeParse(raw);
  if (!parsed.success) {
    return { state: undefined, problems: describeIssues(parsed.error.issues).map((p) => `${keys.routing} ${p}`) };
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
  /** A garbage old weight/enabled reads as the default (0 / true); `repairs` then says so. */
  old: { canaryWeight: number; canaryEnabled: boolean };
  new: { canaryWeight: number; canaryEnabled: boolean };
  /** What the write found broken and fixed on the way (moved-aside keys, replaced garbage fields). */
  repairs: string[];
}

/**
 * The routing half of a write script's prepare (for every script that moves routing): reads
 * `aviary:routing`, sets old_w/old_e/new_w/new_e (strings) or refuses. Garbage in a field is
 * handled by what the write asks for: a new weight replaces it, turning the canary off writes
 * weight 0 (it is never blocked), turning it on alone is refused (it would silently mean 0).
 * P.weight and P.enabled are '' when the write leaves them as they are (see routingParams).
 */
export const ROUTING_DECIDE = `
local old_w, old_e = '0', 'true'
local raw_w, raw_e, exists = nil, nil, false
if not W.routing then
  exists = redis.call('EXISTS', K.routing) == 1
  local cur = redis.call('HMGET', K.routing, 'canaryWeight', 'canaryEnabled')
  raw_w, raw_e = cur[1], cur[2]
end
local weight_ok = raw_w and string.match(raw_w, '^%d%d?%d?$') and tonumber(raw_w) <= ${MAX_WEIGHT}
if weight_ok then old_w = tostring(tonumber(raw_w)) end
if raw_e == 'true' or raw_e == 'false' then old_e = raw_e end
local weight_bad = exists and not weight_ok
local WEIGHT = '${WEIGHT_RULE_SHORT}'
local new_w, new_e = old_w, old_e
if P.weight ~= '' then
  new_w = P.weight
  if weight_bad then table.insert(repairs, bad_key_message(K.routing, 'canaryWeight', value_found(raw_w), WEIGHT, 'repaired (weight set to ' .. new_w .. ')')) end
elseif P.enabled == 'false' then
  if weight_bad then table.insert(repairs, bad_key_message(K.routing, 'canaryWeight', value_found(raw_w), WEIGHT, 'repaired (weight set to 0)')) end
  if W.routing then table.insert(repairs, 'Redis key ' .. K.routing .. ' held no weight to keep; canary off at weight 0') end
elseif weight_bad then
  return refuse_garbage(K.routing, 'canaryWeight', value_found(raw_w), WEIGHT, 'set a weight first (aviary canary weight <N>), which turns the canary on')
end
if P.enabled ~= '' then new_e = P.enabled end
if exists and raw_e ~= 'true' and raw_e ~= 'false' and P.enabled ~= 'false' then
  table.insert(repairs, bad_key_message(K.routing, 'canaryEnabled', value_found(raw_e), '"true" or "false"', 'repaired (set to ' .. new_e .. ')'))
end
`;

/** Event detail fields of a routing change (a Lua list to splice into an event's detail). */
export const LUA_ROUTING_DETAIL = `'cause', P.cause, 'oldWeight', old_w, 'newWeight', new_w, 'oldEnabled', old_e, 'newEnabled', new_e`;

const ROUTING_PREPARE = `
${ROUTING_DECIDE}
event('routing', P.by, P.reason, {${LUA_ROUTING_DETAIL}}, {kind = 'routing'})
result = {old_w, old_e, new_w, new_e}
`;

/** The routing half of a write script's mutate: writes new_w/new_e with P.by, P.at and P.reason. */
export const ROUTING_MUTATE = `
redis.call('HSET', K.routing, 'canaryWeight', new_w, 'canaryEnabled', new_e, 'changedBy', P.by, 'changedAt', P.at)
if P.reason ~= '' then redis.call('HSET', K.routing, 'reason', P.reason) else redis.call('HDEL', K.routing, 'reason') end
`;

/** A write that leaves the canary on refuses a routing key of the wrong type; one that turns it off moves it aside (never blocked). */
const CHANGE_SCRIPT = writeScript({ keys: [routingKeySpec({ enabled: true })], prepare: ROUTING_PREPARE, mutate: ROUTING_MUTATE });
const DISABLE_SCRIPT = writeScript({ keys: [routingKeySpec({ enabled: false })], prepare: ROUTING_PREPARE, mutate: ROUTING_MUTATE });

/** What one routing write changes; a field left out keeps its stored value. */
export interface RoutingTarget {
  /** Percent of new sessions sent to the canary, integer 0..100. */
  weight?: number;
  /** false drains the canary to 0 keeping its weight; true re-enables it. */
  enabled?: boolean;
}

/** The event's `cause`: what the write asked for, e.g. "weight", "disable", "weight+enable". */
function causeOf(target: RoutingTarget): string {
  const parts = [target.weight === undefined ? [] : ["weight"], target.enabled === undefined ? [] : [target.enabled ? "enable" : "disable"]];
  return parts.flat().join("+");
}

/**
 * The one routing write: weight and/or enabled with who and why, as one script run (one event in
 * the stream, one notice). Invalid input throws before anything is written. Turning the canary off
 * succeeds whatever `aviary:routing` holds (garbage is repaired, see RoutingChange.repairs);
 * turning it on without a weight is refused (GarbageValueError) if the stored weight is garbage.
 */
export async function changeRouting(redis: Redis, target: RoutingTarget, opts: ChangeOptions): Promise<RoutingChange> {
  const params = routingParams(target);
  const by = validBy(opts?.by);
  const outcome = await runWrite<[string, string, string, string]>(redis, target.enabled === false ? DISABLE_SCRIPT : CHANGE_SCRIPT, [keys.routing], {
    ...params,
    by,
    reason: storedReason(opts.reason),
  });
  if (outcome.status !== "ok") throw new InvariantError(`routing ${params.cause}: script wrote nothing`);
  return routingChange(outcome.eventIds[0], outcome.result, outcome.repairs);
}

/** The routing key as a write of `target` needs it: turning the canary off moves a wrong-type key aside (never blocked), anything else refuses it. */
export function routingKeySpec(target: RoutingTarget): KeySpec {
  return { name: "routing", type: "hash", onWrongType: target.enabled === false ? "set-aside" : "refuse" };
}

/** The params ROUTING_DECIDE reads (P.cause, P.weight, P.enabled); invalid targets throw InvalidInputError. */
export function routingParams(target: RoutingTarget): { cause: string; weight: string; enabled: string } {
  if (target.weight !== undefined && !weightSchema.safeParse(target.weight).success) {
    throw new InvalidInputError(`Invalid canaryWeight ${JSON.stringify(target.weight)}: must be ${WEIGHT_RULE}`);
  }
  if (target.weight === undefined && target.enabled === undefined) throw new InvalidInputError("Invalid routing change: set a weight, enabled, or both");
  return {
    cause: causeOf(target),
    weight: target.weight === undefined ? "" : String(target.weight),
    enabled: target.enabled === undefined ? "" : String(target.enabled),
  };
}

/** Who writes, trimmed; InvalidInputError when empty or too long. */
export function validBy(by: unknown): string {
  const parsed = bySchema.safeParse(by);
  if (!parsed.success) throw new InvalidInputError(`Invalid by: ${parsed.error.issues[0].message} (who made the change is required)`);
  return parsed.data;
}

/** A RoutingChange from the {old_w, old_e, new_w, new_e} a script returned. */
export function routingChange(eventId: string, [oldW, oldE, newW, newE]: readonly string[], repairs: string[]): RoutingChange {
  return {
    eventId,
    old: { canaryWeight: Number(oldW), canaryEnabled: oldE === "true" },
    new: { canaryWeight: Number(newW), canaryEnabled: newE === "true" },
    repairs,
  };
}

/** Sets the canary weight (0..100 integer), leaving enabled as it is. */
export function setCanaryWeight(redis: Redis, weight: number, opts: ChangeOptions): Promise<RoutingChange> {
  return changeRouting(redis, { weight }, opts);
}

/** Sends no traffic to the canary but keeps canaryWeight for a later enableCanary; never refused. */
export function disableCanary(redis: Redis, opts: ChangeOptions): Promise<RoutingChange> {
  return changeRouting(redis, { enabled: false }, opts);
}

/** Re-enables the split at the stored canaryWeight; refused (GarbageValueError) if that weight is garbage. */
export function enableCanary(redis: Redis, opts: ChangeOptions): Promise<RoutingChange> {
  return changeRouting(redis, { enabled: true }, opts);
}
