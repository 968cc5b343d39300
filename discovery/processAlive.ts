// Whether a pid names a live process (signal 0 checks without sending anything). Kept apart from
// harness/procStat.ts, whose /proc readers the CLI's bundle does not need.
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
