// The controller's heartbeat: a recurring EventBridge Scheduler schedule, in the rollout schedule
// group and with its execution role, that ticks the controller Lambda every minute. A tick with
// nothing to do is one quiet log line; with a rollout it re-schedules a lost step-end wake-up, and it
// carries out what a person's command (the CLI has no AWS credentials: it only writes Redis) asked
// for, such as a promotion, within a minute. Rules: awsRules/recurringSchedule.ts,
// awsRules/oneTimeSchedule.ts (names), awsRules/schedulerPermissions.ts (the role's trust names the
// group, so a schedule of this group may assume it).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { checkSchedulerName } from "../awsRules/oneTimeSchedule";
import { NO_RETRY, rateExpression } from "../awsRules/recurringSchedule";
import type { ConfigInvocation } from "../lambda/alarmMessage";

/** What the heartbeat sends: a tick naming no rollout, i.e. the one stored. */
export const HEARTBEAT_INVOCATION: Extract<ConfigInvocation, { action: "rolloutTick" }> = { action: "rolloutTick" };

/** The schedule's name in its group (the controller's one-time schedules are rollout-<hash>-<minute>). */
export const HEARTBEAT_NAME = checkSchedulerName("controller-heartbeat");

export const HEARTBEAT_RATE = rateExpression(1, "minute");

export interface ControllerHeartbeatArgs {
  /** The rollout schedule group (changing it replaces the schedule). */
  groupName: pulumi.Input<string>;
  /** The controller Lambda's ARN: the one function the execution role may invoke. */
  functionArn: pulumi.Input<string>;
  /** The execution role Scheduler assumes to invoke it. */
  roleArn: pulumi.Input<string>;
}

export class ControllerHeartbeat extends pulumi.ComponentResource {
  public readonly scheduleArn: pulumi.Output<string>;

  constructor(name: string, args: ControllerHeartbeatArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:controller:ControllerHeartbeat", name, {}, opts);
    const schedule = new aws.scheduler.Schedule(name, {
      name: HEARTBEAT_NAME,
      groupName: args.groupName,
      description: "Aviary: ticks the controller every minute (rollout step ends, a person's rollout commands)",
      scheduleExpression: HEARTBEAT_RATE,
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: args.functionArn,
        roleArn: args.roleArn,
        input: JSON.stringify(HEARTBEAT_INVOCATION),
        retryPolicy: NO_RETRY,
      },
    }, { parent: this });
    this.scheduleArn = schedule.arn;
    this.registerOutputs({ scheduleArn: this.scheduleArn });
  }
}
