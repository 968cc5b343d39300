// The production fleet's lifecycle hooks and the instance side that answers them: an instance
// enters service only once its app answers /healthz, and is drained before the group terminates it.
//
// Written from the EC2 Auto Scaling user guide (lifecycle hooks: heartbeat timeout, default
// result, "complete a lifecycle action" with the instance id; "retrieve the target lifecycle
// state through instance metadata", /latest/meta-data/autoscaling/target-lifecycle-state), the
// CompleteLifecycleAction API (group name, hook name, instance id, CONTINUE | ABANDON) and the
// provider's aws_autoscaling_group (internal/service/autoscaling/group.go: initial_lifecycle_hook
// is ForceNew and is the only way a hook exists before the group's first instances launch).
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { InstanceRoleStatement } from "./instanceRole";
import { InvalidInputError } from "../core/errors";

export const LAUNCH_HOOK_NAME = "aviary-app-healthy";
export const TERMINATE_HOOK_NAME = "aviary-drain";
/** Boot (packages, release, app start) plus the health wait must fit in it; past it AWS abandons. */
export const LAUNCH_HEARTBEAT_SECONDS = 900;
/** systemctl stop waits for the app's own drain (deregister, drain delay, drain timeout). */
export const TERMINATE_HEARTBEAT_SECONDS = 180;
export const IMDS_URL = "http://169.254.169.254";
export const DRAIN_WATCHER_PATH = "/usr/local/sbin/aviary-drain-watch";
export const DRAIN_WATCHER_UNIT = "aviary-drain-watch.service";

/**
 * Both hooks on the group itself: a launch hook added as a separate resource would only exist after
 * the group's first instances were already in service. Changing them replaces the group (ForceNew).
 */
