// Per-role latency from the histogram HAProxy keeps itself (haproxy/config.ts: a stick table whose
// entries are server slots and whose gpc(i) counters are cumulative latency buckets). The agent reads
// it with `show table`, subtracts the previous read and estimates p99 from the interval's buckets.
// Everything here is pure; metrics.ts adds the socket reads.
//
// `show table aviary_latency_ms_5_10_..._30000` (HAProxy 2.6):
//   # table: aviary_latency_ms_5_10_..._30000, type: string, size:5, used:2
//   0x55923eea3f68: key=prod1 use=0 exp=0 gpc0=400 gpc1=3 gpc2=0 ...
import { ROLES, type Role } from "../core/routing/role";
import { LATENCY_TABLE_PREFIX } from "../haproxy/config";
import { slotRole } from "../core/routing/slots";
import { InvalidInputError } from "../core/errors";
import type { LatencyCounts } from "../core/metrics/latencyCounts";

const TABLE_NAME = new RegExp(`^${LATENCY_TABLE_PREFIX}((?:_\\d+)+)$`);
const HEADER = /^# table: ([^,\s]+),/;

/** The bounds a latency table's name carries; undefined for any other table name or unsorted bounds. */
export function boundsOfTable(name: string): number[] | undefined {
  const m = TABLE_NAME.exec(name);
  if (m === null) return undefined;
  const bounds = m[1].slice(1).split("_").map(Number);
  return bounds.every((b, i) => i === 0 || b > bounds[i - 1]) ? bounds : undefined;
}

/** The latency table's name in `show table` (the listing of all tables); undefined when there is none. */
export function findLatencyTable(listing: string): string | undefined {
  for (const line of listing.split("\n")) {
    const m = HEADER.exec(line);
    if (m !== null && boundsOfTable(m[1]) !== undefined) return m[1];
  }
  return undefined;
}

/** One `show table <latency table>` reply: the bounds and each slot's cumulative counts (by key). */
export interface LatencyTable {
  boundsMs: readonly number[];
  entries: ReadonlyMap<string, readonly number[]>;
}

export function parseLatencyTable(text: string): LatencyTable {
  const lines = text.split("\n");
  const name = lines.map((l) => HEADER.exec(l)?.[1]).find((n) => n !== undefined);
  const boundsMs = name === undefined ? undefined : boundsOfTable(name);
  if (boundsMs === undefined) throw new InvalidInputError(`parseLatencyTable: no latency table header in ${JSON.stringify(text.slice(0, 80))}`);
  const entries = new Map<string, number[]>();
  for (const line of lines) {
    const key = /^0x[0-9a-f]+: key=(\S+) /.exec(line)?.[1];
    if (key === undefined) continue;
    const counts = new Array<number>(boundsMs.length + 1).fill(0);
    for (const m of line.matchAll(/ gpc(\d+)=(\d+)/g)) {
      const i = Number(m[1]);
      if (i < counts.length) counts[i] = Number(m[2]);
    }
    entries.set(key, counts);
  }
  return { boundsMs, entries };
}

/** HAProxy's gpc counters are 32-bit and wrap. */
const WRAP = 2 ** 32;
const mod = (d: number): number => ((d % WRAP) + WRAP) % WRAP;

/**
 * One slot's interval counts between two cumulative reads. A total that dropped by less than half
 * the 32-bit range means HAProxy restarted (counters restart at 0), so the current counts are the
 * interval; a bigger drop is a wrap, undone modulo 2^32. Limitation: a restart after a slot had
 * timed more than 2^31 responses reads as a wrap (over-counts that one interval).
 */
export function slotDelta(prev: readonly number[] | undefined, cur: readonly number[]): number[] {
  if (prev === undefined || prev.length !== cur.length) return [...cur];
  const drop = prev[0] - cur[0];
  if (drop > 0 && drop < WRAP / 2) return [...cur];
  const total = mod(cur[0] - prev[0]);
  // A bucket can never exceed the total; the clamp keeps a torn read from inventing slow requests.
  return cur.map((c, i) => (i === 0 ? total : Math.min(total, mod(c - prev[i]))));
}

/**
 * Per-role interval counts between two reads (both roles always present). Without a previous read,
 * or after a reload that changed the bounds, the current counts are the interval.
 */
export function roleLatency(prev: LatencyTable | undefined, cur: LatencyTable): Map<Role, LatencyCounts> {
  const sameBounds = prev !== undefined && prev.boundsMs.length === cur.boundsMs.length && prev.boundsMs.every((b, i) => b === cur.boundsMs[i]);
  const sums = new Map<Role, number[]>(ROLES.map((r) => [r, new Array<number>(cur.boundsMs.length + 1).fill(0)]));
  for (const [key, counts] of cur.entries) {
    const role = slotRole(key);
    if (role === undefined) continue;
    const d = slotDelta(sameBounds ? prev.entries.get(key) : undefined, counts);
    const sum = sums.get(role)!;
    d.forEach((x, i) => (sum[i] += x));
  }
  return new Map(ROLES.map((r) => [r, { boundsMs: cur.boundsMs, counts: sums.get(r)! }]));
}

/**
 * p99 upper-bound estimate in ms: for the smallest bound B with count(≥ B) ≤ 1% of the responses,
 * the nearest-rank p99 is below B, so it is at most B − 1 (latencies are whole ms) and at least the
 * previous bound. Reporting B − 1 makes "p99 ≥ T" exact for every bound T: it holds exactly when
 * more than 1% of the responses took ≥ T ms. When even the top bound fails, the top bound is
 * returned (a lower bound: the histogram cannot say more). null when nothing was timed.
 */
export function p99UpperBoundMs(c: LatencyCounts): number | null {
  const total = c.counts[0];
  if (!(total > 0)) return null;
  // count(≥ B) ≤ floor(1% of total) ⟺ at least ceil(99% of total) responses were below B.
  const allowed = Math.floor(total / 100);
  for (let i = 0; i < c.boundsMs.length; i++) {
    if (c.counts[i + 1] <= allowed) return c.boundsMs[i] - 1;
  }
  return c.boundsMs[c.boundsMs.length - 1];
}
