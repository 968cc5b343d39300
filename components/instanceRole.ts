// EC2 role + instance profile: what SSM Agent needs (Session Manager, Run Command, State Manager
// associations; awsRules/ssmAgentPermissions.ts), Decrypt for the SecureString it reads, and exactly the
// statements given.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { isResourcelessAction, RESOURCELESS_ACTIONS } from "../awsRules/resourcelessActions";
import { ssmAgentStatements } from "../awsRules/ssmAgentPermissions";
import { InvalidInputError } from "../core/errors";
import { readerRolePath, type SecretRead } from "./secretsKey";

type Condition = Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;

/** One Allow statement. Wildcard actions are rejected; resource "*" only for resource-less actions. */
export interface InstanceRoleStatement {
  actions: string[];
  resources: pulumi.Input<string>[];
  /** IAM condition block, e.g. { StringEquals: { "cloudwatch:namespace": "CWAgent" } }. */
  condition?: Condition;
}

export interface InstanceRoleArgs {
  statements?: InstanceRoleStatement[];
  /** The SecureString this role reads: the role is created under its reader path, which the key policy names. */
  secret?: SecretRead;
}

export class InstanceRoleError extends InvalidInputError {}

/** Throws when a statement is broader than least privilege allows. Pure, so it is unit-tested. */
export function checkStatement(s: { actions: string[]; resources: string[]; condition?: unknown }): void {
  if (s.actions.length === 0) throw new InstanceRoleError("InstanceRole: statement without actions");
  if (s.resources.length === 0) throw new InstanceRoleError("InstanceRole: statement without resources");
  for (const a of s.actions) {
    if (a.includes("*")) throw new InstanceRoleError(`InstanceRole: wildcard action ${a} is not allowed`);
  }
  if (s.resources.includes("*") && !s.actions.every(isResourcelessAction)) {
    throw new InstanceRoleError(`InstanceRole: resource "*" is only allowed for ${RESOURCELESS_ACTIONS.join(", ")}`);
  }
}

/**
 * Decrypt on the parameter's key, only through Parameter Store and only for that parameter. The
 * ssm:GetParameter statement is the caller's (it sits with the boot script that reads the parameter).
 */
export function secretDecryptStatement(secret: SecretRead, region: pulumi.Input<string>): InstanceRoleStatement {
  return {
    actions: ["kms:Decrypt"],
    resources: [secret.keyArn],
    condition: {
      StringEquals: {
        "kms:EncryptionContext:PARAMETER_ARN": secret.parameterArn,
        "kms:ViaService": pulumi.interpolate`ssm.${region}.amazonaws.com`,
      },
    },
  };
}

export class InstanceRole extends pulumi.ComponentResource {
  public readonly roleName: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;
  public readonly instanceProfileName: pulumi.Output<string>;

  constructor(name: string, args: InstanceRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:iam:InstanceRole", name, {}, opts);
    const parent = { parent: this };

    const role = new aws.iam.Role(name, {
      // The key policy of a SecureString lets roles under its reader path decrypt it.
      path: args.secret ? pulumi.output(args.secret.parameterName).apply(readerRolePath) : undefined,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    }, parent);

    const partition = aws.getPartitionOutput({}, parent).partition;
    const region = aws.getRegionOutput({}, parent).region;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;

    const statements = [...(args.statements ?? []), ...(args.secret ? [secretDecryptStatement(args.secret, region)] : [])];
    // Fail at program time on what is already known (actions, plain resources); outputs are checked on apply.
    for (const s of statements) {
      checkStatement({ ...s, resources: s.resources.map((r) => (typeof r === "string" ? r : "<output>")) });
    }
    const resolved = pulumi.all(statements.map((s) => pulumi.output({ resources: s.resources, condition: s.condition })));
    const policy = pulumi.all([resolved, partition, region, account]).apply(([given, p, r, a]) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          // Session Manager instead of SSH: no key pairs, no port 22.
          ...ssmAgentStatements(p, r, a).map((s) => ({ Sid: s.Sid, Effect: "Allow", Action: s.actions, Resource: s.resources })),
          ...statements.map((s, i) => {
            checkStatement({ ...s, resources: given[i].resources });
            return {
              Effect: "Allow",
              Action: s.actions,
              Resource: given[i].resources,
              ...(given[i].condition ? { Condition: given[i].condition } : {}),
            };
          }),
        ],
      }));
    new aws.iam.RolePolicy(`${name}-inline`, { role: role.id, policy }, parent);

    const profile = new aws.iam.InstanceProfile(name, { role: role.name }, parent);

    this.roleName = role.name;
    this.roleArn = role.arn;
    this.instanceProfileName = profile.name;
    this.registerOutputs({ roleName: this.roleName, roleArn: this.roleArn, instanceProfileName: this.instanceProfileName });
  }
}
