/**
 * Where the CLI's Redis is: REDIS_URL, else the local stack (`npm start`) of the checkout that
 * holds the working directory, found by walking up to its .aviary/local.json. The innermost
 * checkout decides, so a stopped stack is never mistaken for one in an enclosing directory.
 */
import fs from "node:fs";
import path from "node:path";
import { LOCAL_STATE_FILE, readLocalState } from "../discovery/localStateFile";
import { UsageError } from "./common";

export type LocalStackSearch =
  | { kind: "running"; dir: string; redisUrl: string }
  /** local.json is there but its runner is gone (a crash) or the file is unreadable. */
  | { kind: "stale"; dir: string }
  /** An Aviary checkout without local.json: its stack is not running. */
  | { kind: "stopped"; dir: string }
  | { kind: "outside" };

function isAviaryCheckout(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: unknown }).name === "aviary";
  } catch {
    return false;
  }
}

/** Walks up from `cwd` to the first directory holding .aviary/local.json or an Aviary package.json, stopping at the root. */
export function findLocalStack(cwd: string): LocalStackSearch {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, LOCAL_STATE_FILE))) {
      const state = readLocalState(dir);
      return state ? { kind: "running", dir, redisUrl: state.redisUrl } : { kind: "stale", dir };
    }
    if (isAviaryCheckout(dir)) return { kind: "stopped", dir };
    if (path.dirname(dir) === dir) return { kind: "outside" };
  }
}

const OR_EXPORT = "or export REDIS_URL=redis://:PASSWORD@HOST:6379";

/** REDIS_URL if set, else the running local stack's; otherwise a UsageError (exit 2) saying which is missing. */
export function resolveRedisUrl(env: NodeJS.ProcessEnv, cwd: string): string {
  if (env.REDIS_URL) return env.REDIS_URL;
  const found = findLocalStack(cwd);
  switch (found.kind) {
    case "running":
      return found.redisUrl;
    case "stale":
      throw new UsageError(`REDIS_URL is not set and the local stack in this checkout is not running (${LOCAL_STATE_FILE} is stale, its runner is gone: start it with npm start, ${OR_EXPORT})`);
    case "stopped":
      throw new UsageError(`REDIS_URL is not set and no local stack is running in this checkout (start one with npm start, ${OR_EXPORT})`);
    case "outside":
      throw new UsageError(`REDIS_URL is not set and ${cwd} is not inside an Aviary checkout (run aviary inside the checkout where npm start runs, ${OR_EXPORT})`);
  }
}
