// What SNS would deliver to each subscriber of the deployed program: both stacks run under
// Pulumi's mocks, then every recorded subscription's filter policy is evaluated (with the SNS rules
// of awsRules/snsFilterPolicy.ts) against the CloudWatch notification of every alarm the program
// declares and against the controller's own messages exactly as AwsNotifier publishes them.
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import { PublishCommand, SNSClient, type PublishCommandInput } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { filterPolicyMatches, type FilterPolicyScope, type SnsMessage } from "../../../awsRules/snsFilterPolicy";
import { readStackFile } from "../../../config/stackFile";
import { AwsNotifier } from "../../../adapters/notifier/aws";
import { decide, type ControllerAction } from "../../../core/controller/decide";
import { alarmSms, configSms, SMS_MAX_CHARS } from "../../../controller/smsText";
import { PROD_STACK_OUTPUTS } from "../../../harness/prodOutputs";
import { mockArn, runUnderMocks, type Registered } from "../../../harness/pulumiMocks";

const ROOT = join(REPO_ROOT);
const prodConfig = readStackFile(join(ROOT, "Pulumi.prod.yaml"));
const alerts = JSON.parse(prodConfig["aviary:alerts"]) as { emails: string[]; sms: string[] };
// The mocks' account and region (harness/pulumiMocks.ts).
const ACCOUNT = "123456789012";
const REGION = "us-east-1";

let subscriptions: Registered[] = [];
let alarms: Registered[] = [];
let lambdaEnv: Record<string, string> = {};
let alertsTopicArn = "";

beforeAll(async () => {
  await jest.isolateModulesAsync(async () => {
    const prod = await runUnderMocks(() => require("../../../index"), { stack: "prod", config: prodConfig });
    subscriptions = prod.ofType("aws:sns/topicSubscription:TopicSubscription");
    alarms = prod.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
    lambdaEnv = prod.one("aws:lambda/function:Function").inputs.environment.variables;
    const topic = prod.ofType("aws:sns/topic:Topic").find((t) => t.name === "alerts")!;
    alertsTopicArn = mockArn(topic.type, topic.name);
  });
  // The canary stack's alarms publish to prod's topic (read through its StackReference).
  await jest.isolateModulesAsync(async () => {
    const canary = await runUnderMocks(() => require("../../../index"), {
      stack: "canary",
      config: readStackFile(join(ROOT, "Pulumi.canary.yaml")),
      stackReferenceOutputs: { ...PROD_STACK_OUTPUTS, topicArn: alertsTopicArn },
    });
    alarms = [...alarms, ...canary.ofType("aws:cloudwatch/metricAlarm:MetricAlarm")];
  });
});

interface Published {
  topicArn: string;
  message: SnsMessage;
  label: string;
}

