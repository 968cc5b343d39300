// The controller Lambda end to end: real redis-server, the AWS SDK clients mocked at the wire with
// aws-sdk-client-mock (the Auto Scaling group simulated with real min/max/desired semantics).
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import { CloudWatchClient, DescribeAlarmsCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import type Redis from "ioredis";
import { type AlarmKey } from "../../../core/alarms/catalogue";
import type { AlarmState } from "../../../core/alarms/state";
import { REARM_REASON } from "../../../core/controller/decide";
import { MAX_REASON } from "../../../core/bounds";
import { MAX_DRAIN_WAIT_MS } from "../../../lambda/env";
import { closeController, handler, RecordsFailedError, type SnsEvent } from "../../../lambda/handler";
import { API_CALLS_BUDGET_MS, FUNCTION_TIMEOUT_SECONDS, LOCK_TTL_MS, LOCK_WAIT_MS, worstCaseMs } from "../../../lambda/timing";
import { connect } from "../../../state/connection";
import { readEvents } from "../../../state/events";
import { keys } from "../../../state/keys";
import { listBackends, registerBackend } from "../../../state/registry";
import { readRouting, setCanaryWeight, disableCanary } from "../../../state/routing";
import { abortByJudge, readRollout, writeRollout } from "../../../state/rollout";
import { judgementReason } from "../../../core/rollout/judgementReason";
import { failing, rolloutState } from "../../support/rolloutFixtures";
import { startRedisServer, type RedisServer } from "../../../harness/redisServer";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:aviary-prod-alerts`;
const SMS_TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:aviary-prod-sms`;
const ASG = "aviary-prod-asg";
const DEP = "aviary-prod";

// ---- fixtures shaped like what CloudWatch publishes and Lambda delivers ----------------------

const REASONS: Record<AlarmKey, string> = {
  "prod-cpu-high": "Threshold Crossed: 2 out of the last 3 datapoints [81.2 (24/11/26 09:59:00), 78.9 (24/11/26 09:58:00)] were greater than or equal to the threshold (70.0) (minimum 2 datapoints for OK -> ALARM transition).",
  "prod-cpu-low": "Threshold Crossed: 5 out of the last 5 datapoints [12.1 (24/11/26 09:59:00), 11.0 (24/11/26 09:58:00), 9.8 (24/11/26 09:57:00), 10.2 (24/11/26 09:56:00), 12.9 (24/11/26 09:55:00)] were less than or equal to the threshold (25.0) (minimum 5 datapoints for OK -> ALARM transition).",
  "prod-memory-high": "Threshold Crossed: 2 out of the last 3 datapoints [91.0 (24/11/26 09:59:00), 90.2 (24/11/26 09:58:00)] were greater than or equal to the threshold (85.0) (minimum 2 datapoints for OK -> ALARM transition).",
  "canary-5xx-rate": "Threshold Crossed: 2 out of the last 2 datapoints [12.5 (24/11/26 09:59:50), 9.1 (24/11/26 09:59:40)] were greater than or equal to the threshold (5.0) (minimum 2 datapoints for OK -> ALARM transition).",
  "canary-p99-latency": "Threshold Crossed: 2 out of the last 3 datapoints [2210.0 (24/11/26 09:59:50), 1980.0 (24/11/26 09:59:40)] were greater than or equal to the threshold (1500.0) (minimum 2 datapoints for OK -> ALARM transition).",
  "canary-judge-abort": "Threshold Crossed: 1 datapoint [1.0 (24/11/26 09:59:50)] was greater than or equal to the threshold (1.0).",
};

function trigger(key: AlarmKey): Record<string, unknown> {
  const common = { EvaluationPeriods: 3, DatapointsToAlarm: 2, ComparisonOperator: "GreaterThanOrEqualToThreshold", Threshold: 70.0, TreatMissingData: "notBreaching", EvaluateLowSampleCountPercentile: "" };
  if (key === "canary-5xx-rate") {
    // Metric-math alarms carry Metrics instead of MetricName/Namespace.
    return {
      ...common,
      Period: 10,
      Metrics: [
        { Id: "requests", MetricStat: { Metric: { Dimensions: [{ value: DEP, name: "Deployment" }, { value: "canary", name: "Role" }], MetricName: "Requests", Namespace: "Aviary/Proxy" }, Period: 10, Stat: "Sum" }, ReturnData: false },
        { Id: "errors", MetricStat: { Metric: { Dimensions: [{ value: DEP, name: "Deployment" }, { value: "canary", name: "Role" }], MetricName: "Errors5xx", Namespace: "Aviary/Proxy" }, Period: 10, Stat: "Sum" }, ReturnData: false },
        { Expression: "IF(requests > 0, 100 * errors / requests, 0)", Id: "e1", Label: "canary-5xx-rate", ReturnData: true },
      ],
    };
  }
  return { ...common, MetricName: "CPUUtilization", Namespace: "AWS/EC2", StatisticType: "Statistic", Statistic: "AVERAGE", Unit: null, Dimensions: [{ value: ASG, name: "AutoScalingGroupName" }], Period: 60 };
}

/** "2026-11-24T10:00:05.123+0000", CloudWatch's StateChangeTime format. */
const cwTime = (d: Date): string => d.toISOString().replace("Z", "+0000");

function alarmMessage(key: AlarmKey, newState: AlarmState, when: Date, oldState: AlarmState = newState === "OK" ? "ALARM" : "OK"): string {
  const name = `${DEP}-${key}`;
  return JSON.stringify({
    AlarmName: name,
    AlarmDescription: `description of ${key}`,
    AWSAccountId: ACCOUNT,
    AlarmConfigurationUpdatedTimestamp: "2026-11-20T09:00:00.000+0000",
    NewStateValue: newState,
    NewStateReason: newState === "ALARM" ? REASONS[key] : "Threshold Crossed: no datapoints were breaching.",
    StateChangeTime: cwTime(when),
    Region: "US East (N. Virginia)",
    AlarmArn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`,
    OldStateValue: oldState,
    OKActions: [TOPIC],
    AlarmActions: [TOPIC],
    InsufficientDataActions: [],
    Trigger: trigger(key),
  });
}

type SnsRecord = SnsEvent["Records"][number];

function record(messageId: string, message: string, subject = "ALARM: alarm in US East (N. Virginia)"): SnsRecord {
  return {
    EventSource: "aws:sns",
    EventSubscriptionArn: `${TOPIC}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
    Sns: {
      Type: "Notification",
      MessageId: messageId,
      TopicArn: TOPIC,
      Subject: subject,
      Message: message,
      Timestamp: new Date().toISOString(),
      MessageAttributes: {},
    },
  };
}

const event = (...records: SnsRecord[]): SnsEvent => ({ Records: records });
let seq = 0;
const id = (): string => `5a9f4b2c-0000-4000-8000-${String(++seq).padStart(12, "0")}`;
const alarm = (key: AlarmKey, state: AlarmState = "ALARM", when = new Date()): SnsEvent => event(record(id(), alarmMessage(key, state, when)));

// ---- the simulated Auto Scaling group and the other AWS clients --------------------------

const asgMock = mockClient(AutoScalingClient);
const cwMock = mockClient(CloudWatchClient);
const snsMock = mockClient(SNSClient);

interface Group {
  desired: number;
  min: number;
  max: number;
  instances: string[];
}
let group: Group;
let launched = 0;
let liveAlarmStates: Record<string, AlarmState>;

function mockAws(opts: { describeDelayMs?: number } = {}): void {
  asgMock.reset();
  cwMock.reset();
  snsMock.reset();
  asgMock.on(DescribeAutoScalingGroupsCommand).callsFake(async () => {
    // A slow describe widens the race window two concurrent deliveries would have without the lock.
    if (opts.describeDelayMs) await new Promise((r) => setTimeout(r, opts.describeDelayMs));
    return {
      AutoScalingGroups: [{
        AutoScalingGroupName: ASG,
        MinSize: group.min,
        MaxSize: group.max,
        DesiredCapacity: group.desired,
        Instances: group.instances.map((InstanceId) => ({ InstanceId, LifecycleState: "InService", HealthStatus: "Healthy", AvailabilityZone: "us-east-1a" })),
      }],
    };
  });
  asgMock.on(SetDesiredCapacityCommand).callsFake(async (input: { DesiredCapacity: number }) => {
    // The real API refuses a value outside min..max.
    if (input.DesiredCapacity > group.max || input.DesiredCapacity < group.min) throw new Error("ValidationError: New SetDesiredCapacity value is outside the bounds");
    while (group.instances.length < input.DesiredCapacity) group.instances.push(`i-new${++launched}`);
    group.desired = input.DesiredCapacity;
    return {};
  });
  asgMock.on(TerminateInstanceInAutoScalingGroupCommand).callsFake(async (input: { InstanceId: string; ShouldDecrementDesiredCapacity: boolean }) => {
    group.instances = group.instances.filter((i) => i !== input.InstanceId);
    if (input.ShouldDecrementDesiredCapacity) group.desired -= 1;
    return { Activity: { ActivityId: "a-1", AutoScalingGroupName: ASG, Cause: "terminate", StartTime: new Date(), StatusCode: "InProgress" } };
  });
  cwMock.on(SetAlarmStateCommand).resolves({});
  cwMock.on(DescribeAlarmsCommand).callsFake(async (input: { AlarmNames: string[] }) => ({
    MetricAlarms: input.AlarmNames.map((AlarmName) => ({ AlarmName, StateValue: liveAlarmStates[AlarmName] ?? "OK" })),
  }));
  snsMock.on(PublishCommand).resolves({ MessageId: "published-1" });
}

function setEnv(env: Record<string, string>): void {
  Object.assign(process.env, env);
}

let server: RedisServer;
let redis: Redis;
let stdout: jest.SpyInstance;

beforeAll(async () => {
  server = await startRedisServer();
  redis = connect(server.url);
});

afterAll(async () => {
  await closeController();
  redis?.disconnect();
  await server?.stop();
});

beforeEach(async () => {
  await closeController(); // rebuild the handler's dependencies from the env of this test
  await redis.flushall();
  setEnv({
    REDIS_URL: server.url,
    ASG_NAME: ASG,
    TOPIC_ARN: TOPIC,
    SMS_TOPIC_ARN: SMS_TOPIC,
    DEPLOYMENT: DEP,
    AWS_REGION: REGION,
    SCALING_STEP: "1",
    SCALE_OUT_COOLDOWN_SECONDS: "120",
    SCALE_IN_COOLDOWN_SECONDS: "300",
    DRAIN_WAIT_MS: "0",
  });
  group = { desired: 3, min: 2, max: 5, instances: ["i-0aaa", "i-0bbb", "i-0ccc"] };
  liveAlarmStates = {};
  mockAws();
  stdout = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
});

afterEach(() => stdout.mockRestore());

/** Parsed pino lines written so far. */
function logs(): Record<string, unknown>[] {
  return stdout.mock.calls.flatMap((c) => String(c[0]).split("\n").filter(Boolean)).map((l) => JSON.parse(l) as Record<string, unknown>);
}

const publishes = () => snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input);
/** Full notices on the alerts topic (email). */
const published = () => publishes().filter((p) => p.TopicArn === TOPIC);
/** One-line texts on the SMS topic. */
const texts = () => publishes().filter((p) => p.TopicArn === SMS_TOPIC).map((p) => p.Message);
const desiredCalls = () => asgMock.commandCalls(SetDesiredCapacityCommand).map((c) => c.args[0].input.DesiredCapacity ?? Number.NaN);

describe("scale out", () => {
  test("prod-cpu-high ALARM: +1, re-armed, audited, people told", async () => {
    const result = await handler(alarm("prod-cpu-high"));
    expect(result).toMatchObject({ processed: 1, skipped: 0, outcomes: [{ status: "applied", summary: "scale out 3 -> 4" }] });
    expect(group.desired).toBe(4);
    expect(asgMock.commandCalls(SetDesiredCapacityCommand)[0].args[0].input).toEqual({ AutoScalingGroupName: ASG, DesiredCapacity: 4, HonorCooldown: false });
    expect(cwMock.commandCalls(SetAlarmStateCommand).map((c) => c.args[0].input)).toEqual([
      { AlarmName: `${DEP}-prod-cpu-high`, StateValue: "OK", StateReason: REARM_REASON },
    ]);
    const [pub] = published();
    expect(pub).toMatchObject({ TopicArn: TOPIC, Subject: "Aviary: scaled out to 4", MessageAttributes: { origin: { DataType: "String", StringValue: "aviary-controller" } } });
    expect(pub.Message).toContain("from 3 to 4 instances");
    expect(pub.Message).toContain(REASONS["prod-cpu-high"]);

    const { events } = await readEvents(redis, { count: 10 });
    expect(events.map((e) => [e.kind, e.by, e.detail.action])).toEqual([["controller", "controller", "scaleOut"], ["controller", "controller", "rearm"]]);
    expect(events[0].detail).toMatchObject({ alarm: `${DEP}-prod-cpu-high`, from: "3", to: "4" });
    expect(await redis.hget(keys.controller, "lastScaleOutAt")).toMatch(/^\d{4}-/);
    const decision = logs().find((l) => l.msg === "decision");
    expect(decision).toMatchObject({ decision: "scale out 3 -> 4", evidence: { alarm: `${DEP}-prod-cpu-high`, fleet: { desired: 3, max: 5 } } });
  });

  test("a second ALARM inside the cooldown only re-arms; at max nothing is re-armed", async () => {
    await handler(alarm("prod-cpu-high", "ALARM", new Date(Date.now() - 2000)));
    await handler(alarm("prod-cpu-high"));
    expect(desiredCalls()).toEqual([4]);
    expect(cwMock.commandCalls(SetAlarmStateCommand)).toHaveLength(2);
    group.desired = 5;
    group.instances.push("i-0ddd");
    setEnv({ SCALE_OUT_COOLDOWN_SECONDS: "0" });
    await closeController();
    const r = await handler(alarm("prod-cpu-high", "ALARM", new Date(Date.now() + 1000)));
    expect(r.outcomes[0].summary).toBe("no scale-out: at max 5");
    expect(cwMock.commandCalls(SetAlarmStateCommand)).toHaveLength(2);
    expect(published().at(-1)?.Subject).toBe("Aviary: fleet at maximum");
  });
});

describe("idempotency and concurrency", () => {
  test("the same SNS message delivered twice acts once", async () => {
    const e = alarm("prod-cpu-high");
    const first = await handler(e);
    // Even with the controller's memory gone (no cooldown, no last-seen transition to compare),
    // the MessageId alone stops the second delivery.
    await redis.del(keys.controller);
    const second = await handler(e);
    expect(first.outcomes[0].status).toBe("applied");
    expect(second.outcomes[0]).toMatchObject({ status: "duplicate" });
    expect(desiredCalls()).toEqual([4]);
    expect(published()).toHaveLength(1);
    expect(await redis.get(keys.dedupe(e.Records[0].Sns.MessageId))).toBe("done");
    expect(await redis.ttl(keys.dedupe(e.Records[0].Sns.MessageId))).toBeGreaterThan(24 * 3600);
  });

  test("the same message delivered twice at the same time acts once", async () => {
    mockAws({ describeDelayMs: 30 });
    const e = alarm("prod-cpu-high");
    const results = await Promise.all([handler(e), handler(e)]);
    expect(results.map((r) => r.outcomes[0].status).sort()).toEqual(["applied", "duplicate"]);
    expect(desiredCalls()).toEqual([4]);
  });

  test("two concurrent deliveries never exceed max", async () => {
    setEnv({ SCALE_OUT_COOLDOWN_SECONDS: "0" });
    group.desired = 4;
    group.instances.push("i-0ddd");
    mockAws({ describeDelayMs: 30 });
    const now = Date.now();
    const results = await Promise.all([
      handler(alarm("prod-cpu-high", "ALARM", new Date(now - 1000))),
      handler(alarm("prod-cpu-high", "ALARM", new Date(now))),
    ]);
    expect(group.desired).toBe(5);
    expect(desiredCalls()).toEqual([5]);
    expect(results.flatMap((r) => r.outcomes.map((o) => o.summary)).sort()).toEqual(["no scale-out: at max 5", "scale out 4 -> 5"]);
    expect(await redis.exists(keys.controllerLock)).toBe(0);
  });

  test("ten concurrent distinct deliveries with no cooldown stop exactly at max", async () => {
    setEnv({ SCALE_OUT_COOLDOWN_SECONDS: "0" });
    mockAws({ describeDelayMs: 5 });
    const now = Date.now();
    await Promise.all(Array.from({ length: 10 }, (_, i) => handler(alarm("prod-cpu-high", "ALARM", new Date(now + i * 10)))));
    expect(group.desired).toBe(5);
    expect(Math.max(...desiredCalls())).toBe(5);
    expect(desiredCalls()).toEqual([4, 5]);
  });
});

describe("batches and failures", () => {
  test("a malformed record is logged with its MessageId and skipped; the others still run", async () => {
    await setCanaryWeight(redis, 20, { by: "test" });
    const bad = id();
    const result = await handler(event(
      record(id(), alarmMessage("prod-cpu-high", "ALARM", new Date())),
      record(bad, "{\"AlarmName\": \"half a message"),
      record(id(), JSON.stringify({ AlarmName: `${DEP}-prod-cpu-high`, NewStateValue: "BROKEN" })),
      record(id(), alarmMessage("canary-5xx-rate", "ALARM", new Date())),
    ));
    expect(result).toMatchObject({ processed: 2, skipped: 2 });
    expect(group.desired).toBe(4);
    expect((await readRouting(redis)).state?.canaryEnabled).toBe(false);
    expect(logs().find((l) => l.messageId === bad)).toMatchObject({ level: 50, msg: "skipped malformed record", err: expect.stringMatching(/not JSON/) });
  });

  test("an adapter failure rejects the invocation, keeps nothing committed, and the redelivery acts", async () => {
    asgMock.on(SetDesiredCapacityCommand).rejects(new Error("Throttling: Rate exceeded"));
    const e = alarm("prod-cpu-high");
    await expect(handler(e)).rejects.toThrow(new RegExp(e.Records[0].Sns.MessageId));
    const messageId = e.Records[0].Sns.MessageId;
    expect(await redis.exists(keys.dedupe(messageId))).toBe(0);
    expect(await redis.hget(keys.controller, "lastScaleOutAt")).toBeNull();
    expect(published()).toHaveLength(0);
    expect(await redis.exists(keys.controllerLock)).toBe(0);

    mockAws(); // the API recovers; SNS retries the same message
    const retry = await handler(e);
    expect(retry.outcomes[0]).toMatchObject({ status: "applied", summary: "scale out 3 -> 4" });
    expect(group.desired).toBe(4);
    expect(published()).toHaveLength(1);
  });

  test("a failed record fails the invocation with a typed error carrying the first failure as its cause", async () => {
    asgMock.on(SetDesiredCapacityCommand).rejects(new Error("Throttling: Rate exceeded"));
    const e = alarm("prod-cpu-high");
    const err = await handler(e).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RecordsFailedError);
    expect(err).toMatchObject({ code: "internal", message: `controller failed on message(s) ${e.Records[0].Sns.MessageId}; see logs` });
    expect((err as Error).cause).toMatchObject({ message: "Throttling: Rate exceeded" });
  });

  test("one failing record in a batch: the others are applied, then the invocation fails", async () => {
    snsMock.on(PublishCommand).rejectsOnce(new Error("SNS unavailable")).resolves({ MessageId: "p" });
    const first = record(id(), alarmMessage("prod-cpu-high", "ALARM", new Date()));
    const second = record(id(), alarmMessage("canary-5xx-rate", "ALARM", new Date()));
    await expect(handler(event(first, second))).rejects.toThrow(first.Sns.MessageId);
    expect((await readRouting(redis)).state?.canaryEnabled).toBe(false);
    expect(await redis.get(keys.dedupe(second.Sns.MessageId))).toBe("done");
    expect(await redis.exists(keys.dedupe(first.Sns.MessageId))).toBe(0);
    // The second record first delivered what the first still owed.
    expect(published().map((p) => p.Subject)).toEqual(["Aviary: scaled out to 4", "Aviary: scaled out to 4", "Aviary: canary disabled (canary-5xx-rate)"]);
    expect(await redis.hlen(keys.controllerFollowUps)).toBe(0);
  });

  test("notification fails after the step: the retry notifies without stepping again", async () => {
    snsMock.on(PublishCommand).rejects(new Error("KMSAccessDenied"));
    const e = alarm("prod-cpu-high");
    await expect(handler(e)).rejects.toThrow(e.Records[0].Sns.MessageId);
    expect(group.desired).toBe(4);
    expect(await redis.hlen(keys.controllerFollowUps)).toBe(1);

    snsMock.on(PublishCommand).resolves({ MessageId: "p" }); // SNS retries the same message
    const retry = await handler(e);
    expect(retry.outcomes[0].summary).toMatch(/stale or repeated/);
    expect(desiredCalls()).toEqual([4]);
    expect(published().map((p) => p.Subject)).toEqual(["Aviary: scaled out to 4", "Aviary: scaled out to 4"]); // failed once, then delivered
    // The failed attempt sent no SMS line (it failed before); the redelivery sends one.
    expect(texts()).toHaveLength(1);
    expect(await redis.hlen(keys.controllerFollowUps)).toBe(0);
    expect(await redis.get(keys.dedupe(e.Records[0].Sns.MessageId))).toBe("done");
  });

  test("re-arm fails after the step: the retry re-arms without stepping again", async () => {
    cwMock.on(SetAlarmStateCommand).rejectsOnce(new Error("Throttling"));
    const e = alarm("prod-cpu-high");
    await expect(handler(e)).rejects.toThrow();
    await handler(e);
    expect(desiredCalls()).toEqual([4]);
    expect(cwMock.commandCalls(SetAlarmStateCommand)).toHaveLength(2);
    expect(published()).toHaveLength(1);
  });

  test("another message's follow-ups that keep failing do not block new decisions; stale or garbage ones are dropped", async () => {
    const stuck = JSON.stringify({ savedAt: new Date().toISOString(), followUps: [{ type: "rearmAlarm", alarmName: "gone-prod-cpu-high", reason: "r" }] });
    const old = JSON.stringify({ savedAt: new Date(Date.now() - 25 * 3600 * 1000).toISOString(), followUps: [{ type: "notify", subject: "s", message: "m" }] });
    await redis.hset(keys.controllerFollowUps, { stuck, old, junk: "{not json" });
    cwMock.on(SetAlarmStateCommand, { AlarmName: "gone-prod-cpu-high" }).rejects(new Error("ResourceNotFound"));
    await setCanaryWeight(redis, 30, { by: "ops" });
    await handler(alarm("canary-5xx-rate"));
    expect((await readRouting(redis)).state?.canaryEnabled).toBe(false);
    expect(Object.keys(await redis.hgetall(keys.controllerFollowUps))).toEqual(["stuck"]);
    expect(published().map((p) => p.Subject)).toEqual(["Aviary: canary disabled (canary-5xx-rate)"]);
    expect(logs().some((l) => l.msg === "dropping follow-ups older than a day")).toBe(true);
    expect(logs().some((l) => l.msg === "ignoring invalid state in Redis")).toBe(true);
  });

  test("Redis down: the invocation fails (SNS retries), nothing is changed on AWS", async () => {
    await server.kill();
    try {
      await expect(handler(alarm("prod-cpu-high"))).rejects.toThrow();
      expect(desiredCalls()).toEqual([]);
      expect(published()).toHaveLength(0);
    } finally {
      await server.restart();
    }
    // Back up: the same warm handler reconnects and works again.
    expect((await handler(alarm("prod-cpu-high"))).outcomes[0]).toMatchObject({ status: "applied", summary: "scale out 3 -> 4" });
  });

  test("the controller's own notifications are skipped", async () => {
    const own = record(id(), "The controller raised the production fleet from 3 to 4 instances");
    own.Sns.MessageAttributes = { origin: { Type: "String", Value: "aviary-controller" } };
    const result = await handler(event(own));
    expect(result).toMatchObject({ processed: 0, skipped: 1 });
    expect(logs().some((l) => l.msg === "skipped malformed record")).toBe(false);
  });

  test.each(["OK", "INSUFFICIENT_DATA"] as AlarmState[])("%s transitions change nothing anywhere", async (state) => {
    for (const key of ["prod-cpu-high", "prod-cpu-low", "canary-5xx-rate"] as AlarmKey[]) await handler(alarm(key, state));
    expect(asgMock.commandCalls(SetDesiredCapacityCommand)).toHaveLength(0);
    expect(asgMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand)).toHaveLength(0);
    expect(cwMock.commandCalls(SetAlarmStateCommand)).toHaveLength(0);
    expect(published()).toHaveLength(0);
    expect((await readRouting(redis)).state?.canaryEnabled).toBe(true);
    expect(await redis.hget(keys.controller, `alarm:${DEP}-prod-cpu-high`)).toMatch(new RegExp(`^${state} `));
  });
});

