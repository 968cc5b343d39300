// A customer-managed KMS key as every Aviary key is made: rotation on, a 7-day deletion window, the
// account administering it through IAM plus the statements of the key's one use, and optionally an
// alias whose name carries project and stack (aliases are unique per account and region).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** What a key policy statement may need to name. */
export interface KeyContext {
  account: string;
  partition: string;
  region: string;
}

export interface CustomerManagedKeyArgs {
  description: string;
  /** The key's use; absent = AWS's default key policy, which an aws.kms.KeyPolicy then replaces. */
  statements?: (ctx: KeyContext) => pulumi.Input<object[]>;
  alias?: boolean;
}

/** `alias/<project>-<stack>-<name>`. */
export function keyAliasName(name: string): string {
  return `alias/${pulumi.getProject()}-${pulumi.getStack()}-${name}`;
}

export function customerManagedKey(name: string, args: CustomerManagedKeyArgs, opts: { parent: pulumi.Resource }): aws.kms.Key {
  const statements = args.statements;
  const policy = statements === undefined ? undefined : pulumi
    .all([aws.getCallerIdentityOutput({}, opts).accountId, aws.getPartitionOutput({}, opts).partition, aws.getRegionOutput({}, opts).region])
    .apply(([account, partition, region]) => pulumi.output(statements({ account, partition, region })).apply((use) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "AccountAdministersKey", Effect: "Allow", Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
          ...use,
        ],
      })));
  const key = new aws.kms.Key(name, {
    description: args.description,
    enableKeyRotation: true,
    deletionWindowInDays: 7,
    ...(policy ? { policy } : {}),
  }, opts);
  if (args.alias) new aws.kms.Alias(name, { name: keyAliasName(name), targetKeyId: key.keyId }, opts);
  return key;
}
