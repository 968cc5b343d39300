// Validation of what reaches the controller: CloudWatch alarm state changes (inside SNS records)
// and the configuration invocations: the canary stack's aws.lambda.Invocation, the abort workflow.
// zod/mini: same validation as "zod", a fraction of the Lambda bundle size.
import * as z from "zod/mini";
import { ALARM_STATES } from "../core/alarms/state";
import { InvalidInputError } from "../core/errors";
import { weightSchema } from "../core/routing/weight";
import { issuesLine } from "../core/validation/issues";
import { planSchema, tokenSchema } from "../state/rolloutSchema";

const state = z.enum(ALARM_STATES);
const nonEmpty = z.string().check(z.minLength(1));

const alarmMessageSchema = z.object({
  AlarmName: nonEmpty,
  AlarmDescription: z.nullish(z.string()),
  NewStateValue: state,
  OldStateValue: state,
  NewStateReason: z.string(),
  StateChangeTime: nonEmpty,
  Region: z.optional(z.string()),
  AlarmArn: z.optional(z.string()),
  // Shape differs between single-metric and metric-math alarms; kept for logging only.
  Trigger: z.optional(z.record(z.string(), z.unknown())),
});

export type AlarmMessage = z.infer<typeof alarmMessageSchema>;

/** Parses an SNS Message body as a CloudWatch alarm state change, or throws naming what is wrong. */
export function parseAlarmMessage(text: string): AlarmMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError(`alarm message is not JSON: ${(e as Error).message}`);
  }
  const result = alarmMessageSchema.safeParse(json);
  if (!result.success) throw new InvalidInputError(`alarm message is invalid: ${issuesLine(result.error.issues, { root: "<message>" })}`);
  return result.data;
}

const setCanaryWeightSchema = z.object({
  action: z.literal("setCanaryWeight"),
  weight: weightSchema(),
  appVersion: z.optional(nonEmpty),
  // Added by aws.lambda.Invocation with lifecycleScope "CRUD" (it also carries prev_input).
  tf: z.optional(z.looseObject({ action: z.enum(["create", "update", "delete"]) })),
});

/**
 * A person's abort (the abort workflow's `aws lambda invoke`): the reason is audited and sent to
 * subscribers. Any length is taken: the controller cuts it to fit rather than refuse an abort.
 */
const canaryOffSchema = z.object({
  action: z.literal("canaryOff"),
  reason: z.string().check(z.minLength(1)),
});

const lifecycle = z.optional(z.looseObject({ action: z.enum(["create", "update", "delete"]) }));

/** The canary stack deployed with aviary:rollout (its aws.lambda.Invocation, CRUD like setCanaryWeight). */
const startRolloutSchema = z.object({
  action: z.literal("startRollout"),
  plan: planSchema,
  appVersion: nonEmpty,
  tf: lifecycle,
});

/**
 * Time passed: a one-time schedule at a step's end names its rollout (adapters/scheduler/aws.ts); the
 * heartbeat (components/controllerHeartbeat.ts) names none and ticks the stored one.
 */
const rolloutTickSchema = z.object({
  action: z.literal("rolloutTick"),
  rolloutId: z.optional(tokenSchema),
});

/** A person's rollout command (like the abort workflow's canaryOff), by whom it names. */
const rolloutCommandSchema = z.object({
  action: z.literal("rolloutCommand"),
  command: z.discriminatedUnion("do", [
    z.object({ do: z.literal("pause"), reason: z.optional(nonEmpty) }),
    z.object({ do: z.literal("resume") }),
    z.object({ do: z.literal("abort"), reason: nonEmpty }),
    z.object({ do: z.literal("promote") }),
    z.object({ do: z.literal("retry") }),
    z.object({ do: z.literal("setWeight"), weight: weightSchema() }),
  ]),
  by: z.optional(nonEmpty),
});

const configInvocationSchema = z.discriminatedUnion("action", [setCanaryWeightSchema, canaryOffSchema, startRolloutSchema, rolloutTickSchema, rolloutCommandSchema]);

export type ConfigInvocation = z.infer<typeof configInvocationSchema>;

/** Parses the configuration invocation, or throws naming what is wrong. */
export function parseConfigInvocation(value: unknown): ConfigInvocation {
  const result = configInvocationSchema.safeParse(value);
  if (!result.success) throw new InvalidInputError(`configuration invocation is invalid: ${issuesLine(result.error.issues, { root: "<message>" })}`);
  return result.data;
}
