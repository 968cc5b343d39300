// The prod program's rollout resources under Pulumi's mocks: the schedule group and the execution role
// EventBridge Scheduler invokes the controller with, what the controller's role may do with them, and
// (with aviary:promote) the promote token only the controller may read. Mocks check nothing, so each
// rule is evaluated here: IAM by awsRules/kmsKeyAccess.ts, names by awsRules/oneTimeSchedule.ts.
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import { readStackFile } from "../../../config/stackFile";
import { checkPolicies } from "../../../policy/check";
import { mockArn, runUnderMocks, type MockRun, type Registered } from "../../../harness/pulumiMocks";
import { iamAllows, kmsAllows, type PolicyDocument } from "../../../awsRules/kmsKeyAccess";
import { SCHEDULER_NAME } from "../../../awsRules/oneTimeSchedule";
import { ratePeriodSeconds, retryPolicyProblems } from "../../../awsRules/recurringSchedule";
import { parseConfigInvocation } from "../../../lambda/alarmMessage";
import { readerRolePath } from "../../../components/secretsKey";
import { planChange } from "../../support/changeImpact";

jest.setTimeout(180_000);

const config = readStackFile(join(REPO_ROOT, "Pulumi.prod.yaml"));
const TOKEN = "github_pat_11AAAAAAA0abcdefghij_klmnopqrstuvwxyz0123456789";
const withPromote = { ...config, "aviary:promote": JSON.stringify({ repository: "acme/aviary", token: TOKEN }) };
const ACCOUNT = "123456789012";

let plain: MockRun<unknown>;
let promoting: MockRun<unknown>;
beforeAll(async () => {
  plain = await runUnderMocks(() => require("../../../index"), { stack: "prod", config });
  await jest.isolateModulesAsync(async () => {
    promoting = await runUnderMocks(() => require("../../../index"), { stack: "prod", config: withPromote, secretKeys: ["aviary:promote"] });
  });
});

const named = (run: MockRun<unknown>, type: string, name: string): Registered => {
  const found = run.ofType(type).find((r) => r.name === name);
  if (!found) throw new Error(`no ${type} ${name}`);
  return found;
};
const policyOf = (run: MockRun<unknown>, name: string): PolicyDocument => JSON.parse(named(run, "aws:iam/rolePolicy:RolePolicy", name).inputs.policy);
const env = (run: MockRun<unknown>): Record<string, string> => run.one("aws:lambda/function:Function").inputs.environment.variables;
const groupName = (run: MockRun<unknown>): string => run.one("aws:scheduler/scheduleGroup:ScheduleGroup").inputs.name;
const scheduleArn = (group: string, schedule = "rollout-0123456789abcdef-20261201T1606") => `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/${group}/${schedule}`;
const executionRoleArn = (run: MockRun<unknown>) => mockArn("aws:iam/role:Role", named(run, "aws:iam/role:Role", "controller-rollout-invoke").name);

describe.each([["without aviary:promote", () => plain], ["with aviary:promote", () => promoting]])("%s", (_, runOf) => {
  test("one schedule group, named like the function, within Scheduler's name rule", () => {
    const run = runOf();
    const fn = run.one("aws:lambda/function:Function");
    expect(groupName(run)).toBe(fn.inputs.name);
    expect(groupName(run)).toMatch(SCHEDULER_NAME);
    expect(env(run).SCHEDULE_GROUP).toBe(groupName(run));
  });

  test("the execution role: only Scheduler may assume it, only for this account's group, and it may only invoke the controller", () => {
    const run = runOf();
    const role = named(run, "aws:iam/role:Role", "controller-rollout-invoke");
    const trust = JSON.parse(role.inputs.assumeRolePolicy);
    expect(trust.Statement).toEqual([{
      Effect: "Allow",
      Principal: { Service: "scheduler.amazonaws.com" },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnEquals: { "aws:SourceArn": `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule-group/${groupName(run)}` } },
    }]);
    const fnArn = env(run).FUNCTION_ARN;
    expect(fnArn).toBe(`arn:aws:lambda:us-east-1:${ACCOUNT}:function:${run.one("aws:lambda/function:Function").inputs.name}`);
    const invoke = policyOf(run, "controller-rollout-invoke");
    expect(iamAllows([invoke], "lambda:InvokeFunction", fnArn)).toBe(true);
    expect(iamAllows([invoke], "lambda:InvokeFunction", `arn:aws:lambda:us-east-1:${ACCOUNT}:function:another`)).toBe(false);
    expect(iamAllows([invoke], "lambda:UpdateFunctionCode", fnArn)).toBe(false);
    expect(env(run).SCHEDULER_ROLE_ARN).toBe(executionRoleArn(run));
    // Scheduler invokes with the role, not through a resource policy: the function grants SNS only.
    expect(run.ofType("aws:lambda/permission:Permission").map((p) => p.inputs.principal)).toEqual(["sns.amazonaws.com"]);
  });

  test("the controller may create schedules in its group only, and pass the execution role to Scheduler only", () => {
    const run = runOf();
    const policy = policyOf(run, "controller");
    const group = groupName(run);
    expect(iamAllows([policy], "scheduler:CreateSchedule", scheduleArn(group))).toBe(true);
    expect(iamAllows([policy], "scheduler:CreateSchedule", scheduleArn("default"))).toBe(false);
    expect(iamAllows([policy], "scheduler:DeleteScheduleGroup", `arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule-group/${group}`)).toBe(false);
    const pass = (service: string, role = executionRoleArn(run)) => iamAllows([policy], "iam:PassRole", role, { "iam:PassedToService": service });
    expect(pass("scheduler.amazonaws.com")).toBe(true);
    expect(pass("lambda.amazonaws.com")).toBe(false);
    expect(pass("scheduler.amazonaws.com", mockArn("aws:iam/role:Role", "controller"))).toBe(false);
    expect(checkPolicies(run.resources)).toEqual([]);
  });
});

