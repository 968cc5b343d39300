// Aviary's security rules as CrossGuard resource policies. A plain module (no PolicyPack here), so the
// rules can be unit-tested by calling validateResource directly; policy/index.ts builds the pack.
import * as aws from "@pulumi/aws";
import { ReportViolation, ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";

const PUBLIC_CIDRS = new Set(["0.0.0.0/0", "::/0"]);
const PUBLIC_HTTP_PORTS = new Set([80, 443]);

/** true for boolean true and the string "true" (launch templates carry some flags as strings). */
export function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

function asArray<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function nonEmpty(value: unknown): boolean {
  return typeof value === "string" ? value.trim().length > 0 : value !== undefined && value !== null;
}

/** A normalised ingress rule, whichever resource shape it came from. */
interface IngressRule {
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidrs: string[];
}

function isTcp(protocol: string): boolean {
  return protocol === "tcp" || protocol === "6";
}

function isAllProtocols(protocol: string): boolean {
  return protocol === "-1" || protocol === "all";
}

function port(value: unknown): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** Violations of one ingress rule: public sources other than TCP 80/443, and port 22 from anywhere. */
export function ingressRuleProblems(rule: IngressRule): string[] {
  const problems: string[] = [];
  const protocol = String(rule.protocol ?? "").toLowerCase();
  const from = rule.fromPort;
  const to = rule.toPort ?? rule.fromPort;
  const describe = `${protocol || "?"} ${from ?? "*"}-${to ?? "*"}`;

  const publicCidrs = rule.cidrs.filter((c) => PUBLIC_CIDRS.has(c));
  if (publicCidrs.length > 0) {
    const httpOnly = isTcp(protocol) && from !== undefined && from === to && PUBLIC_HTTP_PORTS.has(from);
    if (!httpOnly) {
      problems.push(`ingress ${describe} is open to ${publicCidrs.join(", ")}; only TCP 80 or 443 may be public`);
    }
  }

  // SSH: any rule (any source) whose range covers 22 for TCP or all protocols.
  const allPorts = isAllProtocols(protocol) || (from === undefined && to === undefined);
  const covers22 = allPorts || (from !== undefined && to !== undefined && from <= 22 && 22 <= to);
  if ((isTcp(protocol) || isAllProtocols(protocol)) && covers22) {
    problems.push(`ingress ${describe} opens port 22 (SSH is not allowed; use SSM Session Manager)`);
  }
  return problems;
}

function reportAll(report: ReportViolation, problems: string[]): void {
  for (const p of problems) report(p);
}

const noPublicIngress: ResourceValidationPolicy = {
  name: "no-public-ingress-except-proxy-http",
  description:
    "Ingress from 0.0.0.0/0 or ::/0 is allowed only for TCP port 80 or 443 exactly, and no ingress rule may open port 22.",
  enforcementLevel: "mandatory",
  validateResource: [
    validateResourceOfType(aws.ec2.SecurityGroup, (sg, _args, report) => {
      for (const r of asArray(sg.ingress)) {
        reportAll(
          report,
          ingressRuleProblems({
            protocol: String(r.protocol ?? ""),
            fromPort: port(r.fromPort),
            toPort: port(r.toPort),
            cidrs: [...asArray(r.cidrBlocks), ...asArray(r.ipv6CidrBlocks)].map(String),
          }),
        );
      }
    }),
    validateResourceOfType(aws.vpc.SecurityGroupIngressRule, (rule, _args, report) => {
      reportAll(
        report,
        ingressRuleProblems({
          protocol: String(rule.ipProtocol ?? ""),
          fromPort: port(rule.fromPort),
          toPort: port(rule.toPort),
          cidrs: [rule.cidrIpv4, rule.cidrIpv6].filter((c): c is string => typeof c === "string"),
        }),
      );
    }),
    validateResourceOfType(aws.ec2.SecurityGroupRule, (rule, _args, report) => {
      if (rule.type !== "ingress") return;
      reportAll(
        report,
        ingressRuleProblems({
          protocol: String(rule.protocol ?? ""),
          fromPort: port(rule.fromPort),
          toPort: port(rule.toPort),
          cidrs: [...asArray(rule.cidrBlocks), ...asArray(rule.ipv6CidrBlocks)].map(String),
        }),
      );
    }),
  ],
};

function checkImds(metadataOptions: { httpTokens?: string } | undefined, report: ReportViolation): void {
  if (metadataOptions?.httpTokens !== "required") {
    report(`metadataOptions.httpTokens must be "required" (IMDSv2), got ${JSON.stringify(metadataOptions?.httpTokens)}`);
  }
}

const imdsv2Required: ResourceValidationPolicy = {
  name: "imdsv2-required",
  description: "EC2 instances and launch templates must require IMDSv2 (metadataOptions.httpTokens = \"required\").",
  enforcementLevel: "mandatory",
  validateResource: [
    validateResourceOfType(aws.ec2.Instance, (i, _args, report) => checkImds(i.metadataOptions, report)),
    validateResourceOfType(aws.ec2.LaunchTemplate, (lt, _args, report) => checkImds(lt.metadataOptions, report)),
  ],
};

const ebsEncrypted: ResourceValidationPolicy = {
  name: "ebs-encrypted",
  description: "EBS volumes (instance root and attached volumes, launch template mappings, standalone volumes) must be encrypted.",
  enforcementLevel: "mandatory",
  validateResource: [
    validateResourceOfType(aws.ec2.Instance, (i, _args, report) => {
      if (!isTrue(i.rootBlockDevice?.encrypted)) report("rootBlockDevice.encrypted must be true");
      asArray(i.ebsBlockDevices).forEach((d, n) => {
        if (!isTrue(d.encrypted)) report(`ebsBlockDevices[${n}] (${d.deviceName ?? "?"}) must be encrypted`);
      });
    }),
    validateResourceOfType(aws.ec2.LaunchTemplate, (lt, _args, report) => {
      asArray(lt.blockDeviceMappings).forEach((m, n) => {
        if (m.ebs === undefined || m.ebs === null) return; // instance-store / NoDevice mappings
        if (!isTrue(m.ebs.encrypted)) report(`blockDeviceMappings[${n}] (${m.deviceName ?? "?"}) ebs.encrypted must be true`);
      });
    }),
    validateResourceOfType(aws.ebs.Volume, (v, _args, report) => {
      if (!isTrue(v.encrypted)) report("encrypted must be true");
    }),
  ],
};

const snsTopicEncrypted: ResourceValidationPolicy = {
  name: "sns-topic-encrypted",
  description: "SNS topics must be encrypted with a KMS key (kmsMasterKeyId).",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(aws.sns.Topic, (t, _args, report) => {
    if (!nonEmpty(t.kmsMasterKeyId)) report("kmsMasterKeyId is not set");
  }),
};

/** Actions that may be granted on Resource "*": read-only Describe/List/Get calls and cloudwatch:PutMetricData. */
export function isResourceStarSafeAction(action: string): boolean {
  if (action.toLowerCase() === "cloudwatch:putmetricdata") return true;
  const idx = action.indexOf(":");
  if (idx < 0) return false;
  return /^(describe|list|get)/i.test(action.slice(idx + 1));
}

function isWildcardAction(action: string): boolean {
  return action === "*" || /^[^:]+:\*$/.test(action);
}

/** The parts of an IAM policy document the rule reads; anything may be missing or malformed. */
interface PolicyStatement {
  Sid?: string;
  Effect?: unknown;
  Action?: unknown;
  Resource?: unknown;
}
interface PolicyDocument {
  Statement?: PolicyStatement | PolicyStatement[];
}

/** Problems in one IAM policy document (JSON string or object). */
export function iamDocumentProblems(policy: unknown): string[] {
  let doc = policy as PolicyDocument | null | undefined;
  if (typeof policy === "string") {
    try {
      doc = JSON.parse(policy);
    } catch {
      return ["policy is not valid JSON"];
    }
  }
  const problems: string[] = [];
  asArray<PolicyStatement | null>(doc?.Statement).forEach((st, n) => {
    if (!st || st.Effect !== "Allow") return;
    const label = st.Sid ? `statement ${n} (${st.Sid})` : `statement ${n}`;
    const actions = asArray<unknown>(st.Action).map(String);
    const wild = actions.filter(isWildcardAction);
    if (wild.length > 0) problems.push(`${label} allows wildcard action(s) ${wild.join(", ")}`);
    const resources = asArray<unknown>(st.Resource).map(String);
    if (resources.includes("*")) {
      const unsafe = actions.filter((a) => !isResourceStarSafeAction(a));
      if (unsafe.length > 0 || actions.length === 0) {
        problems.push(`${label} allows ${unsafe.join(", ") || "(no Action)"} on Resource "*"; scope it to specific ARNs`);
      }
    }
  });
  return problems;
}

const noWildcardIam: ResourceValidationPolicy = {
  name: "no-wildcard-iam-actions",
  description:
    "IAM policies must not Allow \"*\" or \"service:*\" actions, and Resource \"*\" is allowed only for Describe/List/Get actions and cloudwatch:PutMetricData.",
  enforcementLevel: "mandatory",
  validateResource: [
    validateResourceOfType(aws.iam.Policy, (p, _args, report) => reportAll(report, iamDocumentProblems(p.policy))),
    validateResourceOfType(aws.iam.RolePolicy, (p, _args, report) => reportAll(report, iamDocumentProblems(p.policy))),
  ],
};

const noPublicIpOutsideProxy: ResourceValidationPolicy = {
  name: "no-public-ip-outside-proxy",
  description: "Only the proxy instance (tag aviary:role=proxy) may have a public IP; launch templates must not assign public IPs.",
  enforcementLevel: "mandatory",
  validateResource: [
    validateResourceOfType(aws.ec2.Instance, (i, _args, report) => {
      if (isTrue(i.associatePublicIpAddress) && i.tags?.["aviary:role"] !== "proxy") {
        report("associatePublicIpAddress is true on an instance that is not the proxy (tag aviary:role is not \"proxy\")");
      }
    }),
    validateResourceOfType(aws.ec2.LaunchTemplate, (lt, _args, report) => {
      asArray(lt.networkInterfaces).forEach((ni, n) => {
        if (isTrue(ni.associatePublicIpAddress)) report(`networkInterfaces[${n}].associatePublicIpAddress must not be true`);
      });
    }),
  ],
};

const s3BucketNotPublic: ResourceValidationPolicy = {
  name: "s3-bucket-not-public",
  description: "S3 public access blocks must set all four block flags to true.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(aws.s3.BucketPublicAccessBlock, (pab, _args, report) => {
    const flags = { blockPublicAcls: pab.blockPublicAcls, blockPublicPolicy: pab.blockPublicPolicy, ignorePublicAcls: pab.ignorePublicAcls, restrictPublicBuckets: pab.restrictPublicBuckets };
    const off = Object.entries(flags).filter(([, v]) => !isTrue(v)).map(([k]) => k);
    if (off.length > 0) report(`must be true: ${off.join(", ")}`);
  }),
};

