// The CLI's exit code for every error code: the one place an error becomes an exit status.
import { errorCode, type ErrorCode } from "../core/errors";

/** 2 fix the input and retry, 3 a key in Redis needs fixing, 1 a runtime failure (try again later). */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  "invalid-input": 2,
  "invalid-config": 2,
  "wrong-type": 3,
  "garbage-value": 3,
  conflict: 1,
  "key-failed": 1,
  unreachable: 1,
  "not-found": 1,
  timeout: 1,
  "process-failed": 1,
  internal: 1,
};

/** The exit code for an error a command threw, from its code (anything not Aviary's is "internal"). */
export function exitCodeFor(err: unknown): number {
  return EXIT_CODES[errorCode(err)];
}
