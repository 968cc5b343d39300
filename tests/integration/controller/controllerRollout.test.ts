// The controller Lambda's rollout handling end to end: lambda/handler.ts over a real redis-server,
// the AWS SDK clients (Scheduler, SSM, SNS) mocked at the wire with aws-sdk-client-mock and GitHub's
// API at fetch; the judge and the decisions are the real ones.
import { CreateScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import type Redis from "ioredis";
import { RedisControllerStore } from "../../../adapters/store/redis";
import { cliRolloutDeps } from "../../../cli/rollout";
import { handleRollout } from "../../../controller/run";
import { DEFAULT_ANALYSIS } from "../../../core/rollout/judge";
import type { RolloutPlan } from "../../../core/rollout/model";
import { closeController, handler, type SnsEvent } from "../../../lambda/handler";
import { canaryInvocation } from "../../../lambda/canaryWeightInvocation";
import { keys } from "../../../state/keys";
import { readRollout, recordWindow } from "../../../state/rollout";
import { readRouting, setCanaryWeight } from "../../../state/routing";
import { roleWindow, window } from "../../support/rolloutFixtures";
import { useRedis } from "../../support/useRedis";

jest.setTimeout(60_000);

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:aviary-prod-controller`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/controller-rollout-invoke`;
const TOKEN_PARAMETER = "/aviary/prod/controller-promote/promote-token";

const schedulerMock = mockClient(SchedulerClient);
const ssmMock = mockClient(SSMClient);
const snsMock = mockClient(SNSClient);

const db = useRedis();
let redis: Redis;
let fetchSpy: jest.SpyInstance;
let stdout: jest.SpyInstance;

const plan = (over: Partial<RolloutPlan> = {}): RolloutPlan => ({
  steps: [{ weight: 5, pauseSeconds: 1 }, { weight: 25, pauseSeconds: 1 }],
  analysis: DEFAULT_ANALYSIS,
  autoPromote: false,
  ...over,
});
const start = (p: RolloutPlan, appVersion = "2.0.0", tf: "create" | "update" | "delete" = "create") =>
  handler({ ...canaryInvocation(5, appVersion, p), tf: { action: tf } } as Parameters<typeof handler>[0]);
const invoke = (event: unknown) => handler(event as Parameters<typeof handler>[0]);
const stored = async () => (await readRollout(redis)).state!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Every proxy's window for the current step: enough clean traffic on both sides for a pass. */
const cleanWindows = async (step: number) => {
  const r = await stored();
  await recordWindow(redis, r.id, step, r.stepStartedAt, "proxy-1", window(roleWindow(40_000, 0), roleWindow(40_000, 0)));
  await recordWindow(redis, r.id, step, r.stepStartedAt, "proxy-2", window(roleWindow(40_000, 0), roleWindow(40_000, 0)));
};
const schedules = () => schedulerMock.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input);
const notices = () => snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject).filter(Boolean);
const texts = () => snsMock.commandCalls(PublishCommand).filter((c) => c.args[0].input.TopicArn === process.env.SMS_TOPIC_ARN).map((c) => c.args[0].input.Message);
/** What the heartbeat schedule sends (components/controllerHeartbeat.ts). */
const heartbeat = () => invoke({ action: "rolloutTick" });
/** The controller's log lines written while `run` runs. */
const logLines = async (run: () => Promise<unknown>): Promise<{ level: number; msg: string }[]> => {
  const from = stdout.mock.calls.length;
  await run();
  return stdout.mock.calls.slice(from).map((c) => JSON.parse(String(c[0])));
};

afterAll(() => closeController());

