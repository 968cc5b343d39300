import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./freePort";
import { diesWithParent } from "./parentDeath";
import { NotFoundError, ProcessError, TimeoutError, UnreachableError } from "../core/errors";

export interface RedisServer {
  /** redis://:password@127.0.0.1:port */
  url: string;
  port: number;
  password: string;
  /** Graceful stop and temp dir removal; idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, for fault tests (deliberate: onCrash is not called); restart() brings it back on the same port. */
  kill(): Promise<void>;
  /** Stops (if running) and starts again on the same port and password (data kept only with `persist`). */
  restart(): Promise<void>;
  /** The running redis-server's pid, if one runs. */
  pid(): number | undefined;
}

function findRedisServer(): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).concat("/usr/bin", "/usr/local/bin")) {
    const candidate = path.join(dir, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new NotFoundError("redis-server not found: apt-get install redis-server");
}


/** True once AUTH + PING answers +PONG. */
function ping(port: number, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let buf = "";
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on("error", () => done(false));
    sock.on("connect", () => sock.write(`AUTH ${password}\r\nPING\r\n`));
    sock.on("data", (d) => {
      buf += d.toString();
      if (buf.includes("+PONG")) done(true);
      else if (buf.includes("-ERR") || buf.includes("-WRONGPASS")) done(false);
    });
  });
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export interface RedisServerOptions {
  /**
   * Append-only file fsynced on every write, kept across restart(): a killed Redis comes back with
   * its data, as the proxy instance's Redis does (appendonly). Off by default: tests that restart
   * Redis use it to stand for a Redis that lost its data.
   */
  persist?: boolean;
  /** Where the data lives, kept after stop() (implies `persist`). Default: a temp dir removed on stop. */
  dataDir?: string;
  /** Default: a new random one. */
  password?: string;
  /** Called when a redis-server that was up exits without stop(), kill() or restart() having asked. */
  onCrash?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = findRedisServer();
  const persist = options.persist === true || options.dataDir !== undefined;
  const dir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), "aviary-redis-"));
  if (options.dataDir !== undefined) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const password = options.password ?? randomBytes(12).toString("hex");
  let child: ChildProcess | undefined;
  let output = "";

  const launch = async (port: number): Promise<"ok" | "addrinuse"> => {
    output = "";
    // Config on stdin ("-"), so the password never shows in `ps`. Own process group (detached):
    // Ctrl-C on the local runner must not stop Redis before the apps have deregistered.
    const run = diesWithParent(bin, ["-"]);
    const proc = spawn(run.command, run.args, { stdio: ["pipe", "pipe", "pipe"], detached: true });
    proc.stdin?.end(
      [`port ${port}`, "bind 127.0.0.1", `requirepass ${password}`, 'save ""', ...(persist ? ["appendonly yes", "appendfsync always"] : ["appendonly no"]), `dir ${dir}`, "loglevel warning"].join("\n") + "\n",
    );
    child = proc;
    let up = false;
    proc.once("exit", (code, signal) => {
      if (up && child === proc) options.onCrash?.(code, signal);
    });
    proc.stdout?.on("data", (d) => (output += d.toString()));
    proc.stderr?.on("data", (d) => (output += d.toString()));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        return /address already in use/i.test(output) ? "addrinuse" : Promise.reject(new ProcessError(`redis-server exited: ${output.trim()}`));
      }
      if (await ping(port, password)) {
        up = true;
        return "ok";
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill("SIGKILL");
    throw new TimeoutError(`redis-server did not answer PING on port ${port} within 10 s: ${output.trim()}`);
  };

  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    const result = await launch(port);
    if (result === "ok") break;
    if (attempt >= 4) throw new UnreachableError(`no free port for redis-server after ${attempt + 1} attempts`);
  }

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill(signal);
    await waitExit(c);
  };

  let stopped = false;
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    port,
    password,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await halt("SIGTERM");
      if (options.dataDir === undefined) rmSync(dir, { recursive: true, force: true });
    },
    kill: () => halt("SIGKILL"),
    pid: () => child?.pid,
    restart: async () => {
      if (stopped) return; // stop() won: no new redis-server after it
      await halt("SIGTERM");
      // Same port on purpose (clients reconnect to it); only retry briefly if the OS still holds it.
      for (let attempt = 0; attempt < 20; attempt++) {
        if ((await launch(port)) === "ok") return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new ProcessError(`redis-server could not restart on port ${port}`);
    },
  };
}
