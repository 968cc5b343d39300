/**
 * Typed errors of the state layer. Every one means "nothing was written"; callers (the CLI's exit
 * code, the controller's retry) decide by class or `code`, never by message text.
 */
export type StateErrorCode = "invalid-input" | "wrong-type" | "garbage-value" | "conflict";

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
    readonly actual: string,
    readonly expected: string,
  ) {
    super(describeWrongType(key, actual, expected));
  }
}

/** A stored value the write depends on is unreadable; `fix` says what to do about it. */
export class GarbageValueError extends StateError {
  readonly code = "garbage-value";
  constructor(
    readonly key: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`Redis key ${key} ${problem}; nothing changed: ${fix}`);
  }
}

/** Another writer kept changing the same value; retrying later is safe. */
export class ConflictError extends StateError {
  readonly code = "conflict";
}

/** Redis type names (string, hash, list, set, zset, stream) all take "a". */
export function describeWrongType(key: string, actual: string, expected: string): string {
  return `Redis key ${key} is a ${actual}, expected a ${expected}`;
}
