// Entry point: REDIS_URL, HAPROXY_SOCKET, AVIARY_PROD_SLOTS, AVIARY_CANARY_SLOTS, and
// AVIARY_DEPLOYMENT (when set, per-role metrics go to CloudWatch every 10 s for the canary alarms).
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import pino from "pino";
import { startAgent } from "./agent";
import { CloudWatchMetricsSink } from "./cloudwatchPublisher";
import { MetricsSampler } from "./metrics";

// The canary alarms read 10 s high-resolution periods (alarms/definitions.ts).
const METRICS_INTERVAL_MS = 10_000;

function slotsFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new Error(`${name} must be an integer 0..64 (got ${raw})`);
  return n;
}

async function main(): Promise<void> {
  const logger = pino({ name: "aviary-agent" });
  const socketPath = process.env.HAPROXY_SOCKET;
  if (!socketPath) throw new Error("HAPROXY_SOCKET is not set (path of the haproxy admin socket)");
  const agent = await startAgent({
    redisUrl: process.env.REDIS_URL ?? "",
    socketPath,
    slots: { prod: slotsFromEnv("AVIARY_PROD_SLOTS", 4), canary: slotsFromEnv("AVIARY_CANARY_SLOTS", 2) },
    logger,
  });
  const deployment = process.env.AVIARY_DEPLOYMENT;
  let metrics: NodeJS.Timeout | undefined;
  if (deployment) {
    const sampler = MetricsSampler.forSocket(socketPath);
    const sink = new CloudWatchMetricsSink(new CloudWatchClient({}), deployment);
    metrics = setInterval(() => {
      sampler
        .sample()
        .then((m) => (m.length > 0 ? sink.publish(m) : undefined))
        // A missed sample only delays an alarm; routing must never depend on metrics.
        .catch((err: Error) => logger.warn({ err: err.message }, "metrics sample or publish failed"));
    }, METRICS_INTERVAL_MS);
  }
  const shutdown = (): void => {
    clearInterval(metrics);
    void agent.stop().then(() => process.exit(0));
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((err: Error) => {
  process.stderr.write(`aviary-agent: ${err.message}\n`);
  process.exit(1);
});
