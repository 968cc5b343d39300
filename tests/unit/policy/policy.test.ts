import * as aws from "@pulumi/aws";
import { checkPolicies, CheckedResource, checkStackPolicies } from "../../../policy/check";
import { iamDocumentProblems, ingressRuleProblems, policies } from "../../../policy/policies";
import { runUnderMocks } from "../../../harness/pulumiMocks";

function res(type: string, name: string, inputs: Record<string, unknown>): CheckedResource {
  return { type, name, urn: `urn:pulumi:test::aviary::${type}::${name}`, inputs };
}

function violationsOf(policy: string, r: CheckedResource) {
  return checkPolicies([r]).filter((v) => v.policy === policy);
}

const SG = "aws:ec2/securityGroup:SecurityGroup";
const SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
const INSTANCE = "aws:ec2/instance:Instance";
const LT = "aws:ec2/launchTemplate:LaunchTemplate";

const goodInstanceInputs = {
  ami: "ami-0123456789abcdef0",
  instanceType: "t3.micro",
  metadataOptions: { httpTokens: "required" },
  rootBlockDevice: { encrypted: true },
};

describe("policy pack definition", () => {
  it("exports each Aviary policy once, mandatory, with a description and validateResource", () => {
    expect(policies.map((p) => p.name).sort()).toEqual(
      [
        "ebs-encrypted",
        "elasticache-encrypted-with-auth",
        "imdsv2-required",
        "lambda-has-dlq",
        "load-balancer-http-only",
        "managed-policies-allow-list",
        "resource-policies-scoped",
        "no-public-ingress-except-proxy-http",
        "no-public-ip-outside-proxy",
        "no-wildcard-iam-actions",
        "s3-bucket-not-public",
        "sns-topic-encrypted",
      ].sort(),
    );
    for (const p of policies) {
      expect(p.enforcementLevel).toBe("mandatory");
      expect(p.description.length).toBeGreaterThan(10);
      expect(p.validateResource).toBeDefined();
    }
  });

  it("ignores resource types no policy covers", () => {
    expect(checkPolicies([res("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm", {})])).toEqual([]);
  });
});

describe("no-public-ingress-except-proxy-http", () => {
  const P = "no-public-ingress-except-proxy-http";

  it("catches SSH open to the world on an inline security group rule", () => {
    const v = violationsOf(P, res(SG, "open", { ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }] }));
    expect(v.length).toBe(2); // public non-HTTP + port 22
    expect(v[0].resource).toBe("open");
  });

  it("passes public HTTP/HTTPS and private-source rules", () => {
    expect(
      violationsOf(
        P,
        res(SG, "proxy", {
          ingress: [
            { protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"] },
            { protocol: "6", fromPort: 443, toPort: 443, ipv6CidrBlocks: ["::/0"] },
            { protocol: "tcp", fromPort: 8080, toPort: 8080, securityGroups: ["sg-123"] },
          ],
          egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
        }),
      ),
    ).toEqual([]);
  });

  it("catches a public port range and public all-protocols on standalone rules", () => {
    expect(violationsOf(P, res(SG_INGRESS, "range", { ipProtocol: "tcp", fromPort: 80, toPort: 443, cidrIpv4: "0.0.0.0/0" }))).toHaveLength(1);
    expect(violationsOf(P, res(SG_INGRESS, "v6all", { ipProtocol: "-1", cidrIpv6: "::/0" })).length).toBeGreaterThan(0);
    expect(violationsOf(P, res(SG_INGRESS, "https", { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }))).toEqual([]);
  });

  it("catches port 22 from a private source, and ignores egress SecurityGroupRules", () => {
    const ssh = res(SG_RULE, "ssh", { type: "ingress", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.0.0.0/16"] });
    expect(violationsOf(P, ssh)).toHaveLength(1);
    expect(violationsOf(P, res(SG_RULE, "egress", { type: "egress", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }))).toEqual([]);
    expect(violationsOf(P, res(SG_RULE, "app", { type: "ingress", protocol: "tcp", fromPort: 8080, toPort: 8080, sourceSecurityGroupId: "sg-1" }))).toEqual([]);
  });

  it("ingressRuleProblems: exact 80/443 only", () => {
    expect(ingressRuleProblems({ protocol: "tcp", fromPort: 443, toPort: 443, cidrs: ["0.0.0.0/0"] })).toEqual([]);
    expect(ingressRuleProblems({ protocol: "udp", fromPort: 443, toPort: 443, cidrs: ["0.0.0.0/0"] })).toHaveLength(1);
    expect(ingressRuleProblems({ protocol: "tcp", fromPort: 20, toPort: 25, cidrs: ["10.0.0.0/8"] })).toHaveLength(1);
  });
});

describe("imdsv2-required", () => {
  const P = "imdsv2-required";
  it("catches an instance with optional tokens and a launch template without metadataOptions", () => {
    expect(violationsOf(P, res(INSTANCE, "web", { ...goodInstanceInputs, metadataOptions: { httpTokens: "optional" } }))).toHaveLength(1);
    expect(violationsOf(P, res(LT, "lt", {}))).toHaveLength(1);
  });
  it("passes httpTokens required", () => {
    expect(violationsOf(P, res(INSTANCE, "web", goodInstanceInputs))).toEqual([]);
    expect(violationsOf(P, res(LT, "lt", { metadataOptions: { httpTokens: "required" } }))).toEqual([]);
  });
});

describe("ebs-encrypted", () => {
  const P = "ebs-encrypted";
  it("catches unencrypted root, data volumes, launch template mappings and volumes", () => {
    expect(violationsOf(P, res(INSTANCE, "web", { ...goodInstanceInputs, rootBlockDevice: undefined }))).toHaveLength(1);
    expect(violationsOf(P, res(INSTANCE, "web", { ...goodInstanceInputs, ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: false }] }))).toHaveLength(1);
    expect(violationsOf(P, res(LT, "lt", { blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { volumeSize: 8 } }] }))).toHaveLength(1);
    expect(violationsOf(P, res("aws:ebs/volume:Volume", "vol", { size: 10 }))).toHaveLength(1);
  });
  it("passes encrypted devices (boolean or \"true\" in launch templates)", () => {
    expect(violationsOf(P, res(INSTANCE, "web", { ...goodInstanceInputs, ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: true }] }))).toEqual([]);
    expect(
      violationsOf(P, res(LT, "lt", { blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true" } }, { deviceName: "/dev/sdb", ebs: { encrypted: true } }] })),
    ).toEqual([]);
    expect(violationsOf(P, res("aws:ebs/volume:Volume", "vol", { size: 10, encrypted: true }))).toEqual([]);
  });
});

