// The `canary` stack: the next app version on its own instance(s) in prod's network, its alarms
// on prod's topic, and the canary weight handed to prod's controller.
import * as pulumi from "@pulumi/pulumi";
import { AppRelease } from "../components/appRelease";
import { Canary } from "../components/canary";
import { APP_PORT } from "../config/ports";
import type { CanaryConfig } from "../config/stackConfig";

export function canaryStack(cfg: CanaryConfig) {
  const prod = new pulumi.StackReference(cfg.prodStack);
  const out = (name: string) => prod.requireOutput(name).apply((v) => String(v));
  const release = new AppRelease("canary-release", { version: cfg.appVersion });
  const canary = new Canary("canary", {
    deployment: out("deployment"),
    appVersion: cfg.appVersion,
    count: cfg.canaryCount,
    canaryWeight: cfg.canaryWeight,
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
  });
  return {
    appVersion: cfg.appVersion,
    canaryWeight: cfg.canaryWeight,
    canaryInstanceIds: canary.instanceIds,
    canaryPrivateIps: canary.privateIps,
  };
}
