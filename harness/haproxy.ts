// Runs the real haproxy binary for the local runner, the tests and the bench, and talks to it
// through the agent's own Runtime API client, so they speak the same protocol code as the agent.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseShowStat } from "../agent/metrics";
import { runtimeBatch, runtimeCommand } from "../agent/runtimeApi";
import { slotCommands } from "../adapters/routingBackend/haproxy";
import { ProcessError } from "../core/errors";
import { BACKEND, renderHaproxyConfig } from "../haproxy/config";
import { freePort, HOST } from "./freePort";
import { diesWithParent } from "./parentDeath";
import { stopProcess } from "./stopProcess";
import { until } from "./until";

export interface RunningHaproxy {
  proc: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts `haproxy -W -db -f cfg` in the foreground and waits until the admin socket answers. Its output is kept (last 4 KB) for error messages, or, with
 * `logFile`, written straight to that file so no Node process spends CPU reading per-request logs.
 */
export async function startHaproxy(cfg: string, socket: string, logFile?: string): Promise<RunningHaproxy> {
  const fd = logFile === undefined ? undefined : fs.openSync(logFile, "a", 0o600);
  // detached: its own process group, so Ctrl-C on the local runner does not stop it before the apps drain.
  // The master dies with its parent; its workers exit when the master goes.
  const run = diesWithParent("haproxy", ["-W", "-db", "-f", cfg]);
  const proc = spawn(run.command, run.args, { stdio: fd === undefined ? ["ignore", "pipe", "pipe"] : ["ignore", fd, fd], detached: true });
  if (fd !== undefined) fs.closeSync(fd);
  let out = "";
  const keep = (d: Buffer): void => void (out = (out + d).slice(-4000));
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  const stop = (): Promise<void> => stopProcess(proc);
  try {
    await until("admin socket", async () => {
      if (proc.exitCode !== null) throw new ProcessError(`haproxy exited ${proc.exitCode}`);
      return fs.existsSync(socket) && (await runtimeCommand(socket, "show info").catch(() => "")).includes("Pid:");
    });
  } catch (e) {
    await stop();
    const output = logFile === undefined ? out : fs.readFileSync(logFile, "utf8").slice(-4000);
    throw new ProcessError(`${(e as Error).message}\nhaproxy output:\n${output}`);
  }
  return { proc, log: () => (logFile === undefined ? out : fs.readFileSync(logFile, "utf8").slice(-4000)), stop };
}

export interface RenderedHaproxy {
  haproxy: RunningHaproxy;
  /** The admin socket. */
  socket: string;
  /** The port clients send to, on 127.0.0.1. */
  webPort: number;
}

/** Renders haproxy/config.ts's config into `dir` (on free loopback ports) and starts HAProxy on it. */
export async function startRenderedHaproxy(dir: string, o: { prodSlots: number; canarySlots: number; checkIntervalMs?: number; testerRouting?: boolean }): Promise<RenderedHaproxy> {
  const socket = path.join(dir, "admin.sock");
  const cfg = path.join(dir, "haproxy.cfg");
  const webPort = await freePort();
  const statsPort = await freePort();
  fs.writeFileSync(cfg, renderHaproxyConfig({ bind: `${HOST}:${webPort}`, statsBind: `${HOST}:${statsPort}`, socketPath: socket, prodSlots: o.prodSlots, canarySlots: o.canarySlots, checkIntervalMs: o.checkIntervalMs, testerRouting: o.testerRouting }));
  return { haproxy: await startHaproxy(cfg, socket), socket, webPort };
}

/** Operational status of a server from `show stat` (e.g. "UP", "DOWN", "MAINT"). */
export async function status(socket: string, server: string): Promise<string> {
  const row = parseShowStat(await runtimeCommand(socket, "show stat")).find((r) => r.pxname === BACKEND && r.svname === server);
  return row?.status ?? "";
}

/** Points slots at backends (weight 50, ready) through the Runtime API and waits until HAProxy's checks see them UP. */
export async function fillSlots(socket: string, slots: Record<string, number>): Promise<void> {
  for (const [slot, port] of Object.entries(slots)) {
    await runtimeBatch(socket, slotCommands({ slot, address: HOST, port, weight: 50, state: "ready" }));
  }
  await until(`${Object.keys(slots).join(", ")} UP`, async () => (await Promise.all(Object.keys(slots).map((s) => status(socket, s)))).every((s) => s === "UP"));
}
