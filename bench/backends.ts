// The proxy benches' backends: 3 prod + 1 canary plain Node servers on 127.0.0.1, closed at cleanup().
import { backend } from "../harness/backend";
import { cleanups } from "./processes";

export const BACKEND_VERSIONS = ["prod", "prod", "prod", "canary"] as const;

/** Their ports, in BACKEND_VERSIONS order. */
export async function startBackends(): Promise<number[]> {
  const backends = await Promise.all(BACKEND_VERSIONS.map((v) => backend(v)));
  for (const b of backends) cleanups.push(() => new Promise<void>((r) => { b.server.closeAllConnections(); b.server.close(() => r()); }));
  return backends.map((b) => b.port);
}
