// Controller Lambda entry point: SNS records carrying CloudWatch alarm state changes, and the
// configuration invocations (the canary stack's weight or rollout start, the abort workflow's canary
// off, a person's rollout command, and rollout ticks from the step-end schedules and the heartbeat).
// The work itself is controller/run.ts.
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SNSClient } from "@aws-sdk/client-sns";
import { SSMClient } from "@aws-sdk/client-ssm";
import type Redis from "ioredis";
import pino, { type Logger } from "pino";
import { AwsAlarms } from "../adapters/alarms/aws";
import { AwsFleet } from "../adapters/fleet/aws";
import { AwsNotifier } from "../adapters/notifier/aws";
import { GithubPromoter } from "../adapters/promoter/github";
import { ssmSecureString } from "../adapters/promoter/ssmToken";
import { AwsScheduler } from "../adapters/scheduler/aws";
import type { Promoter } from "../controller/ports";
import { isActive, type RolloutCommand } from "../core/rollout/decide";
import { CONTROLLER_ORIGIN, ORIGIN_ATTRIBUTE } from "../controller/origin";
import { RedisControllerStore } from "../adapters/store/redis";
import type { AlarmChange } from "../core/controller/decide";
import { handleAlarm, handleCanaryOff, handleCanaryWeight, handleRollout, type AlarmOutcome, type ControllerDeps, type RolloutDeps } from "../controller/run";
import { alarmSms, configSms } from "../controller/smsText";
import { connect } from "../state/connection";
import { ConfigInvocation, parseAlarmMessage, parseConfigInvocation } from "./alarmMessage";
import { drainWaitMsFromEnv, scalingFromEnv } from "./env";
import { LOCK_TTL_MS, LOCK_WAIT_MS } from "./timing";
import { AviaryError, ConfigError, errorCode, InvalidInputError, type ErrorCode } from "../core/errors";
import { logComponent } from "../core/logComponent";

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
      MessageAttributes?: Record<string, { Type: string; Value: string }>;
    };
  }[];
}

export interface HandlerResult {
  processed: number;
  /** Malformed records and the controller's own notifications. */
  skipped: number;
  outcomes: (AlarmOutcome | { messageId: string; status: "canaryWeight" | "canaryOff" | "rollout"; summary: string })[];
}

// Through process.stdout (the Lambda runtime ships it to CloudWatch Logs), so that a test can read
// the decision records wherever jest runs it (pino's default writes to fd 1 directly).
const lambdaLogger = pino({ base: logComponent("aviary-controller") }, process.stdout);

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`controller: environment variable ${name} is not set`);
  return value;
}

let redis: Redis | undefined;
let deps: ControllerDeps | undefined;

/** Built on first use and reused while the Lambda container stays warm. */
function depsFromEnv(): ControllerDeps {
  if (deps) return deps;
  const client = connect(required("REDIS_URL"), { logger: lambdaLogger });
  redis = client;
  deps = {
    fleet: new AwsFleet(new AutoScalingClient({}), required("ASG_NAME")),
    notifier: new AwsNotifier(new SNSClient({}), required("TOPIC_ARN"), required("SMS_TOPIC_ARN")),
    alarms: new AwsAlarms(new CloudWatchClient({})),
    // A concurrent execution waits for the lock (bounded, see lambda/timing.ts) instead of failing.
    store: new RedisControllerStore(client, "controller", { ttlMs: LOCK_TTL_MS, waitMs: LOCK_WAIT_MS }, (problems) =>
      lambdaLogger.warn({ problems }, "ignoring invalid state in Redis")),
    policy: scalingFromEnv(process.env),
    logger: lambdaLogger,
    drainWaitMs: drainWaitMsFromEnv(process.env),
    // Rollouts only: a controller deployed before them still handles alarms and the canary's weight.
    ...(process.env.SCHEDULE_GROUP
      ? {
        scheduler: new AwsScheduler(new SchedulerClient({}), {
          groupName: required("SCHEDULE_GROUP"),
          functionArn: required("FUNCTION_ARN"),
          roleArn: required("SCHEDULER_ROLE_ARN"),
        }),
      }
      : {}),
    promoter: promoterFromEnv(),
  };
  return deps;
}

/** GitHub's promote workflow when the prod stack has aviary:promote; else none (a passed rollout then waits at promotable). */
function promoterFromEnv(): Promoter | undefined {
  const repository = process.env.PROMOTE_REPOSITORY;
  const parameter = process.env.PROMOTE_TOKEN_PARAMETER;
  if (!repository || !parameter) return undefined;
  return new GithubPromoter({ repository, ref: process.env.PROMOTE_REF || "main" }, ssmSecureString(new SSMClient({}), parameter));
}

