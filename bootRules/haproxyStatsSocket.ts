// Owner, group and mode of HAProxy's "stats socket" UNIX socket. Written from HAProxy's
// configuration.txt (bind options "user <user>: Sets the owner of the UNIX sockets", "group <group>",
// "mode <mode>: Sets the octal mode"): without them the socket keeps what bind(2) gave it: the
// creating process's user and group (the master, root under a unit without User=) and 0777 & ~umask
// (systemd's default UMask= is 0022).
import type { FileNode } from "./runtimeDirectory";

export interface StatsSocket extends FileNode {
  path: string;
}

const DEFAULT_UMASK = 0o022;

/** The first `stats socket` line of a rendered haproxy.cfg, as the process `creator` creates it. */
export function statsSocket(cfg: string, creator = { user: "root", group: "root" }): StatsSocket {
  const line = cfg.split("\n").map((l) => l.trim()).find((l) => l.startsWith("stats socket "));
  if (line === undefined) throw new Error("statsSocket: no `stats socket` line");
  const [, , path, ...params] = line.split(/\s+/);
  if (path === undefined || !path.startsWith("/")) throw new Error(`statsSocket: not a UNIX socket path: ${line}`);
  const param = (name: string): string | undefined => {
    const i = params.indexOf(name);
    return i < 0 ? undefined : params[i + 1];
  };
  const mode = param("mode");
  if (mode !== undefined && !/^[0-7]{3,4}$/.test(mode)) throw new Error(`statsSocket: bad mode ${mode}`);
  return {
    path,
    owner: param("user") ?? creator.user,
    group: param("group") ?? creator.group,
    mode: mode === undefined ? 0o777 & ~DEFAULT_UMASK : parseInt(mode, 8),
  };
}
