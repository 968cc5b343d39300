/**
 * The Aviary sample app that the prod fleet and the canary run: `/`, `/healthz`, `/work?ms=N` (CPU
 * work for load demos), `/hiddenfeature`
 * (404 unless flag `hiddenfeature` is on for this request), `/banner` (JSON flag `banner` for this
 * request, the code's default when flags are unavailable), header `x-aviary-version`, self-
 * registration + heartbeat in the backend registry, graceful shutdown on SIGTERM (deregister,
 * drain, exit), and demo-only fault injection switched by flags when AVIARY_DEMO_FAULTS=on (the
 * local stack; on AWS only with aviary:demoFaults true). Scope them to one version with a targeting
 * rule such as `version=1.5.0:high`:
 *   demo-error-rate        number, % of requests answered 500
 *   demo-latency-ms        number, delay added before answering
 *   demo-memory-growth-mb  number, MB retained per second (capped; released when back to 0)
 * Config comes from the environment, see configFromEnv().
 */
import * as http from "node:http";
import os from "node:os";
import path from "node:path";
import { OpenFeature, type Client, type EvaluationContext } from "@openfeature/server-sdk";
import type Redis from "ioredis";
import pino, { type Logger } from "pino";
import { intFromEnv } from "../core/env";
import { isRole, type Role } from "../core/routing/role";
import { AviaryFlagProvider } from "../flags/provider";
import { connect } from "../state/connection";
import { deregisterBackend, heartbeat, registerBackend } from "../state/registry";
import { logComponent } from "../core/logComponent";
import { ConfigError } from "../core/errors";
import { BANNER_FLAG, DEFAULT_BANNER, bannerOf, requestContext, type BannerAnswer } from "./banner";

export interface AppConfig {
  version: string;
  role: Role;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Without it the app runs alone: no flags (code defaults), no registration. */
  redisUrl: string | undefined;
  instanceId: string;
  /** host:port the proxy should use; default first non-loopback IPv4 and the bound port. */
  address: string | undefined;
  snapshotFile: string;
  heartbeatMs: number;
  ttlSeconds: number;
  /** How long to keep serving after deregistering, so the proxy stops sending new requests first. */
  drainDelayMs: number;
  /** Longest wait for in-flight requests before closing their sockets. */
  drainTimeoutMs: number;
  faults: boolean;
  memoryCapMb: number;
}

const MB = 1024 * 1024;

/** Registry ids allow A-Z a-z 0-9 . _ -; hostnames may carry anything else. */
function safeId(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 64) || "app";
}

/** AVIARY_DEMO_FAULTS=on turns the demo-* fault flags on; unset or "off" leaves them inert. */
function demoFaultsFromEnv(env: NodeJS.ProcessEnv): boolean {
  const value = env.AVIARY_DEMO_FAULTS ?? "off";
  if (value !== "on" && value !== "off") throw new ConfigError(`AVIARY_DEMO_FAULTS must be on or off (got ${JSON.stringify(value)})`);
  return value === "on";
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const role = env.AVIARY_ROLE ?? "prod";
  if (!isRole(role)) throw new ConfigError(`AVIARY_ROLE must be prod or canary (got ${JSON.stringify(role)})`);
  const port = intFromEnv(env, "PORT", 3000, 0, 65535);
  const instanceId = safeId(env.AVIARY_INSTANCE_ID ?? `${os.hostname()}-${port}`);
  return {
    version: env.AVIARY_VERSION ?? "dev",
    role,
    host: env.HOST ?? "0.0.0.0",
    port,
    redisUrl: env.REDIS_URL === "" ? undefined : env.REDIS_URL,
    instanceId,
    address: env.AVIARY_ADDRESS === "" ? undefined : env.AVIARY_ADDRESS,
    snapshotFile: env.AVIARY_FLAG_SNAPSHOT ?? path.join(os.tmpdir(), `aviary-flags-${instanceId}.json`),
    heartbeatMs: intFromEnv(env, "AVIARY_HEARTBEAT_MS", 5000, 100, 60_000),
    ttlSeconds: intFromEnv(env, "AVIARY_TTL_SECONDS", 15, 1, 3600),
    drainDelayMs: intFromEnv(env, "AVIARY_DRAIN_DELAY_MS", 1000, 0, 60_000),
    drainTimeoutMs: intFromEnv(env, "AVIARY_DRAIN_TIMEOUT_MS", 10_000, 0, 120_000),
    faults: demoFaultsFromEnv(env),
    memoryCapMb: intFromEnv(env, "AVIARY_DEMO_MEMORY_CAP_MB", 512, 0, 65536),
  };
}

