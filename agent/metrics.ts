// Per-role proxy metrics: request and 5xx counts from HAProxy's `show stat` CSV (exact cumulative
// counters), p99 latency from the latency histogram HAProxy keeps in a stick table
// (latencyHistogram.ts; the stats only carry averages). Parsing and delta logic are pure so they can
// be tested without haproxy; MetricsSampler only adds the socket reads and the previous sample.
import { ROLES, type Role } from "../core/routing/role";
import { BACKEND } from "../haproxy/config";
import { slotRole } from "../core/routing/slots";
import { findLatencyTable, p99UpperBoundMs, parseLatencyTable, roleLatency, type LatencyTable } from "./latencyHistogram";
import type { LatencyCounts } from "../core/metrics/latencyCounts";
import { runtimeCommand } from "./runtimeApi";
import { InvalidInputError } from "../core/errors";

/** One `show stat` row keyed by column name (pxname, svname, stot, hrsp_5xx, ...). */
export type StatRow = Readonly<Record<string, string>>;

/** Parses `show stat` CSV. The header is "# pxname,svname,..."; every line ends with a trailing comma. */
export function parseShowStat(csv: string): StatRow[] {
  const lines = csv.split("\n").map((l) => l.trimEnd());
  const headerLine = lines.find((l) => l.startsWith("# "));
  if (headerLine === undefined) throw new InvalidInputError("parseShowStat: no '# pxname,svname,...' header line");
  const header = headerLine.slice(2).split(",");
  if (header[0] !== "pxname" || header[1] !== "svname") throw new InvalidInputError(`parseShowStat: unexpected header ${JSON.stringify(headerLine.slice(0, 40))}`);
  const rows: StatRow[] = [];
  for (const line of lines) {
    if (line === "" || line.startsWith("#")) continue;
    // Proxy and server names cannot contain commas, so a plain split is exact.
    const cells = line.split(",");
    const row: Record<string, string> = {};
    header.forEach((name, i) => {
      if (name !== "") row[name] = cells[i] ?? "";
    });
    rows.push(row);
  }
  return rows;
}

/** Cumulative counters for one role, summed over its slots (prodN / canaryN in backend "app"). */
export interface RoleTotals {
  role: Role;
  /** Sum of `stot` (cumulative; in HTTP mode each request is one stream, so this counts requests). */
  requests: number;
  /** Sum of `hrsp_5xx` (cumulative). */
  errors5xx: number;
}


const num = (v: string | undefined): number => {
  const n = Number(v);
  // Empty cells (columns that do not apply to a row) count as 0.
  return v === undefined || v === "" || !Number.isFinite(n) ? 0 : n;
};

/** Sums per role over the slot rows of backend "app"; always returns both roles (zeros if no slots). */
export function roleTotals(rows: readonly StatRow[]): RoleTotals[] {
  const totals = new Map<Role, RoleTotals>(ROLES.map((role) => [role, { role, requests: 0, errors5xx: 0 }]));
  for (const r of rows) {
    const role = slotRole(r.svname ?? "");
    if (r.pxname !== BACKEND || role === undefined) continue;
    const t = totals.get(role)!;
    t.requests += num(r.stot);
    t.errors5xx += num(r.hrsp_5xx);
  }
  return ROLES.map((role) => totals.get(role)!);
}

/** What the agent publishes per role for one sampling interval. */
export interface RoleMetrics {
  role: Role;
  /** Requests completed in the interval. */
  requests: number;
  /** 5xx responses in the interval. */
  errors5xx: number;
  /**
   * p99 upper-bound estimate (latencyHistogram.ts p99UpperBoundMs) of the time from request headers
   * parsed to response headers received, over the interval's server responses for the role. null
   * when none were timed (no requests, or no latency table in the config): no datum is better than
   * a made-up one, and the alarm treats missing data as not breaching.
   */
  latencyP99Ms: number | null;
  /** Canary only, when the judge runs: rollouts this proxy's judge aborted in the interval. */
  judgeAborts?: number;
  at: Date;
}

