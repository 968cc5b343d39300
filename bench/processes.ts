// The bench's registry of what it started, so the end of a run and an interrupted one (SIGINT,
// SIGTERM, an error) stop every child process and remove every temporary file.
import type { ChildProcess } from "child_process";

export const children = new Set<ChildProcess>();
export const cleanups: (() => Promise<void> | void)[] = [];

/** Runs the registered cleanups newest first, then kills any child still alive. */
export async function cleanup(): Promise<void> {
  for (const c of cleanups.reverse()) {
    try { await c(); } catch { /* keep going */ }
  }
  cleanups.length = 0;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

/** Runs a bench entry point: cleanup() at the end, on error (exit 1) and on SIGINT/SIGTERM. */
export function runBench(main: () => Promise<void>): void {
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
}
