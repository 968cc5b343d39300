// Once `npm start` is up it writes where its Redis is (mode 0600: the URL holds the password), so
// `bin/aviary …` (or `npx aviary …`) in the same checkout works without exporting REDIS_URL. The file is removed when
// the stack stops; which runner holds the checkout is in .aviary/lock (local/stackLock.ts).
// The local runner writes it and the CLI reads it: it lives here, outside local/, so the CLI's
// bundle does not pull in local mode.
import * as fs from "node:fs";
import * as path from "node:path";
import { processAlive } from "./processAlive";

export const LOCAL_STATE_FILE = ".aviary/local.json";

export interface LocalStateFile {
  pid: number;
  redisUrl: string;
  proxyUrl: string;
  adminUrl: string;
}

/** The running local stack's state file under `dir`, if its runner is still alive. */
export function readLocalState(dir: string): LocalStateFile | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(path.join(dir, LOCAL_STATE_FILE), "utf8")) as Partial<LocalStateFile>;
    if (typeof s.pid !== "number" || typeof s.redisUrl !== "string" || typeof s.proxyUrl !== "string" || typeof s.adminUrl !== "string") return undefined;
    // A stale file after a crash: its runner is gone.
    return processAlive(s.pid) ? (s as LocalStateFile) : undefined;
  } catch {
    return undefined;
  }
}
