// Local mode reads the committed stack files, so editing Pulumi.canary.yaml's canaryWeight (or the
// thresholds) and restarting changes the local stack exactly as `pulumi up` would change AWS.
import * as path from "node:path";
import { aviaryKeys, parseStackConfig, StackConfigError, type CanaryConfig, type ProdConfig } from "../core/config/stackConfig";
import { readStackFile } from "../config/stackFile";
import type { Role } from "../core/routing/role";
import { ConfigError } from "../core/errors";

/**
 * Local periods are the declared alarm periods divided by this factor (10 s → 1 s, 60 s → 6 s),
 * and so are the controller's cooldowns: the same alarms and rules, ten times faster.
 */
export const DEFAULT_PERIOD_FACTOR = 10;

export interface LocalConfig {
  prod: ProdConfig;
  canary: CanaryConfig;
}

function load(file: string, role: Role): ProdConfig | CanaryConfig {
  try {
    const config = parseStackConfig(aviaryKeys(readStackFile(file)));
    if (config.role !== role) throw new ConfigError(`${file}: aviary:role must be ${role} (got ${config.role})`);
    return config;
  } catch (e) {
    if (e instanceof StackConfigError) throw new ConfigError(`${file}: ${e.message}`, { cause: e });
    throw e;
  }
}

export function loadLocalConfig(repoDir: string, prodStack = "prod", canaryStack = "canary"): LocalConfig {
  return {
    prod: load(path.join(repoDir, `Pulumi.${prodStack}.yaml`), "prod") as ProdConfig,
    canary: load(path.join(repoDir, `Pulumi.${canaryStack}.yaml`), "canary") as CanaryConfig,
  };
}
