// Production app fleet: launch template + Auto Scaling group in the private subnets.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AppRelease } from "./appRelease";
import { appInstanceStatements, appUserData } from "./appUserData";
import { InstanceRole } from "./instanceRole";
import { redisUrlSecret } from "./redisUrlParameter";
import { privateLaunchTemplate } from "./instanceDefaults";

export interface ProductionFleetArgs {
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  instanceType: pulumi.Input<string>;
  min: number;
  max: number;
  desired: number;
  appVersion: string;
  appPort: number;
  release: AppRelease;
  redisUrlParameterName: pulumi.Input<string>;
  redisUrlParameterArn: pulumi.Input<string>;
  /** The KMS key that encrypts the Redis URL parameter (its policy names this role's path). */
  redisUrlKeyArn: pulumi.Input<string>;
}

/** Throws unless 0 <= min <= desired <= max (integers). */
export function checkFleetSize(min: number, max: number, desired: number): void {
  const ok = [min, max, desired].every(Number.isInteger) && min >= 0 && min <= desired && desired <= max && max >= 1;
  if (!ok) throw new Error(`ProductionFleet: need integers 0 <= min <= desired <= max, max >= 1 (got min ${min}, desired ${desired}, max ${max})`);
}

export class ProductionFleet extends pulumi.ComponentResource {
  public readonly autoScalingGroupName: pulumi.Output<string>;
  public readonly autoScalingGroupArn: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;
  public readonly launchTemplateId: pulumi.Output<string>;

  constructor(name: string, args: ProductionFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:fleet:ProductionFleet", name, {}, opts);
    const parent = { parent: this };
    checkFleetSize(args.min, args.max, args.desired);

    const role = new InstanceRole(`${name}-role`, {
      statements: [
        ...appInstanceStatements(args.release, args.redisUrlParameterArn),
        // The CloudWatch agent resolves ${aws:AutoScalingGroupName} via DescribeTags (read-only, no resource scoping exists).
        { actions: ["ec2:DescribeTags"], resources: ["*"] },
      ],
      secret: redisUrlSecret(args),
    }, parent);

    const region = aws.getRegionOutput({}, parent).region;
    const userData = appUserData({
      role: "prod",
      version: args.appVersion,
      bucket: args.release.bucketName,
      key: args.release.objectKey,
      appPort: args.appPort,
      redisUrlParameterName: args.redisUrlParameterName,
      region,
    });
    const tags = { Name: name, "aviary:role": "prod", "aviary:version": args.appVersion };

    const launchTemplate = privateLaunchTemplate(name, {
      instanceType: args.instanceType,
      instanceProfileName: role.instanceProfileName,
      securityGroupId: args.securityGroupId,
      userData,
      tags,
    }, parent);

    const group = new aws.autoscaling.Group(name, {
      namePrefix: `${name}-`,
      vpcZoneIdentifiers: args.subnetIds,
      minSize: args.min,
      maxSize: args.max,
      desiredCapacity: args.desired,
      launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
      healthCheckType: "EC2",
      healthCheckGracePeriod: 180,
      enabledMetrics: [
        "GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances",
        "GroupPendingInstances", "GroupTerminatingInstances", "GroupTotalInstances",
      ],
      metricsGranularity: "1Minute",
      // A new launch template version (new app version, new AMI) rolls the fleet.
      instanceRefresh: {
        strategy: "Rolling",
        preferences: { minHealthyPercentage: 50, instanceWarmup: "120" },
      },
      tags: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
    }, {
      parent: this,
      // The controller Lambda scales the group after creation; re-applying `desired` on every
      // `pulumi up` would undo its scaling decisions.
      ignoreChanges: ["desiredCapacity"],
    });

    this.autoScalingGroupName = group.name;
    this.autoScalingGroupArn = group.arn;
    this.roleArn = role.roleArn;
    this.launchTemplateId = launchTemplate.id;
    this.registerOutputs({
      autoScalingGroupName: this.autoScalingGroupName,
      autoScalingGroupArn: this.autoScalingGroupArn,
      roleArn: this.roleArn,
      launchTemplateId: this.launchTemplateId,
    });
  }
}