beforeEach(async () => {
  await closeController();
  redis = db.redis;
  Object.assign(process.env, {
    REDIS_URL: db.server.url,
    ASG_NAME: "aviary-prod-asg",
    TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:aviary-prod-alerts`,
    SMS_TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:aviary-prod-sms`,
    DEPLOYMENT: "aviary-prod",
    AWS_REGION: REGION,
    SCHEDULE_GROUP: "aviary-prod-controller",
    FUNCTION_ARN,
    SCHEDULER_ROLE_ARN: ROLE_ARN,
    PROMOTE_REPOSITORY: "acme/aviary",
    PROMOTE_REF: "main",
    PROMOTE_TOKEN_PARAMETER: TOKEN_PARAMETER,
  });
  schedulerMock.reset();
  ssmMock.reset();
  snsMock.reset();
  schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: "arn:schedule" });
  ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: "github_pat_from_ssm" } });
  snsMock.on(PublishCommand).resolves({ MessageId: "m-1" });
  fetchSpy = jest.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(null, { status: 204 }));
  stdout = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
});

afterEach(() => {
  fetchSpy.mockRestore();
  stdout.mockRestore();
});

test("the canary stack's start: step 1's weight on, the rollout stored, a one-time schedule that ticks this rollout when the pause ends", async () => {
  const out = await start(plan());
  expect(out.outcomes[0]).toMatchObject({ status: "rollout", summary: expect.stringContaining("started at weight 5") });
  const r = await stored();
  expect(r).toMatchObject({ appVersion: "2.0.0", status: "progressing", step: 0 });
  expect((await readRouting(redis)).state).toMatchObject({ canaryWeight: 5, canaryEnabled: true });
  expect(schedules()).toEqual([expect.objectContaining({
    GroupName: "aviary-prod-controller",
    ActionAfterCompletion: "DELETE",
    FlexibleTimeWindow: { Mode: "OFF" },
    ScheduleExpression: expect.stringMatching(/^at\(\d{4}-\d\d-\d\dT\d\d:\d\d:00\)$/),
    Target: { Arn: FUNCTION_ARN, RoleArn: ROLE_ARN, Input: JSON.stringify({ action: "rolloutTick", rolloutId: r.id }) },
  })]);
  expect(notices()).toEqual(["Aviary: rollout of 2.0.0 started"]);
});

test("a redeploy of the version rolling out keeps it; a new version replaces it", async () => {
  await start(plan());
  const first = await stored();
  const again = await start(plan(), "2.0.0", "update");
  expect(again.outcomes[0].summary).toBe(`rollout ${first.id} of 2.0.0 is progressing; kept as it is`);
  expect(await stored()).toEqual(first);
  await sleep(5);
  await start(plan(), "2.0.1", "update");
  expect(await stored()).toMatchObject({ appVersion: "2.0.1", status: "progressing", revision: first.revision + 1 });
});

test("ticks: early re-schedules, stale is ignored, at the step's end the summed windows are judged and a pass moves to the next step", async () => {
  await start(plan());
  const r = await stored();
  await invoke({ action: "rolloutTick", rolloutId: r.id });
  expect((await stored()).revision).toBe(r.revision);
  expect(schedules()).toHaveLength(2);
  const stale = await invoke({ action: "rolloutTick", rolloutId: "1.9.0@2026-11-30T10:00:00.000Z" });
  expect(stale.outcomes[0].summary).toBe(`tick for rollout 1.9.0@2026-11-30T10:00:00.000Z ignored: rollout ${r.id} is stored`);

  await cleanWindows(0);
  await sleep(1100);
  await invoke({ action: "rolloutTick", rolloutId: r.id });
  const after = await stored();
  expect(after).toMatchObject({ status: "progressing", step: 1, revision: r.revision + 1 });
  expect(after.results).toEqual([expect.objectContaining({ step: 0, verdict: "pass", judgedBy: "controller" })]);
  // The judge saw both proxies' windows, summed.
  expect(after.results[0].judgement.errorRate.canary.requests).toBe(80_000);
  expect((await readRouting(redis)).state).toMatchObject({ canaryWeight: 25, canaryEnabled: true });
  expect(schedules()).toHaveLength(3);
});

