// What every Aviary EC2 instance shares: the AMI and the hardening the policy pack demands.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../core/errors";

/** SSM public parameters naming the current Amazon Linux 2023 image, per CPU architecture. */
export const AL2023_AMI_PARAMETERS = {
  x86_64: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
  arm64: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
} as const;

export type Architecture = keyof typeof AL2023_AMI_PARAMETERS;

export class InstanceTypeError extends ConfigError {}

// Graviton (arm64) families: a1, and a generation digit followed by "g" (t4g, m7g, c7gn, r8g,
// x2gd, im4gn, is4gen, g5g, hpc7g). GPU families like g4dn carry the "g" before the digit.
const GRAVITON_FAMILY = /^(a1|[a-z]+\d+g[a-z]*)$/;
const INSTANCE_FAMILY = /^([a-z][a-z0-9-]*)\.[a-z0-9]+$/;

/** The CPU architecture of an EC2 instance type; throws InstanceTypeError on a malformed name. */
export function architectureOf(instanceType: string): Architecture {
  const family = INSTANCE_FAMILY.exec(instanceType)?.[1];
  if (!family) throw new InstanceTypeError(`instance type ${JSON.stringify(instanceType)} is not an EC2 instance type like t3.small`);
  return GRAVITON_FAMILY.test(family) ? "arm64" : "x86_64";
}

/** The SSM parameter of the AL2023 image that boots on this instance type. */
export function al2023AmiParameter(instanceType: string): string {
  return AL2023_AMI_PARAMETERS[architectureOf(instanceType)];
}

/** How a stack picks its image: `aviary:imageId` pins one; without it, the current AL2023 image. */
export interface ImageChoice {
  ami: pulumi.Output<string>;
  /**
   * Resource options for an instance that is not behind a health-checked rolling refresh (Redis,
   * the proxy, canaries): an unpinned image is only read at creation, so a newer AL2023 image in
   * SSM never replaces them; a pinned image is the user's explicit choice and applies.
   */
  singleInstanceOptions: { ignoreChanges?: string[] };
}

/** Pure: the options a single instance gets for a pinned (or unpinned) image. */
export function singleInstanceImageOptions(pinnedImageId: string | undefined): { ignoreChanges?: string[] } {
  return pinnedImageId === undefined ? { ignoreChanges: ["ami"] } : {};
}

/** The image for this instance type: `aviary:imageId` when set, else the current AL2023 image for its architecture. */
export function al2023Ami(instanceType: pulumi.Input<string>, opts: pulumi.InvokeOutputOptions): ImageChoice {
  const pinned = new pulumi.Config("aviary").get("imageId");
  const parameter = pulumi.output(instanceType).apply(al2023AmiParameter);
  return {
    ami: pinned === undefined ? aws.ssm.getParameterOutput({ name: parameter }, opts).value : pulumi.output(pinned),
    singleInstanceOptions: singleInstanceImageOptions(pinned),
  };
}

/** IMDSv2 only; hop limit 1 keeps the token away from anything forwarding from the instance. */
const IMDSV2_ONLY = { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 };

// Detailed (1-minute) EC2 metrics: the 60 s CPU alarms see nothing in 4 of 5 periods otherwise.
const DETAILED_MONITORING = true;

const ENCRYPTED_ROOT_VOLUME = { encrypted: true, volumeType: "gp3", volumeSize: 16, deleteOnTermination: true };

/**
 * What every aws.ec2.Instance spreads into its args: IMDSv2 only, detailed monitoring, an encrypted
 * root volume, and a new instance for a new boot script (user data only runs at first boot).
 */
export const INSTANCE_HARDENING = {
  metadataOptions: IMDSV2_ONLY,
  monitoring: DETAILED_MONITORING,
  rootBlockDevice: ENCRYPTED_ROOT_VOLUME,
  userDataReplaceOnChange: true,
} satisfies aws.ec2.InstanceArgs;

/** The same root volume for launch templates (they carry EBS flags as strings). */
const ENCRYPTED_LAUNCH_TEMPLATE_ROOT = {
  deviceName: "/dev/xvda",
  ebs: {
    volumeSize: ENCRYPTED_ROOT_VOLUME.volumeSize,
    volumeType: ENCRYPTED_ROOT_VOLUME.volumeType,
    encrypted: String(ENCRYPTED_ROOT_VOLUME.encrypted),
    deleteOnTermination: String(ENCRYPTED_ROOT_VOLUME.deleteOnTermination),
  },
};

export interface PrivateLaunchTemplateArgs {
  instanceType: pulumi.Input<string>;
  instanceProfileName: pulumi.Input<string>;
  securityGroupId: pulumi.Input<string>;
  /** The boot script (plain text; base64-encoded here). */
  userData: pulumi.Output<string>;
  /** On the template, and on every instance and volume launched from it. */
  tags: Record<string, pulumi.Input<string>>;
}

/** Launch template for an Auto Scaling group: AL2023, IMDSv2 only, encrypted root, no public IP. */
export function privateLaunchTemplate(name: string, args: PrivateLaunchTemplateArgs, opts: { parent: pulumi.Resource }): aws.ec2.LaunchTemplate {
  return new aws.ec2.LaunchTemplate(name, {
    namePrefix: `${name}-`,
    // A new image is a new template version, which the group's health-checked instance refresh rolls out.
    imageId: al2023Ami(args.instanceType, opts).ami,
    instanceType: args.instanceType,
    iamInstanceProfile: { name: args.instanceProfileName },
    metadataOptions: IMDSV2_ONLY,
    monitoring: { enabled: DETAILED_MONITORING },
    blockDeviceMappings: [ENCRYPTED_LAUNCH_TEMPLATE_ROOT],
    networkInterfaces: [{ associatePublicIpAddress: "false", deleteOnTermination: "true", securityGroups: [args.securityGroupId] }],
    userData: args.userData.apply((s) => Buffer.from(s, "utf8").toString("base64")),
    updateDefaultVersion: true,
    tagSpecifications: [
      { resourceType: "instance", tags: args.tags },
      { resourceType: "volume", tags: args.tags },
    ],
    tags: args.tags,
  }, opts);
}
