// SNS topic for alarms (KMS-encrypted with a customer-managed key) plus the email subscriptions.
// SMS subscribers get the controller's short texts on their own topic (components/smsTopic.ts).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { customerManagedKey } from "./customerManagedKey";

export interface AlertingArgs {
  emails: string[];
}

export class Alerting extends pulumi.ComponentResource {
  public readonly topicArn: pulumi.Output<string>;
  public readonly topicName: pulumi.Output<string>;
  public readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: AlertingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:alerting:Alerting", name, {}, opts);
    const parent = { parent: this };

    const accountId = aws.getCallerIdentityOutput({}, parent).accountId;

    // Customer-managed key: the AWS-managed aws/sns key cannot be granted to CloudWatch, so alarms
    // could not publish to the topic.
    const key = customerManagedKey(`${name}-topic`, {
      description: `Aviary alerts topic (${name})`,
      alias: true,
      statements: ({ account }) => [
        {
          Sid: "CloudWatchAlarmsPublishEncrypted",
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
          Resource: "*",
          Condition: { StringEquals: { "aws:SourceAccount": account } },
        },
      ],
    }, parent);

    const topic = new aws.sns.Topic(name, { kmsMasterKeyId: key.arn }, parent);

    new aws.sns.TopicPolicy(name, {
      arn: topic.arn,
      policy: pulumi.all([topic.arn, accountId]).apply(([arn, account]) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "CloudWatchAlarmsPublish",
              Effect: "Allow",
              Principal: { Service: "cloudwatch.amazonaws.com" },
              Action: "sns:Publish",
              Resource: arn,
              // Only this account's alarms, not any account's CloudWatch.
              Condition: { StringEquals: { "aws:SourceAccount": account } },
            },
          ],
        })),
    }, parent);

    args.emails.forEach((email, i) =>
      new aws.sns.TopicSubscription(`${name}-email-${i}`, { topic: topic.arn, protocol: "email", endpoint: email }, parent));

    this.topicArn = topic.arn;
    this.topicName = topic.name;
    this.kmsKeyArn = key.arn;
    this.registerOutputs({ topicArn: this.topicArn, topicName: this.topicName, kmsKeyArn: this.kmsKeyArn });
  }
}
