// What `pulumi up` replaces, updates and invokes after each user-facing change, from the provider's
// replace-on-change rules (awsRules/replacement.ts) over the real program run under mocks.
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import { readStackFile } from "../../../config/stackFile";
import { planChange, planDestroy, type ChangePlan } from "../../support/changeImpact";
import { PROD_STACK_OUTPUTS } from "../../../harness/prodOutputs";

jest.setTimeout(180_000);

const prod = readStackFile(join(REPO_ROOT, "Pulumi.prod.yaml"));
const canary = readStackFile(join(REPO_ROOT, "Pulumi.canary.yaml"));
const prodSide = (config: Record<string, string>, extra = {}) => ({ stack: "prod", config, ...extra });
const canarySide = (config: Record<string, string>, extra = {}) => ({ stack: "canary", config, stackReferenceOutputs: PROD_STACK_OUTPUTS, ...extra });
const WEIGHT = "aws:lambda/invocation:Invocation::canary-weight";
const withThresholds = (cfg: Record<string, string>, change: Record<string, number>) =>
  ({ ...cfg, "aviary:thresholds": JSON.stringify({ ...JSON.parse(cfg["aviary:thresholds"]), ...change }) });

function summary(p: ChangePlan) {
  return { created: p.created, deleted: p.deleted, replaced: p.replaced, deletedFirst: p.deletedFirst };
}

test("a canary weight change replaces nothing and invokes the controller once, with the new weight and never delete", async () => {
  const plan = await planChange(canarySide(canary), canarySide({ ...canary, "aviary:canaryWeight": "40" }));
  expect(summary(plan)).toEqual({ created: [], deleted: [], replaced: [], deletedFirst: [] });
  expect(plan.updated).toEqual([WEIGHT]);
  expect(plan.invocations[WEIGHT]).toEqual([{
    action: "update",
    payload: { action: "setCanaryWeight", weight: 40, appVersion: "1.5.0-rc.1", tf: { action: "update", prev_input: { action: "setCanaryWeight", weight: 25, appVersion: "1.5.0-rc.1" } } },
  }]);
});

test("pulumi destroy of the canary stack still drains the canary (one delete invocation)", async () => {
  const sent = await planDestroy(canarySide(canary));
  expect(sent[WEIGHT].map((i) => [i.action, i.payload.weight])).toEqual([["delete", 25]]);
});

test("an appVersion change replaces the canary instance and its release objects; the weight is updated once", async () => {
  const plan = await planChange(canarySide(canary), canarySide({ ...canary, "aviary:appVersion": "1.5.0-rc.2" }));
  expect(summary(plan)).toEqual({
    created: [],
    deleted: [],
    replaced: ["aws:ec2/instance:Instance::canary-0", "aws:s3/bucketObjectv2:BucketObjectv2::canary-release-agent", "aws:s3/bucketObjectv2:BucketObjectv2::canary-release-app"],
    deletedFirst: [],
  });
  expect(plan.invocations[WEIGHT].map((i) => [i.action, i.payload.weight, i.payload.appVersion])).toEqual([["update", 25, "1.5.0-rc.2"]]);
});

/** A rebuild of the bundles whose entry `which` accepts (same version, new content hash). */
const rebuilt = (which: (entry: string) => boolean = () => true) => ({
  setup: () => {
    jest.doMock("../../../release/bundles", () => {
      const actual = jest.requireActual("../../../release/bundles");
      return { ...actual, bundleApp: (entry: string = actual.APP_ENTRY) => `${actual.bundleApp(entry)}${which(entry) ? "\n// rebuilt" : ""}` };
    });
  },
});
const original = { setup: () => jest.dontMock("../../../release/bundles") };
const PROXY = "aws:ec2/instance:Instance::proxy";
const PROXY_EIP = "aws:ec2/eip:Eip::proxy";
const AGENT_PARAMETER = "aws:ssm/parameter:Parameter::proxy-agent-key";
const AGENT_ASSOCIATION = "aws:ssm/association:Association::proxy-agent";

