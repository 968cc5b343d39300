// Notifier port in local mode, an SNS stand-in: a notice goes to the dashboard's activity feed and
// the log (naming who would get it on AWS); an SMS line goes to the log.
import type { Logger } from "pino";
import type { Alerts } from "../../core/config/stackConfig";
import type { Notifier } from "../../controller/ports";
import type { ActivityFeed } from "../../local/activity";

export class LocalNotifier implements Notifier {
  constructor(
    private readonly activity: ActivityFeed,
    private readonly log: Logger,
    private readonly alerts: Alerts,
  ) {}

  async notify(subject: string, message: string): Promise<void> {
    this.activity.add("controller", subject, message);
    this.log.info({ subject, message, wouldDeliverTo: [...this.alerts.emails, ...this.alerts.sms] }, "controller notification (SNS stand-in)");
  }

  async text(line: string): Promise<void> {
    this.log.info({ line, wouldDeliverTo: this.alerts.sms }, "controller SMS line (SNS stand-in)");
  }
}
