/**
 * Typed errors of the state layer: what a Redis key holds or did, on top of core/errors.ts (a
 * caller's bad input is core's InvalidInputError). All but "unreachable" and "key-failed" mean
 * "nothing was written".
 */
import { AviaryError, type ErrorCode } from "../core/errors";
import { badKeyMessage, type BadKey, type FoundValue } from "./badKey";
import { keys } from "./keys";

export type StateErrorCode = Extract<ErrorCode, "wrong-type" | "garbage-value" | "conflict" | "key-failed" | "unreachable">;

export abstract class StateError extends AviaryError {
  abstract readonly code: StateErrorCode;
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

/** A rollout write named another revision than the one stored: someone else wrote first; nothing was written. */
export class RolloutConflictError extends ConflictError {
  constructor(
    /** The revision the write was based on (null: it expected no rollout). */
    readonly expected: number | null,
    /** The revision stored (null: no rollout stored). */
    readonly found: number | null,
  ) {
    const say = (r: number | null): string => (r === null ? "no rollout" : `revision ${r}`);
    super(`Redis key ${keys.rollout} holds ${say(found)}, the write expected ${say(expected)}; nothing changed: read the rollout again and decide anew`);
  }
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
export function keyError(key: string, err: unknown): AviaryError {
  return err instanceof AviaryError ? err : new RedisKeyError(key, err);
}
