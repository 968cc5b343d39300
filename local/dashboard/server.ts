// The local dashboard: the page, a JSON status endpoint, a live stream (SSE) and flag toggles,
// on 127.0.0.1 only. Every request must name the dashboard's own loopback origin in Host (against
// DNS rebinding) and every write also in Origin (against cross-site posts); writes also need a
// JSON content type, which a browser only sends cross-origin after a CORS preflight.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { RedisUnreachableError } from "../../state/unreachable";
import type { ActivityFeed } from "../activity";
import { checkHost, checkWrite, type OriginCheck } from "./origin";
import { CONTENT_SECURITY_POLICY } from "./csp";
import { PAGE_CSS, PAGE_HTML } from "./page";
import { PAGE_SCRIPT } from "./pageScript";
import { InvalidInputError } from "../../core/errors";

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** The page's files: its own script and stylesheet, and the charting library from node_modules (no CDN). */
const ASSETS: Record<string, { body: () => string | Buffer; type: string }> = {
  "/page.js": { body: () => PAGE_SCRIPT, type: JS },
  "/page.css": { body: () => PAGE_CSS, type: CSS },
  "/vendor/uplot.js": { body: () => fs.readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js")), type: JS },
  "/vendor/uplot.css": { body: () => fs.readFileSync(require.resolve("uplot/dist/uPlot.min.css")), type: CSS },
};

/** On every answer: the page may load only from this origin, and no type is sniffed. */
const SECURITY_HEADERS = { "content-security-policy": CONTENT_SECURITY_POLICY, "x-content-type-options": "nosniff" };

export interface DashboardOptions<S> {
  port: number;
  status: () => Promise<S>;
  /** Turns a flag on or off (the change is audited in the event stream by the caller). */
  setFlag: (key: string, on: boolean) => Promise<void>;
  /** Lifts a flag's kill switch (audited by the caller). */
  unkillFlag: (key: string) => Promise<void>;
  activity: ActivityFeed;
  logger: Logger;
  /** How often the stream pushes a fresh status. */
  pushMs?: number;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

const FLAG_PATH = /^\/api\/flags\/([a-z0-9][a-z0-9._-]{0,63})$/;
const UNKILL_PATH = /^\/api\/flags\/([a-z0-9][a-z0-9._-]{0,63})\/unkill$/;
const MAX_BODY = 4096;

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      raw += chunk;
      if (raw.length > MAX_BODY) reject(new InvalidInputError("request body too large"));
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(raw));
      } catch {
        reject(new InvalidInputError("request body is not JSON"));
      }
    });
    req.on("error", reject);
  });
}

export function startDashboard<S>(o: DashboardOptions<S>): Promise<Dashboard> {
  const streams = new Set<http.ServerResponse>();
  const sse = (res: http.ServerResponse, event: string, data: unknown): void => void res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  const server = http.createServer((req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const route = `${req.method} ${url.pathname}`;
    const { port } = server.address() as AddressInfo;
    const allowed: OriginCheck = req.method === "GET" || req.method === "HEAD" ? checkHost(req.headers.host, port) : checkWrite(req.headers.host, req.headers.origin, port);
    if (!allowed.ok) {
      o.logger.warn({ host: req.headers.host, origin: req.headers.origin, route }, "dashboard refused a request from another origin");
      return send(res, allowed.status, { error: allowed.message });
    }
    const asset = req.method === "GET" ? ASSETS[url.pathname] : undefined;
    if (asset) {
      res.writeHead(200, { "content-type": asset.type, "cache-control": "no-cache" });
      res.end(asset.body());
    } else if (route === "GET /") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(PAGE_HTML);
    } else if (route === "GET /api/status") {
      // Broken sections are in the body (200); 503 only when Redis itself cannot be reached.
      o.status().then((s) => send(res, 200, s), (err: Error) => send(res, err instanceof RedisUnreachableError ? 503 : 500, { error: err.message }));
    } else if (route === "GET /api/stream") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      streams.add(res);
      req.on("close", () => streams.delete(res));
      o.status().then((s) => sse(res, "status", s), () => undefined);
    } else if (req.method === "POST" && FLAG_PATH.test(url.pathname)) {
      const key = FLAG_PATH.exec(url.pathname)![1];
      if (!(req.headers["content-type"] ?? "").startsWith("application/json")) return send(res, 415, { error: "send JSON: {\"on\": true|false}" });
      readJson(req)
        .then(async (body) => {
          const on = (body as { on?: unknown } | null)?.on;
          if (typeof on !== "boolean") return send(res, 400, { error: "body must be {\"on\": true|false}" });
          await o.setFlag(key, on);
          send(res, 200, { key, on });
        })
        .catch((err: Error) => send(res, 400, { error: err.message }));
    } else if (req.method === "POST" && UNKILL_PATH.test(url.pathname)) {
      const key = UNKILL_PATH.exec(url.pathname)![1];
      if (!(req.headers["content-type"] ?? "").startsWith("application/json")) return send(res, 415, { error: "send JSON: {}" });
      readJson(req)
        .then(async () => {
          await o.unkillFlag(key);
          send(res, 200, { key, killed: false });
        })
        .catch((err: Error) => send(res, 400, { error: err.message }));
    } else {
      send(res, 404, { error: `no route ${route}` });
    }
  });

  const push = (): void => {
    if (streams.size === 0) return;
    o.status().then(
      (s) => streams.forEach((r) => sse(r, "status", s)),
      (err: Error) => o.logger.warn({ err: err.message }, "dashboard status failed"),
    );
  };
  // A controller action or alarm is pushed at once, as a whole new snapshot (never on its own, which
  // would put it next to panels from an older one).
  const unsubscribe = o.activity.subscribe(push);
  const timer = setInterval(push, o.pushMs ?? 1000);

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            clearInterval(timer);
            unsubscribe();
            for (const s of streams) s.end();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
