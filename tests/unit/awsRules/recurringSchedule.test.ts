// EventBridge Scheduler's recurring schedule rules (awsRules/recurringSchedule.ts) as tables.
import { NO_RETRY, RateExpressionError, rateExpression, ratePeriodSeconds, retryPolicyProblems } from "../../../awsRules/recurringSchedule";

describe("rate expressions: singular unit for 1, plural above it", () => {
  test.each([
    [1, "minute", "rate(1 minute)", 60],
    [5, "minute", "rate(5 minutes)", 300],
    [1, "hour", "rate(1 hour)", 3600],
    [2, "day", "rate(2 days)", 172_800],
  ] as const)("rateExpression(%s, %s) = %s, every %s s", (value, unit, expression, seconds) => {
    expect(rateExpression(value, unit)).toBe(expression);
    expect(ratePeriodSeconds(expression)).toBe(seconds);
  });

  test.each([0, -1, 1.5, Number.NaN])("rateExpression(%s) is refused", (value) => {
    expect(() => rateExpression(value, "minute")).toThrow(RateExpressionError);
  });

  test.each([
    "rate(1 minutes)",
    "rate(5 minute)",
    "rate(0 minutes)",
    "rate(01 minute)",
    "rate(1.5 hours)",
    "rate(30 seconds)",
    "rate(1  minute)",
    "cron(* * * * ? *)",
    "at(2026-12-01T16:06:00)",
  ])("%s is not a rate Scheduler takes", (expression) => {
    expect(() => ratePeriodSeconds(expression)).toThrow(RateExpressionError);
  });
});

describe("retry policy bounds", () => {
  test.each([
    [{ maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 }, 0],
    [{ maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86_400 }, 0],
    [{ maximumRetryAttempts: 186, maximumEventAgeInSeconds: 60 }, 1],
    [{ maximumRetryAttempts: -1, maximumEventAgeInSeconds: 59 }, 2],
    [{ maximumRetryAttempts: 0.5, maximumEventAgeInSeconds: 86_401 }, 2],
  ])("%j: %s problem(s)", (policy, count) => {
    expect(retryPolicyProblems(policy)).toHaveLength(count);
  });

  test("NO_RETRY is the least Scheduler accepts: no retries, the shortest event age", () => {
    expect(retryPolicyProblems(NO_RETRY)).toEqual([]);
    expect(retryPolicyProblems({ ...NO_RETRY, maximumEventAgeInSeconds: NO_RETRY.maximumEventAgeInSeconds - 1 })).not.toEqual([]);
    expect(NO_RETRY.maximumRetryAttempts).toBe(0);
  });
});