/** A CloudWatch alarm state-change notification as CloudWatch publishes it: a JSON body, no attributes. */
function cloudWatchNotification(alarm: Registered, newState: "ALARM" | "OK"): SnsMessage {
  const i = alarm.inputs;
  return {
    body: JSON.stringify({
      AlarmName: i.name,
      AlarmDescription: i.alarmDescription ?? null,
      AWSAccountId: ACCOUNT,
      AlarmConfigurationUpdatedTimestamp: "2026-11-20T09:00:00.000+0000",
      NewStateValue: newState,
      NewStateReason: newState === "ALARM" ? "Threshold Crossed: 2 out of the last 3 datapoints were greater than or equal to the threshold." : "Threshold Crossed: no datapoints were breaching.",
      StateChangeTime: "2026-11-24T10:00:05.123+0000",
      Region: "US East (N. Virginia)",
      AlarmArn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${i.name}`,
      OldStateValue: newState === "ALARM" ? "OK" : "ALARM",
      OKActions: i.okActions ?? [],
      AlarmActions: i.alarmActions ?? [],
      InsufficientDataActions: [],
      Trigger: i.metricQueries
        ? { Metrics: i.metricQueries, EvaluationPeriods: i.evaluationPeriods, ComparisonOperator: i.comparisonOperator, Threshold: i.threshold, TreatMissingData: i.treatMissingData }
        : { MetricName: i.metricName, Namespace: i.namespace, Statistic: String(i.statistic).toUpperCase(), Dimensions: Object.entries(i.dimensions ?? {}).map(([name, value]) => ({ name, value })), Period: i.period, EvaluationPeriods: i.evaluationPeriods, ComparisonOperator: i.comparisonOperator, Threshold: i.threshold, TreatMissingData: i.treatMissingData },
    }),
  };
}

function alarmNotifications(): Published[] {
  return alarms.flatMap((a) => [
    ...(a.inputs.alarmActions ?? []).map((topicArn: string) => ({ topicArn, message: cloudWatchNotification(a, "ALARM"), label: `${a.inputs.name} ALARM` })),
    ...(a.inputs.okActions ?? []).map((topicArn: string) => ({ topicArn, message: cloudWatchNotification(a, "OK"), label: `${a.inputs.name} OK` })),
  ]);
}

/** The notices the decision core emits for a scale-out, a scale-in, a rollback and a fleet at max. */
function decisionNotices(): Extract<ControllerAction, { type: "notify" }>[] {
  const policy = { step: 1, scaleOutCooldownSeconds: 0, scaleInCooldownSeconds: 0 };
  const now = "2026-11-24T10:00:10.000Z";
  const fleet = (desired: number) => ({ desired, min: 2, max: 4, instances: Array.from({ length: desired }, (_, n) => ({ id: `i-${n}`, launchedAt: "2026-11-24T09:00:00.000Z" })) });
  const change = (key: string) => ({ alarmName: `aviary-prod-${key}`, oldState: "OK" as const, newState: "ALARM" as const, reason: "Threshold Crossed", at: "2026-11-24T10:00:05.000Z" });
  const base = { now, memory: { alarms: {} }, canary: { enabled: true, weight: 10 } };
  return [
    decide({ ...base, event: { kind: "alarm" as const, change: change("prod-cpu-high") }, fleet: fleet(3) }, policy),
    decide({ ...base, event: { kind: "alarm" as const, change: change("prod-cpu-high") }, fleet: fleet(4) }, policy),
    decide({ ...base, event: { kind: "alarm" as const, change: change("prod-cpu-low") }, fleet: fleet(3) }, policy),
    decide({ ...base, event: { kind: "alarm" as const, change: change("canary-5xx-rate") } }, policy),
  ].flatMap((d) => d.actions.filter((a): a is Extract<ControllerAction, { type: "notify" }> => a.type === "notify"));
}

/** What the controller publishes, captured at the SDK as AwsNotifier sends it with the Lambda's environment. */
async function controllerMessages(): Promise<Published[]> {
  const sns = mockClient(SNSClient);
  sns.on(PublishCommand).resolves({ MessageId: "m-1" });
  const notifier = new AwsNotifier(new SNSClient({ region: REGION }), lambdaEnv.TOPIC_ARN, lambdaEnv.SMS_TOPIC_ARN);
  const notices = decisionNotices();
  expect(notices.length).toBeGreaterThanOrEqual(4);
  for (const n of notices) await notifier.notify(n.subject, n.message);
  await notifier.text(alarmSms("aviary-prod-prod-cpu-high", "ALARM", "scale out 3 -> 4"));
  await notifier.text(configSms("canary weight set to 25 and enabled"));
  const inputs: PublishCommandInput[] = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
  sns.restore();
  return inputs.map((p) => ({
    topicArn: String(p.TopicArn),
    message: {
      body: String(p.Message),
      attributes: Object.fromEntries(Object.entries(p.MessageAttributes ?? {}).map(([k, v]) => [k, { DataType: String(v.DataType), StringValue: v.StringValue }])),
    },
    label: p.Subject ?? String(p.Message),
  }));
}

/** Labels of the messages SNS delivers to this subscription. */
function delivered(sub: Registered, messages: Published[]): string[] {
  return messages
    .filter((m) => m.topicArn === sub.inputs.topic)
    .filter((m) => filterPolicyMatches(sub.inputs.filterPolicy, sub.inputs.filterPolicyScope as FilterPolicyScope | undefined, m.message))
    .map((m) => m.label);
}

const ofProtocol = (protocol: string) => subscriptions.filter((s) => s.inputs.protocol === protocol);

test("the program declares the alarms of both stacks and subscribes every aviary:alerts address", () => {
  expect(alarms.map((a) => a.inputs.name).sort()).toEqual([
    "aviary-prod-canary-5xx-rate",
    "aviary-prod-canary-judge-abort",
    "aviary-prod-canary-p99-latency",
    "aviary-prod-prod-cpu-high",
    "aviary-prod-prod-cpu-low",
    "aviary-prod-prod-memory-high",
  ]);
  expect(ofProtocol("lambda")).toHaveLength(1);
  expect(ofProtocol("email").map((s) => s.inputs.endpoint).sort()).toEqual([...alerts.emails].sort());
  expect(ofProtocol("sms").map((s) => s.inputs.endpoint).sort()).toEqual([...alerts.sms].sort());
});

test("the controller Lambda receives every alarm notification, on ALARM and on OK", () => {
  const notifications = alarmNotifications();
  expect(notifications).toHaveLength(alarms.length * 2);
  expect(delivered(ofProtocol("lambda")[0], notifications).sort()).toEqual(notifications.map((n) => n.label).sort());
});

test("the controller Lambda receives none of the controller's own messages", async () => {
  const own = await controllerMessages();
  expect(own.filter((m) => m.topicArn === lambdaEnv.TOPIC_ARN).length).toBeGreaterThanOrEqual(4);
  expect(delivered(ofProtocol("lambda")[0], own)).toEqual([]);
});

test("another deployment's alarms on the same topic do not reach this controller", () => {
  const other = { ...alarms[0], inputs: { ...alarms[0].inputs, name: "aviary-staging-prod-cpu-high" } };
  const message = { topicArn: alertsTopicArn, message: cloudWatchNotification(other, "ALARM"), label: "other" };
  expect(delivered(ofProtocol("lambda")[0], [message])).toEqual([]);
});

test("email subscribers get every alarm and every full notice, and no SMS lines", async () => {
  const notifications = alarmNotifications();
  const own = await controllerMessages();
  const notices = own.filter((m) => m.topicArn === lambdaEnv.TOPIC_ARN).map((m) => m.label);
  for (const sub of ofProtocol("email")) {
    expect(delivered(sub, [...notifications, ...own]).sort()).toEqual([...notifications.map((n) => n.label), ...notices].sort());
  }
});

test("SMS subscribers get only the controller's one-segment lines, never alarm JSON", async () => {
  const notifications = alarmNotifications();
  const own = await controllerMessages();
  const lines = own.filter((m) => m.topicArn === lambdaEnv.SMS_TOPIC_ARN);
  expect(lines).toHaveLength(2);
  for (const sub of ofProtocol("sms")) {
    const got = delivered(sub, [...notifications, ...own]);
    expect(got).toEqual(lines.map((l) => l.label));
    for (const text of got) {
      expect(text.length).toBeLessThanOrEqual(SMS_MAX_CHARS);
      expect(() => JSON.parse(text)).toThrow();
    }
  }
});