test("a new bundle under the same version rolls the fleet's template and the canary; the proxy keeps running and gets the new agent", async () => {
  const prodPlan = await planChange(prodSide(prod, original), prodSide(prod, rebuilt()));
  expect(summary(prodPlan)).toEqual({
    created: [],
    deleted: [],
    // The smoke check re-runs for the new release and agent.
    replaced: ["aws:s3/bucketObjectv2:BucketObjectv2::release-agent", "aws:s3/bucketObjectv2:BucketObjectv2::release-app", "command:local:Command::proxy-smoke-check"],
    deletedFirst: [],
  });
  expect(prodPlan.updated).toEqual(expect.arrayContaining([AGENT_PARAMETER, "aws:ec2/launchTemplate:LaunchTemplate::prod", AGENT_ASSOCIATION]));
  expect(prodPlan.updated).not.toContain(PROXY_EIP);
  const canaryPlan = await planChange(canarySide(canary, original), canarySide(canary, rebuilt()));
  expect(canaryPlan.replaced).toContain("aws:ec2/instance:Instance::canary-0");
  jest.dontMock("../../../release/bundles");
});

test("a new agent bundle alone replaces neither the proxy nor its Elastic IP: the parameter and the association are updated in place", async () => {
  const agentOnly = rebuilt((entry) => entry === join(REPO_ROOT, "agent", "main.ts"));
  const plan = await planChange(prodSide(prod, original), prodSide(prod, agentOnly));
  expect(summary(plan)).toEqual({
    created: [],
    deleted: [],
    replaced: ["aws:s3/bucketObjectv2:BucketObjectv2::release-agent", "command:local:Command::proxy-smoke-check"],
    deletedFirst: [],
  });
  expect(plan.updated).toEqual([AGENT_PARAMETER, AGENT_ASSOCIATION].sort());
  expect(plan.replaced).not.toContain(PROXY);
  expect([...plan.replaced, ...plan.updated]).not.toContain(PROXY_EIP);
  // The new key reaches both: the parameter the install script reads, and the command State Manager runs.
  const newKey = plan.after.find((r) => r.urn === "aws:s3/bucketObjectv2:BucketObjectv2::release-agent")?.inputs.key;
  expect(plan.diffs[AGENT_PARAMETER].changed).toEqual(["insecureValue"]);
  expect(plan.after.find((r) => r.urn === AGENT_PARAMETER)?.inputs.insecureValue).toBe(newKey);
  expect(plan.diffs[AGENT_ASSOCIATION].changed).toEqual(["parameters.commands"]);
  expect(plan.after.find((r) => r.urn === AGENT_ASSOCIATION)?.inputs.parameters.commands).toContain(`'${newKey}'`);
  // The canary stack's instances do not run the agent: nothing of theirs is replaced.
  const canaryPlan = await planChange(canarySide(canary, original), canarySide(canary, agentOnly));
  expect(canaryPlan.replaced).toEqual(["aws:s3/bucketObjectv2:BucketObjectv2::canary-release-agent"]);
  jest.dontMock("../../../release/bundles");
});

test("with a proxy fleet, a new agent bundle starts no instance refresh: the association installs it on the running proxies", async () => {
  const fleet = { ...prod, "aviary:proxy": JSON.stringify({ count: 2 }) };
  const plan = await planChange(prodSide(fleet, original), prodSide(fleet, rebuilt((entry) => entry === join(REPO_ROOT, "agent", "main.ts"))));
  expect(plan.updated).toEqual([AGENT_PARAMETER, AGENT_ASSOCIATION].sort());
  expect(plan.replaced).toEqual(["aws:s3/bucketObjectv2:BucketObjectv2::release-agent", "command:local:Command::proxy-smoke-check"]);
  jest.dontMock("../../../release/bundles");
});

