// Entry point: REDIS_URL, HAPROXY_SOCKET, AVIARY_PROD_SLOTS, AVIARY_CANARY_SLOTS, AVIARY_PROXY_ID
// (default: the host name) and AVIARY_DEPLOYMENT (when set, per-role metrics go to CloudWatch every
// 10 s for the canary alarms; counts and the latency histogram are both read from HAProxy's admin
// socket, one read shared by the metrics loop and the rollout judge).
import * as os from "node:os";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import pino from "pino";
import { startAgent } from "./agent";
import { CloudWatchMetricsSink } from "../adapters/metricsSink/aws";
import { MetricsSampler, readCounters, readLatencyTable } from "./metrics";
import { startMetricsLoop } from "./metricsLoop";
import { startRolloutJudge, JUDGE_INTERVAL_MS } from "./rolloutJudge";
import { runtimeCommand } from "./runtimeApi";
import { sharedRead } from "./sharedRead";
import { connect } from "../state/connection";
import { intFromEnv } from "../core/env";
import { logComponent } from "../core/logComponent";
import { ConfigError } from "../core/errors";
import { haproxyRoutingBackend } from "../adapters/routingBackend/haproxy";

const slotsFromEnv = (name: string, fallback: number): number => intFromEnv(process.env, name, fallback, 0, 64);

async function main(): Promise<void> {
  const logger = pino().child(logComponent("aviary-agent"));
  const socketPath = process.env.HAPROXY_SOCKET;
  if (!socketPath) throw new ConfigError("HAPROXY_SOCKET is not set (path of the haproxy admin socket)");
  const redisUrl = process.env.REDIS_URL ?? "";
  const agent = await startAgent({
    redisUrl,
    backend: haproxyRoutingBackend(socketPath),
    slots: { prod: slotsFromEnv("AVIARY_PROD_SLOTS", 4), canary: slotsFromEnv("AVIARY_CANARY_SLOTS", 2) },
    logger,
  });
  // Reads started within one judge interval of each other share one socket round.
  const within = JUDGE_INTERVAL_MS - 100;
  const readStats = sharedRead(() => runtimeCommand(socketPath, "show stat"), within);
  const readLatency = sharedRead(() => readLatencyTable(socketPath), within);
  const judgeRedis = connect(redisUrl, { logger });
  const judge = startRolloutJudge({ redis: judgeRedis, proxyId: process.env.AVIARY_PROXY_ID || os.hostname(), readCounters: () => readCounters(readStats, readLatency), logger });
  const deployment = process.env.AVIARY_DEPLOYMENT;
  const stopMetrics = deployment
    ? startMetricsLoop({ sampler: new MetricsSampler(readStats, readLatency), sink: new CloudWatchMetricsSink(new CloudWatchClient({}), deployment), logger, judgeAborts: () => judge.takeAborts() })
    : undefined;
  const shutdown = (): void => {
    stopMetrics?.();
    void Promise.all([agent.stop(), judge.stop()])
      .then(() => judgeRedis.quit())
      .finally(() => process.exit(0));
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((err: Error) => {
  process.stderr.write(`aviary-agent: ${err.message}\n`);
  process.exit(1);
});
