// Stopping a child process politely: SIGTERM, then SIGKILL if it is still alive after a grace period.
import type { ChildProcess } from "node:child_process";

/** Resolves once the process has exited (at once if it already has). */
export async function stopProcess(proc: ChildProcess, graceMs = 3000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
