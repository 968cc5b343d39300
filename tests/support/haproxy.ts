// Shared helpers for tests that run the real haproxy binary (loopback only).
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import { BACKEND } from "../../haproxy/config";
import { runtimeCommand } from "../../agent/runtimeApi";

export const HOST = "127.0.0.1";

/** The agent's Runtime API client, reused so tests and agent speak the same protocol code. */
export const runtime = (socket: string, cmd: string): Promise<string> => runtimeCommand(socket, cmd);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, HOST, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Seen { xff?: string; proto?: string; cookie?: string }

/** Tiny app server answering every path with an x-version header; records non-health requests. */
export function backend(version: string, seen?: Seen[]): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    if (seen && req.url !== "/healthz") {
      seen.push({ xff: req.headers["x-forwarded-for"] as string | undefined, proto: req.headers["x-forwarded-proto"] as string | undefined, cookie: req.headers.cookie });
    }
    res.writeHead(200, { "x-version": version, "content-type": "text/plain" });
    res.end(version);
  });
  return new Promise((resolve) => server.listen(0, HOST, () => resolve({ server, port: (server.address() as net.AddressInfo).port })));
}

export async function until(what: string, fn: () => Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Operational status of a server from `show stat` (e.g. "UP", "DOWN", "MAINT"). */
export async function status(socket: string, server: string): Promise<string> {
  const csv = await runtime(socket, "show stat");
  const header = csv.split("\n")[0].replace(/^# /, "").split(",");
  const col = header.indexOf("status");
  const row = csv.split("\n").map((l) => l.split(",")).find((r) => r[0] === BACKEND && r[1] === server);
  return row ? row[col] : "";
}

export interface RunningHaproxy {
  proc: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** Starts `haproxy -W -db -f cfg` and waits until the admin socket answers. */
/**
 * Starts haproxy in the foreground. Its output is kept (last 4 KB) for error messages, or, with
 * `logFile`, written straight to that file so no Node process spends CPU reading per-request logs.
 */
export async function startHaproxy(cfg: string, socket: string, logFile?: string): Promise<RunningHaproxy> {
  const fd = logFile === undefined ? undefined : fs.openSync(logFile, "a");
  const proc = spawn("haproxy", ["-W", "-db", "-f", cfg], { stdio: fd === undefined ? ["ignore", "pipe", "pipe"] : ["ignore", fd, fd] });
  if (fd !== undefined) fs.closeSync(fd);
  let out = "";
  const keep = (d: Buffer): void => void (out = (out + d).slice(-4000));
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    const t = setTimeout(() => proc.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(t);
  };
  try {
    await until("admin socket", async () => {
      if (proc.exitCode !== null) throw new Error(`haproxy exited ${proc.exitCode}`);
      return fs.existsSync(socket) && (await runtime(socket, "show info").catch(() => "")).includes("Pid:");
    });
  } catch (e) {
    await stop();
    const output = logFile === undefined ? out : fs.readFileSync(logFile, "utf8").slice(-4000);
    throw new Error(`${(e as Error).message}\nhaproxy output:\n${output}`);
  }
  return { proc, log: () => (logFile === undefined ? out : fs.readFileSync(logFile, "utf8").slice(-4000)), stop };
}
