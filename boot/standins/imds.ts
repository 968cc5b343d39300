// The EC2 Instance Metadata Service (IMDSv2 only, as Aviary's launch templates require) for boot
// tests: one HTTP server answers every container, and which instance answers is chosen by the
// request's source address, as on EC2 each instance sees only its own metadata.
//
// Written from the EC2 user guide, "How Instance Metadata Service Version 2 works"
// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html):
// a session starts with PUT /latest/api/token carrying X-aws-ec2-metadata-token-ttl-seconds, a
// TTL from 1 second to 6 hours (21600); a missing or out-of-range TTL is 400 (Missing or Invalid
// Parameters); a PUT carrying X-Forwarded-For is refused (403), so no proxy can fetch a token;
// with tokens required, a read without a valid (unexpired) token is 401 Unauthorized; an unknown
// path is 404 (the error codes as "Access instance metadata for an EC2 instance" lists them:
// 400 Missing or Invalid Parameters, 401 Unauthorized, 403 Forbidden, 404 Not Found). The categories served are from "Instance metadata categories" (instance-id,
// local-ipv4, placement/region, placement/availability-zone, autoscaling/target-lifecycle-state)
// and "Instance identity documents" (/latest/dynamic/instance-identity/document: JSON with
// instanceId, region, availabilityZone, privateIp).
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export const IMDS_TOKEN_PATH = "/latest/api/token";
export const TOKEN_TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds";
export const TOKEN_HEADER = "x-aws-ec2-metadata-token";
export const MAX_TOKEN_TTL_SECONDS = 21600;

/** What one instance's metadata says about it. */
export interface ImdsInstance {
  instanceId: string;
  localIpv4: string;
  region: string;
  availabilityZone: string;
  /** Only instances in an Auto Scaling group have autoscaling/target-lifecycle-state. */
  targetLifecycleState?: string;
}

export interface ImdsRequest {
  method: string;
  path: string;
  /** Lower-case header names, as node gives them. */
  headers: Record<string, string | undefined>;
  /** The TCP peer address (IPv4, no ::ffff: prefix). */
  source: string;
}

