import * as net from "node:net";
import { UnreachableError } from "../core/errors";

/** Everything the harness starts listens on loopback only. */
export const HOST = "127.0.0.1";

// The kernel may hand the same ephemeral port to two binds in a row once the first is closed; two
// listeners of one process then share it (HAProxy binds with SO_REUSEPORT), so a port is given out
// once per process.
const handedOut = new Set<number>();

function bindZero(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, HOST, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A TCP port that was free on 127.0.0.1 a moment ago and that this process has not handed out before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await bindZero();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new UnreachableError("freePort: no port this process has not handed out already after 100 tries");
}
