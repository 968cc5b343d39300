// The proxy benchmark: Aviary (rendered HAProxy config + agent following redis) vs the same config
// static vs nginx vs minimal HAProxy vs direct, split accuracy and propagation. Loopback only; every
// process it starts is registered in ./processes, so an interrupted run stops them too.
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import pino from "pino";
import Redis from "ioredis";
import type { AccessLog } from "../core/config/accessLog";
import { startAgent, type Agent } from "../agent/agent";
import type { MetricsSink } from "../agent/ports";
import { MetricsSampler, type RoleMetrics } from "../agent/metrics";
import { startMetricsLoop } from "../agent/metricsLoop";
import { setCanaryWeight } from "../state/routing";
import { registerBackend } from "../state/registry";
import { cpuMs } from "../harness/procStat";
import { stopProcess } from "../harness/stopProcess";
import { HOST, freePort } from "../harness/freePort";
import { startHaproxy, status, type RunningHaproxy } from "../harness/haproxy";
import { until } from "../harness/until";
import { startRedisServer, type RedisServer } from "../harness/redisServer";
import { children, cleanups } from "./processes";
import { CANARY_SLOTS, PROD_SLOTS, proxyConfig, withStaticSlots } from "./proxyConfigs";
import { BACKEND_VERSIONS, startBackends } from "./backends";
import { rounds } from "./quick";
import { median, pct } from "./stats";
import { WRK_ARGS, wrk, type WrkResult } from "./wrk";
import { haproxyRoutingBackend } from "../adapters/routingBackend/haproxy";

// Many short rounds, interleaved (order reversed every other round), compared pairwise: on a shared
// 2-core machine the load drifts between rounds far more than targets differ within one.
const ROUNDS = rounds(15, 2);
const CANARY_WEIGHT = 25;


/** "errors": an access-log line for 5xx responses only, like Aviary's default; "all": one per request. */
async function startNginx(dir: string, port: number, ups: number[], accessLog: AccessLog): Promise<number> {
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, "nginx.conf");
  const servers = ups.map((p) => `        server ${HOST}:${p} weight=1;`).join("\n");
  fs.writeFileSync(conf, `worker_processes auto;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    # Like Aviary's HAProxy with the same aviary:proxy.accessLog: lines written as requests end.
    map $status $aviary_loggable { ~^5 1; default ${accessLog === "all" ? 1 : 0}; }
    access_log ${dir}/access.log combined if=$aviary_loggable;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    upstream app {
${servers}
        keepalive 64;
    }
    server {
        listen ${HOST}:${port};
        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # The same request headers Aviary's template adds.
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto http;
        }
    }
}
`);
  const p = spawn("nginx", ["-p", dir, "-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(p);
  let spawnError: Error | undefined;
  p.on("error", (e) => (spawnError = e));
  let out = "";
  p.stdout!.on("data", (d) => (out += d));
  p.stderr!.on("data", (d) => (out += d));
  cleanups.push(() => stopProcess(p));
  await until("nginx", async () => {
    if (spawnError) throw new Error(`cannot run nginx (${spawnError.message}): \`bash scripts/setup.sh bench\` installs it`);
    if (p.exitCode !== null) throw new Error(`nginx exited ${p.exitCode}: ${out}`);
    return (await get(port)).status === 200;
  });
  return p.pid!;
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
function get(port: number): Promise<{ status: number; version: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: HOST, port, path: "/", agent: keepAlive }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, version: String(res.headers["x-version"] ?? "") }));
    });
    req.on("error", () => resolve({ status: 0, version: "" }));
  });
}

export interface ProxyBench {
  /** The markdown, from "## Setup" to the propagation figures. */
  section: string;
  propP50: number;
  propP99: number;
}