/** First non-internal IPv4 of this machine: what other instances in the VPC can reach. */
function privateIPv4(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

export interface HandlerOptions {
  version: string;
  role: Role;
  instanceId: string;
  /** Absent: every flag is at its code default (hiddenfeature off, no faults). */
  flags?: Client;
  /**
   * The same flags through the provider's synchronous path, for the fault flags checked on every
   * request (~0.1 µs instead of the SDK's async API, tens of µs: see BENCHMARKS.md).
   */
  provider?: AviaryFlagProvider;
  faults?: boolean;
  /** True once shutdown began: health checks fail and keep-alive connections are closed. */
  draining?: () => boolean;
  logger?: Logger;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export function createHandler(opts: HandlerOptions): Handler {
  const { version, role, instanceId, flags, provider } = opts;
  /** What every request's context carries: this instance. */
  const baseContext: EvaluationContext = { version, role, instance: instanceId };
  const faultContext: EvaluationContext = { ...baseContext, targetingKey: instanceId };
  const faults = provider !== undefined && opts.faults !== false;
  const faultValue = (key: string): number => provider?.resolve(key, 0, faultContext, "number").value ?? 0;

  async function serveBanner(ctx: EvaluationContext, res: http.ServerResponse): Promise<void> {
    const details = flags === undefined ? undefined : await flags.getObjectDetails(BANNER_FLAG, { ...DEFAULT_BANNER }, ctx);
    const served = details === undefined ? DEFAULT_BANNER : bannerOf(details.value);
    if (details !== undefined && served === undefined) opts.logger?.warn({ flag: BANNER_FLAG, variant: details.variant }, "banner flag value is not {text, color}; using the code default");
    const body: BannerAnswer = {
      banner: served ?? DEFAULT_BANNER,
      variant: served === undefined ? null : (details?.variant ?? null),
      reason: details?.reason ?? "no flags",
      ...(details?.errorCode === undefined ? {} : { errorCode: details.errorCode }),
    };
    res.writeHead(200, { "content-type": "application/json" }).end(`${JSON.stringify(body)}\n`);
  }

  async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader("x-aviary-version", version);
    res.setHeader("content-type", "text/plain; charset=utf-8");
    if (opts.draining?.()) res.setHeader("connection", "close");
    const url = new URL(req.url ?? "/", "http://app");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end("method not allowed\n");
      return;
    }
    if (url.pathname === "/healthz") {
      // Health checks are never faulted: the demo's faults are for the alarms and controller to catch.
      if (opts.draining?.()) res.writeHead(503).end("draining\n");
      else res.writeHead(200).end("ok\n");
      return;
    }
    if (faults) {
      const latency = faultValue("demo-latency-ms");
      if (latency > 0) await new Promise((r) => setTimeout(r, Math.min(latency, 60_000)));
      const errorRate = faultValue("demo-error-rate");
      if (errorRate > 0 && Math.random() * 100 < errorRate) {
        res.writeHead(500).end("injected error (demo-error-rate)\n");
        return;
      }
    }
    if (url.pathname === "/") {
      res.writeHead(200).end(`aviary ${version}\n`);
    } else if (url.pathname === "/work") {
      // Demo load: burns `ms` of CPU (1..50) so the fleet's CPU alarm has something to see.
      const ms = Number(url.searchParams.get("ms") ?? "5");
      if (!Number.isInteger(ms) || ms < 1 || ms > 50) {
        res.writeHead(400).end("ms must be an integer from 1 to 50\n");
        return;
      }
      const end = performance.now() + ms;
      let spins = 0;
      while (performance.now() < end) spins++;
      res.writeHead(200).end(`worked ${ms} ms (${spins} spins)\n`);
    } else if (url.pathname === "/hiddenfeature") {
      const on = flags !== undefined && (await flags.getBooleanValue("hiddenfeature", false, requestContext(req.headers, url, baseContext)));
      if (on) res.writeHead(200).end(`hidden feature (aviary ${version})\n`);
      else res.writeHead(404).end("not found\n");
    } else if (url.pathname === "/banner") {
      await serveBanner(requestContext(req.headers, url, baseContext), res);
    } else {
      res.writeHead(404).end("not found\n");
    }
  }

  return (req, res) => {
    serve(req, res).catch((err: Error) => {
      opts.logger?.error({ err: err.message, url: req.url }, "request failed");
      if (!res.headersSent) res.writeHead(500);
      res.end("internal error\n");
    });
  };
}

/** Flag-free handler (every flag at its code default), kept for embedding and the bundle test. */
export const handle: Handler = createHandler({
  version: process.env.AVIARY_VERSION ?? "dev",
  role: process.env.AVIARY_ROLE === "canary" ? "canary" : "prod",
  instanceId: "embedded",
});

export interface RunningApp {
  port: number;
  /** What the registry holds for this instance (host:port). */
  address: string;
  flags: AviaryFlagProvider | undefined;
  /** Graceful stop: deregister, keep serving drainDelayMs, stop accepting, drain, close. */
  stop(reason?: string): Promise<void>;
}

