// Which version answers each of `n` requests through the proxy: the split the proxy tests measure.

export interface VersionSplit {
  prod: number;
  canary: number;
  failed: number;
}

/**
 * Sends `n` requests, `concurrency` at a time. `ask` makes one and resolves to the version that
 * answered ("prod" or "canary"); anything else, or a rejection, counts as failed (never throws).
 */
export async function versionSplit(n: number, concurrency: number, ask: () => Promise<unknown>): Promise<VersionSplit> {
  const r = { prod: 0, canary: 0, failed: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      try {
        const v = await ask();
        if (v === "canary") r.canary++;
        else if (v === "prod") r.prod++;
        else r.failed++;
      } catch {
        r.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return r;
}
