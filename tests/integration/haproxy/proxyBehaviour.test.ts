// Proxy behaviour end to end: real redis-server + haproxy + agent + tiny Node backends, all on 127.0.0.1.
// Stickiness, fail-static on garbage routing, canary death mid-traffic, HTTP semantics through haproxy.
import { createHash } from "crypto";
import * as http from "http";
import * as net from "net";
import pino from "pino";
import type Redis from "ioredis";
import { STICKY_COOKIE } from "../../../haproxy/config";
import { connect } from "../../../state/connection";
import { keys } from "../../../state/keys";
import { registerBackend } from "../../../state/registry";
import { disableCanary, enableCanary, setCanaryWeight } from "../../../state/routing";
import type { SlotAssignment } from "../../../core/routing/weights";
import { HOST } from "../../../harness/freePort";
import { status } from "../../../harness/haproxy";
import { until } from "../../../harness/until";
import { tempDir } from "../../support/tempDir";
import { startProxyStack, type ProxyStack } from "../../support/proxyStack";
import { versionSplit, type VersionSplit } from "../../support/versionSplit";

// Real HAProxy, Redis and backends on two shared cores: budgets are hang guards, not speed claims.
jest.setTimeout(180_000);

const dir = tempDir("aviary-proxy-");
const by = { by: "proxy-behaviour-test" };
const logLines: string[] = [];
const log = pino({ level: "warn" }, { write: (s: string) => void logLines.push(s) });

const BIG = 5 * 1024 * 1024;
const bigBody = Buffer.alloc(BIG);
for (let i = 0; i < BIG; i++) bigBody[i] = (i * 31 + (i >> 11)) & 0xff;
const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
const bigSha = sha(bigBody);

let stack: ProxyStack;
const servers: http.Server[] = [];
let canaryServer: http.Server | undefined;
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });
const echoSeen: { te?: string; sha: string; bytes: number }[] = [];

/** Backend with /echo, /big, /chunked, /204, /304, /healthz and a default answering its version. */
function appBackend(version: string): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    const base = { "x-version": version, "x-xff": String(req.headers["x-forwarded-for"] ?? "") };
    switch (req.url) {
      case "/healthz":
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("ok");
        return;
      case "/echo": {
        const h = createHash("sha256");
        let bytes = 0;
        res.writeHead(200, { ...base, "content-type": "application/octet-stream" });
        req.on("data", (d: Buffer) => {
          h.update(d);
          bytes += d.length;
        });
        req.on("end", () => echoSeen.push({ te: req.headers["transfer-encoding"] as string | undefined, sha: h.digest("hex"), bytes }));
        req.pipe(res);
        return;
      }
      case "/big": {
        res.writeHead(200, { ...base, "content-type": "application/octet-stream", "content-length": String(BIG) });
        if (req.method === "HEAD") return void res.end();
        let off = 0;
        const pump = (): void => {
          while (off < BIG) {
            const chunk = bigBody.subarray(off, off + 65536);
            off += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          res.end();
        };
        pump();
        return;
      }
      case "/chunked": {
        res.writeHead(200, { ...base, "content-type": "text/plain" });
        let i = 0;
        const t = setInterval(() => {
          if (i < 5) res.write(`chunk-${i++};`);
          else {
            clearInterval(t);
            res.end("done");
          }
        }, 10);
        res.on("close", () => clearInterval(t));
        return;
      }
      case "/204":
        res.writeHead(204, base);
        res.end();
        return;
      case "/304":
        res.writeHead(304, { ...base, etag: '"v1"' });
        res.end();
        return;
      default:
        res.writeHead(200, { ...base, "content-type": "text/plain" });
        res.end(version);
    }
  });
  return new Promise((resolve) => server.listen(0, HOST, () => resolve({ server, port: (server.address() as net.AddressInfo).port })));
}

interface Resp { status: number; headers: http.IncomingHttpHeaders; body: Buffer; socket?: net.Socket }