describe("scale in", () => {
  async function registerFleet(): Promise<void> {
    for (const instance of ["i-0aaa", "i-0bbb", "i-0ccc"]) {
      await registerBackend(redis, { id: instance, role: "prod", address: "10.0.10.5:3000", version: "1.4.0", ttlSeconds: 60 });
      await new Promise((r) => setTimeout(r, 5)); // distinct registration times
    }
  }

  test("prod-cpu-low ALARM drains the newest instance in the proxy, then terminates it with the desired count", async () => {
    await registerFleet();
    let drainedWhenTerminated: boolean | undefined;
    asgMock.on(TerminateInstanceInAutoScalingGroupCommand).callsFake(async (input: { InstanceId: string; ShouldDecrementDesiredCapacity: boolean }) => {
      const { backends } = await listBackends(redis);
      drainedWhenTerminated = backends.find((b) => b.id === input.InstanceId)?.draining === true;
      group.instances = group.instances.filter((i) => i !== input.InstanceId);
      group.desired -= 1;
      return {};
    });
    const r = await handler(alarm("prod-cpu-low"));
    expect(r.outcomes[0].summary).toBe("scale in 3 -> 2 (remove i-0ccc)");
    expect(asgMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceId: "i-0ccc", ShouldDecrementDesiredCapacity: true },
    ]);
    expect(drainedWhenTerminated).toBe(true);
    expect(group.desired).toBe(2);
    expect(cwMock.commandCalls(DescribeAlarmsCommand)[0].args[0].input.AlarmNames).toEqual([`${DEP}-prod-cpu-high`]);
    expect(published()[0]).toMatchObject({ Subject: "Aviary: scaled in to 2" });
    const { events } = await readEvents(redis, { count: 10 });
    expect(events.map((e) => e.detail.cause ?? e.detail.action)).toEqual(["register", "register", "register", "drain", "scaleIn", "rearm"]);
  });

  test("an instance not yet registered counts as newest (it serves nothing yet)", async () => {
    await registerFleet();
    group.instances.splice(1, 0, "i-0new");
    group.desired = 4;
    const r = await handler(alarm("prod-cpu-low"));
    expect(r.outcomes[0].summary).toBe("scale in 4 -> 3 (remove i-0new)");
  });

  test("no scale-in while CloudWatch says the scale-out alarm is in ALARM", async () => {
    liveAlarmStates[`${DEP}-prod-cpu-high`] = "ALARM";
    const r = await handler(alarm("prod-cpu-low"));
    expect(r.outcomes[0].summary).toMatch(/scale-out alarm active/);
    expect(asgMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand)).toHaveLength(0);
    expect(cwMock.commandCalls(SetAlarmStateCommand)).toHaveLength(1);
  });

  test("at min nothing is removed", async () => {
    group = { desired: 2, min: 2, max: 5, instances: ["i-0aaa", "i-0bbb"] };
    const r = await handler(alarm("prod-cpu-low"));
    expect(r.outcomes[0].summary).toBe("no scale-in: at min 2");
    expect(asgMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand)).toHaveLength(0);
  });
});

