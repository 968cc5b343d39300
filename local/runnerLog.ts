// The runner's logger: JSON lines in its log file (mode 0600), readable lines on the terminal
// (pino-pretty: one line per record, colours on a TTY; a decision's full evidence only in the file,
// so a screenful of it cannot push the "stack is up" banner away).
import * as fs from "node:fs";
import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

export function runnerLogger(file: string, level: string): Logger {
  const fd = fs.openSync(file, "a", 0o600);
  const tty = process.stdout.isTTY === true;
  // Through process.stdout, whose write errors (a closed terminal) the runner ignores: a log call
  // must never throw in the middle of a stop.
  const terminal = pretty({ destination: process.stdout, colorize: tty, singleLine: true, ignore: "pid,hostname,name,evidence", translateTime: "HH:MM:ss" });
  return pino(
    { name: "aviary-local", level },
    pino.multistream([
      { level: level as pino.Level, stream: pino.destination({ dest: fd, sync: true }) },
      { level: level as pino.Level, stream: terminal },
    ]),
  );
}
