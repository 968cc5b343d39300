// `npm start`: the local stack in the foreground until Ctrl-C. Env: AVIARY_PORT (proxy, 8080),
// AVIARY_ADMIN_PORT (dashboard, 8081), AVIARY_PERIOD_FACTOR (alarm periods and cooldowns ÷, 10).
import * as fs from "node:fs";
import * as path from "node:path";
import pino from "pino";
import { intFromEnv } from "../config/intFromEnv";
import { DEFAULT_PERIOD_FACTOR } from "./config";
import { LOCAL_STATE_FILE, type LocalStateFile } from "./stateFile";
import { startLocalStack, type LocalStack } from "./stack";

async function main(): Promise<void> {
  const logger = pino({ name: "aviary-local", level: process.env.LOG_LEVEL ?? "info" });
  const repoDir = path.resolve(__dirname, "..");
  const stateFile = path.join(repoDir, LOCAL_STATE_FILE);
  let stopping = false;
  const starting: Promise<LocalStack> = startLocalStack({
    repoDir,
    runDir: path.join(repoDir, ".aviary", "run"),
    stateDir: path.join(repoDir, ".aviary"),
    fresh: process.argv.includes("--fresh"),
    proxyPort: intFromEnv(process.env, "AVIARY_PORT", 8080, 1, 65535),
    adminPort: intFromEnv(process.env, "AVIARY_ADMIN_PORT", 8081, 1, 65535),
    periodFactor: intFromEnv(process.env, "AVIARY_PERIOD_FACTOR", DEFAULT_PERIOD_FACTOR, 1, 60),
    logger,
  });
  // Ctrl-C during start-up waits for it to finish (or fail, which cleans up after itself), then stops.
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info("stopping the local stack");
    fs.rmSync(stateFile, { force: true });
    await starting.then((s) => s.stop(), () => undefined);
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
  process.on("uncaughtException", (err) => {
    logger.fatal({ err: err.message }, "local runner crashed");
    void shutdown(1);
  });

  const stack = await starting;
  if (stopping) return;
  const state: LocalStateFile = { pid: process.pid, redisUrl: stack.redisUrl, proxyUrl: stack.proxyUrl, adminUrl: stack.adminUrl };
  fs.writeFileSync(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  process.stdout.write(
    [
      "",
      "Aviary local stack is up.",
      `  proxy      ${stack.proxyUrl}`,
      `  dashboard  ${stack.adminUrl}`,
      `  CLI        npx aviary status   (finds this stack through ${LOCAL_STATE_FILE}; or export REDIS_URL='${stack.redisUrl}')`,
      "  logs       .aviary/run/logs/",
      "Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
}

main().catch((err: Error) => {
  process.stderr.write(`aviary: the local stack failed to start: ${err.message}\n`);
  process.exit(1);
});
