// The Scheduler port's adapters: EventBridge Scheduler (SDK mocked at its boundary) and local timers.
import { ConflictException, CreateScheduleCommand, SchedulerClient, ValidationException } from "@aws-sdk/client-scheduler";
import { mockClient } from "aws-sdk-client-mock";
import { AwsScheduler } from "../../../adapters/scheduler/aws";
import { LocalScheduler } from "../../../adapters/scheduler/local";
import { InvalidInputError } from "../../../core/errors";

const target = { groupName: "aviary-prod-controller", functionArn: "arn:aws:lambda:us-east-1:123456789012:function:aviary-prod-controller", roleArn: "arn:aws:iam::123456789012:role/scheduler-invoke" };
const now = new Date("2026-12-01T16:00:00.000Z");
const rolloutId = "1.4.2@2026-12-01T15:58:00.000Z";

describe("AwsScheduler", () => {
  const sdk = mockClient(SchedulerClient);
  beforeEach(() => sdk.reset());
  afterAll(() => sdk.restore());
  const scheduler = () => new AwsScheduler(new SchedulerClient({ region: "us-east-1" }), target, () => now);

  test("one one-time schedule in the controller's group: UTC at() on the minute after the pause ends, no window, deleted after it fires, the tick as input", async () => {
    sdk.on(CreateScheduleCommand).resolves({ ScheduleArn: "arn:x" });
    await scheduler().wakeAt(rolloutId, "2026-12-01T16:02:30.000Z");
    const calls = sdk.commandCalls(CreateScheduleCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input;
    expect(input).toEqual({
      Name: expect.stringMatching(/^rollout-[0-9a-f]{16}-20261201T1603$/),
      GroupName: "aviary-prod-controller",
      ScheduleExpression: "at(2026-12-01T16:03:00)",
      ScheduleExpressionTimezone: "UTC",
      FlexibleTimeWindow: { Mode: "OFF" },
      ActionAfterCompletion: "DELETE",
      Description: expect.stringContaining(rolloutId),
      Target: { Arn: target.functionArn, RoleArn: target.roleArn, Input: JSON.stringify({ action: "rolloutTick", rolloutId }) },
    });
  });

  test("the same wake-up twice is one schedule: the second CreateSchedule's ConflictException means already scheduled", async () => {
    sdk.on(CreateScheduleCommand).resolvesOnce({ ScheduleArn: "arn:x" }).rejects(new ConflictException({ message: "exists", Message: "exists", $metadata: {} }));
    await scheduler().wakeAt(rolloutId, "2026-12-01T16:02:30.000Z");
    await expect(scheduler().wakeAt(rolloutId, "2026-12-01T16:02:30.000Z")).resolves.toBeUndefined();
    const names = sdk.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input.Name);
    expect(names[0]).toBe(names[1]);
  });

  test("any other failure is the caller's (the decision is retried)", async () => {
    sdk.on(CreateScheduleCommand).rejects(new ValidationException({ message: "bad", Message: "bad", $metadata: {} }));
    await expect(scheduler().wakeAt(rolloutId, "2026-12-01T16:02:30.000Z")).rejects.toBeInstanceOf(ValidationException);
  });

  test("a wake-up time that is not a time is refused before any call", async () => {
    await expect(scheduler().wakeAt(rolloutId, "soon")).rejects.toBeInstanceOf(InvalidInputError);
    expect(sdk.commandCalls(CreateScheduleCommand)).toHaveLength(0);
  });
});

describe("LocalScheduler", () => {
  beforeEach(() => jest.useFakeTimers({ now }));
  afterEach(() => jest.useRealTimers());

  test("ticks the rollout when its time comes, once per (rollout, time)", async () => {
    const ticks: string[] = [];
    const local = new LocalScheduler(async (id) => { ticks.push(id); });
    await local.wakeAt(rolloutId, "2026-12-01T16:00:12.000Z");
    await local.wakeAt(rolloutId, "2026-12-01T16:00:12.000Z");
    expect(local.pending()).toBe(1);
    jest.advanceTimersByTime(11_999);
    expect(ticks).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(ticks).toEqual([rolloutId]);
    expect(local.pending()).toBe(0);
  });

  test("a time already passed ticks at once; stop() cancels what is pending", async () => {
    const ticks: string[] = [];
    const local = new LocalScheduler(async (id) => { ticks.push(id); });
    await local.wakeAt("a", "2026-12-01T15:00:00.000Z");
    await local.wakeAt("b", "2026-12-01T16:10:00.000Z");
    jest.advanceTimersByTime(0);
    expect(ticks).toEqual(["a"]);
    local.stop();
    jest.advanceTimersByTime(3_600_000);
    expect(ticks).toEqual(["a"]);
    await expect(local.wakeAt("c", "later")).rejects.toBeInstanceOf(InvalidInputError);
  });
});
