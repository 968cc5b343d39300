// Owns every child process of the local runner: each one's output goes to its own log file, and
// stopAll() ends them all (SIGTERM, then SIGKILL), newest first, so nothing is left running.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Logger } from "pino";
import { InvariantError } from "../core/errors";
import { diesWithParent } from "../harness/parentDeath";

export interface Managed {
  name: string;
  proc: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  logFile: string;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Called when the process ends without stop() having been asked (a crash). */
  onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

const DEFAULT_GRACE_MS = 5000;

export class Supervisor {
  private readonly running = new Map<string, Managed>();

  // Last resort if the runner itself dies on an uncaught error: a synchronous SIGKILL of every child.
  private readonly onExit = (): void => this.killAllNow();

  constructor(private readonly logDir: string, private readonly logger: Logger) {
    fs.mkdirSync(logDir, { recursive: true, mode: 0o700 });
    process.once("exit", this.onExit);
  }

  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): Managed {
    if (this.running.has(name)) throw new InvariantError(`a process named ${name} is already running`);
    const logFile = path.join(this.logDir, `${name}.log`);
    const fd = fs.openSync(logFile, "a", 0o600);
    // Own process group: Ctrl-C reaches only the runner, which then stops children in order
    // (apps drain while the proxy still runs) instead of all dying at once. And it dies with the runner.
    const run = diesWithParent(command, args);
    const proc = spawn(run.command, run.args, { stdio: ["ignore", fd, fd], env: options.env ?? process.env, detached: true });
    fs.closeSync(fd);
    let stopping = false;
    const exited = new Promise<number | null>((resolve) => {
      proc.once("exit", (code, signal) => {
        this.running.delete(name);
        if (!stopping) {
          this.logger.warn({ process: name, code, signal, logFile }, "process exited");
          options.onUnexpectedExit?.(code, signal);
        }
        resolve(code);
      });
      proc.once("error", (err) => {
        this.running.delete(name);
        this.logger.error({ process: name, err: err.message }, "process could not start");
        resolve(null);
      });
    });
    const managed: Managed = {
      name,
      proc,
      exited,
      logFile,
      stop: async (graceMs = DEFAULT_GRACE_MS) => {
        stopping = true;
        if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return void (await exited);
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      },
    };
    this.running.set(name, managed);
    this.logger.debug({ process: name, pid: proc.pid, logFile }, "started");
    return managed;
  }

  get(name: string): Managed | undefined {
    return this.running.get(name);
  }

  names(): string[] {
    return [...this.running.keys()];
  }

  /** Stops every process, newest first (apps before the proxy before Redis). */
  async stopAll(): Promise<void> {
    for (const m of [...this.running.values()].reverse()) await m.stop();
    process.removeListener("exit", this.onExit);
  }

  private killAllNow(): void {
    for (const m of this.running.values()) {
      try {
        m.proc.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}
