// Canary instance(s) of the next app version, their alarms on prod's topic, and the canary
// weight handed to prod's controller (the only writer of routing state).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { canaryAlarms } from "../core/alarms/definitions";
import { isWeight, WEIGHT_RULE } from "../core/routing/weight";
import type { Thresholds } from "../core/config/stackConfig";
import { canaryInvocation } from "../lambda/canaryWeightInvocation";
import type { RolloutPlan } from "../core/rollout/model";
import { appInstanceStatements, appUserData } from "./appUserData";
import { InstanceRole } from "./instanceRole";
import { redisUrlSecret } from "./redisUrlParameter";
import { Monitoring } from "./monitoring";
import { al2023Ami, INSTANCE_HARDENING } from "./instanceDefaults";
import { InvalidInputError } from "../core/errors";

export interface CanaryArgs {
  deployment: pulumi.Input<string>;
  appVersion: string;
  count: number;
  canaryWeight: number;
  /** aviary:rollout: the invocation starts the rollout instead of setting the fixed weight. */
  rollout?: RolloutPlan;
  instanceType: pulumi.Input<string>;
  appPort: number;
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  appSecurityGroupId: pulumi.Input<string>;
  topicArn: pulumi.Input<string>;
  controllerFunctionName: pulumi.Input<string>;
  thresholds: Thresholds;
  redisUrlParameterName: pulumi.Input<string>;
  redisUrlParameterArn: pulumi.Input<string>;
  /** The KMS key that encrypts the Redis URL parameter (its policy names this role's path). */
  redisUrlKeyArn: pulumi.Input<string>;
  release: { bucketName: pulumi.Input<string>; bucketArn: pulumi.Input<string>; objectKey: pulumi.Input<string> };
  /** aviary:demoFaults: the app honours demo-* fault flags only when true. */
  demoFaults?: boolean;
}

/** Throws on a count or weight outside what the stack config allows. */
export function checkCanaryArgs(count: number, weight: number): void {
  if (!Number.isInteger(count) || count < 1 || count > 10) throw new InvalidInputError(`Canary: count must be an integer from 1 to 10 (got ${count})`);
  if (!isWeight(weight)) throw new InvalidInputError(`Canary: weight must be ${WEIGHT_RULE} (got ${weight})`);
}

export class Canary extends pulumi.ComponentResource {
  public readonly instanceIds: pulumi.Output<string[]>;
  public readonly privateIps: pulumi.Output<string[]>;
  public readonly alarmNames: pulumi.Output<string>[];

  constructor(name: string, args: CanaryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:canary:Canary", name, {}, opts);
    const parent = { parent: this };
    checkCanaryArgs(args.count, args.canaryWeight);

    const role = new InstanceRole(`${name}-role`, {
      statements: appInstanceStatements(args.release, args.redisUrlParameterArn),
      secret: redisUrlSecret(args),
    }, parent);

    const region = aws.getRegionOutput({}, parent).region;
    const image = al2023Ami(args.instanceType, parent);
    const userData = appUserData("canary", args, region);
    const subnets = pulumi.output(args.privateSubnetIds);
    const tags = { "aviary:role": "canary", "aviary:version": args.appVersion };

    const instances = Array.from({ length: args.count }, (_, i) =>
      new aws.ec2.Instance(`${name}-${i}`, {
        ami: image.ami,
        instanceType: args.instanceType,
        // Round-robin over the private subnets (one per AZ).
        subnetId: subnets.apply((ids) => {
          if (ids.length === 0) throw new InvalidInputError("Canary: privateSubnetIds is empty");
          return ids[i % ids.length];
        }),
        vpcSecurityGroupIds: [args.appSecurityGroupId],
        associatePublicIpAddress: false,
        iamInstanceProfile: role.instanceProfileName,
        ...INSTANCE_HARDENING,
        userData,
        tags: { ...tags, Name: `${name}-${i}` },
        volumeTags: { ...tags, Name: `${name}-${i}` },
      }, { parent: this, ...image.singleInstanceOptions }));

    const monitoring = new Monitoring(name, {
      deployment: args.deployment,
      definitions: canaryAlarms<pulumi.Input<string>>(args.thresholds, { deployment: args.deployment }),
      topicArn: args.topicArn,
    }, parent);

    // The controller writes the weight to Redis (or, with a rollout plan, starts the rollout at its
    // first step's weight). CRUD: a changed input is an in-place update (one
    // invocation, tf.action "update"); only `pulumi destroy` sends tf.action "delete", which drains
    // the canary to 0 before the instances go. No `triggers`: they are replace-on-change, and a
    // create-before-delete replacement would end with the old invocation's delete (weight 0).
    new aws.lambda.Invocation(`${name}-weight`, {
      functionName: args.controllerFunctionName,
      input: JSON.stringify(canaryInvocation(args.canaryWeight, args.appVersion, args.rollout)),
      lifecycleScope: "CRUD",
    }, { parent: this, dependsOn: instances });

    this.instanceIds = pulumi.all(instances.map((x) => x.id));
    this.privateIps = pulumi.all(instances.map((x) => x.privateIp));
    this.alarmNames = monitoring.alarmNames;
    this.registerOutputs({ instanceIds: this.instanceIds, privateIps: this.privateIps, alarmNames: this.alarmNames });
  }
}
