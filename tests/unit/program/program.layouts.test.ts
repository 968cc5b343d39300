// The real index.ts for `prod` in the two scale-out layouts (aviary:proxy.count > 1, aviary:redis
// mode elasticache), under Pulumi's mocks: resources, wiring, and the same security checks as the
// default layout (tests/unit/program/program.prod.test.ts).
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import { ALARM_KEYS } from "../../../core/alarms/catalogue";
import { renderProxyUserData } from "../../../components/proxy";
import { readStackFile } from "../../../config/stackFile";
import { checkPolicies } from "../../../policy/check";
import { mockArn, runUnderMocks, valueOf, type MockRun, type Registered } from "../../../harness/pulumiMocks";

const base = readStackFile(join(REPO_ROOT, "Pulumi.prod.yaml"));
const PROXIES = 3;

async function runProd(extra: Record<string, string>): Promise<MockRun<Record<string, unknown>>> {
  let run: MockRun<Record<string, unknown>> | undefined;
  await jest.isolateModulesAsync(async () => {
    run = await runUnderMocks(() => require("../../../index"), { stack: "prod", config: { ...base, ...extra } });
  });
  if (!run) throw new Error("program did not run");
  return run;
}

const arnOf = (r: Registered) => mockArn(r.type, r.name);
const world = (cidr: unknown) => cidr === "0.0.0.0/0" || cidr === "::/0";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const sgId = (run: MockRun<unknown>, tier: string) => run.ofType("aws:ec2/securityGroup:SecurityGroup").find((g) => g.inputs.tags?.["aviary:tier"] === tier)?.id;

/** What must hold in every layout: alarms, controller, Redis reachable from Aviary's groups only, policy pack. */
function sharedChecks(run: () => MockRun<unknown>): void {
  test("the prod alarms and the controller are the default layout's", () => {
    const alarms = run().ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs.name).sort();
    expect(alarms).toEqual(ALARM_KEYS.filter((k) => k.startsWith("prod-")).map((k) => `aviary-prod-${k}`).sort());
    const fn = run().one("aws:lambda/function:Function");
    const appFleet = run().ofType("aws:autoscaling/group:Group").find((g) => g.inputs.tags.some((t: { key: string; value: string }) => t.key === "aviary:role" && t.value === "prod"));
    expect(fn.inputs.environment.variables.ASG_NAME).toBe(appFleet?.name);
    expect(fn.secretInputs).toContain("environment");
  });

  test("only port 80 is open to the internet; Redis takes 6379 from Aviary's groups only", () => {
    const groups = run().ofType("aws:ec2/securityGroup:SecurityGroup").map((g) => g.id);
    for (const rule of run().ofType(INGRESS)) {
      if (world(rule.inputs.cidrIpv4) || world(rule.inputs.cidrIpv6)) expect([rule.inputs.fromPort, rule.inputs.toPort]).toEqual([80, 80]);
      else expect(groups).toContain(rule.inputs.referencedSecurityGroupId);
    }
    const redisIn = run().ofType(INGRESS).filter((r) => r.inputs.securityGroupId === sgId(run(), "redis"));
    expect(redisIn.map((r) => r.inputs.referencedSecurityGroupId).sort()).toEqual([sgId(run(), "app"), sgId(run(), "controller"), sgId(run(), "proxy")].sort());
    for (const r of redisIn) expect([r.inputs.fromPort, r.inputs.toPort]).toEqual([6379, 6379]);
  });

  test("the security policy pack finds zero violations", () => {
    expect(checkPolicies(run().resources)).toEqual([]);
  });
}

