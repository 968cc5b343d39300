/**
 * `aviary` operator CLI. Commands stay thin: parse/validate input, call state/ (routing changes:
 * the controller's decision path, controller/run.ts), print.
 *
 * Exit codes, chosen from the error's code (cli/exitCodes.ts): 0 ok (also when the write
 * repaired something on the way: each repair is printed to stderr); 1 runtime failure (Redis
 * unreachable, a concurrent writer; `status` shows a bad key as its section's line, warns on
 * stderr and still exits 0); 2 usage error
 * (bad argument, invalid flag definition, missing option, invalid REDIS_URL, or neither REDIS_URL nor
 * a running local stack in the checkout holding the working directory); 3 refused
 * because a Redis key holds the wrong type or a garbage value (the message names the key and the
 * fix). Every non-zero exit of a change command means nothing was changed. A reader that closes
 * stdout early (`aviary status | head -3`, or a closed pipe under `status --watch`) ends the CLI
 * quietly with 0, as do SIGINT/SIGTERM under `--watch`/`--follow`. Arguments are checked before
 * Redis is connected to. Users call it through bin/aviary (the bundle on the package's Node 24).
 */
import { Command, CommanderError } from "commander";
// Bundled into dist/cli.js by esbuild, so the version is the one the CLI was built from.
import { version } from "../package.json";
import type Redis from "ioredis";
import { MAX_WEIGHT, MIN_WEIGHT } from "../core/routing/weight";
import { commandStore } from "../adapters/store/redis";
import { handleRollout, handleRoutingCommand } from "../controller/run";
import type { RoutingCommand } from "../core/controller/decide";
import { connect } from "../state/connection";
import { followEvents, readEvents, type AviaryEvent } from "../state/events";
import { listBackends, type Backend } from "../state/registry";
import { checkReason, parseIntArg, table, whoAmI, type Io } from "./common";
import { exitCodeFor } from "./exitCodes";
import { addFlagCommands } from "./flags";
import { resolveRedisUrl } from "./localStack";
import { addRolloutCommands, cliRolloutDeps } from "./rollout";
import { readStatus, statusProblems, statusText } from "./status";
import { printWatchable, watchable, type WatchableOptions } from "./watch";

export type { Io, Writer } from "./common";

export interface RunOptions {
  /** Source of REDIS_URL; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Ends `events --follow` and `status --watch`; without it they run until the process dies. */
  signal?: AbortSignal;
  /** Where to start looking (upwards) for a running local stack when REDIS_URL is unset; default process.cwd(). */
  cwd?: string;
}

function formatEvent(e: AviaryEvent): string {
  const detail = Object.entries(e.detail).map(([k, v]) => `${k}=${v}`);
  const reason = e.reason === undefined ? [] : [`reason=${JSON.stringify(e.reason)}`];
  return [e.id, e.at, e.kind, `by=${e.by}`, ...reason, ...detail].join(" ");
}

function backendRows(backends: Backend[]): string[][] {
  return [["ID", "ROLE", "ADDRESS", "VERSION"], ...backends.map((b) => [b.id, b.role, b.address, b.version])];
}

