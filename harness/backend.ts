// A stand-in for the app behind HAProxy in tests and the bench: a plain Node server on loopback.
import * as http from "node:http";
import type * as net from "node:net";
import { HOST } from "./freePort";

export interface Seen { xff?: string; proto?: string; cookie?: string }

/** Tiny app server answering every path with an x-version header; records non-health requests. */
export function backend(version: string, seen?: Seen[]): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    if (seen && req.url !== "/healthz") {
      seen.push({ xff: req.headers["x-forwarded-for"] as string | undefined, proto: req.headers["x-forwarded-proto"] as string | undefined, cookie: req.headers.cookie });
    }
    res.writeHead(200, { "x-version": version, "content-type": "text/plain" });
    res.end(version);
  });
  return new Promise((resolve) => server.listen(0, HOST, () => resolve({ server, port: (server.address() as net.AddressInfo).port })));
}
