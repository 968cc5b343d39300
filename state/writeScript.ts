/**
 * The one way Aviary changes its Redis state. Redis runs a script without rollback (commands
 * before a failing one stay applied), so every write script is built here in a fixed order in
 * which nothing can fail after the first write:
 *
 *   1. check the type of every key the script writes (refuse naming the key, or mark it to be
 *      moved aside), and whether the event stream still accepts `XADD *`;
 *   2. `prepare` (script-specific): read, decide, maybe refuse or do nothing, queue the events;
 *   3. repairs: move a wrong-type key or a blocked event stream aside (keys.corruptPrefix);
 *   4. XADD the events, 5. `mutate` (script-specific writes on keys of checked types), 6. PUBLISH.
 */
import type Redis from "ioredis";
import { InvariantError } from "../core/errors";
import { MAX_REASON, truncate } from "../core/bounds";
import { foundValue, LUA_BAD_KEY } from "./badKey";
import { GarbageValueError, WrongTypeError } from "./errors";
import { DETAIL_PREFIX } from "./events";
import { channels, EVENTS_MAXLEN, keys, PREFIX } from "./keys";

export type RedisType = "hash" | "string" | "set" | "stream";

export interface KeySpec {
  /** Lua name: the key is `K.<name>` in the script. */
  name: string;
  /** "any": the script only DELetes the key, which works on every type. */
  type: RedisType | "any";
  /** A key of another type: refuse the write (default), or move it aside and write a fresh one. */
  onWrongType?: "refuse" | "set-aside";
}

export interface WriteScript {
  source: string;
  keys: readonly KeySpec[];
}

/** The last ID a stream can hold: once a stream's last ID is this, `XADD *` fails forever. */
export const LAST_STREAM_ID = "18446744073709551615-18446744073709551615";
/** What a poisoned event stream is expected to be instead. */
const EVENTS_ACCEPTING = `a stream below the last possible ID (${LAST_STREAM_ID})`;

/**
 * Lua available to `prepare` and `mutate`:
 * - `K.events`, `K.<name>`: the keys; `P`: the params table (JSON-decoded); `P.at`: ISO time.
 * - `R`: the list of keys the script only reads (`readKeys` of runWrite, any number; check their
 *   type before use, `return refuse_wrong_type(key, t, expected)` refuses naming one).
 * - `W.<name>`: what a key with onWrongType "set-aside" holds when it is of another type
 *   ({type, size, prefix}; it is moved aside before `mutate`; do not read it).
 * - `event(kind, by, reason, detail, notice)`: queue one event (detail a flat list) and its notice.
 * - `repairs`: list of notes; `result`: table returned to the caller; the functions of
 *   LUA_BAD_KEY (badKey.ts) to describe a bad value: `value_found(v)`, `bad_key_message(…)`.
 * - `return noop(r)`: write nothing; `return refuse_garbage(key, field, found, expected, fix)`:
 *   write nothing, fail (the arguments of bad_key_message).
 */