describe("sns-topic-encrypted", () => {
  const P = "sns-topic-encrypted";
  it("catches a topic without kmsMasterKeyId", () => {
    expect(violationsOf(P, res("aws:sns/topic:Topic", "alerts", {}))).toHaveLength(1);
  });
  it("passes a topic with kmsMasterKeyId", () => {
    expect(violationsOf(P, res("aws:sns/topic:Topic", "alerts", { kmsMasterKeyId: "alias/aws/sns" }))).toEqual([]);
  });
});

describe("no-wildcard-iam-actions", () => {
  const P = "no-wildcard-iam-actions";
  const doc = (...Statement: unknown[]) => ({ Version: "2012-10-17", Statement });
  it("catches service:* actions (JSON string) and '*' (object document)", () => {
    const s3All = JSON.stringify(doc({ Effect: "Allow", Action: ["s3:*"], Resource: "arn:aws:s3:::b/*" }));
    expect(violationsOf(P, res("aws:iam/rolePolicy:RolePolicy", "rp", { role: "r", policy: s3All }))).toHaveLength(1);
    expect(violationsOf(P, res("aws:iam/policy:Policy", "p", { policy: doc({ Effect: "Allow", Action: "*", Resource: "*" }) })).length).toBeGreaterThan(0);
  });
  it("catches a mutating action on Resource '*'", () => {
    const d = doc({ Effect: "Allow", Action: ["ec2:DescribeInstances", "autoscaling:SetDesiredCapacity"], Resource: "*" });
    const v = violationsOf(P, res("aws:iam/policy:Policy", "p", { policy: JSON.stringify(d) }));
    expect(v).toHaveLength(1);
    expect(v[0].message).toContain("autoscaling:SetDesiredCapacity");
  });
  it("catches Describe*/List/Get on '*' when the action takes resource ARNs, and NotAction/NotResource allows", () => {
    const d = doc({ Effect: "Allow", Action: ["cloudwatch:DescribeAlarms"], Resource: "*" }, { Effect: "Allow", NotAction: "iam:*", Resource: "*" }, { Effect: "Allow", Action: "s3:GetObject", NotResource: "arn:aws:s3:::b/*" });
    const v = violationsOf(P, res("aws:iam/rolePolicy:RolePolicy", "rp", { role: "r", policy: JSON.stringify(d) })).map((x) => x.message);
    expect(v).toEqual([expect.stringContaining("cloudwatch:DescribeAlarms"), expect.stringContaining("NotAction"), expect.stringContaining("(no Action) on Resource"), expect.stringContaining("NotResource")]);
  });
  it("passes scoped actions, resource-less actions on '*' (the shared list), and Deny '*'", () => {
    const d = doc(
      { Effect: "Allow", Action: ["autoscaling:DescribeAutoScalingGroups", "cloudwatch:PutMetricData", "ssmmessages:OpenDataChannel"], Resource: "*" },
      { Effect: "Allow", Action: "autoscaling:SetDesiredCapacity", Resource: "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*" },
      { Effect: "Deny", Action: "*", Resource: "*" },
    );
    expect(violationsOf(P, res("aws:iam/rolePolicy:RolePolicy", "rp", { role: "r", policy: JSON.stringify(d) }))).toEqual([]);
  });
  it("iamDocumentProblems flags invalid JSON", () => {
    expect(iamDocumentProblems("{not json")).toEqual(["policy is not valid JSON"]);
  });
});

