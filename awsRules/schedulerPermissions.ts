// Who may do what for EventBridge Scheduler to invoke the controller Lambda. Written from the
// EventBridge Scheduler User Guide: "Setting up the execution role" and "Using templated targets"
// (Scheduler assumes the schedule's execution role and calls the target's API with that role's
// permissions: for Lambda's Invoke the role needs lambda:InvokeFunction on the function, and the
// function needs no resource-based policy), "Confused deputy prevention" (the execution role's trust
// policy should name the account in aws:SourceAccount and the schedule group's ARN in
// aws:SourceArn, never a schedule's ARN), and the Service Authorization Reference for EventBridge
// Scheduler (CreateSchedule authorizes scheduler:CreateSchedule on the schedule's ARN,
// arn:<partition>:scheduler:<region>:<account>:schedule/<group>/<name>, and iam:PassRole on the
// execution role with iam:PassedToService = scheduler.amazonaws.com).
import type { PolicyDocument, Statement } from "./kmsKeyAccess";

export const SCHEDULER_SERVICE = "scheduler.amazonaws.com";

export interface GroupPlace {
  partition: string;
  region: string;
  account: string;
  group: string;
}

export function scheduleGroupArn(p: GroupPlace): string {
  return `arn:${p.partition}:scheduler:${p.region}:${p.account}:schedule-group/${p.group}`;
}

/** Every schedule of the group (CreateSchedule is authorized on the schedule's own ARN). */
export function groupSchedulesArn(p: GroupPlace): string {
  return `arn:${p.partition}:scheduler:${p.region}:${p.account}:schedule/${p.group}/*`;
}

/** A trust policy statement: it names a principal and has no Resource (IAM refuses one there). */
export interface TrustStatement {
  Effect: "Allow";
  Principal: { Service: string };
  Action: "sts:AssumeRole";
  Condition: Record<string, Record<string, string>>;
}

/** The execution role's trust policy: Scheduler only, on behalf of this account's one group. */
export function schedulerTrustPolicy(p: GroupPlace): { Version: string; Statement: TrustStatement[] } {
  return {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Service: SCHEDULER_SERVICE },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": p.account }, ArnEquals: { "aws:SourceArn": scheduleGroupArn(p) } },
    }],
  };
}

/** The execution role's permissions: invoke the one function, nothing else. */
export function invokeFunctionPolicy(functionArn: string): PolicyDocument {
  return { Version: "2012-10-17", Statement: [{ Sid: "InvokeTheController", Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: functionArn }] };
}

/** What the controller's role needs to create the group's schedules with that execution role. */
export function createScheduleStatements(p: GroupPlace, executionRoleArn: string): Statement[] {
  return [
    { Sid: "ScheduleRolloutTicks", Effect: "Allow", Action: ["scheduler:CreateSchedule"], Resource: groupSchedulesArn(p) },
    {
      Sid: "PassTheSchedulerRole",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: executionRoleArn,
      Condition: { StringEquals: { "iam:PassedToService": SCHEDULER_SERVICE } },
    },
  ];
}
