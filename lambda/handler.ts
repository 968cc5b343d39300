// Controller Lambda entry point. For now it validates what arrives and logs the decision it would
// take; acting on the Auto Scaling group and Redis is the control-plane issue.
import pino from "pino";
import { AlarmAction, AlarmKey, alarmKeyOf, canaryAlarms, prodAlarms } from "../alarms/definitions";
import { DEFAULT_THRESHOLDS } from "../config/defaults";
import { ConfigInvocation, parseAlarmMessage, parseConfigInvocation } from "./alarmMessage";

export type { ConfigInvocation } from "./alarmMessage";

/** The SNS event shape Lambda receives (fields the controller reads, plus the usual ones). */
export interface SnsEvent {
  Records: {
    EventSource?: string;
    EventSubscriptionArn?: string;
    Sns: {
      MessageId: string;
      Message: string;
      TopicArn?: string;
      Subject?: string | null;
      Timestamp?: string;
      Type?: string;
    };
  }[];
}

export interface Decision {
  messageId: string;
  alarm: string;
  key: AlarmKey | null;
  action: AlarmAction | null;
  newState: string;
  decision: string;
}

export interface HandlerResult {
  processed: number;
  skipped: number;
  decisions: Decision[];
}

const logger = pino({ base: { service: "aviary-controller" } });

// Each alarm key's action, read from the definitions themselves; actions do not depend on
// thresholds or dimensions, so defaults and placeholders do.
const ACTIONS = new Map<AlarmKey, AlarmAction>(
  [
    ...prodAlarms(DEFAULT_THRESHOLDS, { autoScalingGroupName: "", deployment: "" }),
    ...canaryAlarms(DEFAULT_THRESHOLDS, { deployment: "" }),
  ].map((d) => [d.key, d.action]),
);

const ALARM_DECISIONS: Record<AlarmAction, string> = {
  scaleOut: "would scale out",
  scaleIn: "would scale in",
  notify: "notify only",
  rollbackCanary: "would roll back canary",
};

function decide(action: AlarmAction | null, newState: string): string {
  if (action === null) return "ignored: unknown alarm";
  if (newState !== "ALARM") return `no action: state ${newState}`;
  return ALARM_DECISIONS[action];
}

function isSnsEvent(event: unknown): event is SnsEvent {
  return typeof event === "object" && event !== null && Array.isArray((event as { Records?: unknown }).Records);
}

function handleConfig(event: unknown): HandlerResult {
  let config: ConfigInvocation;
  try {
    config = parseConfigInvocation(event);
  } catch (e) {
    logger.error({ err: (e as Error).message }, "rejected configuration invocation");
    throw e;
  }
  // `pulumi destroy` of the canary stack: drain the canary before its instances go away.
  const weight = config.tf?.action === "delete" ? 0 : config.weight;
  const decision = `would set canary weight to ${weight}`;
  // Writing the weight to Redis comes with the control-plane issue; for now the decision is logged.
  logger.info({ action: config.action, weight, appVersion: config.appVersion, lifecycle: config.tf?.action, decision }, "configuration");
  return {
    processed: 1,
    skipped: 0,
    decisions: [{ messageId: "config", alarm: "", key: null, action: null, newState: `canaryWeight=${weight}`, decision }],
  };
}

export async function handler(event: SnsEvent | ConfigInvocation): Promise<HandlerResult> {
  if (!isSnsEvent(event)) return handleConfig(event);
  const result: HandlerResult = { processed: 0, skipped: 0, decisions: [] };
  for (const record of event.Records) {
    const messageId = record?.Sns?.MessageId ?? "<unknown>";
    try {
      const message = parseAlarmMessage(String(record?.Sns?.Message ?? ""));
      const key = alarmKeyOf(message.AlarmName) ?? null;
      const action = key ? (ACTIONS.get(key) ?? null) : null;
      const d: Decision = { messageId, alarm: message.AlarmName, key, action, newState: message.NewStateValue, decision: decide(action, message.NewStateValue) };
      logger.info({ ...d, oldState: message.OldStateValue, reason: message.NewStateReason, at: message.StateChangeTime }, "decision");
      result.decisions.push(d);
      result.processed += 1;
    } catch (e) {
      // One bad record must not block the others in the batch.
      logger.error({ messageId, err: (e as Error).message }, "skipped malformed record");
      result.skipped += 1;
    }
  }
  return result;
}