/** The deps a rollout command needs; a controller built without its two rollout ports refuses one. */
function rolloutDeps(deps: ControllerDeps): RolloutDeps {
  const { scheduler, promoter } = deps;
  if (!scheduler) throw new ConfigError("controller: rollout commands need SCHEDULE_GROUP, FUNCTION_ARN and SCHEDULER_ROLE_ARN (deploy the prod stack with this release)");
  return { ...deps, scheduler, ...(promoter ? { promoter } : {}) };
}

/** Closes the Redis connection (tests, local mode); the next invocation reconnects. */
export async function closeController(): Promise<void> {
  const client = redis;
  redis = undefined;
  deps = undefined;
  // quit() on a socket that is not ready leaves a 2 s ioredis timer behind; disconnect() does not.
  if (client?.status === "ready") await client.quit().catch(() => client.disconnect());
  else client?.disconnect();
}

/** The SNS message body as the decision core's input; throws naming what is wrong. */
function alarmChange(text: string): AlarmChange {
  const m = parseAlarmMessage(text);
  // CloudWatch writes "2026-11-24T10:00:05.123+0000"; stored and compared as ISO 8601 UTC.
  const at = Date.parse(m.StateChangeTime);
  if (Number.isNaN(at)) throw new InvalidInputError(`alarm message is invalid: StateChangeTime: not a time (${m.StateChangeTime})`);
  const metric = m.Trigger?.MetricName;
  return {
    alarmName: m.AlarmName,
    oldState: m.OldStateValue,
    newState: m.NewStateValue,
    reason: m.NewStateReason,
    at: new Date(at).toISOString(),
    ...(typeof metric === "string" ? { metric } : {}),
  };
}

/**
 * Best effort: the decision is already applied and committed, and the full notice went to the
 * alerts topic. Failing here would only make SNS redeliver a message that is now a duplicate.
 */
async function sendSms(deps: ControllerDeps, logger: Logger, line: string): Promise<void> {
  try {
    await deps.notifier.text(line);
  } catch (e) {
    logger.error({ err: (e as Error).message, line }, "could not send the SMS line");
  }
}

function isSnsEvent(event: unknown): event is SnsEvent {
  return typeof event === "object" && event !== null && Array.isArray((event as { Records?: unknown }).Records);
}

async function handleConfig(event: unknown, getDeps: () => ControllerDeps, logger: Logger): Promise<HandlerResult> {
  let config: ConfigInvocation;
  try {
    config = parseConfigInvocation(event);
  } catch (e) {
    logger.error({ err: (e as Error).message }, "rejected configuration invocation");
    throw e;
  }
  const done = (status: "canaryWeight" | "canaryOff" | "rollout", summary: string): HandlerResult =>
    ({ processed: 1, skipped: 0, outcomes: [{ messageId: "config", status, summary }] });
  switch (config.action) {
    case "canaryOff": {
      const { summary } = await handleCanaryOff(getDeps(), { reason: config.reason });
      await sendSms(getDeps(), logger, configSms(summary));
      return done("canaryOff", summary);
    }
    case "setCanaryWeight": {
      const { summary } = await handleCanaryWeight(getDeps(), {
        weight: config.weight,
        appVersion: config.appVersion,
        // `pulumi destroy` of the canary stack: drain the canary before its instances go away.
        destroying: config.tf?.action === "delete",
      });
      await sendSms(getDeps(), logger, configSms(summary));
      return done("canaryWeight", summary);
    }
    case "startRollout": {
      const summary = await canaryStackRollout(rolloutDeps(getDeps()), config);
      await sendSms(getDeps(), logger, configSms(summary));
      return done("rollout", summary);
    }
    case "rolloutTick": {
      const { summary, actions } = await handleRollout(rolloutDeps(getDeps()), { do: "tick" }, config.rolloutId ? { rolloutId: config.rolloutId } : {});
      // The heartbeat ticks every minute: only a tick that changed something is worth a text.
      if (changedSomething(actions)) await sendSms(getDeps(), logger, configSms(summary));
      return done("rollout", summary);
    }
    case "rolloutCommand": {
      const deps = rolloutDeps(getDeps());
      const command = await handleRollout(deps, config.command as RolloutCommand, config.by ? { by: config.by } : {});
      const tick = config.command.do === "abort" ? undefined : await tickAfterCommand(deps, logger);
      const summary = tick && (tick.failed || changedSomething(tick.actions)) ? `${command.summary}; ${tick.summary}` : command.summary;
      await sendSms(getDeps(), logger, configSms(summary));
      return done("rollout", summary);
    }
  }
}

/** A tick's actions beyond re-scheduling the step's end: a write, a promotion or a notice. */
function changedSomething(actions: readonly string[]): boolean {
  return actions.some((a) => a !== "scheduleTick");
}

/**
 * A person's command decides only the stored rollout; what it asks for (a promotion, the resumed
 * step's wake-up) is the controller's next tick, run here at once rather than at the next
 * heartbeat. The command already stands, so a failed tick is reported, not thrown: the heartbeat
 * ticks again within a minute. An abort needs no tick (and must not wait for the lock a tick takes).
 */
