// One admin-socket read shared by everything that samples HAProxy within the same moment (the
// rollout judge every second, the metrics loop every 10 s): a read started less than `maxAgeMs`
// ago, finished or still in flight, is handed out again instead of a new one.

/** Wraps `read` so calls within `maxAgeMs` of the last started read share its result; a failed read is not reused. */
export function sharedRead<T>(read: () => Promise<T>, maxAgeMs: number, now: () => number = Date.now): () => Promise<T> {
  let last: { startedAt: number; result: Promise<T> } | undefined;
  return () => {
    const t = now();
    if (last !== undefined && t - last.startedAt < maxAgeMs) return last.result;
    const result = read();
    const entry = { startedAt: t, result };
    last = entry;
    result.catch(() => {
      if (last === entry) last = undefined;
    });
    return result;
  };
}
