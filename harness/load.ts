// A bounded HTTP load generator for the local stack (loopback only): `concurrency` keep-alive
// clients without cookies (every request a new visitor, so the split shows), counting answers
// per version (x-aviary-version) and failures. Used by `npm run demo` and the end-to-end tests.
import * as http from "node:http";
import { InvalidInputError } from "../core/errors";

export interface LoadSample {
  at: number;
  version: string;
  status: number;
}

export interface LoadOptions {
  /** Must point at 127.0.0.1. */
  url: string;
  concurrency: number;
  /** Pause between a client's requests, ms (0 = as fast as possible). */
  pauseMs?: number;
  /** Hard cap on requests, however long it runs. */
  maxRequests?: number;
  /** Samples kept for counts(since)/onSample windows (default 500,000); totals are kept apart. */
  keepSamples?: number;
}

export interface LoadCounts {
  total: number;
  failed: number;
  byVersion: Record<string, number>;
}

function count(c: LoadCounts, s: LoadSample): void {
  c.total++;
  if (s.status < 200 || s.status >= 500) c.failed++;
  else c.byVersion[s.version] = (c.byVersion[s.version] ?? 0) + 1;
}

export class Load {
  private readonly agent: http.Agent;
  private readonly samples: LoadSample[] = [];
  private running = true;
  private sent = 0;
  private readonly done: Promise<void>;
  private concurrency: number;
  private readonly listeners = new Set<(s: LoadSample) => void>();
  private readonly totals: LoadCounts = { total: 0, failed: 0, byVersion: {} };

  constructor(private readonly o: LoadOptions) {
    const u = new URL(o.url);
    if (u.hostname !== "127.0.0.1") throw new InvalidInputError(`load generator targets 127.0.0.1 only (got ${u.hostname})`);
    this.concurrency = o.concurrency;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.done = Promise.all(Array.from({ length: 64 }, (_, i) => this.client(i))).then(() => undefined);
  }

  /** Changes how many clients send (up to 64) while it runs. */
  setConcurrency(n: number): void {
    this.concurrency = Math.max(0, Math.min(64, n));
  }

  onSample(listener: (s: LoadSample) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Counts over the samples since `since` (ms epoch); without `since`, over the whole run. */
  counts(since?: number): LoadCounts {
    if (since === undefined) return { ...this.totals, byVersion: { ...this.totals.byVersion } };
    const c: LoadCounts = { total: 0, failed: 0, byVersion: {} };
    for (const s of this.samples) if (s.at >= since) count(c, s);
    return c;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    this.agent.destroy();
  }

  private async client(i: number): Promise<void> {
    while (this.running && (this.o.maxRequests === undefined || this.sent < this.o.maxRequests)) {
      if (i >= this.concurrency) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      this.sent++;
      const s = await this.once();
      this.samples.push(s);
      count(this.totals, s);
      const keep = this.o.keepSamples ?? 500_000;
      if (this.samples.length > keep) this.samples.splice(0, Math.ceil(keep / 5));
      for (const l of this.listeners) l(s);
      if (this.o.pauseMs) await new Promise((r) => setTimeout(r, this.o.pauseMs));
    }
  }

  private once(): Promise<LoadSample> {
    return new Promise((resolve) => {
      const req = http.get(this.o.url, { agent: this.agent, timeout: 5000 }, (res) => {
        res.resume();
        res.on("end", () => resolve({ at: Date.now(), version: String(res.headers["x-aviary-version"] ?? ""), status: res.statusCode ?? 0 }));
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => resolve({ at: Date.now(), version: "", status: 0 }));
    });
  }
}