describe(`aviary:proxy {count: ${PROXIES}}: proxies in an Auto Scaling group behind a Network Load Balancer`, () => {
  let run: MockRun<Record<string, unknown>>;
  beforeAll(async () => {
    run = await runProd({ "aviary:proxy": JSON.stringify({ count: PROXIES, accessLog: "all" }) });
  });
  const proxyGroup = () => run.ofType("aws:autoscaling/group:Group").find((g) => g.name === "proxy");

  test("no single proxy instance or Elastic IP; a proxy launch template and group of the configured size", () => {
    expect(run.ofType("aws:ec2/instance:Instance").filter((i) => i.inputs.tags?.["aviary:role"] === "proxy")).toEqual([]);
    expect(run.ofType("aws:ec2/eip:Eip").map((e) => e.name)).toEqual(["aviary-nat"]);
    const group = proxyGroup();
    expect(group?.inputs).toMatchObject({ minSize: PROXIES, maxSize: PROXIES, desiredCapacity: PROXIES, healthCheckType: "ELB" });
    const privateSubnets = run.ofType("aws:ec2/subnet:Subnet").filter((s) => s.inputs.tags["aviary:tier"] === "private").map((s) => s.id);
    expect(group?.inputs.vpcZoneIdentifiers).toEqual(privateSubnets);
  });

  test("internet-facing NLB in the public subnets: listener TCP 80 → target group ← the proxies' group", () => {
    const lb = run.one("aws:lb/loadBalancer:LoadBalancer");
    const publicSubnets = run.ofType("aws:ec2/subnet:Subnet").filter((s) => s.inputs.tags["aviary:tier"] === "public").map((s) => s.id);
    expect(lb.inputs).toMatchObject({ loadBalancerType: "network", internal: false, subnets: publicSubnets, securityGroups: [sgId(run, "lb")] });
    const tg = run.one("aws:lb/targetGroup:TargetGroup");
    expect(tg.inputs).toMatchObject({ port: 80, protocol: "TCP", targetType: "instance", vpcId: run.one("aws:ec2/vpc:Vpc").id });
    const listener = run.one("aws:lb/listener:Listener");
    expect(listener.inputs).toMatchObject({ loadBalancerArn: arnOf(lb), port: 80, protocol: "TCP", defaultActions: [{ type: "forward", targetGroupArn: arnOf(tg) }] });
    expect(proxyGroup()?.inputs.targetGroupArns).toEqual([arnOf(tg)]);
  });

  test("proxies accept port 80 from the load balancer's group only; the balancer sends only there", () => {
    const proxyIn = run.ofType(INGRESS).filter((r) => r.inputs.securityGroupId === sgId(run, "proxy"));
    expect(proxyIn.map((r) => [r.inputs.fromPort, r.inputs.referencedSecurityGroupId])).toEqual([[80, sgId(run, "lb")]]);
    const lbIn = run.ofType(INGRESS).filter((r) => r.inputs.securityGroupId === sgId(run, "lb"));
    expect(lbIn.map((r) => r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6).sort()).toEqual(["0.0.0.0/0", "::/0"]);
    const lbOut = run.ofType(EGRESS).filter((r) => r.inputs.securityGroupId === sgId(run, "lb"));
    expect(lbOut.map((r) => [r.inputs.fromPort, r.inputs.referencedSecurityGroupId])).toEqual([[80, sgId(run, "proxy")]]);
  });

  test("every proxy boots the single proxy's script: same Redis URL parameter, same agent parameter", () => {
    const lt = run.ofType("aws:ec2/launchTemplate:LaunchTemplate").find((t) => t.name === "proxy");
    const script = Buffer.from(String(lt?.inputs.userData), "base64").toString("utf8");
    const param = run.ofType("aws:ssm/parameter:Parameter").find((p) => p.name === "redis-url");
    const agentParam = run.ofType("aws:ssm/parameter:Parameter").find((p) => p.name === "proxy-agent-key");
    const release = run.ofType("aws:s3/bucketObjectv2:BucketObjectv2").find((o) => o.name === "release-agent");
    expect(agentParam?.inputs.insecureValue).toBe(release?.inputs.key);
    expect(script).toBe(renderProxyUserData({
      appPort: 3000,
      deployment: "aviary-prod",
      bucket: "release-bucket",
      agentKeyParameterName: String(agentParam?.inputs.name),
      redisUrlParameterName: String(param?.inputs.name),
      region: "us-east-1",
      latencyThresholdMs: 1500,
      // aviary:proxy.accessLog "all" reaches the proxies' HAProxy config.
      accessLog: "all",
    }));
    expect(script).not.toContain("option dontlog-normal");
    expect(lt?.inputs.metadataOptions.httpTokens).toBe("required");
    expect(lt?.inputs.networkInterfaces[0].associatePublicIpAddress).toBe("false");
  });

  test("State Manager installs a new agent on every proxy of this deployment, found by a tag only they carry", () => {
    const association = run.one("aws:ssm/association:Association");
    const release = run.ofType("aws:s3/bucketObjectv2:BucketObjectv2").find((o) => o.name === "release-agent");
    expect(association.inputs).toMatchObject({
      name: "AWS-RunShellScript",
      targets: [{ key: "tag:aviary:proxy-agent", values: ["aviary-prod"] }],
      parameters: { commands: `cloud-init status --wait >/dev/null; /usr/local/sbin/aviary-agent-install '${release?.inputs.key}'` },
      maxConcurrency: "1",
      maxErrors: "0",
    });
    const tagged = (tags: Record<string, string> | undefined) => tags?.["aviary:proxy-agent"] === "aviary-prod";
    const templates = run.ofType("aws:ec2/launchTemplate:LaunchTemplate");
    expect(templates.filter((t) => t.inputs.tagSpecifications.some((s: { tags: Record<string, string> }) => tagged(s.tags))).map((t) => t.name)).toEqual(["proxy"]);
    expect(proxyGroup()?.inputs.tags).toContainEqual({ key: "aviary:proxy-agent", value: "aviary-prod", propagateAtLaunch: true });
    expect(run.ofType("aws:ec2/instance:Instance").filter((i) => tagged(i.inputs.tags))).toEqual([]);
  });

  test("proxyUrl is the load balancer's DNS name", async () => {
    const lb = run.one("aws:lb/loadBalancer:LoadBalancer");
    expect(await valueOf(run.result.proxyUrl as never)).toBe(`http://${lb.name}-0123456789.elb.us-east-1.amazonaws.com`);
  });

  sharedChecks(() => run);
});