describe.each([["without aviary:promote", () => plain], ["with aviary:promote", () => promoting]])("the heartbeat, %s", (_, runOf) => {
  const heartbeat = (run: MockRun<unknown>) => run.one("aws:scheduler/schedule:Schedule");

  test("ticks every minute, on the minute (no flexible window), and no delivery is retried into the next one", () => {
    const { inputs } = heartbeat(runOf());
    expect(inputs.scheduleExpression).toBe("rate(1 minute)");
    expect(ratePeriodSeconds(inputs.scheduleExpression)).toBe(60);
    expect(inputs.flexibleTimeWindow).toEqual({ mode: "OFF" });
    expect(inputs.state ?? "ENABLED").toBe("ENABLED");
    expect(retryPolicyProblems(inputs.target.retryPolicy)).toEqual([]);
    expect(inputs.target.retryPolicy.maximumRetryAttempts).toBe(0);
  });

  test("lives in the rollout group under a valid name, so the execution role's trust (SourceArn = the group) admits it", () => {
    const run = runOf();
    const { inputs } = heartbeat(run);
    expect(inputs.groupName).toBe(groupName(run));
    expect(inputs.name).toMatch(SCHEDULER_NAME);
    // Not a name the controller's one-time schedules can take.
    expect(inputs.name).not.toMatch(/^rollout-/);
    const trust = JSON.parse(named(run, "aws:iam/role:Role", "controller-rollout-invoke").inputs.assumeRolePolicy);
    expect(trust.Statement[0].Condition.ArnEquals["aws:SourceArn"]).toBe(`arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule-group/${inputs.groupName}`);
  });

  test("invokes the controller function through the execution role, which may invoke it", () => {
    const run = runOf();
    const { target } = heartbeat(run).inputs;
    expect(target.arn).toBe(env(run).FUNCTION_ARN);
    expect(target.roleArn).toBe(executionRoleArn(run));
    expect(iamAllows([policyOf(run, "controller-rollout-invoke")], "lambda:InvokeFunction", target.arn)).toBe(true);
  });

  test("sends a tick the Lambda accepts, naming no rollout (the stored one)", () => {
    const input = JSON.parse(heartbeat(runOf()).inputs.target.input);
    expect(parseConfigInvocation(input)).toEqual({ action: "rolloutTick" });
  });

  test("the controller's role cannot change or delete it (it may only create schedules)", () => {
    const run = runOf();
    const arn = scheduleArn(groupName(run), heartbeat(run).inputs.name);
    for (const action of ["scheduler:UpdateSchedule", "scheduler:DeleteSchedule"]) expect(iamAllows([policyOf(run, "controller")], action, arn)).toBe(false);
  });
});

test("adding the heartbeat creates its schedule and replaces or updates nothing that exists", async () => {
  const heartbeatModule = "../../../components/controllerHeartbeat";
  const plan = await planChange(
    { stack: "prod", config, setup: () => jest.doMock(heartbeatModule, () => ({ ControllerHeartbeat: class {} })) },
    { stack: "prod", config, setup: () => jest.dontMock(heartbeatModule) },
  );
  expect(plan.created).toEqual(["aws:scheduler/schedule:Schedule::controller-heartbeat"]);
  expect(plan.replaced).toEqual([]);
  expect(plan.updated).toEqual([]);
  expect(plan.deleted).toEqual([]);
});