test("a resumed step is judged at its end on the windows of its new run only, not on those from before the pause", async () => {
  await start(plan());
  const before = await stored();
  // A proxy saw a bad first run of the step (and was replaced before the resume, so its window stays).
  await recordWindow(redis, before.id, 0, before.stepStartedAt, "proxy-gone", window(roleWindow(40_000, 4_000), roleWindow(40_000, 0)));
  await invoke({ action: "rolloutCommand", command: { do: "pause", reason: "looking" }, by: "alice" });
  await sleep(5);
  await invoke({ action: "rolloutCommand", command: { do: "resume" }, by: "alice" });
  const resumed = await stored();
  expect(resumed.stepStartedAt).not.toBe(before.stepStartedAt);
  await cleanWindows(0);
  await sleep(1100);
  await invoke({ action: "rolloutTick", rolloutId: resumed.id });
  const after = await stored();
  expect(after).toMatchObject({ status: "progressing", step: 1 });
  expect(after.results).toEqual([expect.objectContaining({ step: 0, verdict: "pass", judgedBy: "controller" })]);
  expect(after.results[0].judgement.errorRate.canary).toMatchObject({ requests: 80_000, errors5xx: 0 });
});

test("no traffic in the step: inconclusive pauses the rollout with the numbers; a person resumes it", async () => {
  await start(plan());
  const r = await stored();
  await sleep(1100);
  await invoke({ action: "rolloutTick", rolloutId: r.id });
  expect(await stored()).toMatchObject({ status: "paused", reason: expect.stringContaining("inconclusive") });
  await invoke({ action: "rolloutCommand", command: { do: "resume" }, by: "alice" });
  expect(await stored()).toMatchObject({ status: "progressing", reason: expect.stringContaining("alice") });
});

test("a person's abort: the canary off (weight kept), the rollout aborted with the reason, subscribers told; without waiting for the lock", async () => {
  await start(plan());
  // A stuck controller holding the lock must not keep the canary on.
  await redis.set(keys.controllerLock, "someone-else", "PX", 60_000);
  await invoke({ action: "rolloutCommand", command: { do: "abort", reason: "checkout errors" }, by: "bob" });
  expect(await stored()).toMatchObject({ status: "aborted", reason: expect.stringContaining("checkout errors") });
  expect((await readRouting(redis)).state).toMatchObject({ canaryWeight: 5, canaryEnabled: false });
  expect(notices()).toContain("Aviary: rollout of 2.0.0 aborted");
});

