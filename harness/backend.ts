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

/** How a stand-in app answers: a share of 500s and a log-normal latency; changeable while it runs. */
export interface Behaviour {
  /** Probability of each answer being a 500. */
  errorRate: number;
  /** Median latency, ms (0: answer at once). */
  latencyMedianMs: number;
  /** Sigma of the latency's log. */
  latencySigma: number;
}

export interface BehavingBackend {
  server: http.Server;
  port: number;
  /** Changes how it answers from the next request on. */
  set(b: Partial<Behaviour>): void;
}

/**
 * An app stand-in answering with header x-aviary-version (as the app does, so harness/load.ts counts
 * it), 500 with probability errorRate and after a log-normal delay, from a seeded `rand` so runs repeat.
 * /healthz always answers 200 at once (HAProxy's checks must not see the injected faults).
 */
export function behavingBackend(version: string, initial: Behaviour, rand: () => number): Promise<BehavingBackend> {
  let b = { ...initial };
  const server = http.createServer((req, res) => {
    const answer = (status: number): void => {
      res.writeHead(status, { "x-aviary-version": version, "content-type": "text/plain" });
      res.end(version);
    };
    if (req.url === "/healthz") return answer(200);
    const status = rand() < b.errorRate ? 500 : 200;
    // Box–Muller: one standard normal from two uniforms.
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const delay = b.latencyMedianMs === 0 ? 0 : b.latencyMedianMs * Math.exp(b.latencySigma * z);
    if (delay < 1) answer(status);
    else setTimeout(() => answer(status), delay);
  });
  return new Promise((resolve) =>
    server.listen(0, HOST, () => resolve({ server, port: (server.address() as net.AddressInfo).port, set: (next) => (b = { ...b, ...next }) })),
  );
}