describe("aviary:redis {mode: elasticache}: a Multi-AZ replication group instead of the Redis instance", () => {
  let run: MockRun<Record<string, unknown>>;
  beforeAll(async () => {
    run = await runProd({ "aviary:redis": JSON.stringify({ mode: "elasticache", nodeType: "cache.t4g.medium" }) });
  });

  test("no Redis instance or data volume, and no internet egress for the Redis group", () => {
    expect(run.ofType("aws:ec2/instance:Instance").filter((i) => i.name.includes("redis"))).toEqual([]);
    expect(run.ofType("aws:ebs/volume:Volume")).toEqual([]);
    expect(run.ofType(EGRESS).filter((r) => r.inputs.securityGroupId === sgId(run, "redis"))).toEqual([]);
  });

  test("replication group: 2 nodes, Multi-AZ, automatic failover, TLS, at-rest encryption, secret AUTH token, private subnets", () => {
    const rg = run.one("aws:elasticache/replicationGroup:ReplicationGroup");
    expect(rg.inputs).toMatchObject({
      engine: "redis",
      nodeType: "cache.t4g.medium",
      port: 6379,
      numCacheClusters: 2,
      multiAzEnabled: true,
      automaticFailoverEnabled: true,
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      authToken: "mock-password-0123456789abcdef",
      securityGroupIds: [sgId(run, "redis")],
    });
    expect(rg.secretInputs).toContain("authToken");
    const subnetGroup = run.one("aws:elasticache/subnetGroup:SubnetGroup");
    expect(rg.inputs.subnetGroupName).toBe(subnetGroup.name);
    const privateSubnets = run.ofType("aws:ec2/subnet:Subnet").filter((s) => s.inputs.tags["aviary:tier"] === "private").map((s) => s.id);
    expect(subnetGroup.inputs.subnetIds).toEqual(privateSubnets);
  });

  test("instances and the controller get a rediss:// URL (TLS) with the token, always as a secret", () => {
    const host = "master.redis.abc123.use1.cache.amazonaws.com";
    const url = `rediss://:mock-password-0123456789abcdef@${host}:6379`;
    const param = run.ofType("aws:ssm/parameter:Parameter").find((p) => p.name === "redis-url");
    expect(param?.inputs).toMatchObject({ type: "SecureString", value: url });
    expect(param?.secretInputs).toContain("value");
    expect(run.one("aws:lambda/function:Function").inputs.environment.variables.REDIS_URL).toBe(url);
    // App, canary and proxy roles may read exactly that parameter (the proxy also its agent's key).
    const agentKey = run.ofType("aws:ssm/parameter:Parameter").find((p) => p.name === "proxy-agent-key") as Registered;
    for (const policy of run.ofType("aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.endsWith("-role-inline"))) {
      const statements = JSON.parse(policy.inputs.policy).Statement as { Action: string[]; Resource: string[] }[];
      const ssm = statements.filter((s) => s.Action.includes("ssm:GetParameter"));
      const expected = [arnOf(param as Registered), ...(policy.name === "proxy-role-inline" ? [arnOf(agentKey)] : [])];
      if (ssm.length > 0) expect(ssm.flatMap((s) => s.Resource)).toEqual(expected);
    }
  });

  test("the stack reports the primary endpoint as the Redis address", async () => {
    expect(await valueOf(run.result.redisPrivateAddress as never)).toBe("master.redis.abc123.use1.cache.amazonaws.com");
  });

  sharedChecks(() => run);
});