/** Runs the proxy comparison; its processes stay registered in ./processes until the caller's cleanup(). */
export async function benchProxy(): Promise<ProxyBench> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aviary-bench-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const logger = pino({ level: "silent" });

  // Backends: 3 prod + 1 canary, shared by every target.
  const ports = await startBackends();

  // Aviary: redis + rendered config + agent.
  const redisSrv: RedisServer = await startRedisServer();
  cleanups.push(() => redisSrv.stop());
  const redis = new Redis(redisSrv.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  cleanups.push(() => { redis.disconnect(); });
  for (let i = 0; i < 4; i++) {
    const role = BACKEND_VERSIONS[i];
    await registerBackend(redis, { id: `${role}-${i}`, role, address: `${HOST}:${ports[i]}`, version: role, ttlSeconds: 3600 });
  }
  await setCanaryWeight(redis, CANARY_WEIGHT, { by: "bench" });
  // Aviary as shipped: the rendered config with empty slots, filled by the agent following redis.
  const startAviary = async (name: string, accessLog: AccessLog): Promise<{ port: number; sock: string; proxy: RunningHaproxy; agent: Agent }> => {
    const port = await freePort();
    const sock = path.join(dir, `${name}.sock`);
    const cfg = path.join(dir, `${name}.cfg`);
    fs.writeFileSync(cfg, proxyConfig(port, await freePort(), sock, accessLog));
    const proxy = await startHaproxy(cfg, sock, path.join(dir, `${name}.log`));
    cleanups.push(() => proxy.stop());
    const agent = await startAgent({ redisUrl: redisSrv.url, backend: haproxyRoutingBackend(sock), slots: { prod: PROD_SLOTS, canary: CANARY_SLOTS }, logger });
    cleanups.push(() => agent.stop());
    await agent.waitForApplied((a) => a.filter((s) => s.state === "ready").length === 4);
    for (const s of ["prod1", "prod2", "prod3", "canary1"]) await until(`${name} ${s} UP`, async () => (await status(sock, s)).startsWith("UP"));
    return { port, sock, proxy, agent };
  };
  const aviary = await startAviary("aviary", "errors");
  const aviaryAll = await startAviary("aviary-all", "all");
  const agent = aviary.agent;
  // Metrics as agent/main.ts samples them (show stat + the latency table every 10 s), kept in memory.
  const published: RoleMetrics[][] = [];
  const sink: MetricsSink = { publish: async (m) => void published.push([...m]) };
  cleanups.push(startMetricsLoop({ sampler: MetricsSampler.forSocket(aviary.sock), sink, logger }));

  // Static HAProxy, feature-equal: the same rendered template with the four used slots written into
  // the file (weights 1/1/1/1 = what the agent computes for 75/25 over 3+1; the other slots stay
  // disabled, as in aviary), no agent, no Runtime API use.
  const staticPort = await freePort();
  const staticSock = path.join(dir, "static.sock");
  const staticCfg = path.join(dir, "static.cfg");
  const slotPorts: Record<string, number> = { prod1: ports[0], prod2: ports[1], prod3: ports[2], canary1: ports[3] };
  fs.writeFileSync(staticCfg, withStaticSlots(proxyConfig(staticPort, await freePort(), staticSock, "errors"), slotPorts));
  const stat: RunningHaproxy = await startHaproxy(staticCfg, staticSock, path.join(dir, "static.log"));
  cleanups.push(() => stat.stop());

  // Minimal HAProxy, for reference: no logging, checks, cookie or forwarded headers.
  const minimalPort = await freePort();
  const minimalSock = path.join(dir, "minimal.sock");
  const minimalCfg = path.join(dir, "minimal.cfg");
  fs.writeFileSync(minimalCfg, `global
    stats socket ${minimalSock} mode 600 level admin
defaults
    mode http
    option http-keep-alive
    timeout connect 3s
    timeout client 30s
    timeout server 30s
frontend web
    bind ${HOST}:${minimalPort}
    default_backend app
backend app
    balance roundrobin
${ports.map((p, i) => `    server s${i} ${HOST}:${p} weight 1`).join("\n")}
`);
  const minimal: RunningHaproxy = await startHaproxy(minimalCfg, minimalSock);
  cleanups.push(() => minimal.stop());

  // nginx: weighted upstream with keepalive, logging like each Aviary.
  const nginxPort = await freePort();
  const nginxPid = await startNginx(path.join(dir, "nginx"), nginxPort, ports, "errors");
  const nginxAllPort = await freePort();
  const nginxAllPid = await startNginx(path.join(dir, "nginx-all"), nginxAllPort, ports, "all");

  // Split accuracy through Aviary.
  const N = 4000;
  let canary = 0;
  for (let i = 0; i < N; i++) {
    const r = await get(aviary.port);
    if (r.status !== 200) throw new Error(`aviary answered ${r.status}`);
    if (r.version === "canary") canary++;
  }

  // Throughput/latency, interleaved rounds, the order reversed every other round so no target
  // always follows the same one.
  // pid: the proxy whose CPU is charged per request (direct has none: the backends live in this process).
  // Each comparison's two targets run back to back (aviary between its two baselines).
  const targets: [string, number, number | undefined][] = [
    ["static-haproxy", staticPort, stat.proc.pid],
    ["aviary", aviary.port, aviary.proxy.proc.pid],
    ["nginx", nginxPort, nginxPid],
    ["nginx, log every request", nginxAllPort, nginxAllPid],
    ["aviary, accessLog all", aviaryAll.port, aviaryAll.proxy.proc.pid],
    ["minimal-haproxy", minimalPort, minimal.proc.pid],
    ["direct", ports[0], undefined],
  ];
  const results = new Map<string, WrkResult[]>(targets.map(([n]) => [n, []]));
  const cpuPerReq = new Map<string, number[]>(targets.map(([n]) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, port, pid] of round % 2 === 0 ? targets : [...targets].reverse()) {
      const cpu0 = pid === undefined ? 0 : cpuMs(pid, true);
      const r = await wrk(`http://${HOST}:${port}/`);
      if (pid !== undefined) cpuPerReq.get(name)!.push(((cpuMs(pid, true) - cpu0) * 1000) / r.requests);
      results.get(name)!.push(r);
      console.log(`round ${round + 1} ${name}: ${r.rps.toFixed(0)} req/s p50 ${r.p50}ms p99 ${r.p99}ms`);
    }
  }

  // Propagation: setCanaryWeight → agent applied the new canary weight.
  const canaryWeightNow = (): number => agent.applied().find((s) => s.slot === "canary1")?.weight ?? -1;
  const prop: number[] = [];
  for (let i = 0; i < 20; i++) {
    const target = i % 2 === 0 ? 40 : CANARY_WEIGHT;
    const before = canaryWeightNow();
    const t0 = process.hrtime.bigint();
    const waiting = agent.waitForApplied((a) => (a.find((s) => s.slot === "canary1")?.weight ?? -1) !== before, 5000);
    await setCanaryWeight(redis, target, { by: "bench" });
    await waiting;
    prop.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await new Promise((r) => setTimeout(r, 50));
  }
  await setCanaryWeight(redis, CANARY_WEIGHT, { by: "bench" });

  const med = (name: string): WrkResult => {
    const rs = results.get(name)!;
    return { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), requests: median(rs.map((r) => r.requests)) };
  };
  const m = Object.fromEntries(targets.map(([n]) => [n, med(n)])) as Record<string, WrkResult>;
  // Paired: the median over rounds of a/b within the same round (both measured under the same load).
  const pairedRps = (a: string, b: string): number => median(results.get(a)!.map((r, i) => r.rps / results.get(b)![i].rps));
  const pairedCpu = (a: string, b: string): number => median(cpuPerReq.get(a)!.map((c, i) => c / cpuPerReq.get(b)![i]));
  const x = (r: number): string => `${r.toFixed(3)}×`;
  const ratioStatic = pairedRps("aviary", "static-haproxy");
  const ratioNginx = pairedRps("aviary", "nginx");
  const cpu = (name: string): number | undefined => (cpuPerReq.get(name)!.length ? median(cpuPerReq.get(name)!) : undefined);
  const share = (100 * canary) / N;
  const propP50 = pct(prop, 50);
  const propP99 = pct(prop, 99);
  const ok = (b: boolean): string => (b ? "met" : "**missed**");

  const rows = targets.map(([n]) => `| ${n} | ${m[n].rps.toFixed(0)} | ${m[n].p50.toFixed(2)} | ${m[n].p99.toFixed(2)} | ${cpu(n)?.toFixed(1) ?? "—"} | ${results.get(n)!.map((r) => r.rps.toFixed(0)).join(" / ")} |`);
  const section = `## Setup

- 4 plain Node \`http\` backends on 127.0.0.1 (3 prod, 1 canary), shared by every target.
- **aviary**: HAProxy running the config \`components/proxy.ts\` renders for the proxy instance (\`PROXY_HAPROXY_OPTIONS\`: ${PROD_SLOTS} prod + ${CANARY_SLOTS} canary slots, user haproxy; the binds and the socket path moved to loopback/temp, and maxconn left to HAProxy because its 20000 needs more FDs than this machine allows), with health checks, sticky cookie, X-Forwarded-For/Proto, the default \`aviary:proxy.accessLog: errors\` (a log line to stdout, here a file as journald would take it, for each request that went wrong: 5xx, timeout, retry, abort) and the per-role latency histogram kept in a stick table; its slots filled by \`agent/agent.ts\` \`startAgent\` following a real \`redis-server\` (backends registered with \`registerBackend\`, canary weight ${CANARY_WEIGHT} set with \`setCanaryWeight\`), and the agent's metrics loop (\`agent/metricsLoop.ts\`, as in \`agent/main.ts\`) reading \`show stat\` and the latency table every 10 s in the bench process.
- **aviary, accessLog all**: the same, a second HAProxy + agent following the same Redis, with \`aviary:proxy.accessLog: all\` (a line for every request).
- **static-haproxy**: the same rendered template (accessLog errors) with the four used slots written into the file at weight 1 (what the agent computes for 75/25 over 3 + 1; the other slots stay disabled as in aviary): the same features, the latency histogram included since it is part of the template, no agent, no Runtime API. This is the baseline the issue's 0.95× target is measured against: what Aviary's live routing costs over a hand-written config.
- **nginx**: \`upstream\` with 4 servers weight 1, \`keepalive 64\`, HTTP/1.1 to upstreams, X-Forwarded-For/Proto set, \`worker_processes auto\`, an access-log line (to a file) for 5xx responses only, as Aviary's default. Open-source nginx has no cookie stickiness, active health checks or latency histogram, so it does a little less work than Aviary.
- **nginx, log every request**: the same with a line for every request, to compare with "aviary, accessLog all".
- **minimal-haproxy** (reference only): one backend, 4 servers, keep-alive, no logging, checks, cookie or forwarded headers.
- **direct**: wrk straight at one prod backend (one Node process, so it is bounded by a single core).
- Load: \`wrk ${WRK_ARGS.join(" ")}\` against 127.0.0.1, ${ROUNDS} interleaved rounds per target, in the table's order (aviary between its two baselines, each comparison's targets back to back), reversed every other round; medians reported. Ratios are paired: the median over rounds of the two targets' ratio within a round, since the machine's load drifts more between rounds than targets differ within one. wrk keeps no cookies, so every Aviary response inserts the sticky cookie (the worst case: every request a new visitor).
- Everything (wrk, proxy, 4 backends, redis) shares ${os.availableParallelism()} cores, so the absolute numbers are bounded by the backends; compare ratios. "CPU µs/req" is the proxy's own user+system time (all its processes and threads, from /proc) divided by the requests it served, a cost figure that the machine's other load disturbs much less than req/s.

## Throughput and latency (medians of ${ROUNDS} rounds)

| target | req/s | p50 ms | p99 ms | CPU µs/req | req/s per round |
|---|---|---|---|---|---|
${rows.join("\n")}

| ratio | value | target | |
|---|---|---|---|
| aviary / static-haproxy req/s | ${x(ratioStatic)} | ≥ 0.95× | ${ok(ratioStatic >= 0.95)} |
| aviary / nginx req/s | ${x(ratioNginx)} | ≥ 0.9× | ${ok(ratioNginx >= 0.9)} |
| aviary, accessLog all / nginx, log every request req/s | ${x(pairedRps("aviary, accessLog all", "nginx, log every request"))} | (reference: both log every request) | |
| aviary, accessLog all / aviary req/s | ${x(pairedRps("aviary, accessLog all", "aviary"))} | (what a line per request costs) | |
| aviary / minimal-haproxy req/s | ${x(pairedRps("aviary", "minimal-haproxy"))} | (reference) | |
| CPU per request, aviary / static-haproxy | ${x(pairedCpu("aviary", "static-haproxy"))} | (lower is cheaper) | |
| CPU per request, aviary / nginx | ${x(pairedCpu("aviary", "nginx"))} | | |
| CPU per request, aviary, accessLog all / aviary | ${x(pairedCpu("aviary, accessLog all", "aviary"))} | | |
| CPU per request, aviary, accessLog all / nginx, log every request | ${x(pairedCpu("aviary, accessLog all", "nginx, log every request"))} | | |
| CPU per request, aviary / minimal-haproxy | ${x(pairedCpu("aviary", "minimal-haproxy"))} | | |

## Metrics loop (aviary)

${published.length} 10 s intervals published during the run; those with traffic (idle ones between wrk rounds left out), per role, requests and the p99 estimate (ms, the histogram's upper bound; latency under wrk's saturating load, not the backends' own): ${published.filter((ms) => ms.some((m) => m.requests > 0)).map((ms) => ms.map((m) => `${m.role} ${m.requests} → ${m.latencyP99Ms ?? "—"}`).join(", ")).join("; ") || "none"}.

## Split accuracy (aviary, weight ${CANARY_WEIGHT})

${N} sequential keep-alive requests without cookies, counted by the backends' \`x-version\` header: canary ${canary} / ${N} = **${share.toFixed(2)}%** (target ${CANARY_WEIGHT}%, error ${(share - CANARY_WEIGHT).toFixed(2)} pp).

## Propagation (setCanaryWeight → agent applied)

20 changes alternating weight 40 / ${CANARY_WEIGHT}; time from calling \`setCanaryWeight\` until the agent's \`waitForApplied\` saw the new canary slot weight pushed to HAProxy through the Runtime API.

- p50 **${propP50.toFixed(1)} ms**, p99 **${propP99.toFixed(1)} ms**, max ${Math.max(...prop).toFixed(1)} ms (target ≤ 50 ms: ${ok(propP99 <= 50)})
- all samples (ms): ${prop.map((x) => x.toFixed(1)).join(", ")}
`;  return { section, propP50, propP99 };
}