/** Retains memory while demo-memory-growth-mb > 0 (up to the cap); frees it when back to 0. */
function startMemoryGrowth(client: Client, ctx: EvaluationContext, capMb: number, logger: Logger): NodeJS.Timeout {
  const retained: Buffer[] = [];
  const retainedMb = (): number => retained.reduce((n, b) => n + b.length, 0) / MB;
  const timer = setInterval(() => {
    void client.getNumberValue("demo-memory-growth-mb", 0, ctx).then((mb) => {
      if (mb > 0 && retainedMb() < capMb) {
        retained.push(Buffer.alloc(Math.min(mb, capMb - retainedMb()) * MB, 1)); // filled, so the pages are really committed
        logger.warn({ retainedMb: Math.round(retainedMb()) }, "demo memory growth");
      } else if (mb <= 0 && retained.length > 0) {
        retained.length = 0;
        logger.info("demo memory growth off; released");
      }
    });
  }, 1000);
  timer.unref();
  return timer;
}

export async function startApp(config: AppConfig, logger: Logger = pino({ base: { ...logComponent("aviary"), version: config.version, role: config.role } })): Promise<RunningApp> {
  let draining = false;
  let provider: AviaryFlagProvider | undefined;
  let client: Client | undefined;
  let redis: Redis | undefined;
  if (config.redisUrl !== undefined) {
    provider = new AviaryFlagProvider({ redisUrl: config.redisUrl, snapshotFile: config.snapshotFile, logger });
    try {
      await OpenFeature.setProviderAndWait(config.instanceId, provider);
    } catch (err) {
      // Not fatal: the provider keeps retrying and flags use their code defaults meanwhile.
      logger.warn({ err: (err as Error).message }, "flags unavailable at start; using code defaults");
    }
    client = OpenFeature.getClient(config.instanceId);
    redis = connect(config.redisUrl, { logger });
  } else {
    logger.warn("REDIS_URL not set: no flags (code defaults) and no registration");
  }

  const server = http.createServer(
    createHandler({ version: config.version, role: config.role, instanceId: config.instanceId, flags: client, provider, faults: config.faults, draining: () => draining, logger }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const address = config.address ?? `${privateIPv4()}:${port}`;
  logger.info({ port, address, instanceId: config.instanceId }, "listening");

  const reg = { id: config.instanceId, role: config.role, address, version: config.version, ttlSeconds: config.ttlSeconds };
  let registered = false;
  const keepRegistered = async (): Promise<void> => {
    if (!redis || draining) return;
    try {
      if (registered && (await heartbeat(redis, reg.id, reg.ttlSeconds))) return;
      await registerBackend(redis, reg);
      if (!registered) logger.info({ id: reg.id, address }, "registered");
      else logger.warn({ id: reg.id }, "registration had expired; registered again");
      registered = true;
    } catch (err) {
      logger.warn({ err: (err as Error).message }, "registry unavailable; will retry");
    }
  };
  await keepRegistered();
  const heartbeatTimer = setInterval(() => void keepRegistered(), config.heartbeatMs);
  const faultCtx: EvaluationContext = { targetingKey: config.instanceId, version: config.version, role: config.role, instance: config.instanceId };
  const memoryTimer = client && config.faults ? startMemoryGrowth(client, faultCtx, config.memoryCapMb, logger) : undefined;

  let stopping: Promise<void> | undefined;
  const stop = (reason = "shutdown"): Promise<void> =>
    (stopping ??= (async () => {
      draining = true;
      clearInterval(heartbeatTimer);
      clearInterval(memoryTimer);
      if (redis) {
        try {
          await deregisterBackend(redis, reg.id, { by: reg.id, reason });
          logger.info({ id: reg.id, reason }, "deregistered");
        } catch (err) {
          logger.warn({ err: (err as Error).message }, "could not deregister; the registry TTL will expire it");
        }
      }
      await new Promise((r) => setTimeout(r, config.drainDelayMs));
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const timeout = setTimeout(() => server.closeAllConnections(), config.drainTimeoutMs);
      await closed;
      clearTimeout(timeout);
      await provider?.onClose();
      if (redis) await redis.quit().catch(() => redis?.disconnect());
      logger.info("stopped");
    })());

  return { port, address, flags: provider, stop };
}

export function main(): void {
  const logger = pino({ base: logComponent("aviary") });
  process.on("uncaughtException", (err) => {
    logger.fatal({ err: err.message, stack: err.stack }, "uncaught exception");
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => logger.error({ err: String(err) }, "unhandled rejection"));
  let config: AppConfig;
  try {
    config = configFromEnv();
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, "bad configuration");
    process.exit(2);
  }
  const appLogger = logger.child({ version: config.version, role: config.role, instance: config.instanceId });
  void startApp(config, appLogger).then(
    (app) => {
      for (const sig of ["SIGTERM", "SIGINT"] as const) {
        process.once(sig, () => {
          appLogger.info({ signal: sig }, "shutting down");
          // Hard stop if draining hangs: systemd would SIGKILL later anyway.
          setTimeout(() => process.exit(1), config.drainDelayMs + config.drainTimeoutMs + 5000).unref();
          void app.stop(sig).then(() => process.exit(0));
        });
      }
    },
    (err: Error) => {
      appLogger.fatal({ err: err.message }, "could not start");
      process.exit(1);
    },
  );
}

if (require.main === module) main();
