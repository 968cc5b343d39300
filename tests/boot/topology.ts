// The deployed topology as the boot tests start it: the Redis instance, one prod fleet instance, one
// canary instance and the proxy, each with the user data the program renders, and the AWS side
// (release bundles from the real build, the Redis URL and password, the agent's release key, the
// fleet's tags and pending launch hook) written into each instance's stand-ins.
import { randomBytes } from "node:crypto";
import { LAUNCH_HOOK_NAME } from "../../components/fleetLifecycle";
import { renderAppUserData } from "../../components/appUserData";
import type { Role } from "../../core/routing/role";
import { renderProxyUserData } from "../../components/proxy";
import { agentKeyParameterName } from "../../components/proxyAgent";
import { redisUserData } from "../../components/redisServer";
import { APP_PORT, REDIS_PORT } from "../../config/ports";
import { AGENT_ENTRY, APP_ENTRY, bundleApp, contentHash, releaseKey } from "../../release/bundles";
import { withDataVolumeAsDirectory } from "../../boot/dataVolume";
import { withMaxconnWithin } from "../../boot/fileLimit";
import { BOOT_REGION, type BootHarness, type BootInstance, type InstanceSpec } from "../../boot/harness";
import { installStandins, type AwsData } from "../../boot/standins";

export const STACK = "prod";
export const DEPLOYMENT = "aviary-prod";
export const BUCKET = "aviary-prod-releases-0a1b2c3d";
export const FLEET_GROUP = "aviary-prod-fleet-1a2b3c";
export const VERSIONS = { prod: "1.4.0", canary: "1.5.0-rc.1" } as const;
// Parameter names as RedisServer and redisUrlParameter name them for a Redis called "redis".
export const PASSWORD_PARAMETER = `/aviary/${STACK}/redis/password`;
export const URL_PARAMETER = `/aviary/${STACK}/redis/url`;

export interface Topology {
  password: string;
  redisUrl: string;
  /** Renders the proxy's script (tests swap in a variant). */
  proxyUserData: string;
}

const appBundle = bundleApp(APP_ENTRY);
const agentBundle = bundleApp(AGENT_ENTRY);
export const APP_KEYS = { prod: releaseKey(VERSIONS.prod, contentHash(appBundle), "app.js"), canary: releaseKey(VERSIONS.canary, contentHash(appBundle), "app.js") };
export const AGENT_KEY = releaseKey(VERSIONS.prod, contentHash(agentBundle), "agent.js");

export function proxyScript(): string {
  return renderProxyUserData({
    appPort: APP_PORT, deployment: DEPLOYMENT, bucket: BUCKET, agentKeyParameterName: agentKeyParameterName(STACK),
    redisUrlParameterName: URL_PARAMETER, region: BOOT_REGION, latencyThresholdMs: 500, accessLog: "errors",
  });
}

function appScript(role: Role): string {
  return renderAppUserData({ role, version: VERSIONS[role], bucket: BUCKET, key: APP_KEYS[role], appPort: APP_PORT, redisUrlParameterName: URL_PARAMETER, region: BOOT_REGION, demoFaults: false });
}

/** The AWS side every instance of the deployment sees (each instance its own copy). */
function awsData(h: BootHarness, password: string, self: BootInstance): AwsData {
  const redis = h.get("redis");
  return {
    region: BOOT_REGION,
    objects: [
      { bucket: BUCKET, key: APP_KEYS.prod, body: appBundle },
      { bucket: BUCKET, key: APP_KEYS.canary, body: appBundle },
      { bucket: BUCKET, key: AGENT_KEY, body: agentBundle },
    ],
    parameters: [
      { name: PASSWORD_PARAMETER, value: password, type: "SecureString" },
      { name: URL_PARAMETER, value: `redis://:${password}@${redis.address}:${REDIS_PORT}`, type: "SecureString" },
      { name: agentKeyParameterName(STACK), value: AGENT_KEY, type: "String" },
    ],
    ...(self.name === "prod" ? {
      tags: [{ resourceId: self.instanceId, key: "aws:autoscaling:groupName", value: FLEET_GROUP }],
      pendingLifecycleActions: [{ group: FLEET_GROUP, hook: LAUNCH_HOOK_NAME, instanceId: self.instanceId }],
    } : {}),
  };
}

/** Boots Redis, prod, canary and the proxy (proxy user data replaceable, for the old drop-in). */
export async function bootTopology(h: BootHarness, extra: InstanceSpec[] = []): Promise<Topology> {
  // Letters and digits, 32 long: RedisServer's RandomPassword.
  const password = randomBytes(24).toString("base64").replace(/[^A-Za-z0-9]/g, "").padEnd(32, "x").slice(0, 32);
  const prepareRoot = (root: string, self: BootInstance): void => { installStandins(root, { aws: awsData(h, password, self) }); };
  const specs: InstanceSpec[] = [
    { name: "redis", userData: withDataVolumeAsDirectory(redisUserData({ passwordParameterName: PASSWORD_PARAMETER, region: BOOT_REGION })), prepareRoot },
    { name: "prod", userData: appScript("prod"), prepareRoot, targetLifecycleState: "InService" },
    { name: "canary", userData: appScript("canary"), prepareRoot },
    { name: "proxy", userData: withMaxconnWithin(proxyScript()), prepareRoot },
    ...extra.map((e) => ({ prepareRoot, ...e })),
  ];
  await h.boot(specs);
  return { password, redisUrl: `redis://:${password}@${h.get("redis").address}:${REDIS_PORT}`, proxyUserData: specs[3].userData };
}
