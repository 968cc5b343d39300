import type Redis from "ioredis";
import { keys } from "./keys";

export type EventKind = "routing" | "backend" | "flag" | "controller";

/** Every kind a stored event or a change notice may carry (readers drop anything else). */
export const EVENT_KINDS: readonly EventKind[] = ["routing", "backend", "flag", "controller"];

/** One audit event as stored in `aviary:events`. */
export interface AviaryEvent {
  id: string;
  at: string;
  kind: EventKind;
  by: string;
  reason?: string;
  detail: Record<string, string>;
}

/** Payload published on `aviary:changes` (listeners re-read state; the notice is only a hint). */
export interface ChangeNotice {
  kind: EventKind;
  eventId: string;
  /** Backend id for kind "backend"; flag key for kind "flag". */
  id?: string;
}

const KINDS: readonly string[] = EVENT_KINDS;
/** Detail fields are stored flat with this prefix so the stream stays readable in redis-cli. */
export const DETAIL_PREFIX = "d:";

/**
 * Lua fragment used by the atomic write scripts: appends one event and publishes one notice.
 * Expects locals: events_key, maxlen, channel, kind, at, by, reason (may be ''), detail (flat list),
 * notice (Lua table to JSON-encode, without eventId).
 */
export const LUA_APPEND_EVENT = `
local fields = {'at', at, 'kind', kind, 'by', by}
if reason ~= '' then table.insert(fields, 'reason'); table.insert(fields, reason) end
for i = 1, #detail, 2 do
  table.insert(fields, '${DETAIL_PREFIX}' .. detail[i]); table.insert(fields, detail[i + 1])
end
local event_id = redis.call('XADD', events_key, 'MAXLEN', '~', maxlen, '*', unpack(fields))
notice['eventId'] = event_id
redis.call('PUBLISH', channel, cjson.encode(notice))
`;

type RawEntry = [id: string, fields: string[]];

/** Parses one stream entry; returns a problem string instead of throwing on garbage. */
export function parseEntry([id, fields]: RawEntry): AviaryEvent | string {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i], fields[i + 1]);
  const kind = map.get("kind");
  const at = map.get("at");
  const by = map.get("by");
  if (!kind || !KINDS.includes(kind)) return `event ${id}: invalid kind ${JSON.stringify(kind ?? null)}`;
  if (!at || Number.isNaN(Date.parse(at))) return `event ${id}: invalid at ${JSON.stringify(at ?? null)}`;
  if (!by) return `event ${id}: missing by`;
  const detail: Record<string, string> = {};
  for (const [k, v] of map) if (k.startsWith(DETAIL_PREFIX)) detail[k.slice(DETAIL_PREFIX.length)] = v;
  const event: AviaryEvent = { id, at, kind: kind as EventKind, by, detail };
  const reason = map.get("reason");
  if (reason !== undefined) event.reason = reason;
  return event;
}

function parseAll(entries: RawEntry[]): { events: AviaryEvent[]; problems: string[] } {
  const events: AviaryEvent[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const parsed = parseEntry(entry);
    if (typeof parsed === "string") problems.push(parsed);
    else events.push(parsed);
  }
  return { events, problems };
}

/**
 * Reads events oldest-first. With `sinceId`: up to `count` events strictly after it;
 * without: the latest `count` events.
 */
export async function readEvents(
  redis: Redis,
  opts: { count?: number; sinceId?: string } = {},
): Promise<{ events: AviaryEvent[]; problems: string[] }> {
  const count = opts.count ?? 100;
  if (!Number.isInteger(count) || count < 1) throw new Error(`readEvents: count must be a positive integer (got ${count})`);
  if (opts.sinceId !== undefined) {
    const entries = (await redis.xrange(keys.events, `(${opts.sinceId}`, "+", "COUNT", count)) as RawEntry[];
    return parseAll(entries);
  }
  const entries = (await redis.xrevrange(keys.events, "+", "-", "COUNT", count)) as RawEntry[];
  return parseAll(entries.reverse());
}

export interface FollowOptions {
  signal: AbortSignal;
  /** Start after this id; default: after the newest event at the time of the call. */
  sinceId?: string;
  /** Called once the start position is fixed: changes made after this are guaranteed to be seen. */
  onReady?: () => void;
  /** Unparseable entries and transient Redis errors (the loop keeps going until aborted). */
  onProblem?: (problem: string) => void;
  /** Server-side block per XREAD round, ms. */
  blockMs?: number;
}

/**
 * Tails the event stream on a duplicate connection (XREAD BLOCK would stall the caller's
 * connection). Resolves when `signal` aborts.
 */
export async function followEvents(
  redis: Redis,
  onEvent: (event: AviaryEvent) => void,
  opts: FollowOptions,
): Promise<void> {
  const { signal } = opts;
  if (signal.aborted) return;
  const conn = redis.duplicate();
  conn.on("error", () => undefined); // surfaced through rejected commands below
  let closed = false;
  // Disconnect once: a second call while the socket is half-closed leaves a 2 s ioredis timer behind.
  const stop = (): void => {
    if (!closed) {
      closed = true;
      conn.disconnect();
    }
  };
  signal.addEventListener("abort", stop, { once: true });
  try {
    let lastId = opts.sinceId;
    while (lastId === undefined && !signal.aborted) {
      try {
        const newest = (await conn.xrevrange(keys.events, "+", "-", "COUNT", 1)) as RawEntry[];
        lastId = newest.length > 0 ? newest[0][0] : "0-0";
      } catch (err) {
        if (signal.aborted) return;
        opts.onProblem?.(`followEvents: ${(err as Error).message}`);
        await sleep(500, signal);
      }
    }
    if (signal.aborted || lastId === undefined) return;
    opts.onReady?.();
    while (!signal.aborted) {
      let reply: [string, RawEntry[]][] | null;
      try {
        reply = (await conn.xread("COUNT", 100, "BLOCK", opts.blockMs ?? 5000, "STREAMS", keys.events, lastId)) as
          | [string, RawEntry[]][]
          | null;
      } catch (err) {
        if (signal.aborted) return;
        opts.onProblem?.(`followEvents: ${(err as Error).message}`);
        await sleep(500, signal);
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const entry of entries) {
          lastId = entry[0];
          const parsed = parseEntry(entry);
          if (typeof parsed === "string") opts.onProblem?.(parsed);
          else onEvent(parsed);
        }
      }
    }
  } finally {
    signal.removeEventListener("abort", stop);
    stop();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
