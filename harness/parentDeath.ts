// Children that die with the runner however it dies: through util-linux `setpriv --pdeathsig`, the
// kernel sends the child SIGKILL when the runner exits, even on SIGKILL or a closed terminal, where
// no handler of the runner's own can run.
import { accessSync, constants } from "node:fs";
import * as path from "node:path";

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).concat("/usr/bin", "/bin")) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

const SETPRIV = process.platform === "linux" ? findOnPath("setpriv") : undefined;

/**
 * The command line that runs `command args` with a parent-death signal of SIGKILL. The pid stays the
 * child's own (setpriv execs it). Without setpriv (not Linux) the command is returned as it is.
 */
export function diesWithParent(command: string, args: readonly string[]): { command: string; args: string[] } {
  return SETPRIV === undefined ? { command, args: [...args] } : { command: SETPRIV, args: ["--pdeathsig", "SIGKILL", "--", command, ...args] };
}
