// The proxy stack the proxy tests run against, all on 127.0.0.1: a real redis-server, HAProxy
// rendered from haproxy/config.ts, and the agent filling its slots through the HAProxy routing backend.
import type Redis from "ioredis";
import type { Logger } from "pino";
import { haproxyRoutingBackend } from "../../adapters/routingBackend/haproxy";
import { startAgent, type Agent } from "../../agent/agent";
import { startRenderedHaproxy, type RunningHaproxy } from "../../harness/haproxy";
import { startRedisServer, type RedisServer } from "../../harness/redisServer";
import { connect } from "../../state/connection";

export interface ProxyStackOptions {
  /** Where the HAProxy config and admin socket go (the test's temp dir). */
  dir: string;
  prodSlots: number;
  canarySlots: number;
  resyncMs: number;
  logger: Logger;
  checkIntervalMs?: number;
  /** aviary:proxy.testerRouting in the rendered config (default false). */
  testerRouting?: boolean;
  /** Runs once Redis and HAProxy are up and before the agent starts: register backends, set routing. */
  seed?: (redis: Redis, redisServer: RedisServer) => Promise<void>;
}

export interface ProxyStack {
  redisServer: RedisServer;
  /** A client on redisServer, for the test's writes. */
  redis: Redis;
  haproxy: RunningHaproxy;
  agent: Agent;
  /** HAProxy's admin socket (for `status`). */
  socket: string;
  webPort: number;
  /** Stops the agent, the client, HAProxy and redis-server, in that order. */
  stop(): Promise<void>;
}

/** Starts the stack; on a failure part way, stops what it had started and rethrows. */
export async function startProxyStack(options: ProxyStackOptions): Promise<ProxyStack> {
  let redisServer: RedisServer | undefined;
  let redis: Redis | undefined;
  let haproxy: RunningHaproxy | undefined;
  let agent: Agent | undefined;
  const stop = async (): Promise<void> => {
    await agent?.stop();
    redis?.disconnect();
    await haproxy?.stop();
    await redisServer?.stop();
  };
  try {
    redisServer = await startRedisServer();
    redis = connect(redisServer.url);
    const rendered = await startRenderedHaproxy(options.dir, options);
    haproxy = rendered.haproxy;
    const { socket, webPort } = rendered;
    await options.seed?.(redis, redisServer);
    agent = await startAgent({ redisUrl: redisServer.url, backend: haproxyRoutingBackend(socket), slots: { prod: options.prodSlots, canary: options.canarySlots }, resyncMs: options.resyncMs, logger: options.logger });
    return { redisServer, redis, haproxy, agent, socket, webPort, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
