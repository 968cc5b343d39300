// Pulumi.canary.yaml's weight (or rollout plan) at start, applied as `pulumi up -s canary` applies
// it on AWS: the configuration invocation (the one the canary stack's aws.lambda.Invocation sends)
// handed to the controller, so the routing write is the controller's, audited like every other.
import type Redis from "ioredis";
import { canaryInvocation } from "../lambda/canaryWeightInvocation";
import type { Handler } from "../lambda/handler";
import { readRollout } from "../state/rollout";
import { readRouting } from "../state/routing";
import type { LocalConfig } from "./config";
import { readApplied, shouldApplyWeight, writeApplied, type KeptState } from "./keptState";
import { localPlan } from "./localPlan";

export async function applyCanaryConfig(controller: Handler, redis: Redis, canary: LocalConfig["canary"], kept: KeptState | undefined, periodFactor: number): Promise<void> {
  const lastApplied = kept ? readApplied(kept.dataDir) : undefined;
  if (canary.rollout) {
    const plan = localPlan(canary.rollout, periodFactor);
    // As `pulumi up` re-sends the invocation only when its input changed: a rollout a person
    // aborted or promoted since stays so across restarts, unless the plan or the version changed.
    const started = JSON.stringify({ plan, appVersion: canary.appVersion });
    if (lastApplied?.rollout !== started || (await readRollout(redis)).state === null) {
      await controller(canaryInvocation(canary.canaryWeight, canary.appVersion, plan));
    }
    if (kept) writeApplied(kept.dataDir, { canaryWeight: canary.canaryWeight, rollout: started });
    return;
  }
  if (shouldApplyWeight(canary.canaryWeight, lastApplied, (await readRouting(redis)).state !== undefined)) {
    await controller(canaryInvocation(canary.canaryWeight, canary.appVersion));
  }
  if (kept) writeApplied(kept.dataDir, { canaryWeight: canary.canaryWeight });
}