describe("canary", () => {
  test.each(["canary-5xx-rate", "canary-p99-latency"] as AlarmKey[])("%s ALARM: canary disabled in Redis with the reason, weight kept, people told", async (key) => {
    await setCanaryWeight(redis, 30, { by: "ops" });
    await handler(alarm(key));
    const { state } = await readRouting(redis);
    expect(state).toMatchObject({ canaryWeight: 30, canaryEnabled: false, changedBy: "controller" });
    expect(state?.reason).toContain(`${DEP}-${key}`);
    expect(state?.reason).toContain(REASONS[key]);
    const [pub] = published();
    expect(pub.Subject).toBe(`Aviary: canary disabled (${key})`);
    expect(pub.Message).toContain(REASONS[key]);
    expect(pub.Message).toContain("weight (30%) is kept");
    const { events } = await readEvents(redis, { count: 1 });
    expect(events[0]).toMatchObject({ kind: "routing", by: "controller", detail: { cause: "disable", newEnabled: "false", newWeight: "30" } });
    // No fleet or alarm calls for a canary rollback.
    expect(asgMock.commandCalls(SetDesiredCapacityCommand)).toHaveLength(0);
    expect(cwMock.commandCalls(SetAlarmStateCommand)).toHaveLength(0);
  });

  test("the rollback does not depend on the Auto Scaling API", async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).rejects(new Error("ServiceUnavailable"));
    await setCanaryWeight(redis, 30, { by: "ops" });
    await handler(alarm("canary-5xx-rate"));
    expect((await readRouting(redis)).state?.canaryEnabled).toBe(false);
    expect(asgMock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(0);
  });

  test("the canary OK that follows never re-enables it", async () => {
    await setCanaryWeight(redis, 30, { by: "ops" });
    await handler(alarm("canary-5xx-rate", "ALARM", new Date(Date.now() - 1000)));
    await handler(alarm("canary-5xx-rate", "OK"));
    expect((await readRouting(redis)).state).toMatchObject({ canaryEnabled: false, canaryWeight: 30 });
  });
});

