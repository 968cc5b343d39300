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
