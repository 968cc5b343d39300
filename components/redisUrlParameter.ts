// The SSM SecureString every Redis client on an instance reads at boot, whichever Redis layout runs.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** `/aviary/<stack>/<name>`: where a Redis component keeps its SSM parameters. */
export function redisParameterPrefix(name: string): string {
  return `/aviary/${pulumi.getStack()}/${name}`;
}

/**
 * Stores the URL (it carries the password) as `<prefix>/url`. Instances fetch it with
 * `aws ssm get-parameter --with-decryption`, never through user-data.
 */
export function redisUrlParameter(name: string, url: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): aws.ssm.Parameter {
  return new aws.ssm.Parameter(`${name}-url`, {
    name: `${redisParameterPrefix(name)}/url`,
    type: "SecureString",
    value: url,
    description: "Aviary Redis URL (redis:// or rediss://, with the password)",
  }, opts);
}