describe("configuration invocation", () => {
  test("sets the weight and re-enables; on destroy sets 0", async () => {
    await setCanaryWeight(redis, 10, { by: "ops" });
    await disableCanary(redis, { by: "controller", reason: "5xx" });
    const r = await handler({ action: "setCanaryWeight", weight: 40, appVersion: "1.5.0", tf: { action: "update" } });
    expect(r.outcomes[0]).toMatchObject({ status: "canaryWeight", summary: "canary weight set to 40 and enabled" });
    expect((await readRouting(redis)).state).toMatchObject({ canaryWeight: 40, canaryEnabled: true, changedBy: "controller" });
    expect(published()[0]).toMatchObject({ Subject: "Aviary: canary weight 40%" });

    await handler({ action: "setCanaryWeight", weight: 40, appVersion: "1.5.0", tf: { action: "delete" } });
    expect((await readRouting(redis)).state).toMatchObject({ canaryWeight: 0 });
  });

  test("weight and re-enable from off are one routing event (one write), with old and new weight and enabled", async () => {
    await setCanaryWeight(redis, 10, { by: "ops" });
    await disableCanary(redis, { by: "controller", reason: "5xx" });
    const before = (await readEvents(redis, { count: 10 })).events.length;
    await handler({ action: "setCanaryWeight", weight: 40, appVersion: "1.5.0", tf: { action: "update" } });
    const routing = (await readEvents(redis, { count: 10 })).events.slice(before).filter((e) => e.kind === "routing");
    expect(routing).toHaveLength(1);
    expect(routing[0]).toMatchObject({
      by: "controller",
      reason: "canary stack config: weight 40 (canary 1.5.0)",
      detail: { cause: "weight+enable", oldWeight: "10", newWeight: "40", oldEnabled: "false", newEnabled: "true" },
    });
  });

  test("an invalid invocation is rejected and writes nothing", async () => {
    await expect(handler({ action: "setCanaryWeight", weight: 300 })).rejects.toThrow(/weight/);
    await expect(handler({ action: "canaryOff", reason: "" })).rejects.toThrow(/reason/);
    await expect(handler(JSON.parse('{"action":"canaryOn"}'))).rejects.toThrow(/action/);
    expect(await redis.exists(keys.routing)).toBe(0);
  });

  test("canaryOff (the abort workflow) turns the canary off with the reason, keeps the weight, tells people", async () => {
    await setCanaryWeight(redis, 25, { by: "ops" });
    const r = await handler({ action: "canaryOff", reason: "abort workflow run 42 by alice: checkout errors" });
    expect(r).toEqual({ processed: 1, skipped: 0, outcomes: [{ messageId: "config", status: "canaryOff", summary: "canary turned off (weight kept)" }] });
    expect((await readRouting(redis)).state).toMatchObject({
      canaryWeight: 25,
      canaryEnabled: false,
      changedBy: "controller",
      reason: "manual abort: abort workflow run 42 by alice: checkout errors",
    });
    const { events } = await readEvents(redis, { count: 10 });
    expect(events.some((e) => e.kind === "routing" && e.reason === "manual abort: abort workflow run 42 by alice: checkout errors")).toBe(true);
    expect(published()).toEqual([expect.objectContaining({ Subject: "Aviary: canary turned off" })]);
    // A canary-stack deploy re-enables it, as after an alarm's rollback.
    await handler({ action: "setCanaryWeight", weight: 25, appVersion: "1.5.0", tf: { action: "update" } });
    expect((await readRouting(redis)).state).toMatchObject({ canaryWeight: 25, canaryEnabled: true });
  });
});

