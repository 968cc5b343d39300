// Aviary's typed errors: a small hierarchy with codes, as OpenFeature's SDK has. Callers decide by
// class or `code` (the CLI's exit code, the controller's retry, the runner's give-up), never by a
// message's text, which is for people.

/** Every code an Aviary error carries; the CLI maps each to an exit code (cli/exitCodes.ts). */
export type ErrorCode =
  /** The caller's input or arguments are invalid: fix them and retry. Nothing was done. */
  | "invalid-input"
  /** Stack config, an environment variable or a config file is invalid. Nothing was done. */
  | "invalid-config"
  /** A key in Redis holds another type than the operation needs. */
  | "wrong-type"
  /** A stored value the operation depends on is unreadable. */
  | "garbage-value"
  /** Another writer kept changing the same value; retrying later is safe. */
  | "conflict"
  /** A command on a named Redis key failed for another reason. */
  | "key-failed"
  /** A dependency (Redis, an AWS API, a port) cannot be reached. */
  | "unreachable"
  /** What was asked for does not exist. */
  | "not-found"
  /** Something did not happen within its bound. */
  | "timeout"
  /** A child process could not start, or exited when it should not have. */
  | "process-failed"
  /** A rule of the program itself was broken: a bug, not the caller's fault. */
  | "internal";

export abstract class AviaryError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidInputError extends AviaryError {
  readonly code = "invalid-input";
}

export class ConfigError extends AviaryError {
  readonly code = "invalid-config";
}

export class NotFoundError extends AviaryError {
  readonly code = "not-found";
}

export class UnreachableError extends AviaryError {
  readonly code = "unreachable";
}

export class TimeoutError extends AviaryError {
  readonly code = "timeout";
}

export class ProcessError extends AviaryError {
  readonly code = "process-failed";
}

export class InvariantError extends AviaryError {
  readonly code = "internal";
}

/** The code of any thrown value: Aviary's own, or "internal" for anything else. */
export function errorCode(err: unknown): ErrorCode {
  return err instanceof AviaryError ? err.code : "internal";
}
