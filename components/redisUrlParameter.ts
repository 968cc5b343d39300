// The SSM SecureString every Redis client on an instance reads at boot, whichever Redis layout runs.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SecretRead } from "./secretsKey";

/** `/aviary/<stack>/<name>`: where a Redis component keeps its SSM parameters. */
export function redisParameterPrefix(name: string): string {
  return `/aviary/${pulumi.getStack()}/${name}`;
}

/**
 * Stores the URL (it carries the password) as `<prefix>/url`, encrypted with the stack's secrets key
 * (not aws/ssm, which every principal of the account may decrypt). Instances fetch it with
 * `aws ssm get-parameter --with-decryption`, never through user-data.
 */
export function redisUrlParameter(name: string, url: pulumi.Input<string>, keyArn: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): aws.ssm.Parameter {
  return new aws.ssm.Parameter(`${name}-url`, {
    name: `${redisParameterPrefix(name)}/url`,
    type: "SecureString",
    keyId: keyArn,
    value: url,
    description: "Aviary Redis URL (redis:// or rediss://, with the password)",
  }, opts);
}

/** What a role that reads the Redis URL passes to InstanceRole (its path and its kms:Decrypt). */
export function redisUrlSecret(args: {
  redisUrlParameterName: pulumi.Input<string>;
  redisUrlParameterArn: pulumi.Input<string>;
  redisUrlKeyArn: pulumi.Input<string>;
}): SecretRead {
  return { parameterName: args.redisUrlParameterName, parameterArn: args.redisUrlParameterArn, keyArn: args.redisUrlKeyArn };
}
