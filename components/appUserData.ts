// Cloud-init script shared by production fleet and canary instances: fetch the release, run it under systemd.
import * as pulumi from "@pulumi/pulumi";
import { renderFleetLifecycleSetup } from "./fleetLifecycle";
import type { InstanceRoleStatement } from "./instanceRole";
import { awsRegion, bootScriptPreamble, IMDS_FUNCTIONS, shellQuote } from "./bootShell";
import { NODE_BIN, NODE_PACKAGE, SERVICE_UNIT_TAIL } from "./systemdUnit";
import { isRole, type Role } from "../core/routing/role";
import { FLEET_METRICS } from "../core/metrics/naming";
import { InvalidInputError } from "../core/errors";

/** What the pure renderer takes: every value resolved. */
export interface AppUserDataValues {
  role: Role;
  version: string;
  bucket: string;
  key: string;
  appPort: number;
  redisUrlParameterName: string;
  region: string;
  /** aviary:demoFaults: whether the app honours the demo-* fault flags; off when absent. */
  demoFaults?: boolean;
}

/** The part of an app component's Args (production fleet, canary) that its boot script is made from. */
export interface AppInstanceArgs {
  appVersion: string;
  appPort: number;
  release: { bucketName: pulumi.Input<string>; objectKey: pulumi.Input<string> };
  redisUrlParameterName: pulumi.Input<string>;
  demoFaults?: boolean;
}

export { shellQuote } from "./bootShell";

// Values that land in systemd Environment= lines must be plain tokens.
const SAFE_ENV = /^[A-Za-z0-9._+:/@-]+$/;

/** CloudWatch agent config: memory used %, aggregated per Auto Scaling group for prod. */
export function cloudWatchAgentConfig(role: Role): string {
  const dimensions = role === "prod"
    ? { append_dimensions: { AutoScalingGroupName: "${aws:AutoScalingGroupName}", InstanceId: "${aws:InstanceId}" }, aggregation_dimensions: [["AutoScalingGroupName"]] }
    : { append_dimensions: { InstanceId: "${aws:InstanceId}" } };
  return JSON.stringify({
    agent: { metrics_collection_interval: 60 },
    metrics: {
      namespace: FLEET_METRICS.memory.namespace,
      ...dimensions,
      metrics_collected: { mem: { measurement: [FLEET_METRICS.memory.metricName] } },
    },
  }, null, 2);
}

/** Renders the script from resolved values. Pure: tests read it directly. */
export function renderAppUserData(v: AppUserDataValues): string {
  if (!isRole(v.role)) throw new InvalidInputError(`appUserData: role must be prod or canary (got ${v.role})`);
  if (!Number.isInteger(v.appPort) || v.appPort < 1 || v.appPort > 65535) throw new InvalidInputError(`appUserData: bad appPort ${v.appPort}`);
  if (!SAFE_ENV.test(v.version)) throw new InvalidInputError(`appUserData: version ${JSON.stringify(v.version)} has unsafe characters`);
  const q = shellQuote;
  return `${bootScriptPreamble("/var/log/aviary-app-init.log", v.region)}
retry dnf install -y ${NODE_PACKAGE} amazon-cloudwatch-agent
NODE_BIN=$(command -v ${NODE_BIN})

id aviary >/dev/null 2>&1 || useradd --system --home-dir /opt/aviary --shell /sbin/nologin aviary
install -d -o root -g root -m 755 /opt/aviary
install -d -o root -g root -m 700 /etc/aviary
retry aws s3 cp --region "$REGION" ${q(`s3://${v.bucket}/${v.key}`)} /opt/aviary/app.js
chmod 644 /opt/aviary/app.js

# The Redis URL carries the password: fetched at boot, kept in a root-only file that systemd reads.
umask 077
redis_url=$(retry aws ssm get-parameter --region "$REGION" --name ${q(v.redisUrlParameterName)} --with-decryption --query Parameter.Value --output text)
printf 'REDIS_URL=%s\\n' "$redis_url" > /etc/aviary/app.env
unset redis_url
# The app registers as its EC2 instance id at its private IP: the controller drains and
# terminates instances by that id (IMDSv2: a session token first).
${IMDS_FUNCTIONS}
printf 'AVIARY_INSTANCE_ID=%s\\nAVIARY_ADDRESS=%s:%s\\n' "$(imds instance-id)" "$(imds local-ipv4)" ${v.appPort} >> /etc/aviary/app.env
chmod 600 /etc/aviary/app.env
umask 022

cat > /etc/systemd/system/aviary-app.service <<UNIT
[Unit]
Description=Aviary app (${v.role} ${v.version})
Wants=network-online.target
After=network-online.target

[Service]
User=aviary
Group=aviary
Environment=AVIARY_VERSION=${v.version}
Environment=AVIARY_ROLE=${v.role}
Environment=PORT=${v.appPort}
Environment=HOST=0.0.0.0
Environment=AWS_REGION=${awsRegion(v.region)}
Environment=AVIARY_DEMO_FAULTS=${v.demoFaults === true ? "on" : "off"}
# Last-known-good flags survive app restarts during a Redis outage (PrivateTmp would not).
StateDirectory=aviary
Environment=AVIARY_FLAG_SNAPSHOT=/var/lib/aviary/flags.json
EnvironmentFile=/etc/aviary/app.env
ExecStart=$NODE_BIN /opt/aviary/app.js
KillSignal=SIGTERM
${SERVICE_UNIT_TAIL}
UNIT
systemctl daemon-reload
systemctl enable --now aviary-app.service

cat > /opt/aws/amazon-cloudwatch-agent/etc/aviary.json <<'CWAGENT'
${cloudWatchAgentConfig(v.role)}
CWAGENT
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/aviary.json
${v.role === "prod" ? renderFleetLifecycleSetup({ appPort: v.appPort, region: v.region }) : ""}`;
}

/** The script as an Output, for launch templates and instances, from an app component's args. */
export function appUserData(role: Role, args: AppInstanceArgs, region: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi
    .all([args.appVersion, args.release.bucketName, args.release.objectKey, args.redisUrlParameterName, region])
    .apply(([version, bucket, key, redisUrlParameterName, r]) =>
      renderAppUserData({ role, appPort: args.appPort, version, bucket, key, redisUrlParameterName, region: r, demoFaults: args.demoFaults }));
}

/** What the boot script above needs from IAM: its release object, the Redis URL, agent metrics. */
export function appInstanceStatements(
  release: { bucketArn: pulumi.Input<string>; objectKey: pulumi.Input<string> },
  redisUrlParameterArn: pulumi.Input<string>,
): InstanceRoleStatement[] {
  return [
    { actions: ["s3:GetObject"], resources: [pulumi.interpolate`${release.bucketArn}/${release.objectKey}`] },
    { actions: ["ssm:GetParameter"], resources: [redisUrlParameterArn] },
    // PutMetricData has no resource-level permissions; the namespace condition is the scope.
    { actions: ["cloudwatch:PutMetricData"], resources: ["*"], condition: { StringEquals: { "cloudwatch:namespace": FLEET_METRICS.memory.namespace } } },
  ];
}
