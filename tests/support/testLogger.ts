// The logger tests give the local stack: warnings and errors only, into a file in its own temp dir
// (removed with it), so a run's output stays readable and /tmp stays clean.
import * as path from "node:path";
import pino, { type Logger } from "pino";
import { tempDir } from "./tempDir";

export function testLogger(prefix: string): Logger {
  return pino({ level: "warn" }, pino.destination(path.join(tempDir(prefix), "runner.log")));
}
