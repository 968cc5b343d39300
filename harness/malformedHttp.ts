// Malformed and oversized HTTP/1.1 requests, sent as raw bytes to Aviary's HAProxy config and to a
// default nginx reverse proxy in front of the same backend, which records what reaches it. Used by
// tests/integration/harness/malformedHttp.test.ts (assertions) and the bench (the table, bench/malformedHttp.ts). Loopback only.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { renderHaproxyConfig } from "../haproxy/config";
import { ProcessError } from "../core/errors";
import { backend, type Seen } from "./backend";
import { freePort, HOST } from "./freePort";
import { startHaproxy } from "./haproxy";
import { until } from "./until";

export interface MalformedCase {
  name: string;
  bytes: Buffer;
  /** A well-formed request, sent as a control: it must reach the backend. */
  valid?: boolean;
  /** Well-formed per RFC 9112 but ambiguous; a proxy may normalise it instead of refusing. */
  normalisable?: boolean;
}

const big = (n: number): string => "a".repeat(n);
const req = (s: string): Buffer => Buffer.from(s, "latin1");

export const MALFORMED_CASES: readonly MalformedCase[] = [
  { name: "control: valid GET", bytes: req("GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n"), valid: true },
  { name: "request line is not HTTP", bytes: req("HELLO WORLD\r\n\r\n") },
  { name: "unknown HTTP version (HTTP/9.9)", bytes: req("GET / HTTP/9.9\r\nHost: app\r\n\r\n") },
  { name: "URI of 64 KiB", bytes: req(`GET /${big(65_536)} HTTP/1.1\r\nHost: app\r\n\r\n`) },
  { name: "one header of 64 KiB", bytes: req(`GET / HTTP/1.1\r\nHost: app\r\nX-Big: ${big(65_536)}\r\n\r\n`) },
  { name: "200 headers of 100 bytes", bytes: req(`GET / HTTP/1.1\r\nHost: app\r\n${Array.from({ length: 200 }, (_, i) => `X-H${i}: ${big(100)}\r\n`).join("")}\r\n`) },
  { name: "space inside a header name", bytes: req("GET / HTTP/1.1\r\nHost: app\r\nBad Header: x\r\n\r\n") },
  { name: "space before the colon (obfuscated Transfer-Encoding)", bytes: req("POST / HTTP/1.1\r\nHost: app\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n") },
  { name: "NUL byte in a header value", bytes: req("GET / HTTP/1.1\r\nHost: app\r\nX-A: a\u0000b\r\n\r\n") },
  { name: "NUL byte in the URI", bytes: req("GET /a\u0000b HTTP/1.1\r\nHost: app\r\n\r\n") },
  { name: "two different Content-Length", bytes: req("POST / HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!") },
  { name: "non-numeric Content-Length", bytes: req("POST / HTTP/1.1\r\nHost: app\r\nContent-Length: 5x\r\n\r\nhello") },
  { name: "Content-Length and Transfer-Encoding: chunked (smuggling)", bytes: req("POST / HTTP/1.1\r\nHost: app\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG"), normalisable: true },
  { name: "Transfer-Encoding: xchunked", bytes: req("POST / HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n") },
  { name: "Transfer-Encoding: chunked, identity", bytes: req("POST / HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n") },
  { name: "chunk size not hex", bytes: req("POST / HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n") },
  { name: "HTTP/1.1 without Host", bytes: req("GET / HTTP/1.1\r\nConnection: close\r\n\r\n") },
  { name: "two Host headers", bytes: req("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") },
  { name: "header folding (obs-fold)", bytes: req("GET / HTTP/1.1\r\nHost: app\r\nX-A: a\r\n b\r\n\r\n"), normalisable: true },
];

/** Status code of the first response line, 0 if the connection closed without one. */
export function sendRaw(port: number, bytes: Buffer, timeoutMs = 3000): Promise<number> {
  return new Promise((resolve) => {
    const sock = net.connect(port, HOST);
    let buf = "";
    const done = (code: number): void => {
      sock.destroy();
      resolve(code);
    };
    sock.setTimeout(timeoutMs, () => done(Number(/^HTTP\/1\.[01] (\d{3})/.exec(buf)?.[1] ?? 0)));
    sock.on("error", () => done(Number(/^HTTP\/1\.[01] (\d{3})/.exec(buf)?.[1] ?? 0)));
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
      if (m) done(Number(m[1]));
    });
    sock.on("end", () => done(Number(/^HTTP\/1\.[01] (\d{3})/.exec(buf)?.[1] ?? 0)));
    sock.write(bytes);
  });
}

