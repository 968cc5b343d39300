// Issue 3 benchmark: Aviary (rendered HAProxy config + agent following redis) vs static HAProxy vs nginx vs direct.
// Run with `npm run bench`. Loopback only; every child process is stopped at the end and on error.
import { spawn, execFileSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import pino from "pino";
import Redis from "ioredis";
import { renderHaproxyConfig } from "../haproxy/config";
import { startAgent, type Agent } from "../agent/agent";
import { setCanaryWeight } from "../state/routing";
import { registerBackend } from "../state/registry";
import { HOST, backend, freePort, startHaproxy, status, until, type RunningHaproxy } from "../tests/support/haproxy";
import { startRedisServer, type RedisServer } from "../tests/support/redisServer";

const ROUNDS = 3;
const WRK_ARGS = ["-t1", "-c32", "-d5s", "--latency"];
const CANARY_WEIGHT = 25;

interface WrkResult { rps: number; p50: number; p99: number }
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) throw new Error(`bad wrk latency ${v}`);
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n;
}

function wrk(url: string): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const p = spawn("wrk", [...WRK_ARGS, url], { stdio: ["ignore", "pipe", "pipe"] });
    children.add(p);
    let out = "";
    p.stdout!.on("data", (d) => (out += d));
    p.stderr!.on("data", (d) => (out += d));
    p.on("exit", (code) => {
      children.delete(p);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const p50 = /^\s+50%\s+(\S+)/m.exec(out);
      const p99 = /^\s+99%\s+(\S+)/m.exec(out);
      const errs = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
      if (code !== 0 || !rps || !p50 || !p99) return reject(new Error(`wrk failed (${code}):\n${out}`));
      if (errs) return reject(new Error(`wrk saw ${errs[1]} non-2xx responses against ${url}`));
      resolve({ rps: Number(rps[1]), p50: toMs(p50[1]), p99: toMs(p99[1]) });
    });
  });
}

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void> | void)[] = [];

async function cleanup(): Promise<void> {
  for (const c of cleanups.reverse()) {
    try { await c(); } catch { /* keep going */ }
  }
  cleanups.length = 0;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

async function startNginx(dir: string, port: number, ups: number[]): Promise<void> {
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
    access_log off;
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
        }
    }
}
`);
  const p = spawn("nginx", ["-p", dir, "-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(p);
  let out = "";
  p.stdout!.on("data", (d) => (out += d));
  p.stderr!.on("data", (d) => (out += d));
  cleanups.push(async () => {
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(t);
  });
  await until("nginx", async () => {
    if (p.exitCode !== null) throw new Error(`nginx exited ${p.exitCode}: ${out}`);
    return (await get(port)).status === 200;
  });
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

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aviary-bench-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const logger = pino({ level: "silent" });

  // Backends: 3 prod + 1 canary, shared by every target.
  const versions = ["prod", "prod", "prod", "canary"];
  const backends = await Promise.all(versions.map((v) => backend(v)));
  for (const b of backends) cleanups.push(() => new Promise<void>((r) => { b.server.closeAllConnections(); b.server.close(() => r()); }));
  const ports = backends.map((b) => b.port);

  // Aviary: redis + rendered config + agent.
  const redisSrv: RedisServer = await startRedisServer();
  cleanups.push(() => redisSrv.stop());
  const redis = new Redis(redisSrv.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  cleanups.push(() => { redis.disconnect(); });
  for (let i = 0; i < 4; i++) {
    const role = versions[i] as "prod" | "canary";
    await registerBackend(redis, { id: `${role}-${i}`, role, address: `${HOST}:${ports[i]}`, version: role, ttlSeconds: 3600 });
  }
  await setCanaryWeight(redis, CANARY_WEIGHT, { by: "bench" });
  const aviaryPort = await freePort();
  const aviarySock = path.join(dir, "aviary.sock");
  const aviaryCfg = path.join(dir, "aviary.cfg");
  fs.writeFileSync(aviaryCfg, renderHaproxyConfig({ bind: `${HOST}:${aviaryPort}`, statsBind: `${HOST}:${await freePort()}`, socketPath: aviarySock, prodSlots: 3, canarySlots: 1 }));
  const aviary: RunningHaproxy = await startHaproxy(aviaryCfg, aviarySock);
  cleanups.push(() => aviary.stop());
  const agent: Agent = await startAgent({ redisUrl: redisSrv.url, socketPath: aviarySock, slots: { prod: 3, canary: 1 }, logger });
  cleanups.push(() => agent.stop());
  await agent.waitForApplied((a) => a.filter((s) => s.state === "ready").length === 4);
  for (const s of ["prod1", "prod2", "prod3", "canary1"]) await until(`aviary ${s} UP`, async () => (await status(aviarySock, s)).startsWith("UP"));

  // Static HAProxy: fixed weights 1/1/1/1 → canary 25%.
  const staticPort = await freePort();
  const staticSock = path.join(dir, "static.sock");
  const staticCfg = path.join(dir, "static.cfg");
  fs.writeFileSync(staticCfg, `global
    stats socket ${staticSock} mode 600 level admin
