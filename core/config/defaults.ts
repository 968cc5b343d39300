// Every stack-config default, in one zod-free module: the schema (stackConfig.ts) applies
// them, small bundles (the controller Lambda) read them, and tests/unit/core/stackConfig.defaults.test.ts
// checks Pulumi.yaml and docs/configuration.md against them.
import type { AccessLog } from "./accessLog";

export const DEFAULT_INSTANCE_TYPE = "t3.small";

export const DEFAULT_DEMO_FAULTS = false;

export const DEFAULT_CANARY_COUNT = 1;

export const DEFAULT_THRESHOLDS = {
  scaleOutCpu: 70,
  scaleInCpu: 25,
  memory: 85,
  canaryErrorRate: 5,
  canaryP99Ms: 1500,
} as const;

export const DEFAULT_SCALING = { step: 1, scaleOutCooldownSeconds: 120, scaleInCooldownSeconds: 300 } as const;

export const DEFAULT_PROXY: { readonly count: number; readonly accessLog: AccessLog; readonly testerRouting: boolean } = { count: 1, accessLog: "errors", testerRouting: false };

export const DEFAULT_REDIS = { mode: "ec2" } as const;

/** The node type of `aviary:redis` mode elasticache when the stack names none. */
export const DEFAULT_CACHE_NODE_TYPE = "cache.t4g.small";