export function writeScript(spec: { keys: readonly KeySpec[]; prepare: string; mutate: string }): WriteScript {
  for (const k of spec.keys) {
    if (!/^[a-z_][a-z0-9_]*$/.test(k.name) || k.name === "events") throw new InvariantError(`writeScript: bad key name ${k.name}`);
  }
  const names = spec.keys.map((k, i) => `K.${k.name} = KEYS[${i + 2}]`).join("\n");
  const specs = spec.keys.map((k) => `{'${k.name}', '${k.type}', '${k.onWrongType ?? "refuse"}'}`).join(", ");
  const source = `
local K = {events = KEYS[1]}
${names}
local maxlen, channel, P = ARGV[1], ARGV[2], cjson.decode(ARGV[3])
local repairs, queued, W, result = {}, {}, {}, {}
local SPECS = {${specs}}
local R = {}
for i = #SPECS + 2, #KEYS do table.insert(R, KEYS[i]) end
${LUA_BAD_KEY}
local function key_type(key) return redis.call('TYPE', key)['ok'] end
local function refuse_wrong_type(key, t, expected)
  return cjson.encode({status = 'wrongtype', key = key, found = describe_key(key, t), expected = expected})
end
for _, s in ipairs(SPECS) do
  local t = key_type(K[s[1]])
  if t ~= 'none' and t ~= s[2] and s[2] ~= 'any' then
    if s[3] == 'refuse' then return refuse_wrong_type(K[s[1]], t, s[2]) end
    W[s[1]] = describe_key(K[s[1]], t)
  end
end
-- {found, expected} when the event stream cannot take the events.
local events_problem = nil
local events_type = key_type(K.events)
if events_type ~= 'none' and events_type ~= 'stream' then
  events_problem = {describe_key(K.events, events_type), 'a stream'}
elseif events_type == 'stream' then
  local info = redis.call('XINFO', 'STREAM', K.events)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' and info[i + 1] == '${LAST_STREAM_ID}' then
      events_problem = {describe_key(K.events, 'stream'), '${EVENTS_ACCEPTING}'}
    end
  end
end
local function event(kind, by, reason, detail, notice)
  table.insert(queued, {kind = kind, by = by, reason = reason, detail = detail, notice = notice})
end
local function noop(r) return cjson.encode({status = 'noop', result = r}) end
local function refuse_garbage(key, field, found, expected, fix)
  return cjson.encode({status = 'garbage', key = key, field = field, found = found, expected = expected, fix = fix})
end
-- prepare
${spec.prepare}
-- Every check is done: from here on no command can fail.
local function set_aside(key)
  local now = redis.call('TIME')
  local base = '${keys.corruptPrefix}' .. string.sub(key, ${PREFIX.length + 1}) .. ':' .. now[1] .. string.format('%03d', math.floor(tonumber(now[2]) / 1000))
  local target, n = base, 1
  while redis.call('EXISTS', target) == 1 do target = base .. '-' .. n; n = n + 1 end
  redis.call('RENAME', key, target)
  return target
end
-- Keys moved aside are noted first: they were found first.
local first = 0
if events_problem then
  first = first + 1
  table.insert(repairs, first, bad_key_message(K.events, nil, events_problem[1], events_problem[2], 'repaired (moved to ' .. set_aside(K.events) .. ')'))
end
for _, s in ipairs(SPECS) do
  if W[s[1]] then
    first = first + 1
    table.insert(repairs, first, bad_key_message(K[s[1]], nil, W[s[1]], 'a ' .. s[2], 'repaired (moved to ' .. set_aside(K[s[1]]) .. ')'))
  end
end
local ids = {}
for _, e in ipairs(queued) do
  local fields = {'at', P.at, 'kind', e.kind, 'by', e.by}
  if e.reason ~= '' then table.insert(fields, 'reason'); table.insert(fields, e.reason) end
  for i = 1, #e.detail, 2 do
    table.insert(fields, '${DETAIL_PREFIX}' .. e.detail[i]); table.insert(fields, e.detail[i + 1])
  end
  if #repairs > 0 then table.insert(fields, '${DETAIL_PREFIX}repairs'); table.insert(fields, table.concat(repairs, '; ')) end
  e.id = redis.call('XADD', K.events, 'MAXLEN', '~', maxlen, '*', unpack(fields))
  table.insert(ids, e.id)
end
-- mutate
${spec.mutate}
for _, e in ipairs(queued) do
  e.notice.eventId = e.id
  redis.call('PUBLISH', channel, cjson.encode(e.notice))
end
return cjson.encode({status = 'ok', eventIds = ids, repairs = repairs, result = result})
`;
  return { source, keys: spec.keys };
}

export type WriteOutcome<R> = { status: "ok"; eventIds: string[]; repairs: string[]; result: R } | { status: "noop"; result: R };

interface Reply {
  status: string;
  eventIds?: unknown;
  repairs?: unknown;
  result?: unknown;
  key?: string;
  field?: string;
  found?: unknown[];
  expected?: string;
  fix?: string;
}

// cjson encodes an empty Lua table as {}.
const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);

/**
 * Runs a script built by writeScript: `keyValues` in the order of its KeySpecs (the event stream
 * is added first), `params` as P, `readKeys` as R. Throws WrongTypeError / GarbageValueError when
 * nothing was written.
 */
export async function runWrite<R>(
  redis: Redis,
  script: WriteScript,
  keyValues: readonly string[],
  params: Record<string, unknown>,
  readKeys: readonly string[] = [],
): Promise<WriteOutcome<R>> {
  if (keyValues.length !== script.keys.length) throw new InvariantError(`runWrite: ${script.keys.length} keys expected, got ${keyValues.length}`);
  const raw = (await redis.eval(
    script.source,
    keyValues.length + readKeys.length + 1,
    keys.events,
    ...keyValues,
    ...readKeys,
    EVENTS_MAXLEN,
    channels.changes,
    JSON.stringify({ at: new Date().toISOString(), ...params }),
  )) as string;
  const reply = JSON.parse(raw) as Reply;
  switch (reply.status) {
    case "ok":
      return { status: "ok", eventIds: list(reply.eventIds), repairs: list(reply.repairs), result: reply.result as R };
    case "noop":
      return { status: "noop", result: reply.result as R };
    case "wrongtype":
      throw new WrongTypeError(reply.key ?? "?", foundValue(reply.found ?? []), reply.expected ?? "?");
    case "garbage": {
      const found = Array.isArray(reply.found) ? foundValue(reply.found) : "missing";
      throw new GarbageValueError({ key: reply.key ?? "?", field: reply.field, found, expected: reply.expected ?? "?" }, reply.fix ?? "");
    }
    default:
      throw new InvariantError(`runWrite: unexpected script reply ${truncate(raw, 200)}`);
  }
}

/** A reason as stored with an event: cut to MAX_REASON characters (a change is never refused for a long reason). */
export function storedReason(reason: string | undefined): string {
  return truncate(reason ?? "", MAX_REASON);
}
