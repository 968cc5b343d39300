// Scheduler port on EventBridge Scheduler: one one-time schedule per wake-up, in the controller's own
// schedule group, invoking the controller Lambda through the execution role (no resource policy on
// the function: Scheduler calls Invoke with that role's permission). Rules: awsRules/oneTimeSchedule.ts.
import { ConflictException, CreateScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { atExpression, fireMinute, wakeScheduleName } from "../../awsRules/oneTimeSchedule";
import { InvalidInputError } from "../../core/errors";
import type { Scheduler } from "../../controller/ports";

/** What the schedule sends the controller Lambda (lambda/handler.ts parses it). */
export interface RolloutTickInvocation {
  action: "rolloutTick";
  rolloutId: string;
}

export interface AwsSchedulerTarget {
  /** The schedule group the controller role may create schedules in. */
  groupName: string;
  /** The controller Lambda's ARN. */
  functionArn: string;
  /** The execution role Scheduler assumes to invoke it. */
  roleArn: string;
}

export class AwsScheduler implements Scheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly target: AwsSchedulerTarget,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async wakeAt(rolloutId: string, at: string): Promise<void> {
    const when = new Date(at);
    if (Number.isNaN(when.getTime())) throw new InvalidInputError(`scheduler: wake-up time ${JSON.stringify(at)} is not a time`);
    const minute = fireMinute(when, this.clock());
    const input: RolloutTickInvocation = { action: "rolloutTick", rolloutId };
    try {
      await this.client.send(new CreateScheduleCommand({
        Name: wakeScheduleName(rolloutId, minute),
        GroupName: this.target.groupName,
        ScheduleExpression: atExpression(minute),
        ScheduleExpressionTimezone: "UTC",
        FlexibleTimeWindow: { Mode: "OFF" },
        ActionAfterCompletion: "DELETE",
        Description: `Aviary rollout ${rolloutId}: the step's pause ends`.slice(0, 512),
        Target: { Arn: this.target.functionArn, RoleArn: this.target.roleArn, Input: JSON.stringify(input) },
      }));
    } catch (err) {
      // The same wake-up was scheduled already (a retried decision): nothing more to do.
      if (err instanceof ConflictException) return;
      throw err;
    }
  }
}