export const FLEET_LIFECYCLE_HOOKS: aws.types.input.autoscaling.GroupInitialLifecycleHook[] = [
  // Not answered in time (the app never became healthy, or boot failed): the instance is terminated.
  { name: LAUNCH_HOOK_NAME, lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING", heartbeatTimeout: LAUNCH_HEARTBEAT_SECONDS, defaultResult: "ABANDON" },
  // Not answered in time (the watcher died): terminate anyway, the registry TTL expires the entry.
  { name: TERMINATE_HOOK_NAME, lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING", heartbeatTimeout: TERMINATE_HEARTBEAT_SECONDS, defaultResult: "CONTINUE" },
];

/**
 * CompleteLifecycleAction on the fleet's groups only. The group's ARN cannot be used: the role
 * exists before the launch template and so before the group. Auto Scaling authorizes this action
 * on the autoScalingGroup resource, whose ARN ends in autoScalingGroupName/<name>, so a pattern on
 * the group's name prefix scopes it.
 */
export function completeLifecycleActionStatement(groupArnPattern: pulumi.Input<string>): InstanceRoleStatement {
  return { actions: ["autoscaling:CompleteLifecycleAction"], resources: [groupArnPattern] };
}

export interface FleetLifecycleScriptOptions {
  appPort: number;
  region: string;
  /** Instance metadata service; tests point it at a server on 127.0.0.1. */
  imdsUrl?: string;
  /** /healthz polls before the launch is abandoned, and seconds between them. */
  healthAttempts?: number;
  healthIntervalSeconds?: number;
  /** Seconds between two reads of the target lifecycle state. */
  watchIntervalSeconds?: number;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const URL_TOKEN = /^http:\/\/[A-Za-z0-9.:-]+$/;

function checked(o: FleetLifecycleScriptOptions): Required<FleetLifecycleScriptOptions> {
  const v = { imdsUrl: IMDS_URL, healthAttempts: 60, healthIntervalSeconds: 5, watchIntervalSeconds: 5, ...o };
  if (!Number.isInteger(v.appPort) || v.appPort < 1 || v.appPort > 65535) throw new InvalidInputError(`fleetLifecycle: bad appPort ${v.appPort}`);
  if (!REGION.test(v.region)) throw new InvalidInputError(`fleetLifecycle: region ${JSON.stringify(v.region)} is not an AWS region name`);
  if (!URL_TOKEN.test(v.imdsUrl)) throw new InvalidInputError(`fleetLifecycle: imdsUrl ${JSON.stringify(v.imdsUrl)} is not a plain http://host[:port]`);
  for (const k of ["healthAttempts", "healthIntervalSeconds", "watchIntervalSeconds"] as const) {
    if (!(v[k] > 0 && v[k] <= 3600)) throw new InvalidInputError(`fleetLifecycle: ${k} must be in (0, 3600] (got ${v[k]})`);
  }
  return v;
}

/** Shell functions: IMDSv2 reads, the group this instance is in, and completing a lifecycle action. */
function lifecycleFunctions(v: Required<FleetLifecycleScriptOptions>): string {
  return `AVIARY_REGION=${v.region}
AVIARY_IMDS=${v.imdsUrl}
# IMDSv2: a fresh session token for every read (boot can outlast any one token).
lifecycle_imds() {
  local token
  token=$(curl -sf -m 5 -X PUT "$AVIARY_IMDS/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60') || return 1
  curl -sf -m 5 -H "X-aws-ec2-metadata-token: $token" "$AVIARY_IMDS/latest/meta-data/$1"
}
# lifecycle_complete HOOK RESULT: the group is read from the tag Auto Scaling puts on its instances.
lifecycle_complete() {
  local id group=""
  id=$(lifecycle_imds instance-id) || return 1
  for _ in 1 2 3 4 5 6; do
    group=$(aws ec2 describe-tags --region "$AVIARY_REGION" --filters "Name=resource-id,Values=$id" "Name=key,Values=aws:autoscaling:groupName" --query 'Tags[0].Value' --output text) && [ -n "$group" ] && [ "$group" != None ] && break
    group=""
    sleep 5
  done
  [ -n "$group" ] || { echo "no aws:autoscaling:groupName tag on $id" >&2; return 1; }
  aws autoscaling complete-lifecycle-action --region "$AVIARY_REGION" --auto-scaling-group-name "$group" --lifecycle-hook-name "$1" --instance-id "$id" --lifecycle-action-result "$2"
}
`;
}

/** The launch hook's side: poll the app's /healthz (bounded), then CONTINUE, or ABANDON and fail. */
export function renderLaunchHealthWait(o: FleetLifecycleScriptOptions): string {
  const v = checked(o);
  return `${lifecycleFunctions(v)}
app_healthy=""
for _ in $(seq 1 ${v.healthAttempts}); do
  if curl -sf -m 2 -o /dev/null http://127.0.0.1:${v.appPort}/healthz; then app_healthy=1; break; fi
  sleep ${v.healthIntervalSeconds}
done
if [ -n "$app_healthy" ]; then
  lifecycle_complete ${LAUNCH_HOOK_NAME} CONTINUE
else
  echo "the app never answered /healthz: abandoning this instance" >&2
  lifecycle_complete ${LAUNCH_HOOK_NAME} ABANDON
  exit 1
fi
`;
}

/**
 * The termination hook's side, a script for a systemd service: once Auto Scaling's target state
 * for this instance is Terminated, stop the app (it deregisters from Redis and drains on SIGTERM,
 * app/main.ts) and then let the termination go on.
 */
export function renderDrainWatcherScript(o: FleetLifecycleScriptOptions): string {
  const v = checked(o);
  return `#!/bin/bash
set -uo pipefail
${lifecycleFunctions(v)}
while :; do
  if [ "$(lifecycle_imds autoscaling/target-lifecycle-state)" = Terminated ]; then
    echo "target lifecycle state Terminated: draining aviary-app"
    # Blocks until the app has deregistered, drained and exited.
    systemctl stop aviary-app.service
    lifecycle_complete ${TERMINATE_HOOK_NAME} CONTINUE || exit 1
    exit 0
  fi
  sleep ${v.watchIntervalSeconds}
done
`;
}

/** The boot-script part for fleet instances: install the drain watcher, then answer the launch hook. */
export function renderFleetLifecycleSetup(o: FleetLifecycleScriptOptions): string {
  return `
# Auto Scaling lifecycle: drained before the group terminates this instance ...
cat > ${DRAIN_WATCHER_PATH} <<'WATCHER'
${renderDrainWatcherScript(o)}WATCHER
chmod 755 ${DRAIN_WATCHER_PATH}
cat > /etc/systemd/system/${DRAIN_WATCHER_UNIT} <<'UNIT'
[Unit]
Description=Aviary: drain the app before Auto Scaling terminates this instance
Wants=network-online.target
After=network-online.target aviary-app.service

[Service]
Environment=AWS_REGION=${checked(o).region}
ExecStart=${DRAIN_WATCHER_PATH}
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now ${DRAIN_WATCHER_UNIT}
# ... and in service only once the app answers /healthz.
${renderLaunchHealthWait(o)}`;
}
