// The controller's time budget. Without a reserved concurrency of 1 (which new accounts cannot
// afford, see awsRules/lambdaConcurrency.ts) two alarms can run at once; the Redis decision lock
// then serialises them, and the second waits for the first instead of failing. The wait is bounded
// so that the waiter still finishes its own work inside the function's timeout.
import { MAX_DRAIN_WAIT_MS } from "./env";

export const FUNCTION_TIMEOUT_SECONDS = 60;
/** Longer than the function can run: a holder that timed out is gone before its lock expires. */
export const LOCK_TTL_MS = (FUNCTION_TIMEOUT_SECONDS + 5) * 1000;
/**
 * How long a second execution waits for the lock: at least one holder's whole decision, so two
 * concurrent alarms are both applied. A third that still finds it taken fails, and Lambda's
 * asynchronous retries (then the dead-letter queue) deliver it again later.
 */
export const LOCK_WAIT_MS = 25_000;
/** Room for the AWS and Redis calls of one decision (describe, set desired, re-arm, notify). */
export const API_CALLS_BUDGET_MS = 10_000;

/** Worst case of an execution that waited the whole lock wait: must fit the timeout. */
export function worstCaseMs(): number {
  return LOCK_WAIT_MS + MAX_DRAIN_WAIT_MS + API_CALLS_BUDGET_MS;
}
