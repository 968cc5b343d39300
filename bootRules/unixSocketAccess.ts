// Can a user connect to a UNIX stream socket? Written from unix(7) ("On Linux, connecting to a stream
// socket object requires write permission on that socket"), path_resolution(7) (search permission on
// every directory of the path; the owner class applies to the owner, else the group class to members
// of the file's group, else other) and capabilities(7) (CAP_DAC_OVERRIDE, which root holds, bypasses both).
import type { FileNode } from "./runtimeDirectory";

export interface Principal {
  user: string;
  /** Primary and supplementary groups. */
  groups: readonly string[];
}

export interface SocketPath {
  /** Every directory from / down to the socket's directory. */
  directories: readonly (FileNode & { path: string })[];
  socket: FileNode;
}

export type Access = { ok: true } | { ok: false; reason: string };

const SEARCH = 1;
const WRITE = 2;

function allowed(who: Principal, node: FileNode, bit: number): boolean {
  if (who.user === node.owner) return ((node.mode >> 6) & bit) !== 0;
  if (who.groups.includes(node.group)) return ((node.mode >> 3) & bit) !== 0;
  return (node.mode & bit) !== 0;
}

const mode = (n: number): string => n.toString(8).padStart(4, "0");

export function canConnect(who: Principal, path: SocketPath): Access {
  if (who.user === "root") return { ok: true };
  for (const dir of path.directories) {
    if (!allowed(who, dir, SEARCH)) {
      return { ok: false, reason: `${who.user} may not search ${dir.path} (${dir.owner}:${dir.group} ${mode(dir.mode)})` };
    }
  }
  if (!allowed(who, path.socket, WRITE)) {
    const s = path.socket;
    return { ok: false, reason: `${who.user} may not write the socket (${s.owner}:${s.group} ${mode(s.mode)})` };
  }
  return { ok: true };
}
