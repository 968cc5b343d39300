// Aviary's security rules as CrossGuard resource policies. A plain module (no PolicyPack here), so the
// rules can be unit-tested by calling validateResource directly; policy/index.ts builds the pack.
import * as aws from "@pulumi/aws";
import { ReportViolation, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { isResourcelessAction } from "../awsRules/resourcelessActions";

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

function isWildcardAction(action: string): boolean {
  return action === "*" || /^[^:]+:\*$/.test(action);
}

/** The parts of a policy document the rules read; anything may be missing or malformed. */
interface PolicyStatement {
  Sid?: string;
  Effect?: unknown;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface PolicyDocument {
  Statement?: PolicyStatement | PolicyStatement[];
}

function statementsOf(policy: unknown): PolicyStatement[] | string {
  let doc = policy as PolicyDocument | null | undefined;
  if (typeof policy === "string") {
    try {
      doc = JSON.parse(policy);
    } catch {
      return "policy is not valid JSON";
    }
  }
  return asArray<PolicyStatement | null>(doc?.Statement).filter((st): st is PolicyStatement => !!st);
}

function labelOf(st: PolicyStatement, n: number): string {
  return st.Sid ? `statement ${n} (${st.Sid})` : `statement ${n}`;
}

/** Allow statements may not use NotAction/NotResource/NotPrincipal: they grant everything not listed. */
function negationProblems(st: PolicyStatement, label: string): string[] {
  return (["NotAction", "NotResource", "NotPrincipal"] as const).filter((k) => st[k] !== undefined).map((k) => `${label} is an Allow with ${k} (it grants everything not listed)`);
}

/**
 * Problems in a policy document (JSON string or object): unparsable, or per Allow statement the
 * negations every policy rejects plus what `check` finds (each line starts with the statement's label).
 */
function allowStatementProblems(policy: unknown, check: (st: PolicyStatement, label: string) => string[]): string[] {
  const statements = statementsOf(policy);
  if (typeof statements === "string") return [statements];
  return statements.flatMap((st, n) => {
    if (st.Effect !== "Allow") return [];
    const label = labelOf(st, n);
    return [...negationProblems(st, label), ...check(st, label)];
  });
}

/** Problems in one IAM identity policy document (JSON string or object). */
export function iamDocumentProblems(policy: unknown): string[] {
  return allowStatementProblems(policy, (st, label) => {
    const problems: string[] = [];
    const actions = asArray<unknown>(st.Action).map(String);
    const wild = actions.filter(isWildcardAction);
    if (wild.length > 0) problems.push(`${label} allows wildcard action(s) ${wild.join(", ")}`);
    const resources = asArray<unknown>(st.Resource).map(String);
    if (resources.includes("*")) {
      const scoped = actions.filter((a) => !isResourcelessAction(a));
      if (scoped.length > 0 || actions.length === 0) {
        problems.push(`${label} allows ${scoped.join(", ") || "(no Action)"} on Resource "*"; these actions take resource ARNs`);
      }
    }
    return problems;
  });
}

const noWildcardIam: ResourceValidationPolicy = {
  name: "no-wildcard-iam-actions",
  description:
    "IAM policies must not Allow \"*\" or \"service:*\" actions, nor use NotAction/NotResource/NotPrincipal in an Allow; Resource \"*\" only for actions with no resource-level permissions (awsRules/resourcelessActions.ts).",
  enforcementLevel: "mandatory",
  validateResource: [
    validateResourceOfType(aws.iam.Policy, (p, _args, report) => reportAll(report, iamDocumentProblems(p.policy))),
    validateResourceOfType(aws.iam.RolePolicy, (p, _args, report) => reportAll(report, iamDocumentProblems(p.policy))),
  ],
};

/** AWS managed policies a role may attach: each one reviewed (what it grants, on which resources). */
export const ALLOWED_MANAGED_POLICIES: Record<string, string> = {
  "service-role/AWSLambdaVPCAccessExecutionRole": "the controller in a VPC: its logs and the ENI calls Lambda makes for it",
};

/** Problems with one managed-policy ARN attached to a role. */
export function managedPolicyProblems(policyArn: unknown): string[] {
  const m = /^arn:[^:]+:iam::aws:policy\/(.+)$/.exec(String(policyArn ?? ""));
  if (!m) return [`${String(policyArn)} is not an AWS managed policy: attach Aviary's statements as an inline RolePolicy instead`];
  return m[1] in ALLOWED_MANAGED_POLICIES ? [] : [`managed policy ${m[1]} is not on the allow-list (${Object.keys(ALLOWED_MANAGED_POLICIES).join(", ")})`];
}

const managedPolicyAllowList: ResourceValidationPolicy = {
  name: "managed-policies-allow-list",
  description: `Roles may attach only reviewed AWS managed policies: ${Object.keys(ALLOWED_MANAGED_POLICIES).join(", ")}.`,
  enforcementLevel: "mandatory",
  validateResource: [
    validateResourceOfType(aws.iam.RolePolicyAttachment, (a, _args, report) => reportAll(report, managedPolicyProblems(a.policyArn))),
    validateResourceOfType(aws.iam.PolicyAttachment, (a, _args, report) => reportAll(report, managedPolicyProblems(a.policyArn))),
    validateResourceOfType(aws.iam.Role, (r, _args, report) => {
      for (const arn of asArray(r.managedPolicyArns)) reportAll(report, managedPolicyProblems(arn));
    }),
  ],
};

// Condition keys that tie a service principal to this account's resources (confused-deputy
// protection, IAM User Guide "The confused deputy problem") or, for KMS, to one encryption context.
const SCOPING_KEYS = [/^aws:sourceaccount$/i, /^aws:sourcearn$/i, /^aws:sourceowner$/i, /^kms:encryptioncontext:/i, /^kms:viaservice$/i, /^aws:principalarn$/i, /^aws:principalaccount$/i];

function conditionKeys(st: PolicyStatement): string[] {
  return Object.values(st.Condition ?? {}).flatMap((keys) => Object.keys(keys ?? {}));
}

function principals(st: PolicyStatement): { anyone: boolean; services: string[]; aws: string[] } {
  const p = st.Principal;
  if (p === "*") return { anyone: true, services: [], aws: [] };
  const obj = (p ?? {}) as { AWS?: unknown; Service?: unknown };
  const aws = asArray<unknown>(obj.AWS).map(String);
  return { anyone: aws.includes("*"), services: asArray<unknown>(obj.Service).map(String), aws };
}

/** Problems in a resource policy (KMS key, SNS topic, S3 bucket): who it lets in and how narrowly. */
export function resourcePolicyProblems(policy: unknown): string[] {
  return allowStatementProblems(policy, (st, label) => {
    const problems: string[] = [];
    const who = principals(st);
    const scoped = conditionKeys(st).some((k) => SCOPING_KEYS.some((re) => re.test(k)));
    if (who.anyone && !scoped) problems.push(`${label} allows any principal ("*") without a condition naming the account or source`);
    if (who.services.length > 0 && !scoped) {
      problems.push(`${label} allows ${who.services.join(", ")} without aws:SourceAccount/aws:SourceArn (or a KMS encryption context): any account's resources could use it`);
    }
    const foreign = who.aws.filter((a) => a !== "*" && !/^(\d{12}|arn:[^:]+:(iam|sts)::\d{12}:.+)$/.test(a));
    if (foreign.length > 0) problems.push(`${label} names principal(s) that are not account ARNs: ${foreign.join(", ")}`);
    return problems;
  });
}

// Services that assume a role on behalf of one of their resources (a schedule): the role's trust
// policy must tie them to this account or that resource (EventBridge Scheduler User Guide,
// "Confused deputy prevention"). Compute services running the role (ec2, lambda) are not deputies.
const DEPUTY_SERVICES = ["scheduler.amazonaws.com"];

/** Problems in a role's trust policy: a deputy service let in without aws:SourceAccount/aws:SourceArn. */
export function trustPolicyProblems(policy: unknown): string[] {
  return allowStatementProblems(policy, (st, label) => {
    const deputies = principals(st).services.filter((s) => DEPUTY_SERVICES.includes(s));
    const scoped = conditionKeys(st).some((k) => SCOPING_KEYS.some((re) => re.test(k)));
    return deputies.length > 0 && !scoped ? [`${label} lets ${deputies.join(", ")} assume the role without aws:SourceAccount/aws:SourceArn: another account's resource could use it`] : [];
  });
}

const resourcePoliciesScoped: ResourceValidationPolicy = {
  name: "resource-policies-scoped",
  description:
    "KMS key, SNS topic and S3 bucket policies: no Allow with NotAction/NotResource/NotPrincipal, no \"*\" principal or service principal without a condition tying it to this account (aws:SourceAccount, aws:SourceArn, a KMS encryption context); a lambda.Permission for a service needs sourceArn; a role EventBridge Scheduler assumes names the account or group it serves.",
  enforcementLevel: "mandatory",
  validateResource: [
    validateResourceOfType(aws.kms.Key, (k, _args, report) => {
      if (k.policy !== undefined) reportAll(report, resourcePolicyProblems(k.policy));
    }),
    validateResourceOfType(aws.kms.KeyPolicy, (k, _args, report) => reportAll(report, resourcePolicyProblems(k.policy))),
    validateResourceOfType(aws.sns.TopicPolicy, (t, _args, report) => reportAll(report, resourcePolicyProblems(t.policy))),
    validateResourceOfType(aws.s3.BucketPolicy, (b, _args, report) => reportAll(report, resourcePolicyProblems(b.policy))),
    validateResourceOfType(aws.iam.Role, (r, _args, report) => reportAll(report, trustPolicyProblems(r.assumeRolePolicy))),
    validateResourceOfType(aws.lambda.Permission, (p, _args, report) => {
      const principal = String(p.principal ?? "");
      if (principal.endsWith(".amazonaws.com") && !nonEmpty(p.sourceArn)) {
        report(`permission for ${principal} has no sourceArn: any ${principal} resource, in any account, could invoke the function`);
      }
      if (principal === "*") report("permission for principal \"*\"");
    }),
  ],
};

// The AWS managed key for SNS. Its key policy cannot be changed, and it lets only principals of the
// account use it through SNS, so CloudWatch (a service principal) cannot publish to a topic encrypted
// with it (SNS Developer Guide, "Configure AWS KMS permissions for AWS services").
export function isAwsManagedSnsKey(kmsMasterKeyId: unknown): boolean {
  return /(^|:)alias\/aws\/sns$/.test(String(kmsMasterKeyId ?? ""));
}

const cloudWatchTopicCustomerKey: StackValidationPolicy = {
  name: "cloudwatch-topic-customer-managed-key",
  description: "A topic that CloudWatch alarms publish to must not use the AWS managed key alias/aws/sns (CloudWatch cannot use it).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const alarmTargets = new Set(
      args.resources
        .filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm")
        .flatMap((r) => [...asArray<unknown>(r.props.alarmActions), ...asArray<unknown>(r.props.okActions), ...asArray<unknown>(r.props.insufficientDataActions)].map(String)),
    );
    for (const topic of args.resources.filter((r) => r.type === "aws:sns/topic:Topic")) {
      const arn = String(topic.props.arn ?? "");
      if (alarmTargets.has(arn) && isAwsManagedSnsKey(topic.props.kmsMasterKeyId)) {
        report(`topic ${topic.name} receives CloudWatch alarms but is encrypted with alias/aws/sns; use a customer-managed key that grants cloudwatch.amazonaws.com`);
      }
    }
  },
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
  managedPolicyAllowList,
  resourcePoliciesScoped,
  noPublicIpOutsideProxy,
  s3BucketNotPublic,
  lambdaHasDlq,
  loadBalancerHttpOnly,
  elastiCacheEncryptedWithAuth,
];

/** Rules over the whole stack (they relate resources to each other). */
export const stackPolicies: StackValidationPolicy[] = [cloudWatchTopicCustomerKey];