function request(opts: { path?: string; method?: string; cookie?: string; agent?: http.Agent; body?: Buffer; chunkSize?: number }): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = {};
    if (opts.cookie) headers.cookie = opts.cookie;
    const req = http.request({ host: HOST, port: stack.webPort, path: opts.path ?? "/", method: opts.method ?? "GET", agent: opts.agent ?? keepAlive, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (d: Buffer) => parts.push(d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), socket: req.socket ?? undefined }));
      res.on("error", reject);
    });
    req.on("error", reject);
    // Only a hang guard: on two shared cores a large body through HAProxy can take seconds.
    req.setTimeout(60_000, () => req.destroy(new Error("request timeout")));
    if (opts.body) {
      // No content-length: node sends Transfer-Encoding: chunked; written in pieces with back-pressure.
      const body = opts.body;
      const size = opts.chunkSize ?? 65536;
      let off = 0;
      const pump = (): void => {
        while (off < body.length) {
          const c = body.subarray(off, off + size);
          off += c.length;
          if (!req.write(c)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
    } else req.end();
  });
}

const load = (n: number, concurrency = 8): Promise<VersionSplit> =>
  versionSplit(n, concurrency, async () => {
    const res = await request({});
    return res.status === 200 ? res.headers["x-version"] : "failed";
  });

const slot = (a: SlotAssignment[], name: string): SlotAssignment | undefined => a.find((s) => s.slot === name);
const canaryLive = (a: SlotAssignment[]): boolean => slot(a, "canary1")?.state === "ready" && (slot(a, "canary1")?.weight ?? 0) > 0;
const stickyCookie = (h: http.IncomingHttpHeaders): string | undefined =>
  (h["set-cookie"] ?? []).map((c) => c.split(";")[0]).find((c) => c.startsWith(`${STICKY_COOKIE}=`));

beforeAll(async () => {
  const p = await appBackend("prod");
  const c = await appBackend("canary");
  servers.push(p.server, c.server);
  canaryServer = c.server;
  const seed = async (redis: Redis): Promise<void> => {
    await registerBackend(redis, { id: "p1", role: "prod", address: `${HOST}:${p.port}`, version: "1.0.0", ttlSeconds: 600 });
    await registerBackend(redis, { id: "c1", role: "canary", address: `${HOST}:${c.port}`, version: "1.1.0", ttlSeconds: 600 });
  };
  stack = await startProxyStack({ dir, prodSlots: 2, canarySlots: 1, resyncMs: 500, logger: log, seed });
  await setCanaryWeight(stack.redis, 50, by);
  await stack.agent.waitForApplied(canaryLive);
  await until("prod1 + canary1 UP", async () => (await status(stack.socket, "prod1")) === "UP" && (await status(stack.socket, "canary1")) === "UP");
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  keepAlive.destroy();
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => (s.listening ? s.close(r) : r(undefined)))));
});

test("stickiness: canary cookie keeps the canary for 20 requests; after disable the same cookie is served by prod", async () => {
  let cookie: string | undefined;
  for (let i = 0; i < 30 && !cookie; i++) {
    const r = await request({ agent: new http.Agent({ keepAlive: false }) });
    expect(r.status).toBe(200);
    if (r.headers["x-version"] === "canary") cookie = stickyCookie(r.headers);
  }
  expect(cookie).toBe(`${STICKY_COOKIE}=canary1`);
  const versions: string[] = [];
  for (let i = 0; i < 20; i++) versions.push(String((await request({ cookie })).headers["x-version"]));
  expect(versions).toEqual(Array(20).fill("canary"));

  await disableCanary(stack.redis, by);
  await stack.agent.waitForApplied((a) => slot(a, "canary1")?.state === "maint");
  expect(await status(stack.socket, "canary1")).toMatch(/MAINT/);
  const after: string[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await request({ cookie });
    expect(r.status).toBe(200);
    after.push(String(r.headers["x-version"]));
  }
  expect(after).toEqual(Array(10).fill("prod"));

  await enableCanary(stack.redis, by);
  await stack.agent.waitForApplied(canaryLive);
  await until("canary1 UP", async () => (await status(stack.socket, "canary1")) === "UP");
});

