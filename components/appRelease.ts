// Private, encrypted S3 bucket holding the bundled app release that instances download at boot.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AGENT_ENTRY, bundleApp, contentHash, releaseKey } from "../release/bundles";

export interface AppReleaseArgs {
  version: string;
}

export class AppRelease extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  /** Key of the app bundle: releases/<version>-<app hash>/app.js. */
  public readonly objectKey: pulumi.Output<string>;
  /** Key of the proxy agent bundle: releases/<version>-<agent hash>/agent.js. */
  public readonly agentKey: pulumi.Output<string>;
  public readonly version: string;
  /** Content hashes of the two bundles (see release/bundles.ts contentHash). */
  public readonly appHash: string;
  public readonly agentHash: string;

  constructor(name: string, args: AppReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:release:AppRelease", name, {}, opts);
    const parent = { parent: this };

    const bucket = new aws.s3.Bucket(name, { bucketPrefix: "aviary-releases-", tags: { Name: name } }, parent);
    const publicAccess = new aws.s3.BucketPublicAccessBlock(name, {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }, parent);
    new aws.s3.BucketOwnershipControls(name, {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" }, // ACLs off: access is IAM only
    }, parent);
    const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(name, {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    }, parent);

    this.version = args.version;
    const app = bundleApp();
    const agentBundle = bundleApp(AGENT_ENTRY);
    this.appHash = contentHash(app);
    this.agentHash = contentHash(agentBundle);
    const object = new aws.s3.BucketObjectv2(`${name}-app`, {
      bucket: bucket.id,
      key: releaseKey(this.version, this.appHash, "app.js"),
      source: new pulumi.asset.StringAsset(app),
      contentType: "application/javascript",
      serverSideEncryption: "AES256",
    }, { parent: this, dependsOn: [publicAccess, encryption] });

    // The proxy agent ships in the same release, so the proxy runs the agent of the version it routes.
    const agent = new aws.s3.BucketObjectv2(`${name}-agent`, {
      bucket: bucket.id,
      key: releaseKey(this.version, this.agentHash, "agent.js"),
      source: new pulumi.asset.StringAsset(agentBundle),
      contentType: "application/javascript",
      serverSideEncryption: "AES256",
    }, { parent: this, dependsOn: [publicAccess, encryption] });

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.objectKey = object.key;
    this.agentKey = agent.key;
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      objectKey: this.objectKey,
      agentKey: this.agentKey,
      version: this.version,
      appHash: this.appHash,
      agentHash: this.agentHash,
    });
  }
}
