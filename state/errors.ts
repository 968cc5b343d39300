/**
 * Typed errors of the state layer. Callers (the CLI's exit code, the controller's retry) decide
 * by class or `code`, never by message text. All but "unreachable" and "key-failed" mean
 * "nothing was written".
 */
import { badKeyMessage, type BadKey, type FoundValue } from "./badKey";

export type StateErrorCode = "invalid-input" | "wrong-type" | "garbage-value" | "conflict" | "key-failed" | "unreachable";

export abstract class StateError extends Error {
  abstract readonly code: StateErrorCode;
}

/** The caller's input is invalid (bad weight, key, definition, URL): fix the input and retry. */
export class InvalidInputError extends StateError {
  readonly code = "invalid-input";
}

/** A key holds another Redis type than the write needs. */
export class WrongTypeError extends StateError {
  readonly code = "wrong-type";
  constructor(
    readonly key: string,
    readonly found: FoundValue,
    readonly expected: string,
  ) {
    super(badKeyMessage({ key, found, expected: `a ${expected}` }));
  }
}

/** A stored value the write depends on is unreadable; `fix` says what to do about it. */
export class GarbageValueError extends StateError {
  readonly code = "garbage-value";
  constructor(
    readonly bad: BadKey,
    readonly fix: string,
  ) {
    super(badKeyMessage(bad, `nothing changed: ${fix}`));
  }
}

/** Another writer kept changing the same value; retrying later is safe. */
export class ConflictError extends StateError {
  readonly code = "conflict";
}

/** A command on a named key failed for another reason than its type; the message names the key. */
export class RedisKeyError extends StateError {
  readonly code = "key-failed";
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`Redis key ${key}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** `err` as it is when already typed (e.g. Redis unreachable), else a RedisKeyError naming `key`. */
export function keyError(key: string, err: unknown): StateError {
  return err instanceof StateError ? err : new RedisKeyError(key, err);
}
