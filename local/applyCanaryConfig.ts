// Pulumi.canary.yaml's weight at start, applied as `pulumi up -s canary` applies it on AWS: the
// configuration invocation (the one the canary stack's aws.lambda.Invocation sends) handed to the
// controller, so the routing write is the controller's, audited like every other.
import type Redis from "ioredis";
import { canaryWeightInvocation } from "../lambda/canaryWeightInvocation";
import type { Handler } from "../lambda/handler";
import { readRouting } from "../state/routing";
import type { LocalConfig } from "./config";
import { readApplied, shouldApplyWeight, writeApplied, type KeptState } from "./keptState";

export async function applyCanaryConfig(controller: Handler, redis: Redis, canary: LocalConfig["canary"], kept: KeptState | undefined): Promise<void> {
  const lastApplied = kept ? readApplied(kept.dataDir) : undefined;
  if (shouldApplyWeight(canary.canaryWeight, lastApplied, (await readRouting(redis)).state !== undefined)) {
    await controller(canaryWeightInvocation(canary.canaryWeight, canary.appVersion));
  }
  if (kept) writeApplied(kept.dataDir, { canaryWeight: canary.canaryWeight });
}
