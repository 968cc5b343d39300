// A recurring EventBridge Scheduler schedule: its rate expression and its retry policy. Written from
// the EventBridge Scheduler User Guide, "Schedule types" (rate-based schedules: `rate(value unit)`,
// value a positive whole number, unit minute|minutes|hour|hours|day|days; EventBridge's "Rate
// expressions reference": the unit is singular for 1 and plural above it, so `rate(1 minutes)` is
// refused; a rate schedule without StartDate starts at once; every schedule fires with 60-second
// precision), the API Reference's RetryPolicy (MaximumRetryAttempts 0–185, default 185;
// MaximumEventAgeInSeconds 60–86400, default 86400: Scheduler's own retries of a failed delivery) and
// the provider's aws_scheduler_schedule (internal/service/scheduler/schedule.go: name, name_prefix
// and group_name are ForceNew, every other input, target and expression included, is an
// UpdateSchedule in place).
import { InvalidInputError } from "../core/errors";

export type RateUnit = "minute" | "hour" | "day";

export class RateExpressionError extends InvalidInputError {}

const RATE = /^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$/;

/** `rate(1 minute)`, `rate(5 minutes)`: the singular unit for 1, the plural above it. */
export function rateExpression(value: number, unit: RateUnit): string {
  if (!Number.isInteger(value) || value < 1) throw new RateExpressionError(`scheduler: a rate needs a whole number of ${unit}s of at least 1, not ${value}`);
  return `rate(${value} ${value === 1 ? unit : `${unit}s`})`;
}

/** The period a rate expression fires at, in seconds; throws naming what Scheduler would refuse. */
export function ratePeriodSeconds(expression: string): number {
  const m = RATE.exec(expression);
  if (!m) throw new RateExpressionError(`scheduler: ${JSON.stringify(expression)} is not rate(<whole number> <minute|hour|day>[s])`);
  const value = Number(m[1]);
  const plural = m[2].endsWith("s");
  if (plural !== value > 1) throw new RateExpressionError(`scheduler: ${JSON.stringify(expression)}: the unit is singular for 1 and plural above it`);
  const unit = plural ? m[2].slice(0, -1) : m[2];
  return value * { minute: 60, hour: 3600, day: 86400 }[unit as RateUnit];
}

export interface RetryPolicy {
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
}

/**
 * A recurring wake-up's delivery is not worth retrying: the next one fires a period later and does
 * the same work. No retries, and the shortest age Scheduler accepts (60 s), so a throttled or
 * failed delivery never arrives stacked on top of the next one.
 */
export const NO_RETRY: RetryPolicy = { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 };

/** Problems Scheduler would refuse the retry policy for (empty = valid). */
export function retryPolicyProblems(p: RetryPolicy): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(p.maximumRetryAttempts) || p.maximumRetryAttempts < 0 || p.maximumRetryAttempts > 185) problems.push(`maximumRetryAttempts ${p.maximumRetryAttempts} is not a whole number 0-185`);
  if (!Number.isInteger(p.maximumEventAgeInSeconds) || p.maximumEventAgeInSeconds < 60 || p.maximumEventAgeInSeconds > 86400) problems.push(`maximumEventAgeInSeconds ${p.maximumEventAgeInSeconds} is not a whole number 60-86400`);
  return problems;
}
