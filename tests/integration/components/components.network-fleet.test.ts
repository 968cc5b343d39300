// Network, Redis, release, production fleet and proxy components under Pulumi's mocks.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import { handle } from "../../../app/main";
import { AppRelease } from "../../../components/appRelease";
import { AGENT_ENTRY, bundleApp, contentHash, releaseKey } from "../../../release/bundles";
import { renderAppUserData } from "../../../components/appUserData";
import { isResourcelessAction } from "../../../awsRules/resourcelessActions";
import { checkStatement } from "../../../components/instanceRole";

// InstanceRole puts SSM Agent's three statements (awsRules/ssmAgentPermissions.ts) first.
const AGENT_STATEMENTS = 3;
import { Network, subnetCidr } from "../../../components/network";
import { LAUNCH_HEARTBEAT_SECONDS, LAUNCH_HOOK_NAME, TERMINATE_HEARTBEAT_SECONDS, TERMINATE_HOOK_NAME } from "../../../components/fleetLifecycle";
import { checkFleetSize, ProductionFleet } from "../../../components/productionFleet";
import { CANARY_SLOTS, PROD_SLOTS, PROXY_HAPROXY_OPTIONS, Proxy, renderProxyUserData } from "../../../components/proxy";
import { renderHaproxyConfig } from "../../../haproxy/config";
import { RedisServer } from "../../../components/redisServer";
import { mockArn, runUnderMocks, type MockRun, type Registered } from "../../../harness/pulumiMocks";

// Release keys carry each bundle's content hash.
const APP_KEY = releaseKey("1.2.3", contentHash(bundleApp()), "app.js");
const AGENT_KEY = releaseKey("1.2.3", contentHash(bundleApp(AGENT_ENTRY)), "agent.js");

const APP_PORT = 3000;
const PASSWORD = "mock-password-0123456789abcdef"; // what the mocks give RandomPassword.result
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const sgId = (tier: string) => `aviary-${tier}-id`;

let run: MockRun<unknown>;
const captured: { type: string; name: string; opts: pulumi.CustomResourceOptions }[] = [];

beforeAll(async () => {
  run = await runUnderMocks(() => {
    const network = new Network("aviary", { appPort: APP_PORT });
    const redis = new RedisServer("redis", {
      subnetId: network.privateSubnetIds[0],
      securityGroupId: network.redisSecurityGroupId,
      instanceType: "t3.small",
    });
    const release = new AppRelease("release", { version: "1.2.3" });
    new ProductionFleet("prod", {
      subnetIds: network.privateSubnetIds,
      securityGroupId: network.appSecurityGroupId,
      instanceType: "t3.small",
      min: 2, max: 6, desired: 3,
      appVersion: "1.2.3",
      appPort: APP_PORT,
      release,
      redisUrlParameterName: redis.urlParameterName,
      redisUrlParameterArn: redis.urlParameterArn,
      redisUrlKeyArn: redis.secretsKeyArn,
    }, {
      // Legacy transformations run in-process, so resource options (ignoreChanges) are visible under mocks.
      transformations: [(a) => { captured.push({ type: a.type, name: a.name, opts: a.opts }); return undefined; }],
    });
    new Proxy("proxy", {
      subnetId: network.publicSubnetIds[0],
      securityGroupId: network.proxySecurityGroupId,
      instanceType: "t3.small",
      appPort: APP_PORT,
      deployment: "aviary-prod",
      release,
      redisUrlParameterName: redis.urlParameterName,
      redisUrlParameterArn: redis.urlParameterArn,
      redisUrlKeyArn: redis.secretsKeyArn,
      latencyThresholdMs: 1500,
      accessLog: "errors",
    });
  });
});

