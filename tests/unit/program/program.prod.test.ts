// The real index.ts for the `prod` stack with the committed Pulumi.prod.yaml, under Pulumi's mocks.
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import { ALARM_KEYS } from "../../../core/alarms/catalogue";
import { readStackFile } from "../../../config/stackFile";
import { checkPolicies } from "../../../policy/check";
import { mockArn, runUnderMocks, type MockRun, type Registered } from "../../../harness/pulumiMocks";
import { diffResource } from "../../../awsRules/replacement";

const config = readStackFile(join(REPO_ROOT, "Pulumi.prod.yaml"));
let run: MockRun<unknown>;

beforeAll(async () => {
  run = await runUnderMocks(() => require("../../../index"), { stack: "prod", config });
});

const topic = () => run.ofType("aws:sns/topic:Topic").find((t) => t.name === "alerts")!;
const topicArn = () => mockArn(topic().type, topic().name);
const world = (cidrs: unknown) => Array.isArray(cidrs) && cidrs.some((c) => c === "0.0.0.0/0" || c === "::/0");

// How long it takes is the bench's to measure (bench/program.ts), not a verdict on a shared machine.
test("the whole program runs under mocks and declares the stack", () => {
  expect(run.resources.length).toBeGreaterThan(40);
});

test("every alarm declared in core/alarms/catalogue.ts exists and alerts the topic on ALARM and on OK", () => {
  const alarms = run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
  const prodKeys = ALARM_KEYS.filter((k) => k.startsWith("prod-"));
  expect(alarms.map((a) => a.inputs.name).sort()).toEqual(prodKeys.map((k) => `aviary-prod-${k}`).sort());
  for (const alarm of alarms) {
    expect(alarm.inputs.alarmActions).toContain(topicArn());
    expect(alarm.inputs.okActions).toContain(topicArn());
  }
});

test("the controller Lambda is subscribed to the topic and allowed to be invoked by it", () => {
  const fn = run.one("aws:lambda/function:Function");
  const subs = run.ofType("aws:sns/topicSubscription:TopicSubscription").filter((s) => s.inputs.protocol === "lambda");
  expect(subs).toHaveLength(1);
  expect(subs[0].inputs.topic).toBe(topicArn());
  expect(subs[0].inputs.endpoint).toBe(mockArn(fn.type, fn.name));
  const permission = run.one("aws:lambda/permission:Permission");
  expect(permission.inputs).toMatchObject({ principal: "sns.amazonaws.com", sourceArn: topicArn() });
});

test("the controller gets aviary:scaling from the stack file", () => {
  const scaling = JSON.parse(config["aviary:scaling"]) as { step: number; scaleOutCooldownSeconds: number; scaleInCooldownSeconds: number };
  const env = run.one("aws:lambda/function:Function").inputs.environment.variables;
  expect(env).toMatchObject({
    SCALING_STEP: String(scaling.step),
    SCALE_OUT_COOLDOWN_SECONDS: String(scaling.scaleOutCooldownSeconds),
    SCALE_IN_COOLDOWN_SECONDS: String(scaling.scaleInCooldownSeconds),
  });
});

test("subscriptions match aviary:alerts exactly", () => {
  const alerts = JSON.parse(config["aviary:alerts"]) as { emails: string[]; sms: string[] };
  const subs = run.ofType("aws:sns/topicSubscription:TopicSubscription");
  const endpoints = (protocol: string) => subs.filter((s) => s.inputs.protocol === protocol).map((s) => s.inputs.endpoint).sort();
  expect(endpoints("email")).toEqual([...alerts.emails].sort());
  expect(endpoints("sms")).toEqual([...alerts.sms].sort());
});

test("nothing but the proxy's HTTP port is open to the internet", () => {
  const rules: Registered[] = [
    ...run.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"),
    ...run.ofType("aws:ec2/securityGroupRule:SecurityGroupRule").filter((r) => r.inputs.type === "ingress"),
  ];
  const open = rules.filter((r) => world([r.inputs.cidrIpv4, r.inputs.cidrIpv6, ...(r.inputs.cidrBlocks ?? [])]));
  expect(open.length).toBeGreaterThan(0);
  for (const rule of open) expect([rule.inputs.fromPort, rule.inputs.toPort]).toEqual([80, 80]);
  for (const sg of run.ofType("aws:ec2/securityGroup:SecurityGroup")) {
    for (const ingress of sg.inputs.ingress ?? []) expect(world([...(ingress.cidrBlocks ?? []), ...(ingress.ipv6CidrBlocks ?? [])])).toBe(false);
  }
});

