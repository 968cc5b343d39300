// EC2 role + instance profile: SSM Session Manager access plus exactly the statements given.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** One Allow statement. Wildcard actions are rejected; resource "*" needs a condition. */
export interface InstanceRoleStatement {
  actions: string[];
  resources: pulumi.Input<string>[];
  /** IAM condition block, e.g. { StringEquals: { "cloudwatch:namespace": "CWAgent" } }. */
  condition?: Record<string, Record<string, string | string[]>>;
}

export interface InstanceRoleArgs {
  statements?: InstanceRoleStatement[];
}

// Actions that have no resource-level permissions, so "*" is the only possible resource.
const RESOURCELESS_ACTIONS = new Set(["cloudwatch:PutMetricData", "ec2:DescribeTags"]);

/** Throws when a statement is broader than least privilege allows. Pure, so it is unit-tested. */
export function checkStatement(s: { actions: string[]; resources: string[]; condition?: unknown }): void {
  if (s.actions.length === 0) throw new Error("InstanceRole: statement without actions");
  if (s.resources.length === 0) throw new Error("InstanceRole: statement without resources");
  for (const a of s.actions) {
    if (a.includes("*")) throw new Error(`InstanceRole: wildcard action ${a} is not allowed`);
  }
  if (s.resources.includes("*") && !s.actions.every((a) => RESOURCELESS_ACTIONS.has(a))) {
    throw new Error(`InstanceRole: resource "*" is only allowed for ${[...RESOURCELESS_ACTIONS].join(", ")}`);
  }
}

export class InstanceRole extends pulumi.ComponentResource {
  public readonly roleName: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;
  public readonly instanceProfileName: pulumi.Output<string>;

  constructor(name: string, args: InstanceRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:iam:InstanceRole", name, {}, opts);
    const parent = { parent: this };

    const role = new aws.iam.Role(name, {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    }, parent);

    // Session Manager instead of SSH: no key pairs, no port 22.
    const partition = aws.getPartitionOutput({}, parent).partition;
    new aws.iam.RolePolicyAttachment(`${name}-ssm`, {
      role: role.name,
      policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
    }, parent);

    const statements = args.statements ?? [];
    // Fail at program time on what is already known (actions, plain resources); outputs are checked on apply.
    for (const s of statements) {
      checkStatement({ ...s, resources: s.resources.map((r) => (typeof r === "string" ? r : "<output>")) });
    }
    if (statements.length > 0) {
      const policy = pulumi.all(statements.map((s) => pulumi.all(s.resources))).apply((resolved) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: statements.map((s, i) => {
            checkStatement({ ...s, resources: resolved[i] });
            return {
              Effect: "Allow",
              Action: s.actions,
              Resource: resolved[i],
              ...(s.condition ? { Condition: s.condition } : {}),
            };
          }),
        }));
      new aws.iam.RolePolicy(`${name}-inline`, { role: role.id, policy }, parent);
    }

    const profile = new aws.iam.InstanceProfile(name, { role: role.name }, parent);

    this.roleName = role.name;
    this.roleArn = role.arn;
    this.instanceProfileName = profile.name;
    this.registerOutputs({ roleName: this.roleName, roleArn: this.roleArn, instanceProfileName: this.instanceProfileName });
  }
}
