// Customer-managed KMS key for a stack's SecureString parameters (rotation on). Its key policy lets a
// role decrypt a parameter only when the role lives under that parameter's reader path
// (`<parameter name>/`, see readerRolePath) and the call comes through Parameter Store for exactly
// that parameter (encryption context PARAMETER_ARN); the role's own IAM policy must allow it too.
// The IAM path, unlike a tag, cannot change after a role is created, and creating a role under a path
// needs iam:CreateRole on that path: so a canary stack's role (another stack, created later) is granted
// by the path it is created under, not by an ARN prod would have to know.
// Written from the Systems Manager User Guide, "How AWS Systems Manager Parameter Store uses AWS KMS"
// (standard parameters: Encrypt on PutParameter, Decrypt on GetParameter WithDecryption, encryption
// context PARAMETER_ARN = the parameter's ARN, kms:ViaService ssm.<region>.amazonaws.com) and
// "Restricting decryption of SecureString parameter values" (aws/ssm lets every principal of the
// account decrypt), the KMS guide's default key policy (administration actions) and the provider's
// aws_kms_key_policy (internal/service/kms/key_policy.go: delete restores the default policy) and
// aws_ssm_parameter (internal/service/ssm/parameter.go: every read calls GetParameter with
// WithDecryption, so the deployer decrypts too; key_id changes in place).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyDocument, Statement } from "../awsRules/kmsKeyAccess";
import { InvalidInputError } from "../core/errors";
import { customerManagedKey, keyAliasName } from "./customerManagedKey";

export class SecretsKeyError extends InvalidInputError {}

/** A SecureString parameter the key encrypts. */
export interface SecretParameter {
  name: string;
  arn: string;
}

export interface SecretsKeyPolicyInput {
  partition: string;
  region: string;
  account: string;
  /** Who runs `pulumi up` (getCallerIdentity().arn): it writes the parameters and the provider reads them back. */
  deployerArn: string;
  parameters: SecretParameter[];
}

// The default key policy's key-administrator actions, without Encrypt/Decrypt/GenerateDataKey and
// without CreateGrant (a grant would hand Decrypt to a principal this policy does not name).
export const KEY_ADMINISTRATION_ACTIONS = [
  "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey",
  "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations",
  "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand",
  "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
];

const IAM_PATH = /^\/([\x21-\x7e]+\/)?$/;

/** The IAM path of the roles that may read a parameter: its name plus "/", e.g. /aviary/prod/redis/url/. */
export function readerRolePath(parameterName: string): string {
  const path = `${parameterName}/`;
  if (!parameterName.startsWith("/") || !IAM_PATH.test(path) || path.length > 512) {
    throw new SecretsKeyError(`SecretsKey: parameter name ${JSON.stringify(parameterName)} does not make an IAM path (it must start with "/")`);
  }
  return path;
}

/** ARN patterns (aws:PrincipalArn) of the caller: an assumed role's session stands for its role, at any path. */
export function deployerPrincipalPatterns(callerArn: string): string[] {
  const session = /^arn:([^:]+):sts::(\d+):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  if (session) {
    const [, partition, account, role] = session;
    return [`arn:${partition}:iam::${account}:role/${role}`, `arn:${partition}:iam::${account}:role/*/${role}`];
  }
  if (/^arn:[^:]+:iam::\d+:(root|user\/.+|role\/.+)$/.test(callerArn)) return [callerArn];
  throw new SecretsKeyError(`SecretsKey: cannot grant the deployer ${callerArn} (not an IAM user, role, assumed role or root)`);
}

function sidFor(parameterName: string): string {
  return `Read${parameterName.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join("")}`;
}

/** The key policy: administration by IAM, the deployer through Parameter Store, each parameter's readers. */
export function secretsKeyPolicy(i: SecretsKeyPolicyInput): PolicyDocument {
  if (i.parameters.length === 0) throw new SecretsKeyError("SecretsKey: no parameters to grant");
  const root = `arn:${i.partition}:iam::${i.account}:root`;
  const viaSsm = `ssm.${i.region}.amazonaws.com`;
  const statements: Statement[] = [
    { Sid: "KeyAdministration", Effect: "Allow", Principal: { AWS: root }, Action: KEY_ADMINISTRATION_ACTIONS, Resource: "*" },
    {
      Sid: "DeployerWritesAndReadsParameters",
      Effect: "Allow",
      Principal: { AWS: root },
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
      Resource: "*",
      Condition: {
        StringEquals: { "kms:ViaService": viaSsm, "kms:EncryptionContext:PARAMETER_ARN": i.parameters.map((p) => p.arn) },
        ArnLike: { "aws:PrincipalArn": deployerPrincipalPatterns(i.deployerArn) },
      },
    },
    ...i.parameters.map((p): Statement => ({
      Sid: sidFor(p.name),
      Effect: "Allow",
      Principal: { AWS: root },
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: {
        StringEquals: { "kms:ViaService": viaSsm, "kms:EncryptionContext:PARAMETER_ARN": p.arn },
        ArnLike: { "aws:PrincipalArn": `arn:${i.partition}:iam::${i.account}:role${readerRolePath(p.name)}*` },
      },
    })),
  ];
  return { Version: "2012-10-17", Statement: statements };
}

/** What a role needs to read one parameter; InstanceRole takes it and creates the role under its path. */
export interface SecretRead {
  parameterName: pulumi.Input<string>;
  parameterArn: pulumi.Input<string>;
  keyArn: pulumi.Input<string>;
}

export interface SecretsKeyArgs {
  description: string;
}

export class SecretsKey extends pulumi.ComponentResource {
  public readonly keyArn: pulumi.Output<string>;
  public readonly keyId: pulumi.Output<string>;
  public readonly aliasName: string;
  private readonly name: string;
  private restricted = false;

  constructor(name: string, args: SecretsKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:secrets:SecretsKey", name, {}, opts);
    this.name = name;
    // No policy here: the key starts with AWS's default one and restrictTo() replaces it once the
    // parameters exist (the policy names their ARNs, and they need the key first).
    const key = customerManagedKey(name, { description: args.description, alias: true }, { parent: this });
    this.aliasName = keyAliasName(name);
    this.keyArn = key.arn;
    this.keyId = key.keyId;
    this.registerOutputs({ keyArn: this.keyArn, keyId: this.keyId, aliasName: this.aliasName });
  }

  /** Sets the key policy: only each parameter's readers (and the deployer) may decrypt it. Called once. */
  restrictTo(parameters: aws.ssm.Parameter[]): aws.kms.KeyPolicy {
    if (this.restricted) throw new SecretsKeyError(`SecretsKey ${this.name}: restrictTo called twice`);
    this.restricted = true;
    const parent = { parent: this };
    const identity = aws.getCallerIdentityOutput({}, parent);
    const policy = pulumi
      .all([
        aws.getPartitionOutput({}, parent).partition,
        aws.getRegionOutput({}, parent).region,
        identity.accountId,
        identity.arn,
        pulumi.all(parameters.map((p) => pulumi.all([p.name, p.arn]))),
      ])
      .apply(([partition, region, account, deployerArn, params]) =>
        JSON.stringify(secretsKeyPolicy({ partition, region, account, deployerArn, parameters: params.map(([name, arn]) => ({ name, arn })) })));
    return new aws.kms.KeyPolicy(this.name, { keyId: this.keyId, policy }, parent);
  }
}