describe("no-public-ip-outside-proxy", () => {
  const P = "no-public-ip-outside-proxy";
  it("catches a non-proxy instance with a public IP and a launch template assigning one", () => {
    expect(violationsOf(P, res(INSTANCE, "web", { ...goodInstanceInputs, associatePublicIpAddress: true, tags: { "aviary:role": "web" } }))).toHaveLength(1);
    expect(violationsOf(P, res(LT, "lt", { networkInterfaces: [{ associatePublicIpAddress: "true" }] }))).toHaveLength(1);
  });
  it("passes the proxy instance and private launch templates", () => {
    expect(violationsOf(P, res(INSTANCE, "proxy", { ...goodInstanceInputs, associatePublicIpAddress: true, tags: { "aviary:role": "proxy" } }))).toEqual([]);
    expect(violationsOf(P, res(INSTANCE, "web", goodInstanceInputs))).toEqual([]);
    expect(violationsOf(P, res(LT, "lt", { networkInterfaces: [{ associatePublicIpAddress: "false" }] }))).toEqual([]);
  });
});

describe("s3-bucket-not-public", () => {
  const P = "s3-bucket-not-public";
  const PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
  it("catches a public access block with a flag off", () => {
    const v = violationsOf(P, res(PAB, "pab", { bucket: "b", blockPublicAcls: true, blockPublicPolicy: false, ignorePublicAcls: true }));
    expect(v).toHaveLength(1);
    expect(v[0].message).toContain("blockPublicPolicy");
    expect(v[0].message).toContain("restrictPublicBuckets");
  });
  it("passes all four flags true", () => {
    expect(
      violationsOf(P, res(PAB, "pab", { bucket: "b", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true })),
    ).toEqual([]);
  });
});

describe("lambda-has-dlq", () => {
  const P = "lambda-has-dlq";
  it("catches a function without a dead-letter target", () => {
    expect(violationsOf(P, res("aws:lambda/function:Function", "controller", { runtime: "nodejs20.x" }))).toHaveLength(1);
  });
  it("passes a function with deadLetterConfig.targetArn", () => {
    expect(violationsOf(P, res("aws:lambda/function:Function", "controller", { deadLetterConfig: { targetArn: "arn:aws:sqs:us-east-1:123456789012:dlq" } }))).toEqual([]);
  });
});

describe("load-balancer-http-only", () => {
  const P = "load-balancer-http-only";
  const LB = "aws:lb/loadBalancer:LoadBalancer";
  it("catches a listener on another port and a public load balancer without security groups", () => {
    expect(violationsOf(P, res("aws:lb/listener:Listener", "ssh", { loadBalancerArn: "arn", port: 22, protocol: "TCP" }))).toHaveLength(1);
    expect(violationsOf(P, res(LB, "nlb", { loadBalancerType: "network", internal: false, subnets: ["s"] }))).toHaveLength(1);
  });
  it("passes a port 80 listener, a public balancer with a security group, an internal one without", () => {
    expect(violationsOf(P, res("aws:lb/listener:Listener", "http", { loadBalancerArn: "arn", port: 80, protocol: "TCP" }))).toEqual([]);
    expect(violationsOf(P, res(LB, "nlb", { loadBalancerType: "network", internal: false, securityGroups: ["sg-lb"] }))).toEqual([]);
    expect(violationsOf(P, res(LB, "internal", { loadBalancerType: "network", internal: true }))).toEqual([]);
  });
});

describe("elasticache-encrypted-with-auth", () => {
  const P = "elasticache-encrypted-with-auth";
  const RG = "aws:elasticache/replicationGroup:ReplicationGroup";
  const good = { description: "d", transitEncryptionEnabled: true, atRestEncryptionEnabled: true, authToken: "0123456789abcdef0123" };
  it("catches each missing protection, and a standalone cache cluster", () => {
    expect(violationsOf(P, res(RG, "rg", { ...good, transitEncryptionEnabled: false }))).toHaveLength(1);
    expect(violationsOf(P, res(RG, "rg", { ...good, atRestEncryptionEnabled: undefined }))).toHaveLength(1);
    expect(violationsOf(P, res(RG, "rg", { ...good, authToken: undefined }))).toHaveLength(1);
    expect(violationsOf(P, res("aws:elasticache/cluster:Cluster", "c", { engine: "redis", nodeType: "cache.t4g.micro" }))).toHaveLength(1);
  });
  it("passes an encrypted group with an AUTH token or a user group", () => {
    expect(violationsOf(P, res(RG, "rg", good))).toEqual([]);
    expect(violationsOf(P, res(RG, "rg", { ...good, authToken: undefined, userGroupIds: ["aviary"] }))).toEqual([]);
  });
});

