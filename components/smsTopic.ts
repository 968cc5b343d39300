// The SMS topic: SMS subscribers get the controller's one-line texts here instead of the alarm
// JSON on the alerts topic. Encrypted with its own customer-managed key; SNS encrypts what a
// publisher sends with the publisher's own permissions, so the key policy lets the one publisher,
// the controller's role, call kms:GenerateDataKey and kms:Decrypt, and only through SNS.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { customerManagedKey } from "./customerManagedKey";

export interface SmsTopicArgs {
  /** E.164 numbers (aviary:alerts.sms). */
  numbers: string[];
  /** The only principal that publishes here. */
  publisherRoleArn: pulumi.Input<string>;
}

export class SmsTopic extends pulumi.ComponentResource {
  public readonly topicArn: pulumi.Output<string>;
  public readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: SmsTopicArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:alerting:SmsTopic", name, {}, opts);
    const parent = { parent: this };

    const key = customerManagedKey(name, {
      description: `Aviary SMS topic (${pulumi.getStack()} ${name})`,
      alias: true,
      statements: ({ region }) => pulumi.output(args.publisherRoleArn).apply((publisher) => [
        {
          Sid: "ControllerPublishesEncrypted",
          Effect: "Allow",
          Principal: { AWS: publisher },
          Action: ["kms:GenerateDataKey", "kms:Decrypt"],
          Resource: "*",
          Condition: { StringEquals: { "kms:ViaService": `sns.${region}.amazonaws.com` } },
        },
      ]),
    }, parent);

    const topic = new aws.sns.Topic(name, { kmsMasterKeyId: key.arn }, parent);
    args.numbers.forEach((number, i) =>
      new aws.sns.TopicSubscription(`${name}-${i}`, { topic: topic.arn, protocol: "sms", endpoint: number }, parent));

    this.topicArn = topic.arn;
    this.kmsKeyArn = key.arn;
    this.registerOutputs({ topicArn: this.topicArn, kmsKeyArn: this.kmsKeyArn });
  }
}
