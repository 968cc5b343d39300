// `--watch`: refresh now and then every interval until the signal aborts (Ctrl-C, SIGTERM).
import { setTimeout as sleep } from "node:timers/promises";

/** Homes the cursor and clears a terminal, so each refresh redraws in place. */
export const CLEAR_SCREEN = "\x1b[H\x1b[2J";

export async function repeatUntilAborted(intervalMs: number, signal: AbortSignal, refresh: () => Promise<void>): Promise<void> {
  while (!signal.aborted) {
    await refresh();
    // Rejects (AbortError) as soon as the signal aborts: that ends the loop, it is not a failure.
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
}
