// The `prod` stack: network, Redis, proxy, production fleet, alerting, alarms and the controller.
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { prodAlarms } from "../core/alarms/definitions";
import { Alerting } from "../components/alerting";
import { AppRelease } from "../components/appRelease";
import { Controller } from "../components/controller";
import { ElastiCacheRedis } from "../components/elastiCacheRedis";
import { Monitoring } from "../components/monitoring";
import { Network } from "../components/network";
import { ProductionFleet } from "../components/productionFleet";
import { Proxy } from "../components/proxy";
import { ProxyFleet } from "../components/proxyFleet";
import { PROXY_SMOKE_CHECK_SCRIPT, smokeCheckTriggers } from "../components/proxySmokeCheck";
import { RedisServer } from "../components/redisServer";
import { APP_PORT } from "../config/ports";
import { sourceCommit } from "../release/bundles";
import { DEFAULT_CACHE_NODE_TYPE, type ProdConfig, type RedisLayout } from "../core/config/stackConfig";
import { InvariantError } from "../core/errors";

function fail(message: string): never {
  throw new InvariantError(message);
}

/** What every Redis client needs, from whichever layout aviary:redis picks. */
interface RedisEndpoint {
  url: pulumi.Output<string>;
  urlParameterName: pulumi.Output<string>;
  urlParameterArn: pulumi.Output<string>;
  urlKeyArn: pulumi.Output<string>;
  /** Instance IP (ec2) or primary endpoint DNS name (elasticache). */
  address: pulumi.Output<string>;
}

function redisFor(layout: RedisLayout, network: Network, instanceType: string): RedisEndpoint {
  if (layout.mode === "elasticache") {
    const cache = new ElastiCacheRedis("redis", {
      subnetIds: network.privateSubnetIds,
      securityGroupId: network.redisSecurityGroupId,
      nodeType: layout.nodeType ?? DEFAULT_CACHE_NODE_TYPE,
    });
    return { url: cache.url, urlParameterName: cache.urlParameterName, urlParameterArn: cache.urlParameterArn, urlKeyArn: cache.secretsKeyArn, address: cache.privateAddress };
  }
  const server = new RedisServer("redis", {
    subnetId: network.privateSubnetIds[0],
    securityGroupId: network.redisSecurityGroupId,
    instanceType,
  });
  return { url: server.url, urlParameterName: server.urlParameterName, urlParameterArn: server.urlParameterArn, urlKeyArn: server.secretsKeyArn, address: server.privateIp };
}

export function prodStack(cfg: ProdConfig) {
  const deployment = `${pulumi.getProject()}-${pulumi.getStack()}`;
  const network = new Network("aviary", {
    appPort: APP_PORT,
    proxyBehindLoadBalancer: cfg.proxy.count > 1,
    redisOnInstance: cfg.redis.mode === "ec2",
  });
  const redis = redisFor(cfg.redis, network, cfg.instanceType);
  const release = new AppRelease("release", { version: cfg.appVersion });
  const fleet = new ProductionFleet("prod", {
    subnetIds: network.privateSubnetIds,
    securityGroupId: network.appSecurityGroupId,
    instanceType: cfg.instanceType,
    min: cfg.prodFleet.min,
    max: cfg.prodFleet.max,
    desired: cfg.prodFleet.desired,
    appVersion: cfg.appVersion,
    appPort: APP_PORT,
    release,
    redisUrlParameterName: redis.urlParameterName,
    redisUrlParameterArn: redis.urlParameterArn,
    demoFaults: cfg.demoFaults,
    redisUrlKeyArn: redis.urlKeyArn,
  });
  const proxyArgs = {
    instanceType: cfg.instanceType,
    appPort: APP_PORT,
    deployment,
    release,
    redisUrlParameterName: redis.urlParameterName,
    redisUrlParameterArn: redis.urlParameterArn,
    redisUrlKeyArn: redis.urlKeyArn,
    latencyThresholdMs: cfg.thresholds.canaryP99Ms,
    accessLog: cfg.proxy.accessLog,
    testerRouting: cfg.proxy.testerRouting,
  };
  // One proxy (Elastic IP) by default; aviary:proxy.count > 1 puts them behind a load balancer.
  const proxy = cfg.proxy.count > 1
    ? new ProxyFleet("proxy", {
      ...proxyArgs,
      count: cfg.proxy.count,
      vpcId: network.vpcId,
      publicSubnetIds: network.publicSubnetIds,
      privateSubnetIds: network.privateSubnetIds,
      proxySecurityGroupId: network.proxySecurityGroupId,
      loadBalancerSecurityGroupId: network.loadBalancerSecurityGroupId ?? fail("Network has no load balancer group"),
    })
    : new Proxy("proxy", { ...proxyArgs, subnetId: network.publicSubnetIds[0], securityGroupId: network.proxySecurityGroupId });
  const alerting = new Alerting("alerts", { emails: cfg.alerts.emails });
  const monitoring = new Monitoring("prod", {
    deployment,
    definitions: prodAlarms<pulumi.Input<string>>(cfg.thresholds, { autoScalingGroupName: fleet.autoScalingGroupName, deployment }),
    topicArn: alerting.topicArn,
    dashboard: true,
  });
  // The canary stack declares its own alarms under the same name prefix; the controller may re-arm
  // all of them, and nothing else.
  const identity = aws.getCallerIdentityOutput();
  const region = aws.getRegionOutput();
  const controller = new Controller("controller", {
    deployment,
    vpcSubnetIds: network.privateSubnetIds,
    securityGroupId: network.controllerSecurityGroupId,
    topicArn: alerting.topicArn,
    topicKmsKeyArn: alerting.kmsKeyArn,
    redisUrl: redis.url,
    autoScalingGroupName: fleet.autoScalingGroupName,
    autoScalingGroupArn: fleet.autoScalingGroupArn,
    alarmArns: [pulumi.interpolate`arn:aws:cloudwatch:${region.region}:${identity.accountId}:alarm:${deployment}-*`],
    scaling: cfg.scaling,
    smsNumbers: cfg.alerts.sms,
    promote: cfg.promote ? { ...cfg.promote, token: pulumi.secret(cfg.promote.token) } : undefined,
  });
  // Post-deploy smoke check from where `pulumi up` runs: a 200 through the proxy from a real backend.
  new command.local.Command(
    "proxy-smoke-check",
    {
      create: PROXY_SMOKE_CHECK_SCRIPT,
      environment: { PROXY_URL: proxy.url },
      triggers: smokeCheckTriggers(proxy instanceof Proxy ? proxy.instanceId : proxy.loadBalancerArn, release),
    },
    { dependsOn: [proxy, fleet] },
  );
  return {
    deployment,
    appVersion: cfg.appVersion,
    appHash: release.appHash,
    agentHash: release.agentHash,
    gitCommit: sourceCommit(),
    proxyUrl: proxy.url,
    topicArn: alerting.topicArn,
    autoScalingGroupName: fleet.autoScalingGroupName,
    redisPrivateAddress: redis.address,
    dashboardUrl: monitoring.dashboardUrl,
    controllerFunctionName: controller.functionName,
    // What the canary stack reads through its StackReference.
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    appSecurityGroupId: network.appSecurityGroupId,
    redisUrlParameterName: redis.urlParameterName,
    redisUrlParameterArn: redis.urlParameterArn,
    // The proxy's latency histogram bound; the canary stack refuses a different canaryP99Ms.
    canaryP99Ms: cfg.thresholds.canaryP99Ms,
    redisUrlKeyArn: redis.urlKeyArn,
  };
}
