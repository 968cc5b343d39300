// One local stack per checkout: an exclusive flock(2) on .aviary/lock, taken before anything under
// .aviary/ is touched. The lock belongs to the runner's open file (flock(1) locks the descriptor it
// inherits, which stays shared with the runner), so the kernel releases it when the runner dies,
// however it dies: a stale lock of a dead runner can never block a start.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { ProcessError } from "../core/errors";

export const LOCK_FILE = "lock";

/** What the lock file says about the runner holding it. */
export interface LockHolder {
  pid: number;
  proxyUrl: string;
  adminUrl: string;
  startedAt: string;
}

export type LockResult = { taken: true; describe(holder: LockHolder): void } | { taken: false; holder: LockHolder | undefined };

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    return typeof h.pid === "number" && typeof h.proxyUrl === "string" && typeof h.adminUrl === "string" && typeof h.startedAt === "string" ? (h as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads who holds the lock in `file` (undefined while a new holder has not written itself yet). */
export function readLockHolder(file: string): LockHolder | undefined {
  try {
    return parseHolder(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * Tries to take the lock `file` (created 0600 if missing, never truncated before it is held). The
 * descriptor stays open for the life of the process; `describe` then writes the holder into it.
 */
export function takeLock(file: string): LockResult {
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  const r = spawnSync("flock", ["--nonblock", "--exclusive", "3"], { stdio: ["ignore", "ignore", "pipe", fd] });
  if (r.error) {
    fs.closeSync(fd);
    throw new ProcessError(`flock (util-linux) could not run: ${r.error.message}`);
  }
  if (r.status !== 0) {
    fs.closeSync(fd);
    if (r.status === 1) return { taken: false, holder: readLockHolder(file) };
    throw new ProcessError(`flock failed on ${file}: ${r.stderr.toString().trim()}`);
  }
  return {
    taken: true,
    describe: (holder) => {
      const text = Buffer.from(JSON.stringify(holder, null, 2));
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, text, 0, text.length, 0);
    },
  };
}
