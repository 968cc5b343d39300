// What EventBridge Scheduler needs to invoke the controller, and what the controller needs to create
// its schedules (awsRules/schedulerPermissions.ts), evaluated as IAM would (awsRules/kmsKeyAccess.ts).
import { iamAllows } from "../../../awsRules/kmsKeyAccess";
import { createScheduleStatements, groupSchedulesArn, invokeFunctionPolicy, scheduleGroupArn, schedulerTrustPolicy } from "../../../awsRules/schedulerPermissions";

const place = { partition: "aws", region: "us-east-1", account: "123456789012", group: "aviary-prod-controller" };
const ROLE = "arn:aws:iam::123456789012:role/controller-rollout-invoke";
const FN = "arn:aws:lambda:us-east-1:123456789012:function:aviary-prod-controller";
const controller = { Statement: createScheduleStatements(place, ROLE) };

test("ARNs: the group's, and its schedules' (CreateSchedule is authorized on the schedule)", () => {
  expect(scheduleGroupArn(place)).toBe("arn:aws:scheduler:us-east-1:123456789012:schedule-group/aviary-prod-controller");
  expect(groupSchedulesArn(place)).toBe("arn:aws:scheduler:us-east-1:123456789012:schedule/aviary-prod-controller/*");
});

test.each([
  // action, resource, context, allowed
  ["scheduler:CreateSchedule", "arn:aws:scheduler:us-east-1:123456789012:schedule/aviary-prod-controller/rollout-1", {}, true],
  ["scheduler:CreateSchedule", "arn:aws:scheduler:us-east-1:123456789012:schedule/default/rollout-1", {}, false],
  ["scheduler:CreateSchedule", "arn:aws:scheduler:eu-west-1:123456789012:schedule/aviary-prod-controller/rollout-1", {}, false],
  ["scheduler:UpdateSchedule", "arn:aws:scheduler:us-east-1:123456789012:schedule/aviary-prod-controller/rollout-1", {}, false],
  ["iam:PassRole", ROLE, { "iam:PassedToService": "scheduler.amazonaws.com" }, true],
  ["iam:PassRole", ROLE, { "iam:PassedToService": "lambda.amazonaws.com" }, false],
  ["iam:PassRole", ROLE, {}, false],
  ["iam:PassRole", "arn:aws:iam::123456789012:role/admin", { "iam:PassedToService": "scheduler.amazonaws.com" }, false],
] as const)("controller: %s on %s %j → %p", (action, resource, context, allowed) => {
  expect(iamAllows([controller], action, resource, { ...context })).toBe(allowed);
});

test.each([
  ["lambda:InvokeFunction", FN, true],
  ["lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:other", false],
  ["lambda:InvokeFunction", `${FN}:1`, false],
  ["lambda:UpdateFunctionConfiguration", FN, false],
])("execution role: %s on %s → %p", (action, resource, allowed) => {
  expect(iamAllows([invokeFunctionPolicy(FN)], action, resource)).toBe(allowed);
});

test("the trust policy: Scheduler only, for this account and this group, and no Resource element (IAM refuses one)", () => {
  const [s] = schedulerTrustPolicy(place).Statement;
  expect(schedulerTrustPolicy(place).Statement).toHaveLength(1);
  expect(s).toEqual({
    Effect: "Allow",
    Principal: { Service: "scheduler.amazonaws.com" },
    Action: "sts:AssumeRole",
    Condition: { StringEquals: { "aws:SourceAccount": "123456789012" }, ArnEquals: { "aws:SourceArn": scheduleGroupArn(place) } },
  });
  expect("Resource" in s).toBe(false);
});
