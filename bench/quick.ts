// AVIARY_BENCH_QUICK=1: a smoke run of every section in a few minutes (fewer rounds and
// repetitions, a 20 s soak unless AVIARY_SOAK_SECONDS says otherwise), written to
// test-output/BENCHMARKS.quick.md so BENCHMARKS.md keeps the full run's figures.

export class BenchQuickError extends Error {}

export function benchQuick(env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env.AVIARY_BENCH_QUICK;
  if (raw === undefined || raw === "" || raw === "0") return false;
  if (raw === "1") return true;
  throw new BenchQuickError(`AVIARY_BENCH_QUICK must be 1 or 0 (got ${JSON.stringify(raw)})`);
}

/** A count of rounds or repetitions: the full run's, or the quick run's. */
export function rounds(full: number, quick: number, env: NodeJS.ProcessEnv = process.env): number {
  return benchQuick(env) ? quick : full;
}
