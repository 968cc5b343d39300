// The runner's logger: JSON lines in its log file (mode 0600), readable lines on the terminal
// (pino-pretty: one line per record, colours on a TTY; a decision's full evidence only in the file,
// so a screenful of it cannot push the "stack is up" banner away). The file also keeps the debug
// records (each process started, with its pid and log file) that would only clutter the terminal.
import * as fs from "node:fs";
import pino, { type Logger } from "pino";
import pretty from "pino-pretty";
import { logComponent } from "../core/logComponent";
import { ConfigError } from "../core/errors";

const RUNNER = logComponent("aviary-local").component;

/** `level`: the terminal's (LOG_LEVEL, default info); the file gets that or debug, whichever is lower. */
export function runnerLogger(file: string, level: pino.LevelWithSilent): Logger {
  const fileLevel: pino.Level = pino.levels.values[level] < pino.levels.values.debug ? (level as pino.Level) : "debug";
  const fd = fs.openSync(file, "a", 0o600);
  const tty = process.stdout.isTTY === true;
  // Through process.stdout, whose write errors (a closed terminal) the runner ignores: a log call
  // must never throw in the middle of a stop. The runner's own lines carry no label there; another
  // component's (the controller's) say whose they are.
  const terminal = pretty({
    destination: process.stdout,
    colorize: tty,
    singleLine: true,
    ignore: "pid,hostname,component,evidence",
    translateTime: "HH:MM:ss",
    messageFormat: (log, key) => (log.component !== undefined && log.component !== RUNNER ? `[${String(log.component)}] ${String(log[key])}` : String(log[key])),
  });
  return pino(
    {
      level: fileLevel,
      // The runner's component on its own records only: a child that binds its own (the controller)
      // keeps one `component` key, which a base binding plus a child's would repeat.
      mixin: (_record, _level, logger) => (logger.bindings().component === undefined ? logComponent("aviary-local") : {}),
    },
    pino.multistream([
      { level: fileLevel, stream: pino.destination({ dest: fd, sync: true }) },
      { level, stream: terminal },
    ]),
  );
}

/** LOG_LEVEL as a pino level (default info), or an error naming the accepted ones. */
export function logLevelFromEnv(env: Readonly<Record<string, string | undefined>>): pino.Level {
  const raw = env.LOG_LEVEL ?? "info";
  const levels = Object.keys(pino.levels.values);
  if (!levels.includes(raw)) throw new ConfigError(`LOG_LEVEL must be one of ${levels.join(", ")} (got ${JSON.stringify(raw)})`);
  return raw as pino.Level;
}
