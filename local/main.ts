// `npm start`: the local stack in the foreground until Ctrl-C (or SIGTERM, SIGHUP). Env: AVIARY_PORT
// (proxy, 8080), AVIARY_ADMIN_PORT (dashboard, 8081), AVIARY_PERIOD_FACTOR (alarm periods and
// cooldowns ÷, 10). One stack per checkout (.aviary/lock) and per port set; every child dies with
// the runner; a start after a crash first kills the leftovers of the dead runner.
import * as fs from "node:fs";
import * as path from "node:path";
import { intFromEnv } from "../core/env";
import { alreadyRunningMessage, stackUpBanner } from "./banner";
import { DEFAULT_PERIOD_FACTOR } from "./config";
import { ChildRecorder, CHILDREN_FILE, killLeftovers } from "./leftovers";
import { portFree, portOwner } from "./portOwner";
import { processAlive } from "../discovery/processAlive";
import { logLevelFromEnv, runnerLogger } from "./runnerLog";
import { startLocalStack, type LocalStack } from "./stack";
import { LOCK_FILE, readLockHolder, takeLock } from "./stackLock";
import { LOCAL_STATE_FILE, type LocalStateFile } from "../discovery/localStateFile";

const fail = (message: string): never => {
  process.stderr.write(message.endsWith("\n") ? message : `${message}\n`);
  process.exit(1);
};

/** Why `port` cannot be used, naming the Aviary stack that holds it when it is one. */
function portTakenMessage(what: string, port: number): string {
  const owner = portOwner(port);
  if (owner === undefined) return `aviary: ${what} port ${port} is in use; nothing was started. Set ${what === "proxy" ? "AVIARY_PORT" : "AVIARY_ADMIN_PORT"} to a free port.`;
  const holder = owner.checkout === undefined ? undefined : readLockHolder(path.join(owner.checkout, ".aviary", LOCK_FILE));
  const stack =
    owner.checkout === undefined
      ? `${owner.cmd} (pid ${owner.pid})`
      : holder !== undefined && processAlive(holder.pid)
        ? `the Aviary local stack of ${owner.checkout} (runner pid ${holder.pid}, dashboard ${holder.adminUrl})`
        : `a leftover of a dead Aviary runner of ${owner.checkout}: ${owner.cmd} (pid ${owner.pid}; \`kill ${owner.pid}\` ends it)`;
  return `aviary: ${what} port ${port} is held by ${stack}; nothing was started. Stop it, or set AVIARY_PORT / AVIARY_ADMIN_PORT to free ports.`;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  // Everything the runner and its children write (logs, configs, flag snapshots, Redis' files) is the user's alone.
  process.umask(0o077);
  const repoDir = path.resolve(__dirname, "..");
  const aviaryDir = path.join(repoDir, ".aviary");
  const runDir = path.join(aviaryDir, "run");
  const stateFile = path.join(repoDir, LOCAL_STATE_FILE);
  const proxyPort = intFromEnv(process.env, "AVIARY_PORT", 8080, 1, 65535);
  const adminPort = intFromEnv(process.env, "AVIARY_ADMIN_PORT", 8081, 1, 65535);
  const periodFactor = intFromEnv(process.env, "AVIARY_PERIOD_FACTOR", DEFAULT_PERIOD_FACTOR, 1, 60);
  const logLevel = logLevelFromEnv(process.env);
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const adminUrl = `http://127.0.0.1:${adminPort}`;

  // The lock first: before it, nothing under .aviary/ but the lock file itself is touched.
  fs.mkdirSync(aviaryDir, { recursive: true, mode: 0o700 });
  const lockFile = path.join(aviaryDir, LOCK_FILE);
  const lock = takeLock(lockFile);
  if (!lock.taken) return void fail(alreadyRunningMessage(lock.holder, path.relative(process.cwd(), lockFile) || lockFile));
  fs.chmodSync(aviaryDir, 0o700);

  const leftovers = await killLeftovers(path.join(aviaryDir, CHILDREN_FILE));
  for (const [what, port] of [["proxy", proxyPort], ["dashboard", adminPort]] as const) {
    if (!(await portFree(port))) return void fail(portTakenMessage(what, port));
  }
  lock.describe({ pid: process.pid, proxyUrl, adminUrl, startedAt: new Date(t0).toISOString() });

  fs.rmSync(runDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(runDir, "logs"), { recursive: true, mode: 0o700 });
  const logger = runnerLogger(path.join(runDir, "logs", "runner.log"), logLevel);
  for (const r of leftovers) logger.warn({ pid: r.pid, cmd: r.cmd }, "killed a leftover process of a runner that died");
  const recorder = new ChildRecorder(path.join(aviaryDir, CHILDREN_FILE));

  let up = false;
  const progress = (step: string): void => {
    if (up) return;
    logger.debug({ step }, "start-up step");
    process.stdout.write(`aviary: [${((Date.now() - t0) / 1000).toFixed(1)}s] ${step}…\n`);
  };
  let stopping = false;
  const starting: Promise<LocalStack> = startLocalStack({ repoDir, runDir, keepRunDir: true, stateDir: aviaryDir, fresh: process.argv.includes("--fresh"), proxyPort, adminPort, periodFactor, logger, progress });
  // A signal during start-up waits for it to finish (or fail, which cleans up after itself), then stops.
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info("stopping the local stack");
    fs.rmSync(stateFile, { force: true });
    await starting.then((s) => s.stop(), () => undefined);
    recorder.close();
    process.exit(code);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void shutdown(0));
  // A closed terminal: writes to it fail; the log file still has everything.
  process.stdout.on("error", () => undefined);
  process.stderr.on("error", () => undefined);
  process.on("uncaughtException", (err) => {
    logger.fatal({ err: err.message }, "local runner crashed");
    void shutdown(1);
  });

  const stack = await starting;
  if (stopping) return;
  up = true;
  recorder.record();
  const state: LocalStateFile = { pid: process.pid, redisUrl: stack.redisUrl, proxyUrl: stack.proxyUrl, adminUrl: stack.adminUrl };
  fs.writeFileSync(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  logger.debug({ proxyUrl: stack.proxyUrl, adminUrl: stack.adminUrl, seconds: (Date.now() - t0) / 1000 }, "local stack up");
  process.stdout.write(stackUpBanner({ proxyUrl: stack.proxyUrl, adminUrl: stack.adminUrl, logDir: path.relative(repoDir, path.join(runDir, "logs")) }));
}

main().catch((err: Error) => {
  process.stderr.write(`aviary: the local stack failed to start: ${err.message}\n`);
  process.exit(1);
});
