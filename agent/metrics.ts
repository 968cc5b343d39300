// Per-role proxy metrics from HAProxy's `show stat` CSV. Parsing and delta logic are pure so they
// can be tested without haproxy; MetricsSampler only adds the socket read and the previous sample.
import { BACKEND, type SlotRole } from "../haproxy/config";
import { runtimeCommand } from "./runtimeApi";

/** One `show stat` row keyed by column name (pxname, svname, stot, hrsp_5xx, ttime, ...). */
export type StatRow = Readonly<Record<string, string>>;

/** Parses `show stat` CSV. The header is "# pxname,svname,..."; every line ends with a trailing comma. */
export function parseShowStat(csv: string): StatRow[] {
  const lines = csv.split("\n").map((l) => l.trimEnd());
  const headerLine = lines.find((l) => l.startsWith("# "));
  if (headerLine === undefined) throw new Error("parseShowStat: no '# pxname,svname,...' header line");
  const header = headerLine.slice(2).split(",");
  if (header[0] !== "pxname" || header[1] !== "svname") throw new Error(`parseShowStat: unexpected header ${JSON.stringify(headerLine.slice(0, 40))}`);
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
  role: SlotRole;
  /** Sum of `stot` (cumulative; in HTTP mode each request is one stream, so this counts requests). */
  requests: number;
  /** Sum of `hrsp_5xx` (cumulative). */
  errors5xx: number;
  /**
   * NOT a real p99. HAProxy's stats have no percentiles; `ttime` is each server's average total
   * time over its last 1024 requests. We take the max of those averages across the role's servers
   * as a worst-server proxy for tail latency. A true p99 needs log-based histograms.
   */
  latencyApproxMs: number;
}

const ROLES: readonly SlotRole[] = ["prod", "canary"];
const SLOT = /^(prod|canary)\d+$/;

const num = (v: string | undefined): number => {
  const n = Number(v);
  // Empty cells (columns that do not apply to a row) count as 0.
  return v === undefined || v === "" || !Number.isFinite(n) ? 0 : n;
};

/** Sums per role over the slot rows of backend "app"; always returns both roles (zeros if no slots). */
export function roleTotals(rows: readonly StatRow[]): RoleTotals[] {
  const totals = new Map<SlotRole, RoleTotals>(ROLES.map((role) => [role, { role, requests: 0, errors5xx: 0, latencyApproxMs: 0 }]));
  for (const r of rows) {
    const m = SLOT.exec(r.svname ?? "");
    if (r.pxname !== BACKEND || m === null) continue;
    const t = totals.get(m[1] as SlotRole)!;
    t.requests += num(r.stot);
    t.errors5xx += num(r.hrsp_5xx);
    t.latencyApproxMs = Math.max(t.latencyApproxMs, num(r.ttime));
  }
  return ROLES.map((role) => totals.get(role)!);
}

/** What the agent publishes per role for one sampling interval. */
export interface RoleMetrics {
  role: SlotRole;
  /** Requests completed in the interval. */
  requests: number;
  /** 5xx responses in the interval. */
  errors5xx: number;
  /**
   * Approximate p99 (see RoleTotals.latencyApproxMs). null when the role served no requests in the
   * interval: the ttime average would be stale, and the alarm treats missing data as not breaching.
   */
  latencyP99Ms: number | null;
  at: Date;
}

/** A counter going backwards means haproxy restarted (counters start at 0): the new value is the delta. */
const counterDelta = (prev: number, cur: number): number => (cur >= prev ? cur - prev : cur);

/**
 * Interval metrics between two cumulative samples. Limitation: a restart that already served more
 * requests than the previous total is indistinguishable from growth (it under-counts that interval).
 */
export function metricsDelta(prev: RoleTotals, cur: RoleTotals, at: Date): RoleMetrics {
  const requests = counterDelta(prev.requests, cur.requests);
  return {
    role: cur.role,
    requests,
    errors5xx: counterDelta(prev.errors5xx, cur.errors5xx),
    latencyP99Ms: requests > 0 ? cur.latencyApproxMs : null,
    at,
  };
}

/** Reads `show stat` and turns successive cumulative samples into per-interval RoleMetrics. */
export class MetricsSampler {
  private prev: RoleTotals[] | undefined;
  private last: readonly RoleMetrics[] | undefined;

  constructor(
    private readonly readStats: () => Promise<string>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  static forSocket(socketPath: string): MetricsSampler {
    return new MetricsSampler(() => runtimeCommand(socketPath, "show stat"));
  }

  /**
   * Feeds one cumulative sample. The first one only sets the baseline and returns []: reporting
   * haproxy's lifetime totals as one interval would fake a burst (e.g. after an agent restart).
   */
  ingest(totals: readonly RoleTotals[], at: Date = this.now()): RoleMetrics[] {
    const prev = this.prev;
    this.prev = totals.map((t) => ({ ...t }));
    if (prev === undefined) return [];
    const out: RoleMetrics[] = [];
    for (const cur of totals) {
      const p = prev.find((x) => x.role === cur.role);
      if (p !== undefined) out.push(metricsDelta(p, cur, at));
    }
    this.last = out;
    return out;
  }

  /** Reads the socket once and returns the interval since the previous call ([] on the first call). */
  async sample(): Promise<RoleMetrics[]> {
    const csv = await this.readStats();
    return this.ingest(roleTotals(parseShowStat(csv)), this.now());
  }

  /** Latest interval metrics (undefined until two samples exist), for local-mode exposure. */
  get latest(): readonly RoleMetrics[] | undefined {
    return this.last;
  }
}
