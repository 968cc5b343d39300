// A one-time EventBridge Scheduler schedule: its name and its at() expression. Written from the
// EventBridge Scheduler User Guide, "Schedule types" (one-time schedules: `at(yyyy-mm-ddThh:mm:ss)`,
// evaluated in ScheduleExpressionTimezone, UTC when absent; every schedule invokes its target with
// 60-second precision: set for 1:00 it fires between 1:00:00 and 1:00:59 without a flexible window),
// the API Reference's CreateSchedule (Name: 1–64 characters of [0-9a-zA-Z-_.], unique in its group;
// a name already taken is a ConflictException) and "Deleting a schedule" (ActionAfterCompletion
// DELETE removes a one-time schedule after its one invocation, which keeps the account's schedule
// quota free), and the provider's aws_scheduler_schedule_group (internal/service/scheduler/
// schedule_group.go: the same name rule for groups; name is ForceNew).
import { createHash } from "node:crypto";
import { InvalidInputError } from "../core/errors";

/** Schedule and schedule-group names: 1–64 characters of [0-9a-zA-Z-_.]. */
export const SCHEDULER_NAME = /^[0-9A-Za-z_.-]{1,64}$/;

/** Shortest lead a created one-time schedule gets: an at() that has passed would never fire. */
export const MIN_LEAD_MS = 60_000;

export class ScheduleNameError extends InvalidInputError {}

/** Throws unless `name` is a valid schedule or schedule-group name. */
export function checkSchedulerName(name: string): string {
  if (!SCHEDULER_NAME.test(name)) throw new ScheduleNameError(`scheduler: ${JSON.stringify(name)} is not 1-64 characters of 0-9 a-z A-Z - _ .`);
  return name;
}

/**
 * The minute a wake-up for `at` fires in: the next whole minute at or after max(at, now + lead).
 * Scheduler fires anywhere within the minute named, so an at() with seconds would fire up to 59 s
 * before the step's pause has ended; the minute after it never does.
 */
export function fireMinute(at: Date, now: Date): Date {
  const earliest = Math.max(at.getTime(), now.getTime() + MIN_LEAD_MS);
  return new Date(Math.ceil(earliest / 60_000) * 60_000);
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC (no zone suffix: the zone is ScheduleExpressionTimezone's). */
export function atExpression(minute: Date): string {
  return `at(${minute.toISOString().slice(0, 19)})`;
}

/**
 * A deterministic name per rollout and fire minute: the same wake-up asked for twice (a retried
 * decision) is the same schedule (ConflictException = already scheduled), while a later wake-up for
 * the same step (a tick that came early, a resume) is a new one and never collides with a schedule
 * that is firing. The id (`<version>@<ISO time>`) holds characters a name may not, so it is hashed.
 */
export function wakeScheduleName(rolloutId: string, minute: Date): string {
  const id = createHash("sha256").update(rolloutId, "utf8").digest("hex").slice(0, 16);
  const when = minute.toISOString().slice(0, 16).replace(/[-:]/g, "");
  return checkSchedulerName(`rollout-${id}-${when}`);
}
