// Entry point: REDIS_URL, HAPROXY_SOCKET, AVIARY_PROD_SLOTS, AVIARY_CANARY_SLOTS.
import pino from "pino";
import { startAgent } from "./agent";

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
  const shutdown = (): void => void agent.stop().then(() => process.exit(0));
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((err: Error) => {
  process.stderr.write(`aviary-agent: ${err.message}\n`);
  process.exit(1);
});