describe("SMS lines", () => {
  test("every applied alarm transition sends one line to the SMS topic, duplicates none", async () => {
    const scaleOut = alarm("prod-cpu-high");
    await handler(scaleOut);
    await handler(scaleOut); // SNS redelivers: a duplicate, nothing new to tell
    await handler(alarm("prod-cpu-high", "OK"));
    expect(texts()).toEqual([
      `Aviary ${DEP}-prod-cpu-high ALARM: scale out 3 -> 4`,
      `Aviary ${DEP}-prod-cpu-high OK: recorded OK: no action`,
    ]);
    for (const p of publishes().filter((x) => x.TopicArn === SMS_TOPIC)) {
      expect(p.Subject).toBeUndefined();
      expect(p.MessageAttributes).toEqual({ origin: { DataType: "String", StringValue: "aviary-controller" } });
    }
  });

  test("a canary rollback and a configuration change are texted too", async () => {
    await setCanaryWeight(redis, 20, { by: "test" });
    await handler(alarm("canary-5xx-rate"));
    await handler({ action: "setCanaryWeight", weight: 30, appVersion: "1.5.0" });
    expect(texts()).toEqual([
      `Aviary ${DEP}-canary-5xx-rate ALARM: disable canary (weight 20 kept)`,
      "Aviary: canary weight set to 30 and enabled",
    ]);
  });

  test("an SMS failure does not fail the applied decision (no redelivery of a done message)", async () => {
    snsMock.on(PublishCommand, { TopicArn: SMS_TOPIC }).rejects(new Error("SMS spending limit reached"));
    const e = alarm("prod-cpu-high");
    const result = await handler(e);
    expect(result.outcomes[0]).toMatchObject({ status: "applied", summary: "scale out 3 -> 4" });
    expect(texts()).toHaveLength(1); // attempted, rejected
    expect(published().map((p) => p.Subject)).toEqual(["Aviary: scaled out to 4"]);
    expect(await redis.get(keys.dedupe(e.Records[0].Sns.MessageId))).toBe("done");
  });
});

