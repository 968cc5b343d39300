// The bench's registry of what it started, so the end of a run and an interrupted one (SIGINT,
// SIGTERM, SIGHUP, an error, a crash) stop every child process and remove every temporary file.
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

/**
 * Registers a stop with cleanup() and returns it, run at most once: by the caller when its section
 * is done, or by cleanup() when the run is interrupted first.
 */
export function stopWithCleanup(stop: () => Promise<void> | void): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = (): Promise<void> => (done ??= Promise.resolve().then(stop));
  cleanups.push(once);
  return once;
}

/** A step's start and, when done, how long it took: no step stays silent for long. */
export async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  console.log(`bench: ${what} …`);
  const result = await run();
  console.log(`bench: ${what} done (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return result;
}

/**
 * Runs a bench entry point: cleanup() at the end, on error (exit 1), on a crash (an uncaught
 * exception such as a spawn ENOENT, exit 1) and on SIGINT/SIGTERM/SIGHUP. The children run in
 * their own process groups, so nothing else stops them if this process does not.
 */
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
  process.on("SIGHUP", () => void bail(129)());
  process.on("uncaughtException", (e) => void bail(1)(e));
  process.on("unhandledRejection", (e) => void bail(1)(e));
  main().then(() => bail(0)(), (e) => bail(1)(e));
}
