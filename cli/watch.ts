// `--watch`: refresh now and then every interval until the signal aborts (Ctrl-C, SIGTERM).
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { RedisUnreachableError } from "../state/unreachable";
import { parseIntArg, UsageError } from "./common";

/** Homes the cursor and clears a terminal, so each refresh redraws in place. */
export const CLEAR_SCREEN = "\x1b[H\x1b[2J";

export async function repeatUntilAborted(intervalMs: number, signal: AbortSignal, refresh: () => Promise<void>): Promise<void> {
  while (!signal.aborted) {
    await refresh();
    // Rejects (AbortError) as soon as the signal aborts: that ends the loop, it is not a failure.
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
}

export interface WatchableOptions {
  json?: boolean;
  watch?: boolean;
  interval?: string;
}

/** Adds --json, --watch and --interval to a read command. */
export function watchable(command: Command): Command {
  return command
    .option("--json", "print JSON (with --watch: one line per refresh)")
    .option("--watch", "refresh until Ctrl-C: redraws a terminal, prints a new block otherwise")
    .option("--interval <seconds>", "seconds between refreshes with --watch (default 2)");
}

export interface WatchedRead<T> {
  /** The command as the header names it, e.g. "aviary status". */
  name: string;
  read: (at: Date) => Promise<T>;
  text: (report: T) => string;
  problems: (report: T) => readonly string[];
  out: (s: string) => void;
  err: (s: string) => void;
  warn: (problems: readonly string[]) => void;
  isTTY: boolean;
  signal: AbortSignal;
}

/**
 * Prints a read once or, with --watch, at every interval until the signal aborts: a terminal is
 * redrawn in place, a pipe gets a new block each time, --json a line each. The options are checked
 * before anything is read.
 */
export async function printWatchable<T extends object>(o: WatchableOptions, r: WatchedRead<T>): Promise<void> {
  if (o.interval !== undefined && !o.watch) throw new UsageError("--interval needs --watch");
  const seconds = parseIntArg("interval", o.interval ?? "2", 1, 3600);
  if (!o.watch) {
    const report = await r.read(new Date());
    r.warn(r.problems(report));
    r.out(o.json ? JSON.stringify(report, null, 2) + "\n" : r.text(report));
    return;
  }
  const tty = r.isTTY && !o.json;
  await repeatUntilAborted(seconds * 1000, r.signal, async () => {
    const now = new Date();
    const at = now.toISOString();
    let report: T;
    try {
      report = await r.read(now);
    } catch (err) {
      // A watch outlives a Redis restart: say so and try again at the next refresh.
      if (!(err instanceof RedisUnreachableError)) throw err;
      r.err(`aviary: ${at} ${err.message} (retrying every ${seconds}s)\n`);
      return;
    }
    r.warn(r.problems(report));
    if (o.json) r.out(JSON.stringify({ at, ...report }) + "\n");
    else r.out(`${tty ? CLEAR_SCREEN : ""}every ${seconds}s: ${r.name}  ${at}\n${r.text(report)}${tty ? "" : "\n"}`);
  });
}