test("autoPromote: after the last step passes, the promote workflow is dispatched with the token from SSM, then the rollout is promoted", async () => {
  await start(plan({ steps: [{ weight: 10, pauseSeconds: 1 }], autoPromote: true }));
  const r = await stored();
  await cleanWindows(0);
  await sleep(1100);
  await invoke({ action: "rolloutTick", rolloutId: r.id });
  expect(await stored()).toMatchObject({ status: "promoted" });
  expect(ssmMock.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([{ Name: TOKEN_PARAMETER, WithDecryption: true }]);
  expect(fetchSpy).toHaveBeenCalledTimes(1);
  const [url, init] = fetchSpy.mock.calls[0] as [string, RequestInit];
  expect(url).toBe("https://api.github.com/repos/acme/aviary/actions/workflows/promote.yml/dispatches");
  expect(JSON.parse(String(init.body))).toEqual({ ref: "main", inputs: { appVersion: "2.0.0", rolloutId: r.id } });
  expect((init.headers as Record<string, string>).Authorization).toBe("Bearer github_pat_from_ssm");
});

test("a failed dispatch writes nothing: the tick fails (and is retried), the rollout stays where it was", async () => {
  fetchSpy.mockImplementation(async () => new Response(JSON.stringify({ message: "Bad credentials" }), { status: 401 }));
  await start(plan({ steps: [{ weight: 10, pauseSeconds: 1 }], autoPromote: true }));
  const r = await stored();
  await cleanWindows(0);
  await sleep(1100);
  await expect(invoke({ action: "rolloutTick", rolloutId: r.id })).rejects.toThrow(/HTTP 401/);
  expect(await stored()).toEqual(r);
});

test("a canary alarm's rollback during a rollout aborts it in the same write", async () => {
  await start(plan());
  const now = new Date();
  const message = JSON.stringify({
    AlarmName: "aviary-prod-canary-5xx-rate", NewStateValue: "ALARM", OldStateValue: "OK",
    NewStateReason: "Threshold Crossed: 2 out of the last 2 datapoints were greater than or equal to the threshold (5.0)",
    StateChangeTime: now.toISOString().replace("Z", "+0000"), AlarmArn: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:aviary-prod-canary-5xx-rate`,
  });
  const sns: SnsEvent = { Records: [{ EventSource: "aws:sns", Sns: { MessageId: "m-alarm-1", Message: message, MessageAttributes: {} } }] };
  await handler(sns);
  expect(await stored()).toMatchObject({ status: "aborted", reason: expect.stringContaining("canary alarm") });
  expect((await readRouting(redis)).state).toMatchObject({ canaryEnabled: false });
});

test("pulumi destroy of the canary stack: an active rollout is aborted and the canary drained to 0", async () => {
  await start(plan());
  await start(plan(), "2.0.0", "delete");
  expect(await stored()).toMatchObject({ status: "aborted", reason: expect.stringContaining("canary stack destroyed") });
  expect((await readRouting(redis)).state).toMatchObject({ canaryWeight: 0 });
});

test("garbage in aviary:rollout: a tick moves nothing; an abort still turns the canary off", async () => {
  await setCanaryWeight(redis, 20, { by: "test" });
  await redis.set(keys.rollout, "{not json");
  await expect(invoke({ action: "rolloutTick", rolloutId: "2.0.0@2026-12-01T10:00:00.000Z" })).rejects.toThrow(/unreadable/);
  expect((await readRouting(redis)).state).toMatchObject({ canaryWeight: 20, canaryEnabled: true });
  await invoke({ action: "rolloutCommand", command: { do: "abort", reason: "stop it" } });
  expect((await readRouting(redis)).state).toMatchObject({ canaryWeight: 20, canaryEnabled: false });
  expect(await redis.get(keys.rollout)).toBe("{not json");
});

test("without aviary:promote on the prod stack, a requested promotion is not started: the tick drops it and tells subscribers how to promote", async () => {
  delete process.env.PROMOTE_REPOSITORY;
  delete process.env.PROMOTE_TOKEN_PARAMETER;
  await closeController();
  await start(plan());
  const r = await stored();
  await invoke({ action: "rolloutCommand", command: { do: "promote" }, by: "carol" });
  await invoke({ action: "rolloutTick", rolloutId: r.id });
  expect(await stored()).toMatchObject({ status: "progressing", reason: expect.stringContaining("the prod stack has no aviary:promote") });
  expect((await stored()).promoteRequested).toBeUndefined();
  expect(notices()).toContain("Aviary: rollout of 2.0.0: promotion not started");
  expect(fetchSpy).not.toHaveBeenCalled();
});

describe("the heartbeat (a tick naming no rollout, every minute)", () => {
  test("with no rollout it is cheap and quiet: nothing logged at info or above, no write, no schedule, nothing published", async () => {
    await heartbeat(); // the first invocation connects
    const events = await redis.xlen(keys.events);
    const lines = await logLines(heartbeat);
    expect(lines.filter((l) => l.level >= 30)).toEqual([]);
    expect(await redis.get(keys.rollout)).toBeNull();
    expect(await redis.xlen(keys.events)).toBe(events);
    expect(schedules()).toEqual([]);
    expect(snsMock.commandCalls(PublishCommand)).toEqual([]);
  });

  test("during a step's pause it re-schedules the step's end and texts nobody", async () => {
    await start(plan({ steps: [{ weight: 5, pauseSeconds: 600 }] }));
    const r = await stored();
    const published = snsMock.commandCalls(PublishCommand).length;
    const lines = await logLines(heartbeat);
    expect(lines.filter((l) => l.level >= 30)).toEqual([expect.objectContaining({ level: 30, msg: "rollout decision" })]);
    expect(await stored()).toEqual(r);
    // The same wake-up as the start's (same rollout and minute): Scheduler answers ConflictException for a second one.
    expect(schedules().map((x) => x.Name)).toEqual([schedules()[0].Name, schedules()[0].Name]);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(published);
  });

  test("a step's end is judged by the heartbeat when its one-time schedule is lost, and that move is texted", async () => {
    await start(plan());
    await cleanWindows(0);
    await sleep(1100);
    const out = await heartbeat();
    expect(await stored()).toMatchObject({ status: "progressing", step: 1 });
    expect(texts()).toContainEqual(expect.stringContaining(out.outcomes[0].summary));
  });

  test("a promotion asked from the CLI (a Redis write, no AWS credentials) is carried out by the next heartbeat", async () => {
    await start(plan());
    const cli = cliRolloutDeps(new RedisControllerStore(redis, "alice", { ttlMs: 5_000, waitMs: 1_000 }), () => undefined);
    await handleRollout(cli, { do: "promote" }, { by: "alice" });
    expect(await stored()).toMatchObject({ status: "progressing", promoteRequested: { by: "alice" } });
    expect(fetchSpy).not.toHaveBeenCalled();

    await heartbeat();
    expect(await stored()).toMatchObject({ status: "promoted", reason: expect.stringContaining("alice") });
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    expect(notices()).toContain("Aviary: rollout of 2.0.0 promoted");
  });
});

describe("a rollout command through the Lambda (aws lambda invoke) is followed by a tick in the same invocation", () => {
  test("promote: the workflow is dispatched and the rollout promoted before the invocation returns", async () => {
    await start(plan());
    const r = await stored();
    const out = await invoke({ action: "rolloutCommand", command: { do: "promote" }, by: "carol" });
    expect(await stored()).toMatchObject({ status: "promoted" });
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    expect(JSON.parse(String((fetchSpy.mock.calls[0] as [string, RequestInit])[1].body)).inputs).toEqual({ appVersion: "2.0.0", rolloutId: r.id });
    expect(out.outcomes[0].summary).toBe(`rollout ${r.id}: promotion requested by carol; rollout ${r.id} promoted (asked by carol)`);
  });

  test("resume: one wake-up for the resumed step's end (the tick asks again for the same schedule), and the one text is the command's", async () => {
    await start(plan({ steps: [{ weight: 5, pauseSeconds: 600 }] }));
    const r = await stored();
    await invoke({ action: "rolloutCommand", command: { do: "pause", reason: "look at the logs" }, by: "alice" });
    expect(await stored()).toMatchObject({ status: "paused" });
    const scheduled = schedules().length;
    const sent = texts().length;
    const out = await invoke({ action: "rolloutCommand", command: { do: "resume" }, by: "alice" });
    expect(await stored()).toMatchObject({ status: "progressing" });
    const wakeUps = schedules().slice(scheduled);
    expect(wakeUps.length).toBeGreaterThan(0);
    expect(new Set(wakeUps.map((w) => w.Name)).size).toBe(1);
    expect(wakeUps[0].Target!.Input).toBe(JSON.stringify({ action: "rolloutTick", rolloutId: r.id }));
    expect(texts().slice(sent)).toEqual([expect.stringContaining(out.outcomes[0].summary)]);
  });

  test("a failed tick after the command does not undo or fail it: the command stands and the summary says the heartbeat ticks again", async () => {
    fetchSpy.mockImplementation(async () => new Response(JSON.stringify({ message: "Bad credentials" }), { status: 401 }));
    await start(plan());
    const out = await invoke({ action: "rolloutCommand", command: { do: "promote" }, by: "carol" });
    expect(out.outcomes[0].summary).toMatch(/promotion requested by carol; the tick that carries it out failed \(.*401.*\); the heartbeat ticks again within a minute/);
    expect(await stored()).toMatchObject({ status: "progressing", promoteRequested: { by: "carol" } });
  });
});
