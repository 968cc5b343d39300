// Where the controller's rollout wake-ups live: its own EventBridge Scheduler group and the execution
// role Scheduler assumes to invoke the controller Lambda, trusted only by Scheduler for this group and
// allowed to invoke that one function. The controller creates the one-time schedules itself
// (adapters/scheduler/aws.ts) with the statements createScheduleStatements() gives its role.
// Rules: awsRules/schedulerPermissions.ts, awsRules/oneTimeSchedule.ts.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { checkSchedulerName } from "../awsRules/oneTimeSchedule";
import { createScheduleStatements, invokeFunctionPolicy, schedulerTrustPolicy, type GroupPlace } from "../awsRules/schedulerPermissions";
import type { Statement } from "../awsRules/kmsKeyAccess";

export interface RolloutSchedulerArgs {
  /** The group's name (1–64 of [0-9a-zA-Z-_.]; changing it replaces the group and its schedules). */
  groupName: pulumi.Input<string>;
  /** The controller Lambda's ARN (known before the function exists: its name is fixed). */
  functionArn: pulumi.Input<string>;
}

export class RolloutScheduler extends pulumi.ComponentResource {
  public readonly groupName: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;
  /** The statements the controller's role needs to schedule wake-ups in this group. */
  public readonly controllerStatements: pulumi.Output<Statement[]>;

  constructor(name: string, args: RolloutSchedulerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:controller:RolloutScheduler", name, {}, opts);
    const parent = { parent: this };
    const place: pulumi.Output<GroupPlace> = pulumi
      .all([aws.getPartitionOutput({}, parent).partition, aws.getRegionOutput({}, parent).region, aws.getCallerIdentityOutput({}, parent).accountId, args.groupName])
      .apply(([partition, region, account, group]) => ({ partition, region, account, group: checkSchedulerName(group) }));

    const group = new aws.scheduler.ScheduleGroup(name, { name: place.group }, parent);
    const role = new aws.iam.Role(`${name}-invoke`, {
      description: "EventBridge Scheduler invokes the Aviary controller at the end of a rollout step",
      assumeRolePolicy: place.apply((p) => JSON.stringify(schedulerTrustPolicy(p))),
    }, parent);
    new aws.iam.RolePolicy(`${name}-invoke`, {
      role: role.id,
      policy: pulumi.output(args.functionArn).apply((arn) => JSON.stringify(invokeFunctionPolicy(arn))),
    }, parent);

    this.groupName = group.name;
    this.roleArn = role.arn;
    this.controllerStatements = pulumi.all([place, role.arn]).apply(([p, arn]) => createScheduleStatements(p, arn));
    this.registerOutputs({ groupName: this.groupName, roleArn: this.roleArn });
  }
}
