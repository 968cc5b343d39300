// Runs the real haproxy binary for the local runner, the tests and the bench.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { runtimeCommand } from "../agent/runtimeApi";
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
      if (proc.exitCode !== null) throw new Error(`haproxy exited ${proc.exitCode}`);
      return fs.existsSync(socket) && (await runtimeCommand(socket, "show info").catch(() => "")).includes("Pid:");
    });
  } catch (e) {
    await stop();
    const output = logFile === undefined ? out : fs.readFileSync(logFile, "utf8").slice(-4000);
    throw new Error(`${(e as Error).message}\nhaproxy output:\n${output}`);
  }
  return { proc, log: () => (logFile === undefined ? out : fs.readFileSync(logFile, "utf8").slice(-4000)), stop };
}
