// What local mode keeps across `npm start`s, in .aviary/ (outside .aviary/run/, which each run empties):
// the Redis password (generated once), and in .aviary/data/ Redis's append-only file and the stack
// config last applied to it. `--fresh` removes .aviary/data/.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface KeptState {
  /** Redis's data and the last applied config; removed by `fresh`. */
  dataDir: string;
  redisDir: string;
  password: string;
}

/** The config values the runner wrote into Redis, as applied at the last start. */
export interface AppliedConfig {
  canaryWeight: number;
  /** The rollout start last sent (plan and version, as JSON), when the canary stack has aviary:rollout. */
  rollout?: string;
}

const APPLIED = "applied.json";

function writePrivate(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600); // an existing file keeps its mode on write
}

export function openKeptState(stateDir: string, fresh: boolean): KeptState {
  const dataDir = path.join(stateDir, "data");
  if (fresh) fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(stateDir, "redis-password");
  let password = fs.existsSync(passwordFile) ? fs.readFileSync(passwordFile, "utf8").trim() : "";
  if (!/^[0-9a-f]{24,}$/.test(password)) {
    password = randomBytes(16).toString("hex");
    writePrivate(passwordFile, `${password}\n`);
  }
  return { dataDir, redisDir: path.join(dataDir, "redis"), password };
}

export function readApplied(dataDir: string): AppliedConfig | undefined {
  try {
    const a = JSON.parse(fs.readFileSync(path.join(dataDir, APPLIED), "utf8")) as Partial<AppliedConfig>;
    if (typeof a.canaryWeight !== "number") return undefined;
    return typeof a.rollout === "string" ? { canaryWeight: a.canaryWeight, rollout: a.rollout } : { canaryWeight: a.canaryWeight };
  } catch {
    return undefined;
  }
}

export function writeApplied(dataDir: string, applied: AppliedConfig): void {
  writePrivate(path.join(dataDir, APPLIED), JSON.stringify(applied) + "\n");
}

/**
 * Whether the stack file's weight is written into Redis at start: as `pulumi up` acts only on an
 * input that changed, a weight set since (by the CLI, or the controller's rollback) is kept unless
 * the file's value itself changed, or Redis has no routing at all.
 */
export function shouldApplyWeight(configWeight: number, lastApplied: AppliedConfig | undefined, routingInRedis: boolean): boolean {
  return !routingInRedis || lastApplied?.canaryWeight !== configWeight;
}