async function tickAfterCommand(deps: RolloutDeps, logger: Logger): Promise<{ summary: string; actions: string[]; failed?: true }> {
  try {
    return await handleRollout(deps, { do: "tick" });
  } catch (e) {
    logger.error({ err: (e as Error).message }, "the tick after a rollout command failed; the heartbeat ticks again within a minute");
    return { summary: `the tick that carries it out failed (${(e as Error).message}); the heartbeat ticks again within a minute`, actions: [], failed: true };
  }
}

/**
 * The canary stack's invocation with a rollout plan (CRUD). Create and update start the rollout,
 * except that a redeploy of the version already rolling out keeps it where it is; delete (`pulumi
 * destroy`) drains the canary to 0, as without a plan, and aborts a rollout still under way.
 */
async function canaryStackRollout(deps: RolloutDeps, config: Extract<ConfigInvocation, { action: "startRollout" }>): Promise<string> {
  if (config.tf?.action === "delete") {
    const stored = await deps.store.readRollout();
    const abort = stored && (["progressing", "paused", "promotable"] as const).some((s) => s === stored.status)
      ? await handleRollout(deps, { do: "abort", reason: "canary stack destroyed" })
      : undefined;
    const { summary } = await handleCanaryWeight(deps, { weight: 0, appVersion: config.appVersion, destroying: true });
    return abort ? `${abort.summary}; ${summary}` : summary;
  }
  const stored = await deps.store.readRollout();
  if (isActive(stored) && stored.appVersion === config.appVersion) return `rollout ${stored.id} of ${config.appVersion} is ${stored.status}; kept as it is`;
  return (await handleRollout(deps, { do: "start", plan: config.plan, appVersion: config.appVersion })).summary;
}

/** Some records of a batch failed (each one logged): the invocation fails so that SNS retries them. */
export class RecordsFailedError extends AviaryError {
  /** The first failure's code: what a caller deciding by code would have seen for one record. */
  readonly code: ErrorCode;
  constructor(failed: readonly { messageId: string; err: unknown }[]) {
    super(`controller failed on message(s) ${failed.map((f) => f.messageId).join(", ")}; see logs`, { cause: failed[0]?.err });
    this.code = errorCode(failed[0]?.err);
  }
}

export type Handler = (event: SnsEvent | ConfigInvocation) => Promise<HandlerResult>;

/**
 * The handler over any set of adapters: the Lambda's (below) or local mode's. `getDeps` runs only
 * when a record needs acting on; `logger` reports the records it cannot act on.
 */
export function createHandler(getDeps: () => ControllerDeps, logger: Logger = lambdaLogger): Handler {
  return (event) => (isSnsEvent(event) ? handleRecords(event, getDeps, logger) : handleConfig(event, getDeps, logger));
}

/** The Lambda entry point: AWS adapters and Redis from the environment. */
export const handler: Handler = createHandler(depsFromEnv);

async function handleRecords(event: SnsEvent, getDeps: () => ControllerDeps, logger: Logger): Promise<HandlerResult> {
  const result: HandlerResult = { processed: 0, skipped: 0, outcomes: [] };
  const failed: { messageId: string; err: unknown }[] = [];
  for (const record of event.Records) {
    const messageId = record?.Sns?.MessageId ?? "<unknown>";
    if (record?.Sns?.MessageAttributes?.[ORIGIN_ATTRIBUTE]?.Value === CONTROLLER_ORIGIN) {
      // Our own notification, should the subscription's filter policy ever let one through.
      result.skipped += 1;
      continue;
    }
    let change: AlarmChange;
    try {
      change = alarmChange(String(record?.Sns?.Message ?? ""));
    } catch (e) {
      // One bad record must not block the others in the batch; it cannot succeed on a retry either.
      logger.error({ messageId, err: (e as Error).message }, "skipped malformed record");
      result.skipped += 1;
      continue;
    }
    let outcome: AlarmOutcome;
    try {
      outcome = await handleAlarm(getDeps(), messageId, change);
    } catch (e) {
      logger.error({ messageId, alarm: change.alarmName, err: (e as Error).message }, "failed; the message will be retried");
      failed.push({ messageId, err: e });
      continue;
    }
    result.outcomes.push(outcome);
    result.processed += 1;
    // SMS subscribers get no alarm JSON: one line per transition and what the controller made of it.
    if (outcome.status === "applied") await sendSms(getDeps(), logger, alarmSms(change.alarmName, change.newState, outcome.summary));
  }
  // A Lambda error makes SNS retry the event (and finally send it to the DLQ): nothing is lost.
  // Records already done are deduplicated on the retry.
  if (failed.length > 0) throw new RecordsFailedError(failed);
  return result;
}
