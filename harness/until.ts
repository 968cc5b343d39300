import { TimeoutError } from "../core/errors";

/** Polls `fn` every 25 ms until it returns true; rejects naming `what` after `ms`. */
export async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new TimeoutError(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