describe("concurrent executions (no reserved concurrency)", () => {
  test("two different alarms at once are both applied: the second waits for the lock instead of failing", async () => {
    await setCanaryWeight(redis, 20, { by: "test" });
    // The scale-out holds the lock while it describes the fleet; the rollback arrives meanwhile.
    mockAws({ describeDelayMs: 300 });
    const [scaleOut, rollback] = await Promise.all([
      handler(alarm("prod-cpu-high")),
      new Promise((r) => setTimeout(r, 20)).then(() => handler(alarm("canary-5xx-rate"))),
    ]);
    expect(scaleOut.outcomes[0]).toMatchObject({ status: "applied", summary: "scale out 3 -> 4" });
    expect(rollback.outcomes[0]).toMatchObject({ status: "applied", summary: "disable canary (weight 20 kept)" });
    expect(group.desired).toBe(4);
    expect((await readRouting(redis)).state).toMatchObject({ canaryEnabled: false, canaryWeight: 20 });
    expect(await redis.exists(keys.controllerLock)).toBe(0);
  });

  test("a waiter outlasts one holder's whole decision and still fits the timeout; the lock outlives a holder that timed out", () => {
    expect(worstCaseMs()).toBeLessThanOrEqual(FUNCTION_TIMEOUT_SECONDS * 1000);
    expect(LOCK_TTL_MS).toBeGreaterThan(FUNCTION_TIMEOUT_SECONDS * 1000);
    expect(LOCK_WAIT_MS).toBeGreaterThanOrEqual(MAX_DRAIN_WAIT_MS + API_CALLS_BUDGET_MS);
  });
});