export interface ImdsResponse {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

interface Session {
  source: string;
  expiresAtMs: number;
}

/** Tokens handed out so far: each belongs to the instance that asked for it. */
export class TokenStore {
  private readonly sessions = new Map<string, Session>();
  issue(source: string, ttlSeconds: number, nowMs: number): string {
    // Expired sessions are never valid again: drop them, so a watcher's token per read adds up to nothing.
    for (const [t, s] of this.sessions) if (nowMs >= s.expiresAtMs) this.sessions.delete(t);
    const token = randomBytes(32).toString("base64url");
    this.sessions.set(token, { source, expiresAtMs: nowMs + ttlSeconds * 1000 });
    return token;
  }
  get size(): number {
    return this.sessions.size;
  }
  valid(token: string | undefined, source: string, nowMs: number): boolean {
    const s = token === undefined ? undefined : this.sessions.get(token);
    return s !== undefined && s.source === source && nowMs < s.expiresAtMs;
  }
}

const TTL = /^[0-9]+$/;

/** The metadata tree of one instance: path under /latest/meta-data/ -> value. */
export function metadataTree(i: ImdsInstance): Map<string, string> {
  const tree = new Map<string, string>([
    ["instance-id", i.instanceId],
    ["local-ipv4", i.localIpv4],
    ["placement/region", i.region],
    ["placement/availability-zone", i.availabilityZone],
  ]);
  if (i.targetLifecycleState !== undefined) tree.set("autoscaling/target-lifecycle-state", i.targetLifecycleState);
  return tree;
}

/** A directory listing as IMDS gives it: one entry a line, sub-directories with a trailing slash. */
function listing(tree: Map<string, string>, dir: string): string | undefined {
  const entries = new Set<string>();
  for (const key of tree.keys()) {
    if (!key.startsWith(dir)) continue;
    const rest = key.slice(dir.length);
    const slash = rest.indexOf("/");
    entries.add(slash < 0 ? rest : `${rest.slice(0, slash)}/`);
  }
  return entries.size === 0 ? undefined : [...entries].sort().join("\n");
}

export function identityDocument(i: ImdsInstance): string {
  return JSON.stringify({
    availabilityZone: i.availabilityZone,
    instanceId: i.instanceId,
    privateIp: i.localIpv4,
    region: i.region,
    version: "2017-09-30",
  }, null, 2);
}

const text = (status: number, body: string, headers?: Record<string, string>): ImdsResponse => ({ status, body, ...(headers ? { headers } : {}) });

/** One IMDSv2 request, answered. Pure but for the token store. */
export function answerImds(req: ImdsRequest, instances: ReadonlyMap<string, ImdsInstance>, tokens: TokenStore, nowMs: number): ImdsResponse {
  const instance = instances.get(req.source);
  // Only an instance reaches its metadata service; nothing else is ever answered.
  if (!instance) return text(403, `Forbidden: ${req.source} is no instance of this metadata service\n`);
  const path = req.path.split("?")[0]!;
  if (path === IMDS_TOKEN_PATH) {
    if (req.method !== "PUT") return text(405, "Method Not Allowed\n");
    if (req.headers["x-forwarded-for"] !== undefined) return text(403, "Forbidden\n");
    const ttl = req.headers[TOKEN_TTL_HEADER];
    if (ttl === undefined || !TTL.test(ttl) || Number(ttl) < 1 || Number(ttl) > MAX_TOKEN_TTL_SECONDS) return text(400, "Missing or Invalid Parameters\n");
    return text(200, tokens.issue(req.source, Number(ttl), nowMs), { [TOKEN_TTL_HEADER]: ttl });
  }
  if (req.method !== "GET" && req.method !== "HEAD") return text(405, "Method Not Allowed\n");
  if (!tokens.valid(req.headers[TOKEN_HEADER], req.source, nowMs)) return text(401, "Unauthorized\n");
  if (path === "/latest/dynamic/instance-identity/document") return text(200, identityDocument(instance));
  const META = "/latest/meta-data/";
  if (path.startsWith(META)) {
    const tree = metadataTree(instance);
    const key = path.slice(META.length);
    const value = key.endsWith("/") || key === "" ? listing(tree, key) : tree.get(key);
    if (value !== undefined) return text(200, value);
  }
  return text(404, "Not Found\n");
}

/** `::ffff:10.0.0.5` (an IPv4 peer on a dual-stack socket) as `10.0.0.5`. */
export function peerAddress(remote: string | undefined): string {
  return (remote ?? "").replace(/^::ffff:/, "");
}

export interface ImdsOptions {
  host: string;
  port: number;
  /** Source address -> the instance that address belongs to. */
  instances: Record<string, ImdsInstance>;
  /** Clock for token expiry; tests move it. */
  now?: () => number;
}

export interface ImdsServer {
  url: string;
  port: number;
  /** Every request answered, in order: what each boot script asked. */
  readonly log: { source: string; method: string; path: string; status: number }[];
  /** Changes an instance's metadata (e.g. its target lifecycle state), as EC2 does over its life. */
  update(source: string, change: Partial<ImdsInstance>): void;
  close(): Promise<void>;
}

/** Listens on host:port (the harness: 169.254.169.254:80 on the bridge; tests: 127.0.0.1:0). */
export function startImds(o: ImdsOptions): Promise<ImdsServer> {
  const instances = new Map(Object.entries(o.instances).map(([k, v]) => [k, { ...v }]));
  const tokens = new TokenStore();
  const now = o.now ?? Date.now;
  const log: ImdsServer["log"] = [];
  const server = http.createServer((req, res) => {
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    const request = { method: req.method ?? "GET", path: req.url ?? "/", headers, source: peerAddress(req.socket.remoteAddress) };
    const answer = answerImds(request, instances, tokens, now());
    log.push({ source: request.source, method: request.method, path: request.path, status: answer.status });
    res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
    res.end(request.method === "HEAD" ? undefined : answer.body);
    // Request bodies are never read; drain so keep-alive connections stay usable.
    req.resume();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${o.host}:${port}`,
        port,
        log,
        update(source, change) {
          const current = instances.get(source);
          if (!current) throw new Error(`imds: no instance at ${source}`);
          instances.set(source, { ...current, ...change });
        },
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}
