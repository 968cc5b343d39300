// Notifier port on the alerts SNS topic (email/SMS subscribers read these messages).
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { CONTROLLER_ORIGIN, ORIGIN_ATTRIBUTE } from "../origin";
import type { Notifier } from "../ports";

/** SNS subjects: ASCII, no control characters, at most 100 characters. */
export function snsSubject(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, " ").trim();
  return clean.slice(0, 100);
}

export class AwsNotifier implements Notifier {
  constructor(private readonly client: SNSClient, private readonly topicArn: string) {}

  async notify(subject: string, message: string): Promise<void> {
    await this.client.send(new PublishCommand({
      TopicArn: this.topicArn,
      Subject: snsSubject(subject),
      Message: message,
      MessageAttributes: { [ORIGIN_ATTRIBUTE]: { DataType: "String", StringValue: CONTROLLER_ORIGIN } },
    }));
  }
}
