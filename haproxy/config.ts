// The one HAProxy config template: cloud-init on the AWS proxy instance and the local runner both render it.
// Servers are empty, disabled slots; the proxy agent fills them through the Runtime API
// (`set server app/prod1 addr 127.0.0.1 port 3001`, `set server app/prod1 weight 50`,
// `set server app/prod1 state ready`), so routing changes never need a reload.
import { ACCESS_LOG_CHOICES, ACCESS_LOG_MODES, type AccessLog } from "../core/config/accessLog";
import { DEFAULT_THRESHOLDS } from "../core/config/defaults";
import type { Role } from "../core/routing/role";
import { slotName } from "../core/routing/slots";
import { InvalidInputError } from "../core/errors";

export interface HaproxyConfigOptions {
  /** Public frontend bind, e.g. ":80" or "127.0.0.1:8080". */
  bind: string;
  /** Stats/metrics bind; loopback only, e.g. "127.0.0.1:8404". */
  statsBind: string;
  /** Runtime API (admin) socket path. */
  socketPath: string;
  prodSlots: number;
  canarySlots: number;
  /** Optional: drop privileges to this user/group and give it the admin socket (AWS: "haproxy", which the agent runs as). */
  user?: string;
  /** Optional global maxconn. Omitted: HAProxy derives it from the FD limit (an unprivileged local run cannot raise that). */
  maxconn?: number;
  /**
   * The canary p99 alarm's threshold in ms (default DEFAULT_THRESHOLDS.canaryP99Ms). It becomes one
   * of the latency histogram's bucket bounds, so "p99 ≥ threshold" is decided exactly.
   */
  latencyThresholdMs?: number;
  /**
   * Active health-check interval, ms (default 1000). Local mode divides it by its period factor like
   * the alarm periods: a canary ejected by passive checks must come back within one (shortened)
   * alarm period, or its errors fall into periods with no canary traffic and the alarm never sees
   * two breaching periods in a row.
   */
  checkIntervalMs?: number;
  /** Which requests get an access-log line (default "errors"); see core/config/accessLog.ts. */
  accessLog?: AccessLog;
  /** aviary:proxy.testerRouting: TESTER_HEADER / TESTER_COOKIE requests go to a canary at any weight (default false). */
  testerRouting?: boolean;
}

/** The single backend holding both roles' servers, so weights express the prod/canary split. */
export const BACKEND = "app";
/** Stickiness cookie; its value is the server name (prod1, canary1, ...). */
export const STICKY_COOKIE = "AVIARY_V";
/** With testerRouting, a request carrying this header with value "1", or this cookie = "1", is a tester's. */
export const TESTER_HEADER = "X-Aviary-Canary";
export const TESTER_COOKIE = "aviary_canary";

/**
 * Latency histogram bucket bounds (ms), before the threshold is added: roughly log-spaced from 5 ms
 * to 30 s (the server timeout, past which HAProxy answers 504 itself and nothing is timed).
 */
export const BASE_LATENCY_BOUNDS_MS: readonly number[] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];
/** Prefix of the latency stick table's name; the rest of the name lists the bounds. */
export const LATENCY_TABLE_PREFIX = "aviary_latency_ms";

/** Sorted bucket bounds: the base ones plus ceil(threshold) (latencies are integer ms). */
export function latencyBoundsMs(thresholdMs: number): number[] {
  if (!Number.isFinite(thresholdMs) || thresholdMs < 1 || thresholdMs > 3_600_000) throw new InvalidInputError(`latencyBoundsMs: bad threshold ${thresholdMs}`);
  return [...new Set([...BASE_LATENCY_BOUNDS_MS, Math.ceil(thresholdMs)])].sort((a, b) => a - b);
}

/**
 * The table's name carries its bounds (aviary_latency_ms_5_10_..._30000), so the agent reads them
 * from `show table` and can never disagree with the config it is reading.
 */
export function latencyTableName(boundsMs: readonly number[]): string {
  return [LATENCY_TABLE_PREFIX, ...boundsMs].join("_");
}

const LOOPBACK_BIND = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}$/;
const BIND = /^[A-Za-z0-9.\[\]:*-]*:\d{1,5}$/;
const SAFE_PATH = /^\/[A-Za-z0-9._\/-]+$/;
const SAFE_USER = /^[a-z_][a-z0-9_-]*$/;