describe("checkPolicies on mock registrations", () => {
  it("finds the IMDSv2 (and EBS) violations on an instance registered under the harness, and none on a compliant one", async () => {
    const run = await runUnderMocks(() => {
      new aws.ec2.Instance("legacy", { ami: "ami-0123456789abcdef0", instanceType: "t3.micro" });
      new aws.ec2.Instance("hardened", {
        ami: "ami-0123456789abcdef0",
        instanceType: "t3.micro",
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
        rootBlockDevice: { encrypted: true, volumeSize: 8 },
      });
      new aws.sns.Topic("alerts", { kmsMasterKeyId: "alias/aws/sns" });
    });
    const violations = checkPolicies(run.resources);
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ policy: "imdsv2-required", resource: "legacy" }),
        expect.objectContaining({ policy: "ebs-encrypted", resource: "legacy" }),
      ]),
    );
    expect(violations.filter((v) => v.resource !== "legacy")).toEqual([]);
  });
});

describe("managed-policies-allow-list", () => {
  const P = "managed-policies-allow-list";
  const ATT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
  it("catches AmazonSSMManagedInstanceCore (GetParameter on every parameter) and a customer policy", () => {
    expect(violationsOf(P, res(ATT, "ssm", { role: "r", policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" }))).toHaveLength(1);
    expect(violationsOf(P, res(ATT, "own", { role: "r", policyArn: "arn:aws:iam::123456789012:policy/x" }))).toHaveLength(1);
  });
  it("passes AWSLambdaVPCAccessExecutionRole", () => {
    expect(violationsOf(P, res(ATT, "vpc", { role: "r", policyArn: "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole" }))).toEqual([]);
  });
});

describe("resource-policies-scoped", () => {
  const P = "resource-policies-scoped";
  const doc = (...Statement: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement });
  it("catches an unconditioned service principal (SNS topic), '*' (S3 bucket), NotAction (KMS key) and a Permission without sourceArn", () => {
    expect(violationsOf(P, res("aws:sns/topicPolicy:TopicPolicy", "t", { arn: "a", policy: doc({ Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: "a" }) }))).toHaveLength(1);
    expect(violationsOf(P, res("aws:s3/bucketPolicy:BucketPolicy", "b", { bucket: "b", policy: doc({ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }) }))).toHaveLength(1);
    expect(violationsOf(P, res("aws:kms/keyPolicy:KeyPolicy", "k", { keyId: "k", policy: doc({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, NotAction: "kms:Decrypt", Resource: "*" }) }))).toHaveLength(1);
    expect(violationsOf(P, res("aws:lambda/permission:Permission", "p", { action: "lambda:InvokeFunction", function: "f", principal: "sns.amazonaws.com" }))).toHaveLength(1);
  });
  it("passes account-scoped service principals and a Permission with sourceArn", () => {
    const scoped = doc({ Effect: "Allow", Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish", Resource: "a", Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } } });
    expect(violationsOf(P, res("aws:sns/topicPolicy:TopicPolicy", "t", { arn: "a", policy: scoped }))).toEqual([]);
    expect(violationsOf(P, res("aws:lambda/permission:Permission", "p", { principal: "sns.amazonaws.com", sourceArn: "arn:aws:sns:us-east-1:123456789012:t" }))).toEqual([]);
  });
});

describe("cloudwatch-topic-customer-managed-key", () => {
  const topic = (kmsMasterKeyId: string) => res("aws:sns/topic:Topic", "alerts", { kmsMasterKeyId, arn: "arn:aws:sns:us-east-1:123456789012:alerts" });
  const alarm = res("aws:cloudwatch/metricAlarm:MetricAlarm", "cpu", { alarmActions: ["arn:aws:sns:us-east-1:123456789012:alerts"] });
  it("catches alias/aws/sns on a topic an alarm publishes to", () => {
    expect(checkStackPolicies([topic("alias/aws/sns"), alarm])).toHaveLength(1);
  });
  it("passes a customer-managed key, and alias/aws/sns on a topic no alarm uses", () => {
    expect(checkStackPolicies([topic("arn:aws:kms:us-east-1:123456789012:key/k"), alarm])).toEqual([]);
    expect(checkStackPolicies([topic("alias/aws/sns")])).toEqual([]);
  });
});