describe("turning the canary off depends on nothing but the routing key", () => {
  /** The lines the handler logged about invalid state in Redis (the store's problems). */
  const problemLines = (): string[] => logs().filter((l) => l.msg === "ignoring invalid state in Redis").flatMap((l) => l.problems as string[]);

  async function rollBack(e: SnsEvent): Promise<void> {
    const result = await handler(e);
    expect(result.outcomes[0]).toMatchObject({ status: "applied", summary: "disable canary (weight 30 kept)" });
    expect((await readRouting(redis)).state).toMatchObject({ canaryEnabled: false, canaryWeight: 30, changedBy: "controller" });
    // The bookkeeping still happened: people told, the message done.
    expect(published().map((p) => p.Subject)).toEqual(["Aviary: canary disabled (canary-5xx-rate)"]);
    expect(await redis.get(keys.dedupe(e.Records[0].Sns.MessageId))).toBe("done");
  }

  const junk = "junk-".repeat(1000); // 5,000 bytes: only its size and a prefix may reach the log
  const plants: [family: string, key: (messageId: string) => string, plant: (key: string) => Promise<unknown>, reported: RegExp][] = [
    ["memory, a string", () => keys.controller, (k) => redis.set(k, junk), /^Redis key aviary:controller is a string of 5000 bytes starting "junk-junk-.*", expected a hash; repaired \(deleted\)$/],
    ["memory, a list", () => keys.controller, (k) => redis.rpush(k, "a", "b"), /^Redis key aviary:controller is a list of 2 items starting "a", expected a hash; repaired/],
    ["follow-ups, a string", () => keys.controllerFollowUps, (k) => redis.set(k, junk), /^Redis key aviary:controller:followups is a string of 5000 bytes starting "junk-.*", expected a hash; repaired/],
    ["follow-ups, a set", () => keys.controllerFollowUps, (k) => redis.sadd(k, "m"), /^Redis key aviary:controller:followups is a set of 1 member starting "m", expected a hash; repaired/],
    ["the message's dedupe marker, a hash", (m) => keys.dedupe(m), (k) => redis.hset(k, "f", "v"), /^Redis key aviary:dedupe:\S+ is a hash of 1 field starting "f", expected a "pending" or "done" marker .*; repaired \(replaced by this delivery's claim\)$/],
    ["the message's dedupe marker, a garbage string", (m) => keys.dedupe(m), (k) => redis.set(k, junk), /^Redis key aviary:dedupe:\S+ is a string of 5000 bytes starting "junk-.*", expected a "pending" or "done" marker/],
    ["the message's dedupe marker, pending forever", (m) => keys.dedupe(m), (k) => redis.set(k, "pending"), /^Redis key aviary:dedupe:\S+ is a string of 7 bytes starting "pending", expected a "pending" or "done" marker \(a string expiring/],
    ["the lock, a hash with a TTL", () => keys.controllerLock, (k) => redis.multi().hset(k, "f", "v").pexpire(k, 3_600_000).exec(), /^Redis key aviary:controller:lock is a hash of 1 field starting "f", expected a lock token .*; repaired \(deleted\)$/],
    ["the lock, a garbage string held for an hour", () => keys.controllerLock, (k) => redis.set(k, junk, "PX", 3_600_000), /^Redis key aviary:controller:lock is a string of 5000 bytes starting "junk-.*", expected a lock token/],
  ];

  test.each(plants)("%s: the canary is turned off, the key repaired and reported (size and prefix, never in full)", async (_family, keyOf, plant, reported) => {
    await setCanaryWeight(redis, 30, { by: "ops" });
    const e = alarm("canary-5xx-rate");
    const key = keyOf(e.Records[0].Sns.MessageId);
    await plant(key);
    await rollBack(e);
    const lines = problemLines();
    expect(lines).toContainEqual(expect.stringMatching(reported));
    expect(lines.join("\n")).not.toContain(junk.slice(0, 100));
    // Repaired: gone, or holding what the controller writes there.
    expect(["none", key === keys.dedupe(e.Records[0].Sns.MessageId) ? "string" : "hash"]).toContain(await redis.type(key));
    // Re-enabled by a deploy, the next rollback finds nothing to repair.
    await handler({ action: "setCanaryWeight", weight: 30 });
    stdout.mockClear();
    await handler(alarm("canary-5xx-rate"));
    expect((await readRouting(redis)).state?.canaryEnabled).toBe(false);
    expect(problemLines()).toEqual([]);
  });

  test("the canary is off at once even while a live holder keeps the lock; the bookkeeping follows once it is free", async () => {
    await setCanaryWeight(redis, 30, { by: "ops" });
    await redis.set(keys.controllerLock, "0123456789abcdef0123456789abcdef", "PX", 30_000);
    const running = handler(alarm("canary-5xx-rate"));
    const deadline = Date.now() + 15_000;
    while ((await readRouting(redis)).state?.canaryEnabled !== false && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((await readRouting(redis)).state?.canaryEnabled).toBe(false);
    expect(published()).toHaveLength(0); // the notice waits for the lock
    await redis.del(keys.controllerLock);
    expect((await running).outcomes[0]).toMatchObject({ status: "applied", summary: "disable canary (weight 30 kept)" });
    expect(published().map((p) => p.Subject)).toEqual(["Aviary: canary disabled (canary-5xx-rate)"]);
    const { events } = await readEvents(redis, { count: 10 });
    expect(events.filter((e) => e.detail.cause === "disable")).toHaveLength(1); // turned off once, not again under the lock
  });

  test("a redelivery after an attempt died right after turning the canary off still tells people, once", async () => {
    await setCanaryWeight(redis, 30, { by: "ops" });
    // What the dead attempt left: the canary off with this alarm's reason; no marker, memory or follow-ups.
    await disableCanary(redis, { by: "controller", reason: `${DEP}-canary-5xx-rate: ${REASONS["canary-5xx-rate"]}` });
    const result = await handler(alarm("canary-5xx-rate"));
    expect(result.outcomes[0]).toMatchObject({ status: "applied", summary: "disable canary (weight 30 kept)" });
    expect(published().map((p) => p.Subject)).toEqual(["Aviary: canary disabled (canary-5xx-rate)"]);
    // A canary someone else turned off is not reported as this alarm's rollback.
    await disableCanary(redis, { by: "ops", reason: "maintenance" });
    expect((await handler(alarm("canary-5xx-rate"))).outcomes[0]).toMatchObject({ summary: "canary already disabled" });
  });

  test("a retry after the notice failed delivers the saved notice once, not a second one", async () => {
    await setCanaryWeight(redis, 30, { by: "ops" });
    snsMock.on(PublishCommand).rejectsOnce(new Error("SNS unavailable")).resolves({ MessageId: "p" });
    const e = alarm("canary-5xx-rate");
    await expect(handler(e)).rejects.toThrow(e.Records[0].Sns.MessageId);
    expect((await readRouting(redis)).state?.canaryEnabled).toBe(false);
    await handler(e);
    // Attempted and rejected once, then delivered once.
    expect(published().map((p) => p.Subject)).toEqual(["Aviary: canary disabled (canary-5xx-rate)", "Aviary: canary disabled (canary-5xx-rate)"]);
  });

  test("a duplicate of a done rollback does not turn a canary a person re-enabled off again", async () => {
    await setCanaryWeight(redis, 30, { by: "ops" });
    const e = alarm("canary-5xx-rate");
    await handler(e);
    await handler({ action: "setCanaryWeight", weight: 30 });
    expect((await handler(e)).outcomes[0]).toMatchObject({ status: "duplicate" });
    expect((await readRouting(redis)).state?.canaryEnabled).toBe(true);
  });

  test("a 1,023-character NewStateReason (CloudWatch's maximum) turns the canary off with the reason cut to fit", async () => {
    await setCanaryWeight(redis, 30, { by: "ops" });
    const long = `Threshold Crossed: ${"12.5 (24/11/26 09:59:50), ".repeat(37)}`.padEnd(1023, "x");
    expect(long).toHaveLength(1023);
    const message = { ...JSON.parse(alarmMessage("canary-5xx-rate", "ALARM", new Date())), NewStateReason: long };
    const result = await handler(event(record(id(), JSON.stringify(message))));
    expect(result.outcomes[0]).toMatchObject({ status: "applied", summary: "disable canary (weight 30 kept)" });
    const { state } = await readRouting(redis);
    expect(state?.canaryEnabled).toBe(false);
    const full = `${DEP}-canary-5xx-rate: ${long}`;
    expect(state?.reason).toHaveLength(MAX_REASON);
    expect(state?.reason).toMatch(new RegExp(`^${DEP}-canary-5xx-rate: Threshold Crossed: 12\\.5 .*… \\[cut from ${full.length} characters\\]$`));
    // People still get the whole reason in the notice.
    expect(published()[0].Message).toContain(long);
  });

  test("an abort with a 1,200-character reason turns the canary off with the reason cut to fit", async () => {
    await setCanaryWeight(redis, 25, { by: "ops" });
    const reason = `abort workflow run 42 by alice: ${"checkout errors after the 1.5.0 rollout; ".repeat(40)}`.slice(0, 1200);
    const r = await handler({ action: "canaryOff", reason });
    expect(r.outcomes[0]).toMatchObject({ status: "canaryOff", summary: "canary turned off (weight kept)" });
    const { state } = await readRouting(redis);
    expect(state).toMatchObject({ canaryEnabled: false, canaryWeight: 25 });
    expect(state?.reason).toHaveLength(MAX_REASON);
    expect(state?.reason).toMatch(/^manual abort: abort workflow run 42 by alice: checkout errors .*… \[cut from 1214 characters\]$/);
  });
});

describe("an agent's judge abort reaches subscribers through the controller", () => {
  /** A rollout at step 1 at weight 5, the canary on; then proxy-a's judge fails it (as the agent does). */
  async function judgeAborted(): Promise<void> {
    const r = rolloutState();
    await writeRollout(redis, r, { weight: 5, enabled: true }, { by: "controller", reason: "started", expectRevision: null });
    const done = await abortByJudge(redis, { rolloutId: r.id, step: 0, result: failing(0, "agent proxy-a") }, { by: "agent proxy-a" });
    expect(done).toMatchObject({ turnedOff: true, aborted: true });
  }

  test("the canary-judge-abort alarm: one notice naming the rollout, the proxy that judged and its numbers", async () => {
    await judgeAborted();
    const result = await handler(alarm("canary-judge-abort"));
    expect(result.outcomes[0]).toMatchObject({ status: "applied", actions: ["notify"] });
    const notices = published();
    expect(notices.map((p) => p.Subject)).toEqual(["Aviary: canary turned off by the judge, rollout aborted (2.0.0)"]);
    expect(notices[0].Message).toContain("The canary judge in agent proxy-a failed the canary");
    expect(notices[0].Message).toContain(`rollout ${rolloutState().id} is aborted at step 1 of 3 (weight 5%)`);
    expect(notices[0].Message).toContain(judgementReason(failing(0).judgement));
    // Nothing else moved: the canary stays off, the rollout as the judge left it.
    expect((await readRouting(redis)).state).toMatchObject({ canaryEnabled: false, canaryWeight: 5 });
    expect((await readRollout(redis)).state).toMatchObject({ status: "aborted", updatedBy: "agent proxy-a" });
  });

  test("SNS delivering the alarm twice, and a second proxy aborting the same rollout: still one notice", async () => {
    await judgeAborted();
    const first = alarm("canary-judge-abort", "ALARM", new Date(Date.now() - 60_000));
    await handler(first);
    expect((await handler(first)).outcomes[0]).toMatchObject({ status: "duplicate" });
    // proxy-b's judge fails the same step too: the canary is off already, its alarm goes off again.
    await abortByJudge(redis, { rolloutId: rolloutState().id, step: 0, result: failing(0, "agent proxy-b") }, { by: "agent proxy-b" });
    await handler(alarm("canary-judge-abort", "OK", new Date(Date.now() - 30_000)));
    const again = await handler(alarm("canary-judge-abort"));
    expect(again.outcomes[0]).toMatchObject({ status: "applied", actions: [], summary: expect.stringMatching(/notified already/) });
    expect(published().map((p) => p.Subject)).toEqual(["Aviary: canary turned off by the judge, rollout aborted (2.0.0)"]);
  });

  test("the abort of the next rollout is told again", async () => {
    await judgeAborted();
    await handler(alarm("canary-judge-abort", "ALARM", new Date(Date.now() - 60_000)));
    const stored = (await readRollout(redis)).state!;
    const next = rolloutState({ id: "2.0.1@2026-12-01T11:00:00.000Z", appVersion: "2.0.1" });
    await writeRollout(redis, next, { weight: 5, enabled: true }, { by: "controller", reason: "started", expectRevision: stored.revision });
    await abortByJudge(redis, { rolloutId: next.id, step: 0, result: failing(0, "agent proxy-b") }, { by: "agent proxy-b" });
    await handler(alarm("canary-judge-abort", "OK", new Date(Date.now() - 30_000)));
    await handler(alarm("canary-judge-abort"));
    const notices = published();
    expect(notices.map((p) => p.Subject)).toEqual(["Aviary: canary turned off by the judge, rollout aborted (2.0.0)", "Aviary: canary turned off by the judge, rollout aborted (2.0.1)"]);
    expect(notices[1].Message).toContain(`agent proxy-b failed the canary`);
  });
});