function checkSlots(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidInputError(`renderHaproxyConfig: ${name} must be an integer 1..1000, got ${n}`);
}

/**
 * The agent keeps an enabled canary's slots ready at weight 0 when its weight is 0 (or they sit out
 * of the split), so testers can reach them; a weight-0 server would still take requests carrying its
 * sticky cookie, hence ignore-persist for those. use-server rules come before cookies and skip a
 * server that is down or in maint (HAProxy 2.6 process_server_rules), so a disabled canary, whose
 * slots the agent puts in maint, never gets a tester: the request is load-balanced to production.
 */
function canaryRules(canaries: readonly string[], testerRouting: boolean): string {
  const lines = ["    # A canary slot at weight 0 serves testers only: its sticky cookie does not pin anyone to it.",
    ...canaries.map((s) => `    ignore-persist if { req.cook(${STICKY_COOKIE}) -m str ${s} } { srv_weight(${BACKEND}/${s}) eq 0 }`)];
  if (!testerRouting) return lines.join("\n");
  return [...lines,
    `    # Testers reach a canary at any weight: first the one their sticky cookie names, else the first one up.`,
    `    acl aviary_tester req.hdr(${TESTER_HEADER}) -m str 1`,
    `    acl aviary_tester req.cook(${TESTER_COOKIE}) -m str 1`,
    ...canaries.map((s) => `    use-server ${s} if aviary_tester { req.cook(${STICKY_COOKIE}) -m str ${s} }`),
    ...canaries.map((s) => `    use-server ${s} if aviary_tester`),
  ].join("\n");
}

