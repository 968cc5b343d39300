// Notifier port on SNS: full notices to the alerts topic (email subscribers read them next to the
// alarms), one short line per decision to the SMS topic (SMS subscribers get nothing else).
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { CONTROLLER_ORIGIN, ORIGIN_ATTRIBUTE } from "../../controller/origin";
import type { Notifier } from "../../controller/ports";
import { smsLine } from "../../controller/smsText";

/** SNS subjects: ASCII, no control characters, at most 100 characters. */
export function snsSubject(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, " ").trim();
  return clean.slice(0, 100);
}

const origin = { [ORIGIN_ATTRIBUTE]: { DataType: "String", StringValue: CONTROLLER_ORIGIN } };

export class AwsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
    private readonly smsTopicArn: string,
  ) {}

  async notify(subject: string, message: string): Promise<void> {
    await this.client.send(new PublishCommand({ TopicArn: this.topicArn, Subject: snsSubject(subject), Message: message, MessageAttributes: origin }));
  }

  async text(line: string): Promise<void> {
    await this.client.send(new PublishCommand({ TopicArn: this.smsTopicArn, Message: smsLine(line), MessageAttributes: origin }));
  }
}
