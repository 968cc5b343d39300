// The one message for a key that holds something Aviary never writes (another type, a garbage
// value): the key (and field), what was found by type, size and a short prefix (never in full),
// what was expected, and what was done about it. Scripts that must write the message into Redis
// themselves use LUA_BAD_KEY, which says the same words (tests/integration/state/keyTypes.test.ts checks both agree).
import { preview, PREVIEW_CHARS, SIZE_UNITS, type SizeUnit } from "./bounds";

/** What a key (or field) holds: its Redis type, and when known its size and first characters. */
export interface FoundValue {
  type: string;
  size?: number;
  prefix?: string;
}

/** A key, or one field of a hash, that holds the wrong thing; `found` "missing" for an absent field. */
export interface BadKey {
  key: string;
  field?: string;
  found: FoundValue | "missing";
  /** A phrase: "a hash", "an integer 0..100", … */
  expected: string;
}

const UNITS: Readonly<Record<string, SizeUnit>> = { string: "bytes", hash: "fields", list: "items", set: "members", zset: "members", stream: "entries" };

/** "a string of 7 bytes starting "garbage"", or "a list" when the size is not known. */
export function describeFound({ type, size, prefix = "" }: FoundValue): string {
  return size === undefined ? `a ${type}` : `a ${type} of ${preview(prefix, size, UNITS[type] ?? "elements")}`;
}

/**
 * "Redis key K[ field F] is <found>, expected <expected>[; <outcome>]", where outcome says what
 * was done: "repaired (deleted)", "nothing changed: <fix>", …
 */
export function badKeyMessage({ key, field, found, expected }: BadKey, outcome?: string): string {
  const what = found === "missing" ? "missing" : describeFound(found);
  return `Redis key ${key}${field === undefined ? "" : ` field ${field}`} is ${what}, expected ${expected}${outcome === undefined ? "" : `; ${outcome}`}`;
}

/** A text value read in TypeScript, described as Redis would (size in bytes, a prefix). */
export function textFound(value: string): FoundValue {
  return { type: "string", size: Buffer.byteLength(value), prefix: value.slice(0, PREVIEW_CHARS) };
}

/** Parses the {type, size, prefix} table the Lua `describe_key` returns (from a script). */
export function foundValue(reply: unknown[]): FoundValue {
  return { type: String(reply[0]), size: Number(reply[1]), prefix: String(reply[2] ?? "") };
}

const luaTable = (entries: Readonly<Record<string, string>>): string =>
  `{${Object.entries(entries)
    .map(([k, v]) => `${k} = '${v}'`)
    .join(", ")}}`;

/**
 * Lua functions with the same words as the TypeScript above (prefixes cut in bytes):
 * - `describe_key(key, t)`: {type, size, prefix} of `key`, of type `t`. Only counts and one
 *   element are read, so a huge value costs no more than a small one.
 * - `delete_described(key, t)`: the same, and the key deleted (a repair).
 * - `value_found(v)`: the same for a field value `v` (nil for a missing field).
 * - `preview(v)`: `v` for a note (size in bytes and a prefix).
 * - `bad_key_message(key, field, found, expected, outcome)`: field and outcome may be nil, found
 *   nil means missing.
 */
export const LUA_BAD_KEY = `
local BAD_KEY_UNITS = ${luaTable(UNITS)}
local BAD_KEY_SINGULAR = ${luaTable(SIZE_UNITS)}
local function describe_key(key, t)
  local size, sample = 0, ''
  if t == 'string' then size = redis.call('STRLEN', key); sample = redis.call('GETRANGE', key, 0, ${PREVIEW_CHARS - 1})
  elseif t == 'hash' then size = redis.call('HLEN', key); sample = redis.call('HSCAN', key, 0, 'COUNT', 1)[2][1] or ''
  elseif t == 'list' then size = redis.call('LLEN', key); sample = redis.call('LINDEX', key, 0) or ''
  elseif t == 'set' then size = redis.call('SCARD', key); sample = redis.call('SSCAN', key, 0, 'COUNT', 1)[2][1] or ''
  elseif t == 'zset' then size = redis.call('ZCARD', key); sample = redis.call('ZRANGE', key, 0, 0)[1] or ''
  elseif t == 'stream' then size = redis.call('XLEN', key) end
  return {t, size, string.sub(sample, 1, ${PREVIEW_CHARS})}
end
local function delete_described(key, t)
  local found = describe_key(key, t)
  redis.call('DEL', key)
  return found
end
local function value_found(v)
  if v then return {'string', #v, string.sub(v, 1, ${PREVIEW_CHARS})} end
  return nil
end
local function sized(v, size, unit)
  local amount = size .. ' ' .. (size == 1 and BAD_KEY_SINGULAR[unit] or unit)
  if v == '' then return amount end
  -- cjson escapes "/", JSON.stringify does not.
  local quoted = string.gsub(cjson.encode(string.sub(v, 1, ${PREVIEW_CHARS})), '\\\\/', '/')
  return amount .. ' starting ' .. quoted
end
local function preview(v) return sized(v, #v, 'bytes') end
local function bad_key_message(key, field, found, expected, outcome)
  local what = 'missing'
  if found then what = 'a ' .. found[1] .. ' of ' .. sized(found[3] or '', found[2], BAD_KEY_UNITS[found[1]] or 'elements') end
  local s = 'Redis key ' .. key
  if field then s = s .. ' field ' .. field end
  s = s .. ' is ' .. what .. ', expected ' .. expected
  if outcome then s = s .. '; ' .. outcome end
  return s
end
`;