test("Redis sits in a private subnet and only Aviary's security groups reach it", () => {
  const subnets = run.ofType("aws:ec2/subnet:Subnet");
  const privateIds = subnets.filter((s) => !s.inputs.mapPublicIpOnLaunch).map((s) => s.id);
  expect(privateIds.length).toBeGreaterThanOrEqual(2);
  const redis = run.ofType("aws:ec2/instance:Instance").filter((i) => i.name.includes("redis"));
  expect(redis).toHaveLength(1);
  const eni = run.one("aws:ec2/networkInterface:NetworkInterface");
  expect(redis[0].inputs.primaryNetworkInterface).toEqual({ networkInterfaceId: eni.id });
  expect(privateIds).toContain(eni.inputs.subnetId);

  const redisSgIds = eni.inputs.securityGroups as string[];
  const aviaryGroups = run.ofType("aws:ec2/securityGroup:SecurityGroup").map((g) => g.id);
  const ingress = run
    .ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    .filter((r) => redisSgIds.includes(r.inputs.securityGroupId));
  expect(ingress.length).toBeGreaterThanOrEqual(3);
  for (const rule of ingress) {
    expect(rule.inputs.cidrIpv4 ?? rule.inputs.cidrIpv6).toBeUndefined();
    expect(aviaryGroups).toContain(rule.inputs.referencedSecurityGroupId);
    expect([rule.inputs.fromPort, rule.inputs.toPort]).toEqual([6379, 6379]);
  }
});

test("Redis's password is a secret wherever it is an input", () => {
  const fn = run.one("aws:lambda/function:Function");
  // Pulumi reports a nested secret on its top-level input.
  expect(fn.secretInputs).toContain("environment");
  for (const r of run.resources) {
    if (r.type === "random:index/randomPassword:RandomPassword") continue;
    const text = JSON.stringify(r.inputs);
    if (text.includes("mock-password-0123456789abcdef")) expect(r.secretInputs.length).toBeGreaterThan(0);
  }
});

test("the security policy pack finds zero violations (IMDSv2, encryption, IAM, public access)", () => {
  expect(checkPolicies(run.resources)).toEqual([]);
  const computeWithMetadata = [...run.ofType("aws:ec2/instance:Instance"), ...run.ofType("aws:ec2/launchTemplate:LaunchTemplate")];
  expect(computeWithMetadata.length).toBeGreaterThanOrEqual(3);
  for (const r of computeWithMetadata) expect(r.inputs.metadataOptions?.httpTokens).toBe("required");
});

test("the fleet's Auto Scaling group takes min/max/desired from aviary:prodFleet", () => {
  const fleet = JSON.parse(config["aviary:prodFleet"]) as { min: number; max: number; desired: number };
  const asg = run.one("aws:autoscaling/group:Group");
  expect(asg.inputs).toMatchObject({ minSize: fleet.min, maxSize: fleet.max, desiredCapacity: fleet.desired });
});

test("by default (no aviary:proxy.accessLog) the proxy's HAProxy logs only requests that went wrong", () => {
  expect(config["aviary:proxy"]).toBeUndefined();
  const proxy = run.ofType("aws:ec2/instance:Instance").find((i) => i.inputs.tags?.["aviary:role"] === "proxy");
  expect(String(proxy?.inputs.userData)).toContain("    option httplog\n    option dontlognull\n");
  expect(String(proxy?.inputs.userData)).toMatch(/\n    option dontlog-normal\n/);
});

test("the controller may re-arm exactly this deployment's alarms, named by their real ARN (region, account)", () => {
  const policy = run.ofType("aws:iam/rolePolicy:RolePolicy").map((p) => JSON.parse(p.inputs.policy)).find((d) => d.Statement.some((s: { Sid?: string }) => s.Sid === "ReArmAlarms"));
  const rearm = policy.Statement.find((s: { Sid?: string }) => s.Sid === "ReArmAlarms");
  expect(rearm.Resource).toEqual(["arn:aws:cloudwatch:us-east-1:123456789012:alarm:aviary-prod-*"]);
});

test("a changed boot script replaces every EC2 instance (proxy and Redis): user data only runs at first boot", () => {
  const instances = run.ofType("aws:ec2/instance:Instance");
  expect(instances.length).toBeGreaterThanOrEqual(2);
  for (const i of instances) {
    const step = diffResource(i.type, i.inputs, { ...i.inputs, userData: `${String(i.inputs.userData)}\n# changed` }).step;
    expect([i.name, step]).toEqual([i.name, "replace"]);
  }
});