const rule = (r: Registered) => ({
  sg: r.inputs.securityGroupId,
  port: [r.inputs.fromPort, r.inputs.toPort],
  proto: r.inputs.ipProtocol,
  peer: r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6 ?? r.inputs.referencedSecurityGroupId,
});
const sortRules = (rs: ReturnType<typeof rule>[]) => [...rs].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
const byName = (type: string, name: string) => {
  const found = run.ofType(type).filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return found[0];
};
const privateSubnetIds = () => run.ofType("aws:ec2/subnet:Subnet").filter((s) => s.inputs.tags?.["aviary:tier"] === "private").map((s) => s.id);
const publicSubnetIds = () => run.ofType("aws:ec2/subnet:Subnet").filter((s) => s.inputs.tags?.["aviary:tier"] === "public").map((s) => s.id);
const policyOf = (roleName: string) => JSON.parse(byName("aws:iam/rolePolicy:RolePolicy", `${roleName}-inline`).inputs.policy);
const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

describe("network", () => {
  test("VPC 10.0.0.0/16 with a public and a private subnet in each of 2 AZs, one NAT, an S3 gateway endpoint", () => {
    expect(run.one("aws:ec2/vpc:Vpc").inputs.cidrBlock).toBe("10.0.0.0/16");
    const subnets = run.ofType("aws:ec2/subnet:Subnet");
    expect(subnets.map((s) => [s.inputs.tags["aviary:tier"], s.inputs.cidrBlock, s.inputs.availabilityZone]).sort()).toEqual([
      ["private", "10.0.10.0/24", "us-east-1a"], ["private", "10.0.11.0/24", "us-east-1b"],
      ["public", "10.0.0.0/24", "us-east-1a"], ["public", "10.0.1.0/24", "us-east-1b"],
    ]);
    expect(subnets.every((s) => s.inputs.mapPublicIpOnLaunch === false)).toBe(true);
    expect(run.ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(1);
    const privateRt = byName("aws:ec2/routeTable:RouteTable", "aviary-private");
    expect(privateRt.inputs.routes).toEqual([expect.objectContaining({ cidrBlock: "0.0.0.0/0", natGatewayId: "aviary-id" })]);
    const endpoint = run.one("aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(endpoint.inputs).toMatchObject({ vpcEndpointType: "Gateway", serviceName: "com.amazonaws.us-east-1.s3" });
    expect(endpoint.inputs.routeTableIds).toContain("aviary-private-id");
  });

  test("the internet reaches only the proxy, only on TCP 80", () => {
    const fromInternet = run.ofType(INGRESS).filter((r) => r.inputs.cidrIpv4 || r.inputs.cidrIpv6 || r.inputs.prefixListId);
    expect(sortRules(fromInternet.map(rule))).toEqual(sortRules([
      { sg: sgId("proxy"), port: [80, 80], proto: "tcp", peer: "0.0.0.0/0" },
      { sg: sgId("proxy"), port: [80, 80], proto: "tcp", peer: "::/0" },
    ]));
  });

  test("every ingress rule is exactly the designed set; no port 22, no all-traffic rules", () => {
    expect(sortRules(run.ofType(INGRESS).map(rule))).toEqual(sortRules([
      { sg: sgId("proxy"), port: [80, 80], proto: "tcp", peer: "0.0.0.0/0" },
      { sg: sgId("proxy"), port: [80, 80], proto: "tcp", peer: "::/0" },
      { sg: sgId("app"), port: [APP_PORT, APP_PORT], proto: "tcp", peer: sgId("proxy") },
      { sg: sgId("redis"), port: [6379, 6379], proto: "tcp", peer: sgId("app") },
      { sg: sgId("redis"), port: [6379, 6379], proto: "tcp", peer: sgId("proxy") },
      { sg: sgId("redis"), port: [6379, 6379], proto: "tcp", peer: sgId("controller") },
    ]));
  });

  test("redis accepts 6379 from the app, proxy and controller groups only", () => {
    const redisIngress = run.ofType(INGRESS).filter((r) => r.inputs.securityGroupId === sgId("redis"));
    expect(redisIngress.map((r) => r.inputs.referencedSecurityGroupId).sort()).toEqual([sgId("app"), sgId("controller"), sgId("proxy")]);
    expect(redisIngress.every((r) => r.inputs.fromPort === 6379 && r.inputs.toPort === 6379 && !r.inputs.cidrIpv4 && !r.inputs.cidrIpv6)).toBe(true);
  });

  test("egress: 443 to the internet, the app port and 6379 between tiers, nothing else", () => {
    expect(sortRules(run.ofType(EGRESS).map(rule))).toEqual(sortRules([
      { sg: sgId("proxy"), port: [APP_PORT, APP_PORT], proto: "tcp", peer: sgId("app") },
      { sg: sgId("proxy"), port: [6379, 6379], proto: "tcp", peer: sgId("redis") },
      { sg: sgId("proxy"), port: [443, 443], proto: "tcp", peer: "0.0.0.0/0" },
      { sg: sgId("app"), port: [443, 443], proto: "tcp", peer: "0.0.0.0/0" },
      { sg: sgId("app"), port: [6379, 6379], proto: "tcp", peer: sgId("redis") },
      { sg: sgId("redis"), port: [443, 443], proto: "tcp", peer: "0.0.0.0/0" },
      { sg: sgId("controller"), port: [443, 443], proto: "tcp", peer: "0.0.0.0/0" },
      { sg: sgId("controller"), port: [6379, 6379], proto: "tcp", peer: sgId("redis") },
    ]));
  });

  test("security groups carry no inline rules", () => {
    for (const sg of run.ofType("aws:ec2/securityGroup:SecurityGroup")) {
      expect(sg.inputs.ingress ?? []).toEqual([]);
      expect(sg.inputs.egress ?? []).toEqual([]);
    }
  });

  test("subnetCidr carves /24s out of a /16 and rejects anything else", () => {
    expect(subnetCidr("172.20.0.0/16", 11)).toBe("172.20.11.0/24");
    expect(() => subnetCidr("10.0.0.0/20", 0)).toThrow(/\/16/);
    expect(() => subnetCidr("10.0.0.0/16", 256)).toThrow(/out of range/);
  });
});

describe("redis", () => {
  const instance = () => byName("aws:ec2/instance:Instance", "redis");

  test("runs in a private subnet without a public IP, IMDSv2 only, encrypted root and data volumes", () => {
    // Its network interface (a separate resource, so the address outlives the instance) carries the
    // subnet and the group; an interface created apart from the instance gets no public IP.
    const eni = byName("aws:ec2/networkInterface:NetworkInterface", "redis");
    expect(instance().inputs.primaryNetworkInterface).toEqual({ networkInterfaceId: eni.id });
    expect(privateSubnetIds()).toContain(eni.inputs.subnetId);
    expect(eni.inputs.securityGroups).toEqual([sgId("redis")]);
    expect(instance().inputs.metadataOptions).toMatchObject({ httpTokens: "required", httpEndpoint: "enabled" });
    expect(instance().inputs.rootBlockDevice.encrypted).toBe(true);
    const volume = run.one("aws:ebs/volume:Volume");
    expect(volume.inputs.encrypted).toBe(true);
    const attachment = run.one("aws:ec2/volumeAttachment:VolumeAttachment");
    expect(attachment.inputs).toMatchObject({ volumeId: volume.id, instanceId: instance().id });
    expect(instance().inputs.keyName).toBeUndefined();
  });

  test("the password never appears in user-data; the instance reads it from a SecureString at boot", () => {
    const userData: string = instance().inputs.userData;
    expect(userData).not.toContain(PASSWORD);
    const passwordParam = byName("aws:ssm/parameter:Parameter", "redis-password");
    expect(passwordParam.inputs.type).toBe("SecureString");
    expect(passwordParam.inputs.value).toBe(PASSWORD);
    expect(passwordParam.secretInputs).toContain("value");
    expect(userData).toContain(`--name '${passwordParam.inputs.name}' --with-decryption`);
    expect(userData).toMatch(/requirepass \$password/);
    expect(userData).toMatch(/bind \$private_ip 127\.0\.0\.1/);
    expect(userData).toContain("protected-mode yes");
    expect(userData).toContain("appendonly yes");
    expect(userData).toContain("dir /data/redis");
    expect(userData).toContain("X-aws-ec2-metadata-token");
  });

  test("random password is 32 letters/digits", () => {
    expect(run.one("random:index/randomPassword:RandomPassword").inputs).toMatchObject({ length: 32, special: false });
  });

  test("the URL parameter is a secret SecureString redis://:<password>@<private ip>:6379", () => {
    const urlParam = byName("aws:ssm/parameter:Parameter", "redis-url");
    expect(urlParam.inputs.type).toBe("SecureString");
    expect(urlParam.inputs.value).toBe(`redis://:${PASSWORD}@10.0.10.20:6379`); // the interface's address
    expect(urlParam.secretInputs).toContain("value");
  });

  test("the redis role may read only its password parameter", () => {
    const passwordParam = byName("aws:ssm/parameter:Parameter", "redis-password");
    expect(policyOf("redis-role").Statement.slice(AGENT_STATEMENTS)).toEqual([
      { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [mockArn(passwordParam.type, passwordParam.name)] },
      { Effect: "Allow", Action: ["kms:Decrypt"], Resource: [mockArn("aws:kms/key:Key", "redis-secrets")], Condition: { StringEquals: { "kms:EncryptionContext:PARAMETER_ARN": mockArn(passwordParam.type, passwordParam.name), "kms:ViaService": "ssm.us-east-1.amazonaws.com" } } },
    ]);
  });
});

describe("release", () => {
  test("bucket is private and encrypted; the app and agent bundles land under releases/<version>-<content hash>/", () => {
    expect(run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).toMatchObject({
      blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
    });
    const sse = run.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
    expect(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("AES256");
    const objects = run.ofType("aws:s3/bucketObjectv2:BucketObjectv2");
    expect(objects.map((o) => o.inputs.key).sort()).toEqual([APP_KEY, AGENT_KEY].sort());
    for (const o of objects) expect(o.inputs.bucket).toBe("release-id");
  });

  test("the bundle is self-contained CommonJS for Node", () => {
    const code = bundleApp();
    expect(code).toContain("x-aviary-version");
    expect(code).not.toMatch(/^import /m);
  });

  test("the app answers /, /healthz and 404 with its version header", async () => {
    const server = http.createServer(handle);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
    try {
      const root = await get("/");
      expect(root.status).toBe(200);
      expect(root.headers.get("x-aviary-version")).toBeTruthy();
      expect(await root.text()).toMatch(/^aviary /);
      const health = await get("/healthz");
      expect([health.status, await health.text()]).toEqual([200, "ok\n"]);
      expect((await get("/nope")).status).toBe(404);
    } finally {
      server.close();
    }
  });
});

describe("production fleet", () => {
  const lt = () => byName("aws:ec2/launchTemplate:LaunchTemplate", "prod");
  const asg = () => byName("aws:autoscaling/group:Group", "prod");

  test("launch template: IMDSv2 (hop limit 1), encrypted gp3 root, no public IP, app security group", () => {
    expect(lt().inputs.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
    expect(lt().inputs.blockDeviceMappings).toHaveLength(1);
    expect(lt().inputs.blockDeviceMappings[0].ebs).toMatchObject({ encrypted: "true", volumeType: "gp3" });
    expect(lt().inputs.networkInterfaces).toEqual([expect.objectContaining({ associatePublicIpAddress: "false", securityGroups: [sgId("app")] })]);
    expect(lt().inputs.keyName).toBeUndefined();
    expect(lt().inputs.imageId).toBe("ami-0123456789abcdef0");
  });

  test("user-data runs the release as a non-root systemd service and keeps the Redis URL out of it", () => {
    const script = decode(lt().inputs.userData);
    const urlParam = byName("aws:ssm/parameter:Parameter", "redis-url");
    expect(script).not.toContain(PASSWORD);
    expect(script).toContain(`aws s3 cp --region "$REGION" 's3://release-bucket/${APP_KEY}'`);
    expect(script).toContain(`--name '${urlParam.inputs.name}' --with-decryption`);
    expect(script).toMatch(/^User=aviary$/m);
    expect(script).toMatch(/^Environment=AVIARY_ROLE=prod$/m);
    expect(script).toMatch(/^Environment=AVIARY_VERSION=1\.2\.3$/m);
    expect(script).toMatch(/^Environment=PORT=3000$/m);
    expect(script).toContain("chmod 600 /etc/aviary/app.env");
    // Registered as the EC2 instance id (what the controller drains and terminates), read over IMDSv2.
    expect(script).toContain("X-aws-ec2-metadata-token-ttl-seconds");
    expect(script).toContain(`printf 'AVIARY_INSTANCE_ID=%s\\nAVIARY_ADDRESS=%s:%s\\n' "$(imds instance-id)" "$(imds local-ipv4)" 3000 >> /etc/aviary/app.env`);
    expect(script).toContain('"AutoScalingGroupName": "${aws:AutoScalingGroupName}"');
  });

  test("ASG: sizes from args, private subnets only, group metrics, rolling refresh", () => {
    expect(asg().inputs).toMatchObject({ minSize: 2, maxSize: 6, desiredCapacity: 3 });
    expect([...asg().inputs.vpcZoneIdentifiers].sort()).toEqual(privateSubnetIds().sort());
    expect(asg().inputs.vpcZoneIdentifiers.some((id: string) => publicSubnetIds().includes(id))).toBe(false);
    expect(asg().inputs.launchTemplate.id).toBe(lt().id);
    expect(asg().inputs.enabledMetrics).toContain("GroupInServiceInstances");
    expect(asg().inputs.instanceRefresh.strategy).toBe("Rolling");
  });

  test("launch template: detailed (1-minute) EC2 monitoring, which the 60 s CPU alarms read", () => {
    expect(lt().inputs.monitoring).toEqual({ enabled: true });
  });

  test("ASG: in service only after the launch hook (ABANDON on timeout); drained by the termination hook", () => {
    // On the group itself, so the very first instances already wait for the hook.
    expect(asg().inputs.initialLifecycleHooks).toEqual([
      { name: LAUNCH_HOOK_NAME, lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING", heartbeatTimeout: LAUNCH_HEARTBEAT_SECONDS, defaultResult: "ABANDON" },
      { name: TERMINATE_HOOK_NAME, lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING", heartbeatTimeout: TERMINATE_HEARTBEAT_SECONDS, defaultResult: "CONTINUE" },
    ]);
    expect(run.ofType("aws:autoscaling/lifecycleHook:LifecycleHook")).toEqual([]);
    // pulumi up waits for min instances in service, past the launch hook's heartbeat.
    const waitMinutes = Number(/^(\d+)m$/.exec(asg().inputs.waitForCapacityTimeout)?.[1]);
    expect(waitMinutes * 60).toBeGreaterThan(LAUNCH_HEARTBEAT_SECONDS);
    // The boot script answers the hooks.
    expect(decode(lt().inputs.userData)).toContain(`lifecycle_complete ${LAUNCH_HOOK_NAME} CONTINUE`);
  });

  test("instance refresh: launch before terminate, roll back a release that fails, skip instances already current", () => {
    expect(asg().inputs.instanceRefresh.preferences).toMatchObject({ minHealthyPercentage: 100, autoRollback: true, skipMatching: true });
    expect(asg().inputs.instanceRefresh.preferences.maxHealthyPercentage).toBeGreaterThan(100);
    // Rollback needs a numbered template version and an AMI id (no resolve:ssm alias).
    expect(asg().inputs.launchTemplate.version).toMatch(/^\d+$/);
    expect(lt().inputs.imageId).toMatch(/^ami-/);
  });

  test("ASG ignores desiredCapacity changes (the controller owns it)", () => {
    const group = captured.find((c) => c.type === "aws:autoscaling/group:Group");
    expect(group?.opts.ignoreChanges).toEqual(["desiredCapacity"]);
  });

  test("fleet role: the release object, the Redis URL parameter and CWAgent metrics only", () => {
    const urlParam = byName("aws:ssm/parameter:Parameter", "redis-url");
    const bucket = run.one("aws:s3/bucket:Bucket");
    expect(policyOf("prod-role").Statement.slice(AGENT_STATEMENTS)).toEqual([
      { Effect: "Allow", Action: ["s3:GetObject"], Resource: [`${mockArn(bucket.type, bucket.name)}/${APP_KEY}`] },
      { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [mockArn(urlParam.type, urlParam.name)] },
      { Effect: "Allow", Action: ["cloudwatch:PutMetricData"], Resource: ["*"], Condition: { StringEquals: { "cloudwatch:namespace": "CWAgent" } } },
      { Effect: "Allow", Action: ["ec2:DescribeTags"], Resource: ["*"] },
      // Only this stack's fleet groups: the ARN pattern is the group's name prefix.
      {
        Effect: "Allow",
        Action: ["autoscaling:CompleteLifecycleAction"],
        Resource: [`arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/${asg().inputs.namePrefix}*`],
      },
      { Effect: "Allow", Action: ["kms:Decrypt"], Resource: [mockArn("aws:kms/key:Key", "redis-secrets")], Condition: { StringEquals: { "kms:EncryptionContext:PARAMETER_ARN": mockArn(urlParam.type, urlParam.name), "kms:ViaService": "ssm.us-east-1.amazonaws.com" } } },
    ]);
    expect(asg().inputs.namePrefix).toBe("aviary-prod-prod-");
  });

  test("fleet size is validated", () => {
    expect(() => checkFleetSize(2, 6, 3)).not.toThrow();
    expect(() => checkFleetSize(3, 6, 2)).toThrow(/min <= desired <= max/);
    expect(() => checkFleetSize(1, 2, 3)).toThrow();
  });
});

describe("proxy", () => {
  const instance = () => byName("aws:ec2/instance:Instance", "proxy");

  test("public subnet, Elastic IP, IMDSv2, encrypted root, proxy security group", () => {
    expect(publicSubnetIds()).toContain(instance().inputs.subnetId);
    expect(instance().inputs.metadataOptions.httpTokens).toBe("required");
    expect(instance().inputs.rootBlockDevice.encrypted).toBe(true);
    expect(instance().inputs.vpcSecurityGroupIds).toEqual([sgId("proxy")]);
    expect(byName("aws:ec2/eip:Eip", "proxy").inputs.instance).toBe(instance().id);
  });

  test("HAProxy: :80 frontend, prod and canary slots, admin socket 600, stats on loopback only", () => {
    const script: string = instance().inputs.userData;
    expect(script).not.toContain(PASSWORD);
    expect(script).toContain("bind :80");
    // Every slot is an explicit, disabled, weight-0 server with its own sticky cookie in backend app.
    expect(script).toContain("backend app\n");
    for (let i = 1; i <= PROD_SLOTS; i++) expect(script).toContain(`\n    server prod${i} 127.0.0.1:1 check disabled weight 0 cookie prod${i}\n`);
    for (let i = 1; i <= CANARY_SLOTS; i++) expect(script).toContain(`\n    server canary${i} 127.0.0.1:1 check disabled weight 0 cookie canary${i}\n`);
    expect(script.match(/^\s*server /gm)).toHaveLength(PROD_SLOTS + CANARY_SLOTS);
    expect(script).toMatch(/stats socket \/run\/haproxy\/admin\.sock mode 600 level admin .*user haproxy$/m);
    expect(script).toContain("bind 127.0.0.1:8404");
    // The agent release comes through the install script and its SSM parameter, never the boot script.
    expect(script).not.toContain(AGENT_KEY);
    expect(script).toContain(`--name '${byName("aws:ssm/parameter:Parameter", "proxy-agent-key").inputs.name}'`);
    expect(script).toContain("'s3://release-bucket/'\"$key\"");
    // Only :80 and loopback binds.
    const binds = renderHaproxyConfig(PROXY_HAPROXY_OPTIONS).match(/^\s*bind .*$/gm)?.map((b) => b.trim());
    expect(binds).toEqual(["bind :80", "bind 127.0.0.1:8404"]);
  });

  test("the agent release: its key in a String parameter, installed by a State Manager association on this instance", () => {
    const param = byName("aws:ssm/parameter:Parameter", "proxy-agent-key");
    expect(param.inputs).toMatchObject({ name: "/aviary/prod/proxy/agent-key", type: "String", insecureValue: AGENT_KEY });
    const association = byName("aws:ssm/association:Association", "proxy-agent");
    expect(association.inputs).toMatchObject({
      name: "AWS-RunShellScript",
      associationName: "aviary-prod-proxy-agent",
      targets: [{ key: "InstanceIds", values: [instance().id] }],
      // pulumi-aws v7: one string per document parameter (the provider sends it as a one-element list).
      parameters: { commands: `cloud-init status --wait >/dev/null; /usr/local/sbin/aviary-agent-install '${AGENT_KEY}'` },
      maxConcurrency: "1",
      maxErrors: "0",
    });
    expect(association.inputs.applyOnlyAtCronInterval).toBeUndefined();
  });

  test("proxy role: SSM Agent may run the association (State Manager's calls on this instance and AWS-RunShellScript)", () => {
    const statements = policyOf("proxy-role").Statement as { Action: string[]; Resource: string[] }[];
    const glob = (pattern: string) => new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.?+^$()[\]{}|\\/]/g, "\\$&")).join(".*")}$`);
    const allows = (action: string, resource: string) => statements.some((st) => st.Action.includes(action) && st.Resource.some((r) => glob(r).test(resource)));
    const instanceArn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0";
    const needs: [string, string][] = [
      ["ssm:UpdateInstanceInformation", instanceArn],
      ["ssm:ListInstanceAssociations", instanceArn],
      ["ssm:DescribeAssociation", "arn:aws:ssm:us-east-1:123456789012:association/0a1b2c3d-4e5f-6789-abcd-ef0123456789"],
      ["ssm:GetDocument", "arn:aws:ssm:us-east-1::document/AWS-RunShellScript"],
      ["ssm:UpdateInstanceAssociationStatus", "*"],
      ...["GetMessages", "AcknowledgeMessage", "SendReply", "DeleteMessage", "FailMessage", "GetEndpoint"].map((a): [string, string] => [`ec2messages:${a}`, "*"]),
      ...["CreateControlChannel", "OpenControlChannel"].map((a): [string, string] => [`ssmmessages:${a}`, "*"]),
    ];
    expect(needs.filter(([action, resource]) => !allows(action, resource))).toEqual([]);
    // ... and no other account's documents.
    expect(allows("ssm:GetDocument", "arn:aws:ssm:us-east-1:999999999999:document/Shared")).toBe(false);
  });

  test("proxy role: the Redis URL and agent key parameters, release objects and its own metric namespace", () => {
    const urlParam = byName("aws:ssm/parameter:Parameter", "redis-url");
    const agentParam = byName("aws:ssm/parameter:Parameter", "proxy-agent-key");
    const bucket = run.one("aws:s3/bucket:Bucket");
    expect(policyOf("proxy-role").Statement.slice(AGENT_STATEMENTS)).toEqual([
      { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [mockArn(urlParam.type, urlParam.name)] },
      { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [mockArn(agentParam.type, agentParam.name)] },
      { Effect: "Allow", Action: ["s3:GetObject"], Resource: [`${mockArn(bucket.type, bucket.name)}/releases/*`] },
      { Effect: "Allow", Action: ["cloudwatch:PutMetricData"], Resource: ["*"], Condition: { StringEquals: { "cloudwatch:namespace": "Aviary/Proxy" } } },
      { Effect: "Allow", Action: ["kms:Decrypt"], Resource: [mockArn("aws:kms/key:Key", "redis-secrets")], Condition: { StringEquals: { "kms:EncryptionContext:PARAMETER_ARN": mockArn(urlParam.type, urlParam.name), "kms:ViaService": "ssm.us-east-1.amazonaws.com" } } },
    ]);
  });

  test("renderProxyUserData runs the release's agent with the slot counts HAProxy was given", () => {
    const s = renderProxyUserData({ appPort: 3000, deployment: "d", bucket: "b", agentKeyParameterName: "/aviary/prod/proxy/agent-key", redisUrlParameterName: "/p", region: "us-east-1", latencyThresholdMs: 800, accessLog: "errors" });
    // The stack's canary p99 threshold is one of the latency histogram's bounds.
    expect(s).toMatch(/aviary_latency_ms_[0-9_]*_800_/);
    expect(s).toContain("    option dontlog-normal\n");
    expect(s).toContain("aws ssm get-parameter --region \"$REGION\" --name '/aviary/prod/proxy/agent-key' --query Parameter.Value --output text");
    expect(s).toContain("retry aws s3 cp --region \"$REGION\" --only-show-errors 's3://b/'\"$key\" \"$tmp\"");
    expect(s).toContain("ExecStart=$NODE_BIN /opt/aviary-agent.js\n");
    expect(s).toContain(`Environment=AVIARY_PROD_SLOTS=${PROD_SLOTS}\n`);
    expect(s).toContain(`Environment=AVIARY_CANARY_SLOTS=${CANARY_SLOTS}\n`);
    expect(s).toContain("systemctl enable aviary-agent.service\n/usr/local/sbin/aviary-agent-install\n");
  });
});

describe("every component together", () => {
  test("IAM: no wildcard actions; '*' resources only where AWS has no resource scoping", () => {
    const policies = run.ofType("aws:iam/rolePolicy:RolePolicy");
    expect(policies.map((p) => p.name).sort()).toEqual(["prod-role-inline", "proxy-role-inline", "redis-role-inline"]);
    for (const p of policies) {
      for (const s of JSON.parse(p.inputs.policy).Statement) {
        expect(s.Effect).toBe("Allow");
        for (const a of s.Action) expect(a).not.toContain("*");
        if (s.Resource.includes("*")) expect(s.Action.every(isResourcelessAction)).toBe(true);
        if (s.Action.includes("cloudwatch:PutMetricData")) expect(s.Condition).toBeDefined();
      }
    }
  });

  test("no role attaches a managed policy (AmazonSSMManagedInstanceCore would grant GetParameter on every parameter)", () => {
    expect(run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
  });

  test("every role is EC2-only, has SSM Agent's own statements (no managed policy) and an instance profile", () => {
    const roles = run.ofType("aws:iam/role:Role");
    expect(roles).toHaveLength(3);
    for (const role of roles) {
      const trust = JSON.parse(role.inputs.assumeRolePolicy);
      expect(trust.Statement).toEqual([{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
      expect(policyOf(role.name).Statement.slice(0, AGENT_STATEMENTS).map((s: { Sid: string }) => s.Sid)).toEqual(["SsmAgentChannels", "SsmAgentInstance", "SsmAgentDocuments"]);
      expect(byName("aws:iam/instanceProfile:InstanceProfile", role.name)).toBeDefined();
    }
  });

  test("no SSH: no key pairs and no rule touching port 22", () => {
    expect(run.ofType("aws:ec2/keyPair:KeyPair")).toHaveLength(0);
    for (const r of [...run.ofType(INGRESS), ...run.ofType(EGRESS)]) {
      expect(r.inputs.fromPort <= 22 && 22 <= r.inputs.toPort).toBe(false);
    }
  });

  test("checkStatement rejects wildcard actions and unscoped resources", () => {
    expect(() => checkStatement({ actions: ["s3:*"], resources: ["arn:aws:s3:::b/*"] })).toThrow(/wildcard action/);
    expect(() => checkStatement({ actions: ["s3:GetObject"], resources: ["*"] })).toThrow(/resource "\*"/);
    expect(() => checkStatement({ actions: ["ssm:GetParameter"], resources: [] })).toThrow(/without resources/);
  });

  test("appUserData refuses values that could inject into the unit file", () => {
    const base = { role: "prod" as const, version: "1.2.3", bucket: "b", key: "k", appPort: 3000, redisUrlParameterName: "/p", region: "us-east-1" };
    expect(() => renderAppUserData(base)).not.toThrow();
    expect(() => renderAppUserData({ ...base, version: "1.0\nExecStartPre=/bin/sh" })).toThrow(/unsafe/);
    expect(renderAppUserData({ ...base, bucket: "x'; rm -rf /; '" })).toContain(`'s3://x'\\''; rm -rf /; '\\''/k'`);
  });
});