/** A counter going backwards means haproxy restarted (counters start at 0): the new value is the delta. */
const counterDelta = (prev: number, cur: number): number => (cur >= prev ? cur - prev : cur);

/**
 * Interval metrics between two cumulative samples plus the interval's latency. Limitation: a
 * restart that already served more requests than the previous total is indistinguishable from
 * growth (it under-counts that interval).
 */
export function metricsDelta(prev: RoleTotals, cur: RoleTotals, latency: LatencyCounts | undefined, at: Date): RoleMetrics {
  return {
    role: cur.role,
    requests: counterDelta(prev.requests, cur.requests),
    errors5xx: counterDelta(prev.errors5xx, cur.errors5xx),
    latencyP99Ms: latency === undefined ? null : p99UpperBoundMs(latency),
    at,
  };
}

/** `show table <latency table>`, found through the table listing; undefined when the config has none. */
export async function readLatencyTable(socketPath: string): Promise<string | undefined> {
  const name = findLatencyTable(await runtimeCommand(socketPath, "show table"));
  return name === undefined ? undefined : runtimeCommand(socketPath, `show table ${name}`);
}

/** One read of the admin socket: cumulative counts per role and the latency table (undefined when the config has none). */
export interface CounterReading {
  totals: RoleTotals[];
  latency: LatencyTable | undefined;
}

/**
 * Reads `show stat` and the latency table together, so counts and latency cover (nearly) the same
 * moment, and parses both.
 */
export async function readCounters(readStats: () => Promise<string>, readLatency: () => Promise<string | undefined>): Promise<CounterReading> {
  const [csv, table] = await Promise.all([readStats(), readLatency()]);
  return { totals: roleTotals(parseShowStat(csv)), latency: table === undefined ? undefined : parseLatencyTable(table) };
}

/** Reads `show stat` and the latency table, and turns successive cumulative samples into per-interval RoleMetrics. */
export class MetricsSampler {
  private prev: { totals: RoleTotals[]; latency: LatencyTable | undefined } | undefined;
  private last: readonly RoleMetrics[] | undefined;

  /** A reader resolving undefined (no latency table) makes every latencyP99Ms null; counts are still published. */
  constructor(
    private readonly readStats: () => Promise<string>,
    private readonly readLatency: () => Promise<string | undefined> = () => Promise.resolve(undefined),
    private readonly now: () => Date = () => new Date(),
  ) {}

  static forSocket(socketPath: string): MetricsSampler {
    return new MetricsSampler(() => runtimeCommand(socketPath, "show stat"), () => readLatencyTable(socketPath));
  }

  /**
   * Feeds one cumulative sample (stats and latency table). The first one only sets the baseline and
   * returns []: reporting haproxy's lifetime totals as one interval would fake a burst (e.g. after
   * an agent restart).
   */
  ingest(totals: readonly RoleTotals[], latency: LatencyTable | undefined, at: Date = this.now()): RoleMetrics[] {
    const prev = this.prev;
    this.prev = { totals: totals.map((t) => ({ ...t })), latency };
    if (prev === undefined) return [];
    const interval = latency === undefined ? undefined : roleLatency(prev.latency, latency);
    const out: RoleMetrics[] = [];
    for (const cur of totals) {
      const p = prev.totals.find((x) => x.role === cur.role);
      if (p !== undefined) out.push(metricsDelta(p, cur, interval?.get(cur.role), at));
    }
    this.last = out;
    return out;
  }

  /** Reads the socket and returns the interval since the previous call ([] on the first call). */
  async sample(): Promise<RoleMetrics[]> {
    // A failed read keeps the previous baseline, so the next interval is just longer.
    const r = await readCounters(this.readStats, this.readLatency);
    return this.ingest(r.totals, r.latency, this.now());
  }

  /** Latest interval metrics (undefined until two samples exist), for local-mode exposure. */
  get latest(): readonly RoleMetrics[] | undefined {
    return this.last;
  }
}