test("garbage canaryWeight in Redis: agent logs it and keeps the previous 50% split with 0 failures", async () => {
  const before = stack.agent.applied();
  const raw = connect(stack.redisServer.url);
  try {
    await raw.hset(keys.routing, "canaryWeight", "banana");
  } finally {
    raw.disconnect();
  }
  // Resync runs every 500 ms; wait for a few so the garbage has certainly been read.
  await until("agent logged unreadable routing", async () => logLines.some((l) => l.includes("routing state unreadable")), 30_000);
  const split = await load(200);
  console.log(`garbage routing: split over 200 = ${JSON.stringify(split)}`);
  expect(split.failed).toBe(0);
  expect(Math.abs((100 * split.canary) / 200 - 50)).toBeLessThanOrEqual(10);
  expect(stack.agent.applied()).toEqual(before);
  // Restore a valid state (the routing script replaces the garbage).
  await setCanaryWeight(stack.redis, 50, by);
  await stack.agent.waitForApplied(canaryLive);
});

test("HTTP semantics through haproxy: streamed bodies, chunked, HEAD, 204/304, keep-alive, X-Forwarded-For", async () => {
  // 5 MB chunked request body echoed back.
  const echo = await request({ path: "/echo", method: "POST", body: bigBody });
  expect(echo.status).toBe(200);
  expect(echo.body.length).toBe(BIG);
  expect(sha(echo.body)).toBe(bigSha);
  const seen = echoSeen[echoSeen.length - 1];
  expect(seen).toEqual({ te: "chunked", sha: bigSha, bytes: BIG });

  // 5 MB streamed response.
  const big = await request({ path: "/big" });
  expect(big.status).toBe(200);
  expect(big.body.length).toBe(BIG);
  expect(sha(big.body)).toBe(bigSha);

  // Chunked response with several chunks.
  const ch = await request({ path: "/chunked" });
  expect(ch.status).toBe(200);
  expect(ch.headers["transfer-encoding"]).toBe("chunked");
  expect(ch.body.toString()).toBe("chunk-0;chunk-1;chunk-2;chunk-3;chunk-4;done");

  // HEAD: headers, no body.
  const head = await request({ path: "/big", method: "HEAD" });
  expect(head.status).toBe(200);
  expect(head.headers["content-length"]).toBe(String(BIG));
  expect(head.body.length).toBe(0);

  // 204 / 304 pass through with no body.
  const r204 = await request({ path: "/204" });
  expect(r204.status).toBe(204);
  expect(r204.body.length).toBe(0);
  const r304 = await request({ path: "/304" });
  expect(r304.status).toBe(304);
  expect(r304.headers.etag).toBe('"v1"');
  expect(r304.body.length).toBe(0);

  // Keep-alive: 20 sequential requests over one agent reuse at most 2 sockets.
  const ka = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const sockets = new Set<net.Socket>();
  try {
    for (let i = 0; i < 20; i++) {
      const r = await request({ agent: ka });
      expect(r.status).toBe(200);
      if (r.socket) sockets.add(r.socket);
    }
  } finally {
    ka.destroy();
  }
  console.log(`keep-alive: 20 requests used ${sockets.size} client socket(s)`);
  expect(sockets.size).toBeGreaterThanOrEqual(1);
  expect(sockets.size).toBeLessThanOrEqual(2);

  // X-Forwarded-For as seen by the backend.
  const xff = await request({});
  expect(xff.headers["x-xff"]).toBe("127.0.0.1");
});

test("canary process dies during 300 sequential requests: ≤ 5 failures, then all traffic served by prod", async () => {
  let failed = 0;
  const counts = { prod: 0, canary: 0 };
  for (let i = 0; i < 300; i++) {
    if (i === 100) {
      canaryServer!.close();
      canaryServer!.closeAllConnections();
    }
    try {
      const r = await request({});
      if (r.status >= 500) failed++;
      else if (r.headers["x-version"] === "canary") counts.canary++;
      else if (r.headers["x-version"] === "prod") counts.prod++;
    } catch {
      failed++;
    }
  }
  console.log(`canary killed mid-traffic: ${failed} failed of 300 (prod ${counts.prod}, canary ${counts.canary})`);
  expect(failed).toBeLessThanOrEqual(5);
  expect(counts.canary).toBeGreaterThan(0);

  await until("canary1 DOWN", async () => (await status(stack.socket, "canary1")).startsWith("DOWN"), 30_000);
  const after = await load(100);
  expect(after).toEqual({ prod: 100, canary: 0, failed: 0 });
});
