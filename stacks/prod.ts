// The `prod` stack: network, Redis, proxy, production fleet, alerting, alarms and the controller.
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { prodAlarms } from "../alarms/definitions";
import { Alerting } from "../components/alerting";
import { AppRelease } from "../components/appRelease";
import { Controller } from "../components/controller";
import { ElastiCacheRedis } from "../components/elastiCacheRedis";
import { Monitoring } from "../components/monitoring";
import { Network } from "../components/network";
import { ProductionFleet } from "../components/productionFleet";
import { Proxy } from "../components/proxy";
import { ProxyFleet } from "../components/proxyFleet";
import { RedisServer } from "../components/redisServer";
import { APP_PORT } from "../config/ports";
import { DEFAULT_CACHE_NODE_TYPE, type ProdConfig, type RedisLayout } from "../config/stackConfig";

function fail(message: string): never {
  throw new Error(message);
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
  const alerting = new Alerting("alerts", { emails: cfg.alerts.emails, sms: cfg.alerts.sms });
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
    alarmArns: [pulumi.interpolate`arn:aws:cloudwatch:${region.name}:${identity.accountId}:alarm:${deployment}-*`],
    scaling: cfg.scaling,
  });
  // Post-deploy smoke check from where `pulumi up` runs: the proxy answers HTTP from the internet.
  // Any status counts for now (503 until backends register; the proxy agent is its own issue).
  new command.local.Command(
    "proxy-smoke-check",
    {
      create: `for i in $(seq 1 30); do code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$PROXY_URL/") && [ "$code" != 000 ] && echo "proxy answered $code" && exit 0; sleep 10; done; echo "proxy at $PROXY_URL did not answer within 5 minutes" >&2; exit 1`,
      environment: { PROXY_URL: proxy.url },
      // Re-checked whenever the proxy (or the proxies' load balancer) is replaced.
      triggers: [proxy instanceof Proxy ? proxy.instanceId : proxy.loadBalancerArn],
    },
    { dependsOn: [proxy, fleet] },
  );
  return {
    deployment,
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
    redisUrlKeyArn: redis.urlKeyArn,
  };
}
