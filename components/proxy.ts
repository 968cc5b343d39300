// Public entry point: one HAProxy instance with an Elastic IP in front of the prod and canary backends.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PROXY_NAMESPACE } from "../core/metrics/naming";
import { CANARY_SLOTS, PROD_SLOTS } from "../core/config/proxySlots";
import type { AccessLog } from "../core/config/accessLog";
import { renderHaproxyConfig, type HaproxyConfigOptions } from "../haproxy/config";
import { AppRelease } from "./appRelease";
import { awsRegion, bootScriptPreamble, shellQuote } from "./bootShell";
import { InstanceRole, type InstanceRoleStatement } from "./instanceRole";
import { redisUrlSecret } from "./redisUrlParameter";
import { al2023Ami, INSTANCE_HARDENING } from "./instanceDefaults";
import { NODE_BIN, NODE_PACKAGE, SERVICE_UNIT_TAIL } from "./systemdUnit";
import {
  AGENT_INSTALL_PATH, PROXY_AGENT_PATH, PROXY_AGENT_UNIT, proxyAgentAssociation, proxyAgentKeyParameter, renderAgentInstallScript,
} from "./proxyAgent";
import { InvalidInputError } from "../core/errors";

export interface ProxyArgs {
  subnetId: pulumi.Input<string>;
  securityGroupId: pulumi.Input<string>;
  instanceType: pulumi.Input<string>;
  appPort: number;
  /** Deployment name (e.g. aviary-prod); handed to the proxy agent to pick its Redis keys. */
  deployment: pulumi.Input<string>;
  release: AppRelease;
  redisUrlParameterName: pulumi.Input<string>;
  redisUrlParameterArn: pulumi.Input<string>;
  /** The KMS key that encrypts the Redis URL parameter (its policy names this role's path). */
  redisUrlKeyArn: pulumi.Input<string>;
  /**
   * aviary:thresholds.canaryP99Ms of this (prod) stack: a bound of HAProxy's latency histogram, so
   * the canary p99 alarm is decided exactly at it. The canary stack's value should be the same.
   */
  latencyThresholdMs: number;
  /** aviary:proxy.accessLog: which requests HAProxy logs to the journal. */
  accessLog: AccessLog;
  /** aviary:proxy.testerRouting: the tester header/cookie reaches an enabled canary at any weight (default false). */
  testerRouting?: boolean;
}

export { CANARY_SLOTS, PROD_SLOTS };

/**
 * Where the agent (user haproxy) reaches HAProxy's admin socket. HAProxy's unit on Amazon Linux 2023
 * runs it as root without User=, so RuntimeDirectory= there would make this directory root's (and
 * chown it back at every start); a tmpfiles.d rule gives it to haproxy at every boot, as Debian's
 * package does, and lets nobody else in. The socket itself is haproxy's, mode 600 (haproxy/config.ts).
 */
export const PROXY_SOCKET_DIRECTORY = "/run/haproxy";
export const PROXY_SOCKET_TMPFILES = `d ${PROXY_SOCKET_DIRECTORY} 0700 haproxy haproxy -`;

/** The proxy instance's HAProxy options: public :80, loopback stats, admin socket the agent (user haproxy) can use. */
export const PROXY_HAPROXY_OPTIONS: HaproxyConfigOptions = {
  bind: ":80",
  statsBind: "127.0.0.1:8404",
  socketPath: `${PROXY_SOCKET_DIRECTORY}/admin.sock`,
  prodSlots: PROD_SLOTS,
  canarySlots: CANARY_SLOTS,
  user: "haproxy",
  maxconn: 20000,
};

export interface ProxyUserDataValues {
  appPort: number;
  deployment: string;
  bucket: string;
  /** The SSM parameter naming the agent release: the script never carries the key, so a new agent replaces no proxy. */
  agentKeyParameterName: string;
  redisUrlParameterName: string;
  region: string;
  latencyThresholdMs: number;
  accessLog: AccessLog;
  testerRouting?: boolean;
}

/** Cloud-init script for the proxy instance. Pure, for tests. */
export function renderProxyUserData(v: ProxyUserDataValues): string {
  const q = shellQuote;
  return `${bootScriptPreamble("/var/log/aviary-proxy-init.log", v.region)}
retry dnf install -y haproxy ${NODE_PACKAGE}
cat > /etc/tmpfiles.d/aviary-haproxy.conf <<'TMPFILES'
${PROXY_SOCKET_TMPFILES}
TMPFILES
systemd-tmpfiles --create /etc/tmpfiles.d/aviary-haproxy.conf
cat > /etc/haproxy/haproxy.cfg <<'CFG'
${renderHaproxyConfig({ ...PROXY_HAPROXY_OPTIONS, latencyThresholdMs: v.latencyThresholdMs, accessLog: v.accessLog, testerRouting: v.testerRouting })}CFG
haproxy -c -f /etc/haproxy/haproxy.cfg
systemctl enable --now haproxy

# The agent fills HAProxy's server slots from Redis through the admin socket. Its release comes from
# the install script, which State Manager runs again for every new agent bundle.
install -d -o root -g root -m 700 /etc/aviary
cat > ${AGENT_INSTALL_PATH} <<'INSTALL'
${renderAgentInstallScript({ region: v.region, bucket: v.bucket, agentKeyParameterName: v.agentKeyParameterName })}INSTALL
chmod 700 ${AGENT_INSTALL_PATH}
NODE_BIN=$(command -v ${NODE_BIN})
umask 077
redis_url=$(retry aws ssm get-parameter --region "$REGION" --name ${q(v.redisUrlParameterName)} --with-decryption --query Parameter.Value --output text)
printf 'REDIS_URL=%s\\n' "$redis_url" > /etc/aviary/agent.env
unset redis_url
umask 022
cat > /etc/systemd/system/${PROXY_AGENT_UNIT} <<UNIT
[Unit]
Description=Aviary proxy agent
After=haproxy.service network-online.target
Wants=network-online.target
Requires=haproxy.service

[Service]
User=haproxy
Group=haproxy
Environment=AWS_REGION=${awsRegion(v.region)}
Environment=AVIARY_DEPLOYMENT=${v.deployment}
Environment=HAPROXY_SOCKET=${PROXY_HAPROXY_OPTIONS.socketPath}
Environment=AVIARY_PROD_SLOTS=${PROD_SLOTS}
Environment=AVIARY_CANARY_SLOTS=${CANARY_SLOTS}
EnvironmentFile=/etc/aviary/agent.env
ExecStart=$NODE_BIN ${PROXY_AGENT_PATH}
${SERVICE_UNIT_TAIL}
UNIT
systemctl daemon-reload
systemctl enable ${PROXY_AGENT_UNIT}
${AGENT_INSTALL_PATH}
`;
}

