// Who holds a TCP port on this machine, from /proc: the listening socket's inode in
// /proc/net/tcp{,6}, then the process with that socket open. A local Aviary stack's listeners are
// its HAProxy (config under <checkout>/.aviary/run/) and its runner (<checkout>/dist/local.js), so
// the owner's command line names the checkout.
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

export interface PortOwner {
  pid: number;
  cmd: string;
  /** The checkout of the Aviary stack the owner belongs to, when it is one. */
  checkout?: string;
}

/** True when nothing can stop us listening on 127.0.0.1:`port`. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Inodes of sockets listening on `port` in a /proc/net/tcp table's text. */
export function listeningInodes(table: string, port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  return table
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length > 9 && f[1].endsWith(`:${hexPort}`) && f[3] === "0A")
    .map((f) => f[9]);
}

/** The Aviary checkout a command line belongs to, if any. */
export function checkoutOf(cmd: string): string | undefined {
  const run = /(\S+)\/\.aviary\/run\//.exec(cmd);
  if (run) return run[1];
  const runner = /(\S+)\/dist\/local\.js(\s|$)/.exec(cmd);
  return runner ? runner[1] : undefined;
}

export function portOwner(port: number): PortOwner | undefined {
  const inodes = new Set(["tcp", "tcp6"].flatMap((t) => {
    try {
      return listeningInodes(fs.readFileSync(`/proc/net/${t}`, "utf8"), port);
    } catch {
      return [];
    }
  }));
  if (inodes.size === 0) return undefined;
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      for (const fd of fs.readdirSync(`/proc/${d}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${d}/fd/${fd}`));
        if (m && inodes.has(m[1])) {
          const cmd = fs.readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0/g, " ").trim();
          const checkout = checkoutOf(cmd);
          return { pid: Number(d), cmd, ...(checkout === undefined ? {} : { checkout: path.resolve(checkout) }) };
        }
      }
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return undefined;
}
