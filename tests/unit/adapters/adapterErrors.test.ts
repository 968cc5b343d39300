// The fleet adapters and the local alarm evaluator fail with typed errors (the class says what went
// wrong; the message, for people, is unchanged).
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { mockClient } from "aws-sdk-client-mock";
import { AwsFleet } from "../../../adapters/fleet/aws";
import { LocalFleet } from "../../../adapters/fleet/local";
import { prodAlarms } from "../../../core/alarms/definitions";
import { DEFAULT_THRESHOLDS } from "../../../core/config/defaults";
import { InvalidInputError, InvariantError, NotFoundError } from "../../../core/errors";
import { AlarmEvaluator } from "../../../local/alarmEvaluator";

const fleet = (): LocalFleet => new LocalFleet({ min: 1, max: 3, launch: () => { throw new Error("no launch expected"); }, ready: async () => undefined });

test("the Auto Scaling fleet: a missing group is NotFoundError", async () => {
  const client = mockClient(AutoScalingClient);
  client.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
  const err = await new AwsFleet(new AutoScalingClient({ region: "us-east-1" }), "aviary-prod-fleet").describe().catch((e: unknown) => e);
  client.restore();
  expect(err).toBeInstanceOf(NotFoundError);
  expect((err as Error).message).toBe("Auto Scaling group aviary-prod-fleet not found");
});

test.each([
  ["desired above max", (f: LocalFleet) => f.setDesired(4), InvalidInputError, "desired capacity 4 is outside min 1 / max 3"],
  ["desired not an integer", (f: LocalFleet) => f.setDesired(1.5), InvalidInputError, "desired capacity 1.5 is outside min 1 / max 3"],
  ["terminating an unknown instance", (f: LocalFleet) => f.terminate("prod-9"), NotFoundError, "no local instance prod-9"],
] as const)("the process fleet: %s", async (_, act, type, message) => {
  const err = await act(fleet()).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(type);
  expect((err as Error).message).toBe(message);
});

test("the local evaluator: a bad period factor, an alarm it cannot evaluate, an unknown alarm", () => {
  const alarms = prodAlarms<string>(DEFAULT_THRESHOLDS, { deployment: "local", autoScalingGroupName: "g" });
  expect(() => new AlarmEvaluator(alarms, "local", 0.5, 0)).toThrow(InvalidInputError);
  const twoMetricsNoExpression = { ...alarms[0], expression: undefined, metrics: [...alarms[0].metrics, ...alarms[0].metrics] };
  expect(() => new AlarmEvaluator([twoMetricsNoExpression], "local", 1, 0)).toThrow(InvariantError);
  expect(() => new AlarmEvaluator(alarms, "local", 1, 0).setState("nope", "OK", "test", 0)).toThrow(NotFoundError);
});
