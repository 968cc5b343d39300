// An SNS event carrying a CloudWatch-shaped state change of one of a local stack's alarms, as the
// Lambda receives it (the fault suites deliver these to the stack's controller).
import type { AlarmState } from "../../core/alarms/state";
import type { SnsEvent } from "../../lambda/handler";
import { cloudWatchMessage } from "../../local/alarmEvaluator";
import type { LocalStack } from "../../local/stack";

export function alarmEvent(stack: LocalStack, key: string, newState: AlarmState, oldState: AlarmState, at: number, messageId: string, reason?: string): SnsEvent {
  const alarm = stack.evaluator.states().find((a) => a.definition.key === key);
  if (!alarm) throw new Error(`no local alarm ${key}`);
  const Message = cloudWatchMessage({ name: alarm.name, definition: alarm.definition, oldState, newState, reason: reason ?? `fault suite: ${key} ${newState}`, at });
  return { Records: [{ EventSource: "aws:sns", Sns: { MessageId: messageId, Message, Type: "Notification" } }] };
}