test("a new Amazon Linux image replaces neither Redis, nor the proxy, nor a canary; the fleet takes it as a new template version", async () => {
  const prodPlan = await planChange(prodSide(prod), prodSide(prod, { imageId: "ami-0fedcba9876543210" }));
  expect(summary(prodPlan)).toEqual({ created: [], deleted: [], replaced: [], deletedFirst: [] });
  expect(prodPlan.updated).toEqual(["aws:ec2/launchTemplate:LaunchTemplate::prod"]);
  const canaryPlan = await planChange(canarySide(canary), canarySide(canary, { imageId: "ami-0fedcba9876543210" }));
  expect(summary(canaryPlan)).toEqual({ created: [], deleted: [], replaced: [], deletedFirst: [] });
  expect(canaryPlan.updated).toEqual([]);
});

test("an added alert email creates one subscription and changes nothing else", async () => {
  const alerts = JSON.parse(prod["aviary:alerts"]);
  const plan = await planChange(prodSide(prod), prodSide({ ...prod, "aviary:alerts": JSON.stringify({ ...alerts, emails: [...alerts.emails, "second@example.com"] }) }));
  expect(plan.created).toHaveLength(1);
  expect(plan.created[0]).toMatch(/^aws:sns\/topicSubscription:TopicSubscription::/);
  expect(summary(plan)).toMatchObject({ deleted: [], replaced: [] });
  expect(plan.updated).toEqual([]);
});

test("changed scaling thresholds update their alarms in place and replace nothing", async () => {
  const plan = await planChange(prodSide(prod), prodSide(withThresholds(prod, { scaleOutCpu: 75, memory: 90 })));
  expect(summary(plan)).toEqual({ created: [], deleted: [], replaced: [], deletedFirst: [] });
  expect(plan.updated.length).toBeGreaterThan(0);
  for (const urn of plan.updated) expect(urn).toMatch(/^aws:cloudwatch\/(metricAlarm:MetricAlarm|dashboard:Dashboard)::/);
});

test("a changed canaryP99Ms is HAProxy's histogram bound: it replaces the proxy (its boot script) and nothing else", async () => {
  const plan = await planChange(prodSide(prod), prodSide(withThresholds(prod, { canaryP99Ms: 1200 })));
  expect(summary(plan)).toEqual({ created: [], deleted: [], replaced: ["aws:ec2/instance:Instance::proxy", "command:local:Command::proxy-smoke-check"], deletedFirst: [] });
  // The new instance is the association's new target: State Manager runs the install there too.
  expect(plan.diffs[AGENT_ASSOCIATION]).toMatchObject({ step: "update", changed: ["targets[0].values[0]"] });
});

test("a replaced Redis goes first (disk and address let go), keeps its data volume and its address", async () => {
  const redis = (port: number) => ({
    setup: () => jest.doMock("../../../config/ports", () => ({ ...jest.requireActual("../../../config/ports"), REDIS_PORT: port })),
    program: () => {
      const { RedisServer } = require("../../../components/redisServer");
      return new RedisServer("redis", { subnetId: "subnet-private-a", securityGroupId: "sg-redis", instanceType: "t3.small" });
    },
  });
  const plan = await planChange(redis(6379), redis(6380));
  jest.dontMock("../../../config/ports");
  expect(summary(plan)).toEqual({
    created: [],
    deleted: [],
    replaced: ["aws:ec2/instance:Instance::redis", "aws:ec2/volumeAttachment:VolumeAttachment::redis-data"],
    deletedFirst: ["aws:ec2/instance:Instance::redis"],
  });
  // The URL names the interface's address, which the replacement keeps (only this change's port differs).
  const url = plan.after.find((r) => r.urn === "aws:ssm/parameter:Parameter::redis-url");
  expect(url?.inputs.value).toBe("redis://:mock-password-0123456789abcdef@10.0.10.20:6380");
});
