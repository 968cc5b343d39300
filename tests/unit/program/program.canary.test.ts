// The real index.ts for the `canary` stack with the committed Pulumi.canary.yaml, under Pulumi's mocks.
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import { readStackFile } from "../../../config/stackFile";
import { checkPolicies } from "../../../policy/check";
import { PROD_STACK_OUTPUTS } from "../../../harness/prodOutputs";
import { runUnderMocks, type MockRun } from "../../../harness/pulumiMocks";

const config = readStackFile(join(REPO_ROOT, "Pulumi.canary.yaml"));
const prodOutputs = PROD_STACK_OUTPUTS;
let run: MockRun<unknown>;

beforeAll(async () => {
  run = await runUnderMocks(() => require("../../../index"), { stack: "canary", config, stackReferenceOutputs: prodOutputs });
});

test("the canary stack registers no Redis, proxy, fleet or network of its own", () => {
  for (const type of [
    "aws:autoscaling/group:Group",
    "aws:ec2/vpc:Vpc",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:sns/topic:Topic",
    "aws:lambda/function:Function",
    "random:index/randomPassword:RandomPassword",
  ]) {
    expect(run.ofType(type)).toEqual([]);
  }
  const instances = run.ofType("aws:ec2/instance:Instance");
  expect(instances).toHaveLength(Number(config["aviary:canaryCount"]));
  for (const i of instances) {
    expect(prodOutputs.privateSubnetIds).toContain(i.inputs.subnetId);
    expect(i.inputs.vpcSecurityGroupIds).toEqual([prodOutputs.appSecurityGroupId]);
  }
});

test("canary alarms alert prod's topic", () => {
  const alarms = run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
  expect(alarms.map((a) => a.inputs.name).sort()).toEqual(["aviary-prod-canary-5xx-rate", "aviary-prod-canary-judge-abort", "aviary-prod-canary-p99-latency"]);
  for (const a of alarms) {
    expect(a.inputs.alarmActions).toEqual([prodOutputs.topicArn]);
    expect(a.inputs.okActions).toEqual([prodOutputs.topicArn]);
  }
});

test("the canary weight is handed to prod's controller, and drained on destroy", () => {
  const invocation = run.one("aws:lambda/invocation:Invocation");
  expect(invocation.inputs.functionName).toBe(prodOutputs.controllerFunctionName);
  expect(JSON.parse(invocation.inputs.input)).toMatchObject({ action: "setCanaryWeight", weight: Number(config["aviary:canaryWeight"]) });
  expect(invocation.inputs.lifecycleScope).toBe("CRUD");
});

test("the security policy pack finds zero violations", () => {
  expect(checkPolicies(run.resources)).toEqual([]);
});