/** Runs one CLI invocation; `argv` excludes node and script path. Resolves to the exit code. */
export async function run(argv: readonly string[], io: Io, opts: RunOptions = {}): Promise<number> {
  const env = opts.env ?? process.env;
  const out = (s: string): void => void io.stdout.write(s);
  const warn = (problems: readonly string[]): void => problems.forEach((p) => io.stderr.write(`aviary: warning: ${p}\n`));
  const repaired = (notes: readonly string[]): void => notes.forEach((n) => io.stderr.write(`aviary: ${n}\n`));
  let redis: Redis | undefined;
  // Lazy so usage errors are reported without (and before) touching Redis.
  const db = (): Redis => (redis ??= connect(resolveRedisUrl(env, opts.cwd ?? process.cwd())));
  let code = 0;

  const program = new Command("aviary")
    .description("Inspect and steer Aviary's production/canary split and feature flags")
    .version(version, "-V, --version", "print the version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  watchable(program.command("status").description("routing state and live backends by role")).action((o: WatchableOptions) =>
    printWatchable(o, {
      name: "aviary status",
      read: () => readStatus(db()),
      text: statusText,
      problems: statusProblems,
      out,
      err: (s) => void io.stderr.write(s),
      warn,
      isTTY: io.stdout.isTTY === true,
      signal: opts.signal ?? new AbortController().signal,
    }));

  // Through the controller's decision path, as the person running it (a repaired lock is printed).
  const route = (command: RoutingCommand) => handleRoutingCommand({ store: commandStore(db(), whoAmI(), repaired) }, command);
  const canary = program.command("canary").description("change the canary split");
  canary
    .command("weight")
    .description(`set the canary weight, integer ${MIN_WEIGHT}..${MAX_WEIGHT}`)
    .argument("<N>", "percent of new sessions sent to the canary")
    // Lets `weight -1` reach our validation (clear message) instead of commander's "unknown option".
    .allowUnknownOption()
    .action(async (raw: string) => {
      const weight = parseIntArg("weight", raw, MIN_WEIGHT, MAX_WEIGHT);
      const r = await route({ set: "weight", weight });
      repaired(r.repairs);
      out(`canary weight ${r.old.canaryWeight} -> ${r.new.canaryWeight} (event ${r.eventId})\n`);
    });
  canary
    .command("off")
    .description("send no traffic to the canary (weight is kept)")
    .requiredOption("--reason <text>", "why, recorded in state and events")
    .action(async (o: { reason: string }) => {
      const r = await route({ set: "off", reason: checkReason(o.reason) });
      repaired(r.repairs);
      out(`canary disabled, weight ${r.new.canaryWeight} kept (event ${r.eventId})\n`);
    });
  canary
    .command("on")
    .description("re-enable the canary at its stored weight")
    .action(async () => {
      const r = await route({ set: "on" });
      repaired(r.repairs);
      out(`canary enabled at weight ${r.new.canaryWeight} (event ${r.eventId})\n`);
    });

  addFlagCommands(program, { db, out, warn, repaired, setCode: (c) => (code = c) });
  addRolloutCommands(program, {
    db,
    out,
    err: (s) => void io.stderr.write(s),
    warn,
    command: (command) => handleRollout(cliRolloutDeps(commandStore(db(), whoAmI(), repaired), (s) => void io.stderr.write(s)), command),
    isTTY: io.stdout.isTTY === true,
    signal: opts.signal ?? new AbortController().signal,
  });

  program
    .command("backends")
    .description("list live backends")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      const reg = await listBackends(db());
      warn(reg.problems);
      out(o.json ? JSON.stringify(reg.backends, null, 2) + "\n" : table(backendRows(reg.backends)));
    });

  program
    .command("events")
    .description("print recent audit events, oldest first")
    .option("--count <N>", "how many recent events", "20")
    .option("--follow", "keep streaming new events until SIGINT/SIGTERM")
    .option("--json", "print JSON: an array, or with --follow one event object per line")
    .action(async (o: { count: string; follow?: boolean; json?: boolean }) => {
      const count = parseIntArg("count", o.count, 1, 10000);
      const recent = await readEvents(db(), { count });
      warn(recent.problems);
      const print = (e: AviaryEvent): void => out((o.json ? JSON.stringify(e) : formatEvent(e)) + "\n");
      if (o.json && !o.follow) {
        out(JSON.stringify(recent.events, null, 2) + "\n");
        return;
      }
      recent.events.forEach(print);
      if (!o.follow) return;
      const signal = opts.signal ?? new AbortController().signal;
      // Resume right after what was printed so nothing written in between is missed.
      const sinceId = recent.events.at(-1)?.id ?? "0-0";
      await followEvents(db(), print, {
        signal,
        sinceId,
        onProblem: (p) => warn([p]),
      });
    });

  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // help/version → 0; message already printed
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`aviary: ${message}\n`);
    return exitCodeFor(err);
  } finally {
    if (redis) await redis.quit().catch(() => redis?.disconnect());
  }
}

/**
 * A reader that went away (`aviary status | head -3`) is not a failure: stop quietly with 0, as
 * the output it wanted was delivered; any other stream error is reported in one line, exit 1.
 */
export function onOutputError(err: NodeJS.ErrnoException, exit: (code: number) => void, stderr: Io["stderr"]): void {
  if (err.code === "EPIPE") return exit(0);
  stderr.write(`aviary: cannot write output: ${err.message}\n`);
  exit(1);
}

/** Process entry: real argv/stdio, SIGINT/SIGTERM end `--follow` and `--watch`; run() closes Redis itself. */
export function main(): void {
  const exit = (code: number): never => process.exit(code);
  process.stdout.on("error", (err: NodeJS.ErrnoException) => onOutputError(err, exit, process.stderr));
  // Nowhere left to report a failed stderr write: the exit code still tells the truth.
  process.stderr.on("error", () => undefined);
  const ac = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => ac.abort());
  void run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }, { signal: ac.signal }).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) main();
