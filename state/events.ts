import type Redis from "ioredis";
import { MAX_REASON, truncate } from "../core/bounds";
import { MAX_EVENT_FIELD, MAX_EVENT_FIELDS, MAX_NOTICE, preview } from "./bounds";
import { InvalidInputError } from "../core/errors";
import { keyError, WrongTypeError } from "./errors";
import { describeKey } from "./keyTypes";
import { keys } from "./keys";

export type EventKind = "routing" | "backend" | "flag" | "segment" | "controller" | "rollout";

/** Every kind a stored event or a change notice may carry (readers drop anything else). */
export const EVENT_KINDS: readonly EventKind[] = ["routing", "backend", "flag", "segment", "controller", "rollout"];

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
  /** Backend id for kind "backend"; flag key for kind "flag"; segment name for kind "segment". */
  id?: string;
}

const KINDS: readonly string[] = EVENT_KINDS;
/** Detail fields are stored flat with this prefix so the stream stays readable in redis-cli. */
export const DETAIL_PREFIX = "d:";

type RawEntry = [id: string, fields: string[]];

/**
 * Parses one stream entry. Garbage is reported, never thrown; oversized values are cut
 * (MAX_EVENT_FIELD) and reported as a size and a prefix, so one junk entry cannot flood a log.
 */
export function parseEntry([id, fields]: RawEntry): { event: AviaryEvent | undefined; problems: string[] } {
  const problems: string[] = [];
  if (fields.length > MAX_EVENT_FIELDS * 2) {
    return { event: undefined, problems: [`event ${id}: ${fields.length / 2} fields, at most ${MAX_EVENT_FIELDS} are read`] };
  }
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [name, value] = [fields[i], fields[i + 1]];
    if (name.length > MAX_EVENT_FIELD) return { event: undefined, problems: [`event ${id}: field name ${preview(name)}`] };
    if (value.length > MAX_EVENT_FIELD) problems.push(`event ${id}: ${name} cut to ${MAX_EVENT_FIELD} characters: ${preview(value)}`);
    map.set(name, truncate(value, MAX_EVENT_FIELD));
  }
  const kind = map.get("kind");
  const at = map.get("at");
  const by = map.get("by");
  const bad = (what: string, v: string | undefined): { event: undefined; problems: string[] } => ({
    event: undefined,
    problems: [...problems, `event ${id}: ${what} ${v === undefined ? "missing" : preview(v)}`],
  });
  if (!kind || !KINDS.includes(kind)) return bad("invalid kind", kind);
  if (!at || Number.isNaN(Date.parse(at))) return bad("invalid at", at);
  if (!by) return bad("invalid by", by);
  const detail: Record<string, string> = {};
  for (const [k, v] of map) if (k.startsWith(DETAIL_PREFIX)) detail[k.slice(DETAIL_PREFIX.length)] = v;
  const event: AviaryEvent = { id, at, kind: kind as EventKind, by, detail };
  const reason = map.get("reason");
  if (reason !== undefined) event.reason = truncate(reason, MAX_REASON);
  return { event, problems };
}

function parseAll(entries: RawEntry[]): { events: AviaryEvent[]; problems: string[] } {
  const events: AviaryEvent[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const parsed = parseEntry(entry);
    problems.push(...parsed.problems);
    if (parsed.event) events.push(parsed.event);
  }
  return { events, problems };
}

/**
 * Parses one message from `aviary:changes`; a problem string for anything malformed or oversized
 * (shown as a size and a prefix).
 */
export function parseChangeNotice(message: string): ChangeNotice | string {
  if (message.length > MAX_NOTICE) return `change notice over ${MAX_NOTICE} characters: ${preview(message)}`;
  let notice: Partial<ChangeNotice>;
  try {
    notice = JSON.parse(message) as Partial<ChangeNotice>;
  } catch {
    return `malformed change notice (not JSON): ${preview(message)}`;
  }
  if (typeof notice !== "object" || notice === null || typeof notice.kind !== "string" || !KINDS.includes(notice.kind) || typeof notice.eventId !== "string") {
    return `malformed change notice (missing kind/eventId): ${preview(message)}`;
  }
  if (notice.id !== undefined && typeof notice.id !== "string") return `malformed change notice (id not a string): ${preview(message)}`;
  return notice.id === undefined ? { kind: notice.kind, eventId: notice.eventId } : { kind: notice.kind, eventId: notice.eventId, id: notice.id };
}

/** A stream command failed with WRONGTYPE: name the key and what it holds. */
async function streamError(redis: Redis, err: unknown): Promise<unknown> {
  if (!(err instanceof Error) || !err.message.startsWith("WRONGTYPE")) return err;
  const found = await describeKey(redis, keys.events).catch(() => undefined);
  return found && found.type !== "stream" ? new WrongTypeError(keys.events, found, "stream") : keyError(keys.events, err);
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
  if (!Number.isInteger(count) || count < 1) throw new InvalidInputError(`readEvents: count must be a positive integer (got ${count})`);
  try {
    if (opts.sinceId !== undefined) {
      const entries = (await redis.xrange(keys.events, `(${opts.sinceId}`, "+", "COUNT", count)) as RawEntry[];
      return parseAll(entries);
    }
    const entries = (await redis.xrevrange(keys.events, "+", "-", "COUNT", count)) as RawEntry[];
    return parseAll(entries.reverse());
  } catch (err) {
    throw await streamError(redis, err);
  }
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
        opts.onProblem?.(`followEvents: ${((await streamError(conn, err)) as Error).message}`);
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
        opts.onProblem?.(`followEvents: ${((await streamError(conn, err)) as Error).message}`);
        await sleep(500, signal);
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const entry of entries) {
          lastId = entry[0];
          const parsed = parseEntry(entry);
          parsed.problems.forEach((p) => opts.onProblem?.(p));
          if (parsed.event) onEvent(parsed.event);
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
