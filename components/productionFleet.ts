// Production app fleet: launch template + Auto Scaling group in the private subnets.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AppRelease } from "./appRelease";
import { appInstanceStatements, appUserData } from "./appUserData";
import { completeLifecycleActionStatement, FLEET_LIFECYCLE_HOOKS } from "./fleetLifecycle";
import { InstanceRole } from "./instanceRole";
import { redisUrlSecret } from "./redisUrlParameter";
import { privateLaunchTemplate } from "./instanceDefaults";
import { InvalidInputError } from "../core/errors";

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
  /** aviary:demoFaults: the app honours demo-* fault flags only when true. */
  demoFaults?: boolean;
  /** The KMS key that encrypts the Redis URL parameter (its policy names this role's path). */
  redisUrlKeyArn: pulumi.Input<string>;
}

/** Throws unless 0 <= min <= desired <= max (integers). */
export function checkFleetSize(min: number, max: number, desired: number): void {
  const ok = [min, max, desired].every(Number.isInteger) && min >= 0 && min <= desired && desired <= max && max >= 1;
  if (!ok) throw new InvalidInputError(`ProductionFleet: need integers 0 <= min <= desired <= max, max >= 1 (got min ${min}, desired ${desired}, max ${max})`);
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

    // Group names are account-wide: the stack in the prefix keeps two stacks' fleets (and the
    // instance role's lifecycle permission below) apart.
    const groupNamePrefix = `${pulumi.getProject()}-${pulumi.getStack()}-${name}-`;
    const region = aws.getRegionOutput({}, parent).region;
    const partition = aws.getPartitionOutput({}, parent).partition;
    const account = aws.getCallerIdentityOutput({}, parent).accountId;
    const role = new InstanceRole(`${name}-role`, {
      statements: [
        ...appInstanceStatements(args.release, args.redisUrlParameterArn),
        // The CloudWatch agent and the lifecycle script read the aws:autoscaling:groupName tag via
        // DescribeTags (read-only, no resource scoping exists).
        { actions: ["ec2:DescribeTags"], resources: ["*"] },
        completeLifecycleActionStatement(pulumi.interpolate`arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${groupNamePrefix}*`),
      ],
      secret: redisUrlSecret(args),
    }, parent);

    const userData = appUserData("prod", args, region);
    const tags = { Name: name, "aviary:role": "prod", "aviary:version": args.appVersion };

    const launchTemplate = privateLaunchTemplate(name, {
      instanceType: args.instanceType,
      instanceProfileName: role.instanceProfileName,
      securityGroupId: args.securityGroupId,
      userData,
      tags,
    }, parent);

    const group = new aws.autoscaling.Group(name, {
      namePrefix: groupNamePrefix,
      vpcZoneIdentifiers: args.subnetIds,
      minSize: args.min,
      maxSize: args.max,
      desiredCapacity: args.desired,
      launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
      // In service means the app answered /healthz (the launch hook); EC2 status checks after that.
      healthCheckType: "EC2",
      healthCheckGracePeriod: 180,
      initialLifecycleHooks: FLEET_LIFECYCLE_HOOKS,
      // Creation waits for min instances in service, which now includes the launch hook.
      waitForCapacityTimeout: "20m",
      enabledMetrics: [
        "GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances",
        "GroupPendingInstances", "GroupTerminatingInstances", "GroupTotalInstances",
      ],
      metricsGranularity: "1Minute",
      // A new launch template version (new app version, new AMI) rolls the fleet.
      instanceRefresh: {
        strategy: "Rolling",
        preferences: {
          // Launch before terminate: a release whose instances never answer /healthz (abandoned by
          // the launch hook) costs no serving capacity ...
          minHealthyPercentage: 100,
          maxHealthyPercentage: 150,
          instanceWarmup: "60",
          // ... fails the refresh, and the group goes back to the previous template version (needs
          // a numbered version, which latestVersion is, and an AMI id, not an SSM alias).
          autoRollback: true,
          // Instances already on the desired configuration (e.g. after a rollback) stay.
          skipMatching: true,
        },
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