describe("the promote token", () => {
  const parameter = () => named(promoting, "aws:ssm/parameter:Parameter", "controller-promote");
  const controllerRole = () => named(promoting, "aws:iam/role:Role", "controller");
  const keyPolicy = (): PolicyDocument => JSON.parse(promoting.ofType("aws:kms/keyPolicy:KeyPolicy").find((p) => p.name === "controller-promote-secrets")!.inputs.policy);
  const decrypt = (principalArn: string, iam: PolicyDocument[]) => kmsAllows(keyPolicy(), iam, {
    action: "kms:Decrypt",
    keyArn: parameter().inputs.keyId,
    principalArn,
    account: ACCOUNT,
    context: { "kms:ViaService": "ssm.us-east-1.amazonaws.com", "kms:EncryptionContext:PARAMETER_ARN": mockArn(parameter().type, parameter().name) },
  });

  test("is a SecureString under its own customer-managed key, the value secret in state", () => {
    expect(parameter().inputs).toMatchObject({ name: "/aviary/prod/controller-promote/promote-token", type: "SecureString", value: TOKEN });
    expect(parameter().secretInputs).toContain("value");
    expect(parameter().inputs.keyId).toBe(mockArn("aws:kms/key:Key", "controller-promote-secrets"));
    expect(JSON.stringify(env(promoting))).not.toContain(TOKEN);
    expect(env(promoting)).toMatchObject({ PROMOTE_REPOSITORY: "acme/aviary", PROMOTE_REF: "main", PROMOTE_TOKEN_PARAMETER: "/aviary/prod/controller-promote/promote-token" });
    expect(env(plain).PROMOTE_TOKEN_PARAMETER).toBeUndefined();
    expect(plain.ofType("aws:ssm/parameter:Parameter").map((p) => p.name)).not.toContain("controller-promote");
  });

  test("only the controller's role can read and decrypt it: by its path in the key policy and its own IAM policy", () => {
    const path = controllerRole().inputs.path;
    expect(path).toBe(readerRolePath(parameter().inputs.name));
    const controllerPolicy = policyOf(promoting, "controller");
    expect(iamAllows([controllerPolicy], "ssm:GetParameter", mockArn(parameter().type, parameter().name))).toBe(true);
    expect(decrypt(`arn:aws:iam::${ACCOUNT}:role${path}controller`, [controllerPolicy])).toBe(true);
    // An administrator of the account (Decrypt on every key by IAM) is outside the reader path.
    const admin: PolicyDocument = { Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }] };
    expect(decrypt(`arn:aws:iam::${ACCOUNT}:role/admin`, [admin])).toBe(false);
    // The scheduler's execution role (no path) cannot either.
    expect(decrypt(executionRoleArn(promoting), [policyOf(promoting, "controller-rollout-invoke")])).toBe(false);
    // Without aviary:promote the controller role keeps the default path and reads no parameter.
    expect(named(plain, "aws:iam/role:Role", "controller").inputs.path).toBeUndefined();
    expect(policyOf(plain, "controller").Statement.flatMap((s) => ([] as string[]).concat(s.Action))).not.toContain("ssm:GetParameter");
  });

  test("adding aviary:promote replaces only the controller's role (its path) and what names it; the function is updated in place", async () => {
    const plan = await planChange({ stack: "prod", config }, { stack: "prod", config: withPromote, secretKeys: ["aviary:promote"] });
    expect(plan.replaced.filter((u) => !u.includes("::controller-promote"))).toEqual(expect.arrayContaining(["aws:iam/role:Role::controller"]));
    expect(plan.replaced).not.toContain("aws:lambda/function:Function::controller");
    expect(plan.updated).toContain("aws:lambda/function:Function::controller");
    expect(plan.created).toEqual(expect.arrayContaining(["aws:ssm/parameter:Parameter::controller-promote", "aws:kms/keyPolicy:KeyPolicy::controller-promote-secrets"]));
    expect(plan.deletedFirst).toEqual([]);
    // Nothing else of the stack moves: the proxy, fleet, Redis and schedule group stay.
    expect(plan.replaced.filter((u) => !/::controller($|-)/.test(u))).toEqual([]);
  });
});