const SAFE_TOKEN = /^[A-Za-z0-9._+:/@-]+$/;

/** What a proxy instance's boot script and agent need: the Redis URL, its release, its metrics. */
export type ProxyInstanceArgs = Pick<ProxyArgs, "appPort" | "deployment" | "release" | "redisUrlParameterName" | "redisUrlParameterArn" | "redisUrlKeyArn" | "latencyThresholdMs" | "accessLog" | "testerRouting">;

/** IAM statements of a proxy instance (the single proxy and every proxy of a ProxyFleet). */
export function proxyInstanceStatements(args: ProxyInstanceArgs, agentKeyParameterArn: pulumi.Input<string>): InstanceRoleStatement[] {
  return [
    { actions: ["ssm:GetParameter"], resources: [args.redisUrlParameterArn] },
    { actions: ["ssm:GetParameter"], resources: [agentKeyParameterArn] },
    { actions: ["s3:GetObject"], resources: [pulumi.interpolate`${args.release.bucketArn}/releases/*`] },
    // PutMetricData has no resource-level permissions; the namespace condition is the scope.
    { actions: ["cloudwatch:PutMetricData"], resources: ["*"], condition: { StringEquals: { "cloudwatch:namespace": PROXY_NAMESPACE } } },
  ];
}

/** The proxy boot script as an Output (instances and launch templates). */
export function proxyUserData(args: ProxyInstanceArgs, agentKeyParameterName: pulumi.Input<string>, region: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi
    .all([args.deployment, args.release.bucketName, agentKeyParameterName, args.redisUrlParameterName, region])
    .apply(([deployment, bucket, agentKeyParameterName, redisUrlParameterName, r]) => {
      if (!SAFE_TOKEN.test(deployment)) throw new InvalidInputError(`Proxy: deployment ${JSON.stringify(deployment)} has unsafe characters`);
      return renderProxyUserData({ appPort: args.appPort, deployment, bucket, agentKeyParameterName, redisUrlParameterName, region: r, latencyThresholdMs: args.latencyThresholdMs, accessLog: args.accessLog, testerRouting: args.testerRouting });
    });
}

export class Proxy extends pulumi.ComponentResource {
  public readonly publicIp: pulumi.Output<string>;
  public readonly publicDns: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;
  public readonly instanceId: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: ProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:proxy:Proxy", name, {}, opts);
    const parent = { parent: this };

    const agentKey = proxyAgentKeyParameter(name, args.release.agentKey, parent);
    const role = new InstanceRole(`${name}-role`, { statements: proxyInstanceStatements(args, agentKey.arn), secret: redisUrlSecret(args) }, parent);

    const image = al2023Ami(args.instanceType, parent);
    const userData = proxyUserData(args, agentKey.name, aws.getRegionOutput({}, parent).region);

    const instance = new aws.ec2.Instance(name, {
      ami: image.ami,
      instanceType: args.instanceType,
      subnetId: args.subnetId,
      vpcSecurityGroupIds: [args.securityGroupId],
      // Boot-time public IP so dnf works before the EIP is associated; the EIP then replaces it.
      associatePublicIpAddress: true,
      iamInstanceProfile: role.instanceProfileName,
      ...INSTANCE_HARDENING,
      userData,
      tags: { Name: name, "aviary:role": "proxy" },
      volumeTags: { Name: name },
    }, { parent: this, ...image.singleInstanceOptions });

    const eip = new aws.ec2.Eip(name, { domain: "vpc", instance: instance.id, tags: { Name: name } }, parent);
    // A new agent bundle updates the parameter and this association: the instance and its address stay.
    proxyAgentAssociation(name, { deployment: args.deployment, parameter: agentKey, targets: [{ key: "InstanceIds", values: [instance.id] }] }, parent);

    this.publicIp = eip.publicIp;
    this.publicDns = eip.publicDns;
    this.url = pulumi.interpolate`http://${eip.publicIp}`;
    this.instanceId = instance.id;
    this.roleArn = role.roleArn;
    this.registerOutputs({
      publicIp: this.publicIp,
      publicDns: this.publicDns,
      url: this.url,
      instanceId: this.instanceId,
      roleArn: this.roleArn,
    });
  }
}
