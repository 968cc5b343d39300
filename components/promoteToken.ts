// The GitHub token the controller dispatches the promote workflow with (aviary:promote.token, a Pulumi
// secret): an SSM SecureString under the stack's own secrets key, whose policy lets only roles under
// the parameter's reader path decrypt it (components/secretsKey.ts). The controller's role is created
// under that path; its IAM policy adds ssm:GetParameter and kms:Decrypt for this parameter only.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Statement } from "../awsRules/kmsKeyAccess";
import { secretDecryptStatement } from "./instanceRole";
import { SecretsKey, readerRolePath } from "./secretsKey";

/** `/aviary/<stack>/<name>/promote-token`: where the token is kept. */
export function promoteTokenParameterName(name: string): string {
  return `/aviary/${pulumi.getStack()}/${name}/promote-token`;
}

/** The IAM path of the one role that may read it. */
export function promoteTokenReaderPath(name: string): string {
  return readerRolePath(promoteTokenParameterName(name));
}

export interface PromoteTokenArgs {
  /** The token; kept secret in state whether or not the caller marked it. */
  token: pulumi.Input<string>;
}

export class PromoteToken extends pulumi.ComponentResource {
  public readonly parameterName: pulumi.Output<string>;
  public readonly parameterArn: pulumi.Output<string>;
  public readonly keyArn: pulumi.Output<string>;

  constructor(name: string, args: PromoteTokenArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:controller:PromoteToken", name, {}, opts);
    const parent = { parent: this };
    const key = new SecretsKey(`${name}-secrets`, { description: `Aviary ${name}: the promote workflow's GitHub token` }, parent);
    const parameter = new aws.ssm.Parameter(name, {
      name: promoteTokenParameterName(name),
      type: "SecureString",
      keyId: key.keyArn,
      value: pulumi.secret(args.token),
      description: "Aviary: GitHub token that dispatches the promote workflow (Actions: write on one repository)",
    }, parent);
    key.restrictTo([parameter]);
    this.parameterName = parameter.name;
    this.parameterArn = parameter.arn;
    this.keyArn = key.keyArn;
    this.registerOutputs({ parameterName: this.parameterName, parameterArn: this.parameterArn, keyArn: this.keyArn });
  }

  /** The reader's statements: the parameter, and its key only through Parameter Store for it. */
  readerStatements(): pulumi.Output<Statement[]> {
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const decrypt = secretDecryptStatement({ parameterName: this.parameterName, parameterArn: this.parameterArn, keyArn: this.keyArn }, region);
    return pulumi.all([this.parameterArn, pulumi.output(decrypt.resources), pulumi.output(decrypt.condition ?? {})]).apply(([parameterArn, keyArns, condition]) => [
      { Sid: "ReadPromoteToken", Effect: "Allow" as const, Action: ["ssm:GetParameter"], Resource: parameterArn },
      { Sid: "DecryptPromoteToken", Effect: "Allow" as const, Action: decrypt.actions, Resource: keyArns, Condition: condition as Record<string, Record<string, string>> },
    ]);
  }
}