export function renderHaproxyConfig(o: HaproxyConfigOptions): string {
  if (!BIND.test(o.bind)) throw new InvalidInputError(`renderHaproxyConfig: bad bind ${JSON.stringify(o.bind)}`);
  if (!LOOPBACK_BIND.test(o.statsBind)) throw new InvalidInputError(`renderHaproxyConfig: statsBind must be loopback ip:port, got ${JSON.stringify(o.statsBind)}`);
  if (!SAFE_PATH.test(o.socketPath)) throw new InvalidInputError(`renderHaproxyConfig: bad socketPath ${JSON.stringify(o.socketPath)}`);
  if (o.user !== undefined && !SAFE_USER.test(o.user)) throw new InvalidInputError(`renderHaproxyConfig: bad user ${JSON.stringify(o.user)}`);
  if (o.maxconn !== undefined && (!Number.isInteger(o.maxconn) || o.maxconn < 1)) throw new InvalidInputError(`renderHaproxyConfig: bad maxconn ${o.maxconn}`);
  if (o.latencyThresholdMs !== undefined && !(o.latencyThresholdMs >= 1 && o.latencyThresholdMs <= 60_000)) {
    throw new InvalidInputError(`renderHaproxyConfig: latencyThresholdMs must be 1..60000, got ${o.latencyThresholdMs}`);
  }
  if (o.checkIntervalMs !== undefined && !(Number.isInteger(o.checkIntervalMs) && o.checkIntervalMs >= 100 && o.checkIntervalMs <= 60_000)) {
    throw new InvalidInputError(`renderHaproxyConfig: checkIntervalMs must be an integer 100..60000, got ${o.checkIntervalMs}`);
  }
  if (o.accessLog !== undefined && !ACCESS_LOG_MODES.includes(o.accessLog)) {
    throw new InvalidInputError(`renderHaproxyConfig: accessLog must be ${ACCESS_LOG_CHOICES}, got ${JSON.stringify(o.accessLog)}`);
  }
  checkSlots("prodSlots", o.prodSlots);
  checkSlots("canarySlots", o.canarySlots);
  const inter = o.checkIntervalMs === undefined || o.checkIntervalMs === 1000 ? "1s" : `${o.checkIntervalMs}ms`;

  const servers: string[] = [];
  const roles: [Role, number][] = [["prod", o.prodSlots], ["canary", o.canarySlots]];
  for (const [role, n] of roles) {
    for (let i = 1; i <= n; i++) {
      const s = slotName(role, i);
      // Placeholder address, disabled and weight 0 until the agent sets addr/weight/state.
      // `cookie <name>` gives each server its own sticky value (server-template cannot).
      servers.push(`    server ${s} 127.0.0.1:1 check disabled weight 0 cookie ${s}`);
    }
  }

  const canaries = Array.from({ length: o.canarySlots }, (_, i) => slotName("canary", i + 1));
  const userLines = o.user ? `    user ${o.user}\n    group ${o.user}\n` : "";
  const bounds = latencyBoundsMs(o.latencyThresholdMs ?? DEFAULT_THRESHOLDS.canaryP99Ms);
  const table = latencyTableName(bounds);
  // gpc(0) counts every timed response; gpc(i) those that took >= bounds[i-1] ms (cumulative, so a
  // percentile needs no per-bucket subtraction and a bucket never depends on the rule order).
  const buckets = bounds.map((b, i) => `    http-response sc-inc-gpc(${i + 1},2) if { var(txn.aviary_ms) -m int ge ${b} }`).join("\n");
  const socketUser = o.user ? ` user ${o.user}` : "";
  return `global
    # No "daemon": the supervisor (systemd, or the local runner with -W -db) owns the process.
${o.maxconn ? `    maxconn ${o.maxconn}\n` : ""}${userLines}    # Logs to stdout so the supervisor (journald / local runner) collects them; no syslog needed.
    log stdout format raw local0
    # Runtime API for the agent. expose-fd listeners lets a reload hand the listening sockets over.
    stats socket ${o.socketPath} mode 600 level admin expose-fd listeners${socketUser}
    stats timeout 30s

defaults
    mode http
    log global
    option httplog
    option dontlognull
${(o.accessLog ?? "errors") === "errors" ? "    # Only requests that went wrong get a line (ACCESS_LOG_MODES says why); counts live in the stats.\n    option dontlog-normal\n" : ""}    option http-keep-alive
    # Backends see the client address in X-Forwarded-For (X-Forwarded-Proto is set in the frontend:
    # HAProxy 2.6 refuses http-request rules in an anonymous defaults section).
    option forwardfor
    timeout connect 3s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 10s
    # Bounds slow clients sending headers (slowloris).
    timeout http-request 10s
    timeout queue 5s
    # A failed connect is retried, and redispatch lets the retry go to another server
    # even when a sticky cookie pointed at the failed one.
    retries 2
    option redispatch

frontend web
    bind ${o.bind}
    # HAProxy forwards an unknown version (e.g. "HTTP/9.9") as HTTP/1.1; refuse it as nginx does
    # (h2 prior knowledge, which HAProxy detects on this bind, stays allowed).
    http-request deny deny_status 400 unless { req.ver 1.1 1.0 2.0 }
    # The scheme clients used (TLS is not terminated here); overwrites any client-sent value.
    http-request set-header X-Forwarded-Proto http
    default_backend ${BACKEND}

# One backend for both roles: the prod/canary split is just the servers' weights.
backend ${BACKEND}
    balance roundrobin
    # Sticky versions: a client keeps the server (hence the version) it first got.
    # indirect: the cookie is not forwarded to the app; nocache: responses setting it are not cached.
    cookie ${STICKY_COOKIE} insert indirect nocache
    option httpchk GET /healthz
    http-check expect status 200
    # Active checks every 1s (down after 2 failures, up after 2 successes), plus passive ejection:
    # 5 consecutive layer-7 errors on live traffic mark the server down without waiting for checks.
    default-server inter ${inter} fall 2 rise 2 observe layer7 error-limit 5 on-error mark-down
${servers.join("\n")}
    # Latency histogram kept inside HAProxy (the agent reads it with \`show table\`): the time from
    # the request's headers being parsed to the server's response headers arriving, in whole ms of
    # the wall clock. Responses HAProxy makes itself (503 no server, 504 timeout) are not timed; the
    # 5xx counters see those.
    http-request set-var(txn.aviary_t0) date(0,ms)
    http-response set-var(txn.aviary_ms) date(0,ms),sub(txn.aviary_t0)
    http-response track-sc2 srv_name table ${table}
    http-response sc-inc-gpc(0,2)
${buckets}
${canaryRules(canaries, o.testerRouting ?? false)}

# Per-server cumulative latency buckets; one entry per slot, never expiring.
backend ${table}
    stick-table type string len 16 size ${o.prodSlots + o.canarySlots} store gpc(${bounds.length + 1})

# Stats page and Prometheus metrics, loopback only.
frontend stats
    bind ${o.statsBind}
    stats enable
    stats uri /stats
    stats refresh 10s
    http-request use-service prometheus-exporter if { path /metrics }
`;
}