export interface MalformedTargets {
  aviaryPort: number;
  nginxPort: number;
  /** Requests the backend received, per proxy (each has its own backend). */
  seen: { aviary: Seen[]; nginx: Seen[] };
  stop(): Promise<void>;
}

/** HAProxy with Aviary's template (one prod slot filled) and nginx with its defaults, each before its own recording backend. */
export async function startMalformedTargets(): Promise<MalformedTargets> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aviary-malformed-"));
  const seen = { aviary: [] as Seen[], nginx: [] as Seen[] };
  const stops: (() => Promise<void>)[] = [async () => fs.rmSync(dir, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const [forAviary, forNginx] = await Promise.all([backend("prod", seen.aviary), backend("prod", seen.nginx)]);
    for (const b of [forAviary, forNginx]) stops.push(() => new Promise<void>((r) => { b.server.closeAllConnections(); b.server.close(() => r()); }));

    const aviaryPort = await freePort();
    const socket = path.join(dir, "haproxy.sock");
    const cfg = path.join(dir, "haproxy.cfg");
    fs.writeFileSync(cfg, renderHaproxyConfig({ bind: `${HOST}:${aviaryPort}`, statsBind: `${HOST}:${await freePort()}`, socketPath: socket, prodSlots: 1, canarySlots: 1 })
      .replace(/server prod1 127\.0\.0\.1:1 check disabled weight 0/, `server prod1 ${HOST}:${forAviary.port} check weight 1`));
    const haproxy = await startHaproxy(cfg, socket, path.join(dir, "haproxy.log"));
    stops.push(() => haproxy.stop());

    const nginxPort = await freePort();
    const conf = path.join(dir, "nginx.conf");
    fs.writeFileSync(conf, `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    server {
        listen ${HOST}:${nginxPort};
        location / { proxy_pass http://${HOST}:${forNginx.port}; proxy_http_version 1.1; }
    }
}
`);
    const nginx = spawn("nginx", ["-p", dir, "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let nginxErr = "";
    nginx.stderr?.on("data", (d) => (nginxErr += d));
    stops.push(async () => {
      if (nginx.exitCode !== null || nginx.signalCode !== null) return;
      const exited = new Promise((r) => nginx.once("exit", r));
      nginx.kill("SIGTERM");
      await exited;
    });
    await until("nginx and haproxy answer", async () => {
      if (nginx.exitCode !== null) throw new ProcessError(`nginx exited ${nginx.exitCode}: ${nginxErr}`);
      const valid = MALFORMED_CASES[0].bytes;
      return (await sendRaw(nginxPort, valid, 500)) === 200 && (await sendRaw(aviaryPort, valid, 500)) === 200;
    });
    seen.aviary.length = 0;
    seen.nginx.length = 0;
    return { aviaryPort, nginxPort, seen, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface MalformedRow {
  name: string;
  valid: boolean;
  normalisable: boolean;
  aviary: number;
  nginx: number;
  /** How many requests the backend behind each proxy received for this case. */
  reached: { aviary: number; nginx: number };
}

/** Sends every case to both proxies, one at a time, and notes what reached each backend. */
export async function compareMalformed(t: MalformedTargets): Promise<MalformedRow[]> {
  const rows: MalformedRow[] = [];
  for (const c of MALFORMED_CASES) {
    const before = { aviary: t.seen.aviary.length, nginx: t.seen.nginx.length };
    const [aviary, nginx] = [await sendRaw(t.aviaryPort, c.bytes), await sendRaw(t.nginxPort, c.bytes)];
    await new Promise((r) => setTimeout(r, 100)); // anything forwarded has arrived by now
    rows.push({ name: c.name, valid: c.valid === true, normalisable: c.normalisable === true, aviary, nginx, reached: { aviary: t.seen.aviary.length - before.aviary, nginx: t.seen.nginx.length - before.nginx } });
  }
  return rows;
}