const lambdaHasDlq: ResourceValidationPolicy = {
  name: "lambda-has-dlq",
  description: "Lambda functions must have a dead-letter queue (deadLetterConfig.targetArn).",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(aws.lambda.Function, (fn, _args, report) => {
    if (!nonEmpty(fn.deadLetterConfig?.targetArn)) report("deadLetterConfig.targetArn is not set");
  }),
};

const loadBalancerHttpOnly: ResourceValidationPolicy = {
  name: "load-balancer-http-only",
  description:
    "Load balancer listeners may only use port 80 or 443, and an internet-facing load balancer must have security groups (so the ingress rules above decide what is public).",
  enforcementLevel: "mandatory",
  validateResource: [
    validateResourceOfType(aws.lb.Listener, (l, _args, report) => {
      const p = port(l.port);
      if (p === undefined || !PUBLIC_HTTP_PORTS.has(p)) report(`listener port ${l.port ?? "?"} is not 80 or 443`);
    }),
    validateResourceOfType(aws.lb.LoadBalancer, (lb, _args, report) => {
      if (!isTrue(lb.internal) && asArray(lb.securityGroups).length === 0) {
        report("internet-facing load balancer without securityGroups: nothing limits what reaches its targets");
      }
    }),
  ],
};

const elastiCacheEncryptedWithAuth: ResourceValidationPolicy = {
  name: "elasticache-encrypted-with-auth",
  description:
    "ElastiCache replication groups must encrypt in transit and at rest and require AUTH (authToken or user groups); standalone cache clusters (which cannot) are not allowed.",
  enforcementLevel: "mandatory",
  validateResource: [
    validateResourceOfType(aws.elasticache.ReplicationGroup, (rg, _args, report) => {
      if (!isTrue(rg.transitEncryptionEnabled)) report("transitEncryptionEnabled must be true");
      if (!isTrue(rg.atRestEncryptionEnabled)) report("atRestEncryptionEnabled must be true");
      if (!nonEmpty(rg.authToken) && asArray(rg.userGroupIds).length === 0) report("authToken (or userGroupIds) must be set: Redis must require a password");
    }),
    validateResourceOfType(aws.elasticache.Cluster, (c, _args, report) => {
      if (!nonEmpty(c.replicationGroupId)) report("standalone cache cluster: use an encrypted ReplicationGroup with AUTH instead");
    }),
  ],
};

export const policies: ResourceValidationPolicy[] = [
  noPublicIngress,
  imdsv2Required,
  ebsEncrypted,
  snsTopicEncrypted,
  noWildcardIam,
  noPublicIpOutsideProxy,
  s3BucketNotPublic,
  lambdaHasDlq,
  loadBalancerHttpOnly,
  elastiCacheEncryptedWithAuth,
];
