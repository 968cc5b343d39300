// The `canary` stack: the next app version on its own instance(s) in prod's network, its alarms
// on prod's topic, and the canary weight handed to prod's controller.
import * as pulumi from "@pulumi/pulumi";
import { AppRelease } from "../components/appRelease";
import { Canary } from "../components/canary";
import { APP_PORT } from "../config/ports";
import { checkCanaryAgainstProd } from "../core/config/crossStack";
import type { CanaryConfig } from "../core/config/stackConfig";
import { sourceCommit } from "../release/bundles";

export async function canaryStack(cfg: CanaryConfig) {
  const prod = new pulumi.StackReference(cfg.prodStack);
  // Checked before anything is registered: a contradiction with prod deploys nothing.
  checkCanaryAgainstProd(cfg, { canaryP99Ms: (await prod.getOutputDetails("canaryP99Ms")).value });
  const out = (name: string) => prod.requireOutput(name).apply((v) => String(v));
  const release = new AppRelease("canary-release", { version: cfg.appVersion });
  const canary = new Canary("canary", {
    deployment: out("deployment"),
    appVersion: cfg.appVersion,
    count: cfg.canaryCount,
    canaryWeight: cfg.canaryWeight,
    ...(cfg.rollout ? { rollout: cfg.rollout } : {}),
    instanceType: cfg.instanceType,
    appPort: APP_PORT,
    privateSubnetIds: prod.requireOutput("privateSubnetIds").apply((ids) => ids as string[]),
    appSecurityGroupId: out("appSecurityGroupId"),
    topicArn: out("topicArn"),
    controllerFunctionName: out("controllerFunctionName"),
    thresholds: cfg.thresholds,
    redisUrlParameterName: out("redisUrlParameterName"),
    redisUrlParameterArn: out("redisUrlParameterArn"),
    redisUrlKeyArn: out("redisUrlKeyArn"),
    release: { bucketName: release.bucketName, bucketArn: release.bucketArn, objectKey: release.objectKey },
    demoFaults: cfg.demoFaults,
  });
  return {
    // What this canary runs, for promote to deploy exactly that (see .github/workflows/promote.yml).
    appVersion: cfg.appVersion,
    appHash: release.appHash,
    agentHash: release.agentHash,
    gitCommit: sourceCommit(),
    canaryWeight: cfg.canaryWeight,
    canaryInstanceIds: canary.instanceIds,
    canaryPrivateIps: canary.privateIps,
  };
}
