import * as fs from "node:fs";
import * as net from "node:net";
import { UnreachableError } from "../core/errors";

/** Everything the harness starts listens on loopback only. */
export const HOST = "127.0.0.1";

/** Lowest port handed out: above the well-known and most registered services' defaults. */
const LOWEST = 10_000;

/**
 * The first port of the kernel's ephemeral range. A port from that range (e.g. from a bind to 0)
 * can be taken by any outgoing connection between the check and the listener's own bind; ports
 * below it are never given to outgoing connections.
 */
export function ephemeralStart(rangeFile = "/proc/sys/net/ipv4/ip_local_port_range"): number {
  try {
    const low = Number(fs.readFileSync(rangeFile, "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST ? low : 32_768;
  } catch {
    return 32_768;
  }
}

// Two listeners of one process must never share a port (HAProxy binds with SO_REUSEPORT, so a
// second bind would silently succeed): a port is given out once per process.
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, HOST, () => s.close(() => resolve(true)));
  });
}

/**
 * A TCP port below the ephemeral range that was free on 127.0.0.1 a moment ago and that this process
 * has not handed out before.
 */
export async function freePort(): Promise<number> {
  const end = ephemeralStart();
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (end - LOWEST));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new UnreachableError("freePort: no port this process has not handed out already after 100 tries");
}
