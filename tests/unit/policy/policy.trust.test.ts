// resource-policies-scoped over role trust policies: a role EventBridge Scheduler assumes must tie
// Scheduler to this account or its schedule group (confused-deputy protection).
import { checkPolicies, type CheckedResource } from "../../../policy/check";
import { trustPolicyProblems } from "../../../policy/policies";

const role = (trust: object): CheckedResource => ({
  type: "aws:iam/role:Role",
  name: "r",
  urn: "urn:pulumi:test::aviary::aws:iam/role:Role::r",
  inputs: { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [trust] }) },
});
const assume = (service: string, condition?: object) => ({ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole", ...(condition ? { Condition: condition } : {}) });

test.each([
  ["Scheduler, unconditioned", assume("scheduler.amazonaws.com"), 1],
  ["Scheduler with aws:SourceAccount", assume("scheduler.amazonaws.com", { StringEquals: { "aws:SourceAccount": "123456789012" } }), 0],
  ["Scheduler with aws:SourceArn of the group", assume("scheduler.amazonaws.com", { ArnEquals: { "aws:SourceArn": "arn:aws:scheduler:us-east-1:123456789012:schedule-group/g" } }), 0],
  ["Scheduler with an unrelated condition", assume("scheduler.amazonaws.com", { Bool: { "aws:SecureTransport": "true" } }), 1],
  ["Lambda (runs the role itself)", assume("lambda.amazonaws.com"), 0],
  ["EC2 (runs the role itself)", assume("ec2.amazonaws.com"), 0],
])("%s: %i violation(s)", (_, trust, count) => {
  expect(trustPolicyProblems(JSON.stringify({ Statement: [trust] }))).toHaveLength(count);
  expect(checkPolicies([role(trust)]).filter((v) => v.policy === "resource-policies-scoped")).toHaveLength(count);
});
