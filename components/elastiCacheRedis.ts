// Redis as an ElastiCache replication group: a primary and a replica in two AZs with automatic
// failover, TLS in transit, encrypted at rest, AUTH token required. The alternative to RedisServer.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { REDIS_PORT } from "../config/ports";
import { redisUrlParameter } from "./redisUrlParameter";
import { SecretsKey } from "./secretsKey";
import { InvalidInputError } from "../core/errors";

export interface ElastiCacheRedisArgs {
  /** Private subnets in at least two AZs (Multi-AZ needs the replica elsewhere). */
  subnetIds: pulumi.Input<string>[];
  /** Aviary's Redis group: 6379 from the proxy, app and controller groups only. */
  securityGroupId: pulumi.Input<string>;
  nodeType: pulumi.Input<string>;
}

export const ELASTICACHE_ENGINE_VERSION = "7.1";

/** The URL every client uses: rediss:// because transit encryption requires TLS. */
export function elastiCacheUrl(authToken: string, host: string): string {
  return `rediss://:${authToken}@${host}:${REDIS_PORT}`;
}

export class ElastiCacheRedis extends pulumi.ComponentResource {
  /** The primary endpoint's DNS name; it follows a failover to the replica. */
  public readonly privateAddress: pulumi.Output<string>;
  public readonly password: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;
  public readonly urlParameterName: pulumi.Output<string>;
  public readonly urlParameterArn: pulumi.Output<string>;
  /** Encrypts the URL parameter; its readers need it for kms:Decrypt. */
  public readonly secretsKeyArn: pulumi.Output<string>;
  public readonly replicationGroupId: pulumi.Output<string>;

  constructor(name: string, args: ElastiCacheRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:redis:ElastiCacheRedis", name, {}, opts);
    const parent = { parent: this };
    if (args.subnetIds.length < 2) throw new InvalidInputError(`ElastiCacheRedis: Multi-AZ needs subnets in 2 AZs (got ${args.subnetIds.length})`);

    // Letters and digits only: the token goes into a URL unescaped (AUTH allows 16-128 characters).
    const authToken = new random.RandomPassword(`${name}-auth-token`, { length: 32, special: false }, parent);

    const subnetGroup = new aws.elasticache.SubnetGroup(name, {
      description: "Aviary Redis: private subnets",
      subnetIds: args.subnetIds,
    }, parent);

    const group = new aws.elasticache.ReplicationGroup(name, {
      description: "Aviary control-plane state (routing, registry, flags, events)",
      engine: "redis",
      engineVersion: ELASTICACHE_ENGINE_VERSION,
      nodeType: args.nodeType,
      port: REDIS_PORT,
      // Primary + one replica in another AZ; ElastiCache promotes the replica if the primary fails.
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      authToken: pulumi.secret(authToken.result),
      // A new token (password rotation) is added next to the old one, so running clients keep working.
      authTokenUpdateStrategy: "ROTATE",
      // An AUTH token change must apply immediately; waiting for the maintenance window would not.
      applyImmediately: true,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: [args.securityGroupId],
      snapshotRetentionLimit: 1,
      tags: { Name: name, "aviary:role": "redis" },
    }, parent);

    this.privateAddress = group.primaryEndpointAddress;
    this.password = pulumi.secret(authToken.result);
    this.url = pulumi.secret(pulumi.all([authToken.result, group.primaryEndpointAddress]).apply(([t, host]) => elastiCacheUrl(t, host)));
    const secretsKey = new SecretsKey(`${name}-secrets`, { description: `Aviary ${name}: Redis URL parameter` }, parent);
    const urlParameter = redisUrlParameter(name, this.url, secretsKey.keyArn, parent);
    secretsKey.restrictTo([urlParameter]);
    this.secretsKeyArn = secretsKey.keyArn;
    this.urlParameterName = urlParameter.name;
    this.urlParameterArn = urlParameter.arn;
    this.replicationGroupId = group.id;
    this.registerOutputs({
      privateAddress: this.privateAddress,
      password: this.password,
      url: this.url,
      urlParameterName: this.urlParameterName,
      urlParameterArn: this.urlParameterArn,
      secretsKeyArn: this.secretsKeyArn,
      replicationGroupId: this.replicationGroupId,
    });
  }
}