defaults
    mode http
    option http-keep-alive
    timeout connect 3s
    timeout client 30s
    timeout server 30s
frontend web
    bind ${HOST}:${staticPort}
    default_backend app
backend app
    balance roundrobin
${ports.map((p, i) => `    server s${i} ${HOST}:${p} weight 1`).join("\n")}
`);
  const stat: RunningHaproxy = await startHaproxy(staticCfg, staticSock);
  cleanups.push(() => stat.stop());

  // nginx: weighted upstream with keepalive.
  const nginxPort = await freePort();
  await startNginx(path.join(dir, "nginx"), nginxPort, ports);

  // Split accuracy through Aviary.
  const N = 4000;
  let canary = 0;
  for (let i = 0; i < N; i++) {
    const r = await get(aviaryPort);
    if (r.status !== 200) throw new Error(`aviary answered ${r.status}`);
    if (r.version === "canary") canary++;
  }

  // Throughput/latency, interleaved rounds.
  const targets: [string, number][] = [["aviary", aviaryPort], ["static-haproxy", staticPort], ["nginx", nginxPort], ["direct", ports[0]]];
  const results = new Map<string, WrkResult[]>(targets.map(([n]) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, port] of targets) {
      const r = await wrk(`http://${HOST}:${port}/`);
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
    return { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)) };
  };
  const m = Object.fromEntries(targets.map(([n]) => [n, med(n)])) as Record<string, WrkResult>;
  const ratioStatic = m.aviary.rps / m["static-haproxy"].rps;
  const ratioNginx = m.aviary.rps / m.nginx.rps;
  const share = (100 * canary) / N;
  const propP50 = pct(prop, 50);
  const propP99 = pct(prop, 99);
  const ok = (b: boolean): string => (b ? "met" : "**missed**");

  let haproxyVersion = "";
  let nginxVersion = "";
  let wrkVersion = "";
  try { haproxyVersion = execFileSync("haproxy", ["-v"]).toString().split("\n")[0]; } catch { /* ignore */ }
  try { nginxVersion = execFileSync("nginx", ["-v"], { stdio: ["ignore", "pipe", "pipe"] }).toString().trim(); } catch (e) { nginxVersion = String((e as { stderr?: Buffer }).stderr ?? ""); }
  if (!nginxVersion) { try { nginxVersion = require("child_process").spawnSync("nginx", ["-v"]).stderr.toString().trim(); } catch { /* ignore */ } }
  try { wrkVersion = require("child_process").spawnSync("wrk", ["-v"]).stdout.toString().split("\n")[0].trim(); } catch { /* ignore */ }

  const rows = targets.map(([n]) => `| ${n} | ${m[n].rps.toFixed(0)} | ${m[n].p50.toFixed(2)} | ${m[n].p99.toFixed(2)} | ${results.get(n)!.map((r) => r.rps.toFixed(0)).join(" / ")} |`);
  const md = `# Benchmarks (issue 3)

Generated by \`npm run bench\` (bench/run.ts). Numbers below are from one run on this machine; rerun to refresh.

## Machine

- Date: ${new Date().toISOString()}
- CPUs: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown"} (nproc ${os.availableParallelism()})
- Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB
- OS: ${os.type()} ${os.release()}; Node ${process.version}
- ${haproxyVersion}; ${nginxVersion}; ${wrkVersion}

## Setup

- 4 plain Node \`http\` backends on 127.0.0.1 (3 prod, 1 canary), shared by every target.
- **aviary**: HAProxy running the config rendered by \`haproxy/config.ts\` (3 prod + 1 canary slots, health checks, sticky cookie, per-request logging to stdout as shipped), filled by \`agent/agent.ts\` \`startAgent\` following a real \`redis-server\`; backends registered with \`registerBackend\`, canary weight ${CANARY_WEIGHT} set with \`setCanaryWeight\`.
- **static-haproxy**: minimal static config, one backend, 4 servers weight 1 each (canary = 25%), keep-alive, no logging/checks.
- **nginx**: \`upstream\` with 4 servers weight 1, \`keepalive 64\`, HTTP/1.1 to upstreams, \`worker_processes auto\`, access log off.
- **direct**: wrk straight at one prod backend (one Node process, so it is bounded by a single core).
- Load: \`wrk ${WRK_ARGS.join(" ")}\` against 127.0.0.1, ${ROUNDS} interleaved rounds per target; medians reported.
- Everything (wrk, proxy, 4 backends, redis) shares ${os.availableParallelism()} cores, so the absolute numbers are bounded by the backends; compare ratios.

## Throughput and latency (medians of ${ROUNDS} rounds)

| target | req/s | p50 ms | p99 ms | req/s per round |
|---|---|---|---|---|
${rows.join("\n")}

| ratio | value | target | |
|---|---|---|---|
| aviary / static-haproxy req/s | ${ratioStatic.toFixed(3)}× | ≥ 0.95× | ${ok(ratioStatic >= 0.95)} |
| aviary / nginx req/s | ${ratioNginx.toFixed(3)}× | ≥ 0.9× | ${ok(ratioNginx >= 0.9)} |

## Split accuracy (aviary, weight ${CANARY_WEIGHT})

${N} sequential keep-alive requests without cookies, counted by the backends' \`x-version\` header: canary ${canary} / ${N} = **${share.toFixed(2)}%** (target ${CANARY_WEIGHT}%, error ${(share - CANARY_WEIGHT).toFixed(2)} pp).

## Propagation (setCanaryWeight → agent applied)

20 changes alternating weight 40 / ${CANARY_WEIGHT}; time from calling \`setCanaryWeight\` until the agent's \`waitForApplied\` saw the new canary slot weight pushed to HAProxy through the Runtime API.

- p50 **${propP50.toFixed(1)} ms**, p99 **${propP99.toFixed(1)} ms**, max ${Math.max(...prop).toFixed(1)} ms (target ≤ 50 ms: ${ok(propP99 <= 50)})
- all samples (ms): ${prop.map((x) => x.toFixed(1)).join(", ")}
`;
  fs.writeFileSync(path.join(__dirname, "..", "BENCHMARKS.md"), md);
  console.log(md);
}

let exiting = false;
const bail = (code: number) => async (err?: unknown): Promise<void> => {
  if (exiting) return;
  exiting = true;
  if (err) console.error(err);
  await cleanup();
  process.exit(code);
};
process.on("SIGINT", () => void bail(130)());
process.on("SIGTERM", () => void bail(143)());
main().then(() => bail(0)(), (e) => bail(1)(e));
