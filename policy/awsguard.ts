// Pulumi's own AWS rules (@pulumi/awsguard 0.3.1, the last release) beside Aviary's. awsguard pins
// @pulumi/aws 4 and aws-sdk v2, so it lives only in this pack's package (policy/package.json), never in
// the program's. Its policy modules are imported one by one (its index builds a PolicyPack, which
// starts the policy server) and every rule is listed here: enabled, or disabled with the reason.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import * as apiGateway from "@pulumi/awsguard/apiGateway";
import * as compute from "@pulumi/awsguard/compute";
import * as database from "@pulumi/awsguard/database";
import * as elasticsearch from "@pulumi/awsguard/elasticsearch";
import * as network from "@pulumi/awsguard/network";
import * as security from "@pulumi/awsguard/security";
import * as storage from "@pulumi/awsguard/storage";

const modules: Record<string, unknown>[] = [apiGateway, compute, database, elasticsearch, network, security, storage];

/** Rules Aviary switches off, each with why (the pack's config says the same: policy/index.ts). */
export const DISABLED_AWSGUARD_RULES: Record<string, string> = {
  "ec2-instance-no-public-ip":
    "the single proxy has a public IP by design (its Elastic IP); Aviary's no-public-ip-outside-proxy allows that instance only",
  "ec2-volume-inuse":
    "requires inline ebsBlockDevices on every instance; Aviary's instances keep data on a separate aws.ebs.Volume + VolumeAttachment (Redis) or none at all",
  "access-keys-rotated":
    "calls IAM over the AWS SDK (aws-sdk v2) for account users' keys: no resource of Aviary's, and it cannot run without AWS credentials",
  "mfa-enabled-for-iam-console-access":
    "calls IAM over the AWS SDK for account users: no resource of Aviary's, and it cannot run without AWS credentials",
  "s3-bucket-logging-enabled":
    "the one bucket holds release bundles: private (public access blocked, ACLs off), read only by the instance roles through IAM; object reads are audited by CloudTrail data events, and server access logs would need a second bucket that this rule would then require to log too",
  "acm-certificate-expiration":
    "calls ACM over the AWS SDK; Aviary has no certificate (the proxy serves HTTP on port 80)",
};

type AwsguardPolicy = ResourceValidationPolicy | StackValidationPolicy;

function isPolicy(v: unknown): v is AwsguardPolicy {
  return typeof v === "object" && v !== null && typeof (v as { name?: unknown }).name === "string" && ("validateResource" in v || "validateStack" in v);
}

/** Every awsguard rule, with Aviary's choice applied (mandatory, or disabled as listed above). */
export const awsguardPolicies: AwsguardPolicy[] = modules
  .flatMap((m) => Object.values(m).filter(isPolicy))
  .map((p) => ({ ...p, enforcementLevel: p.name in DISABLED_AWSGUARD_RULES ? "disabled" : "mandatory" }));

/** awsguard's resource rules (its stack rules are the AWS-calling IAM ones, all disabled above). */
export const awsguardResourcePolicies = awsguardPolicies.filter((p): p is ResourceValidationPolicy => "validateResource" in p);

for (const name of Object.keys(DISABLED_AWSGUARD_RULES)) {
  if (!awsguardPolicies.some((p) => p.name === name)) throw new Error(`awsguard has no rule ${name} to disable`);
}
