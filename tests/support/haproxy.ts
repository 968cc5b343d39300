// Shared helpers for tests that run the real haproxy binary (loopback only).
import * as http from "http";
import type * as net from "net";
import { BACKEND } from "../../haproxy/config";
import { parseShowStat } from "../../agent/metrics";
import { runtimeBatch, runtimeCommand } from "../../agent/runtimeApi";

export const HOST = "127.0.0.1";
import { until } from "../../local/until";
export { until };
export { freePort } from "../../local/freePort";

/** The agent's Runtime API client, reused so tests and agent speak the same protocol code. */
export const runtime = (socket: string, cmd: string): Promise<string> => runtimeCommand(socket, cmd);


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


/** Operational status of a server from `show stat` (e.g. "UP", "DOWN", "MAINT"). */
export async function status(socket: string, server: string): Promise<string> {
  const row = parseShowStat(await runtime(socket, "show stat")).find((r) => r.pxname === BACKEND && r.svname === server);
  return row?.status ?? "";
}

export { startHaproxy, type RunningHaproxy } from "../../local/haproxy";

/** Points slots at backends (weight 50, ready) through the Runtime API and waits until HAProxy's checks see them UP. */
export async function fillSlots(socket: string, slots: Record<string, number>): Promise<void> {
  for (const [slot, port] of Object.entries(slots)) {
    await runtimeBatch(socket, [`set server ${BACKEND}/${slot} addr ${HOST} port ${port}`, `set server ${BACKEND}/${slot} weight 50`, `set server ${BACKEND}/${slot} state ready`]);
  }
  await until(`${Object.keys(slots).join(", ")} UP`, async () => (await Promise.all(Object.keys(slots).map((s) => status(socket, s)))).every((s) => s === "UP"));
}
