// Entry point: REDIS_URL, HAPROXY_SOCKET, AVIARY_PROD_SLOTS, AVIARY_CANARY_SLOTS, and
// AVIARY_DEPLOYMENT (when set, per-role metrics go to CloudWatch every 10 s for the canary alarms;
// counts and the latency histogram are both read from HAProxy's admin socket).
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import pino from "pino";
import { startAgent } from "./agent";
import { CloudWatchMetricsSink } from "../adapters/metricsSink/aws";
import { MetricsSampler } from "./metrics";
import { startMetricsLoop } from "./metricsLoop";
import { intFromEnv } from "../core/env";
import { logComponent } from "../core/logComponent";
import { ConfigError } from "../core/errors";
import { haproxyRoutingBackend } from "../adapters/routingBackend/haproxy";

const slotsFromEnv = (name: string, fallback: number): number => intFromEnv(process.env, name, fallback, 0, 64);

async function main(): Promise<void> {
  const logger = pino().child(logComponent("aviary-agent"));
  const socketPath = process.env.HAPROXY_SOCKET;
  if (!socketPath) throw new ConfigError("HAPROXY_SOCKET is not set (path of the haproxy admin socket)");
  const agent = await startAgent({
    redisUrl: process.env.REDIS_URL ?? "",
    backend: haproxyRoutingBackend(socketPath),
    slots: { prod: slotsFromEnv("AVIARY_PROD_SLOTS", 4), canary: slotsFromEnv("AVIARY_CANARY_SLOTS", 2) },
    logger,
  });
  const deployment = process.env.AVIARY_DEPLOYMENT;
  const stopMetrics = deployment
    ? startMetricsLoop({ sampler: MetricsSampler.forSocket(socketPath), sink: new CloudWatchMetricsSink(new CloudWatchClient({}), deployment), logger })
    : undefined;
  const shutdown = (): void => {
    stopMetrics?.();
    void agent.stop().then(() => process.exit(0));
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((err: Error) => {
  process.stderr.write(`aviary-agent: ${err.message}\n`);
  process.exit(1);
});
