// What every Aviary EC2 instance shares: the AMI and the hardening the policy pack demands.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export const AL2023_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

/** The current Amazon Linux 2023 AMI (redis6, haproxy, nodejs20 and the SSM agent are packaged for it). */
export function al2023Ami(opts: pulumi.InvokeOutputOptions): pulumi.Output<string> {
  return aws.ssm.getParameterOutput({ name: AL2023_AMI_PARAMETER }, opts).value;
}

/** IMDSv2 only; hop limit 1 keeps the token away from anything forwarding from the instance. */
export const IMDSV2_ONLY = { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 };

export const ENCRYPTED_ROOT_VOLUME = { encrypted: true, volumeType: "gp3", volumeSize: 16, deleteOnTermination: true };

/** The same root volume for launch templates (they carry EBS flags as strings). */
const ENCRYPTED_LAUNCH_TEMPLATE_ROOT = {
  deviceName: "/dev/xvda",
  ebs: { volumeSize: 16, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
};

export interface PrivateLaunchTemplateArgs {
  instanceType: pulumi.Input<string>;
  instanceProfileName: pulumi.Input<string>;
  securityGroupId: pulumi.Input<string>;
  /** The boot script (plain text; base64-encoded here). */
  userData: pulumi.Output<string>;
  /** On the template, and on every instance and volume launched from it. */
  tags: Record<string, string>;
}

/** Launch template for an Auto Scaling group: AL2023, IMDSv2 only, encrypted root, no public IP. */
export function privateLaunchTemplate(name: string, args: PrivateLaunchTemplateArgs, opts: { parent: pulumi.Resource }): aws.ec2.LaunchTemplate {
  return new aws.ec2.LaunchTemplate(name, {
    namePrefix: `${name}-`,
    imageId: al2023Ami(opts),
    instanceType: args.instanceType,
    iamInstanceProfile: { name: args.instanceProfileName },
    metadataOptions: IMDSV2_ONLY,
    // Detailed (1-minute) EC2 metrics: the 60 s CPU alarms see nothing in 4 of 5 periods otherwise.
    monitoring: { enabled: true },
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
