// Helpers shared by the CLI's command groups (cli/main.ts, cli/flags.ts).
import os from "node:os";
import { InvalidInputError } from "../core/errors";

export interface Writer {
  write(chunk: string): unknown;
  /** True on a terminal: `status --watch` then redraws in place. */
  isTTY?: boolean;
}

export interface Io {
  stdout: Writer;
  stderr: Writer;
}

/** Thrown for bad input: reported as one line, exit 2, before anything is written. */
export class UsageError extends InvalidInputError {}

export function whoAmI(): string {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    // Containers may run under a uid without a passwd entry.
    user = process.env.USER ?? String(process.getuid?.() ?? "unknown");
  }
  return `cli:${user}@${os.hostname()}`;
}

/** A `--reason` as given (it is recorded in state and events), refused when blank. */
export function checkReason(reason: string): string {
  if (reason.trim() === "") throw new UsageError("--reason must not be empty");
  return reason;
}

export function parseIntArg(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`invalid ${name} ${JSON.stringify(raw)}: must be an integer from ${min} to ${max}`);
  }
  return Number(raw);
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n") + "\n";
}
