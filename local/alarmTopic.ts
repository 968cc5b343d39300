// The alarms' SNS topic in local mode: publishing an alarm transition tells the subscribers (the
// activity feed and the log) and delivers the SNS record to the controller handler.
import type { Logger } from "pino";
import type { Handler, SnsEvent } from "../lambda/handler";
import type { ActivityFeed } from "./activity";
import { cloudWatchMessage, type AlarmTransition } from "./alarmEvaluator";

export class LocalAlarmTopic {
  private serial = 0;

  constructor(
    private readonly controller: Handler,
    private readonly activity: ActivityFeed,
    private readonly log: Logger,
    private readonly subscribers: readonly string[],
  ) {}

  async publish(t: AlarmTransition): Promise<void> {
    this.activity.add("alarm", `${t.definition.key} → ${t.newState}`, t.reason);
    this.log.info({ alarm: t.name, from: t.oldState, to: t.newState, wouldDeliverTo: this.subscribers }, "alarm notification (SNS stand-in)");
    this.serial += 1;
    const event: SnsEvent = {
      Records: [{ EventSource: "aws:sns", Sns: { MessageId: `local-${Date.now()}-${this.serial}`, Message: cloudWatchMessage(t), Subject: `${t.newState}: "${t.name}"`, Timestamp: new Date(t.at).toISOString(), Type: "Notification" } }],
    };
    try {
      await this.controller(event);
    } catch (err) {
      // On AWS SNS would retry; locally the alarm stays in its state and the next transition re-drives it.
      this.activity.add("runner", "controller failed", (err as Error).message);
      this.log.error({ err: (err as Error).message, alarm: t.name }, "controller invocation failed");
    }
  }
}
