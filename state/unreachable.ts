// "Redis cannot be reached" as one typed error naming host:port (never the password), told apart
// from errors Redis itself answered (WRONGTYPE, script errors), which mean a key is bad, not the link.
import { StateError } from "./errors";

/** Thrown (as a command's rejection) when Redis did not answer; `endpoint` is host:port. */
export class RedisUnreachableError extends StateError {
  readonly code = "unreachable";
  constructor(
    readonly endpoint: string,
    readonly reason: string,
  ) {
    super(`cannot reach Redis at ${endpoint} (${reason})`);
  }
}

const SOCKET_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  ETIMEDOUT: "timed out",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

// ioredis' own messages for commands it gave up on (src/utils/index.ts, src/errors/).
const GAVE_UP = /^(Reached the max retries per request limit|Connection is closed\.|Stream isn't writeable)/;
const AUTH_FAILED = /^(NOAUTH|WRONGPASS)\b/;

// Duck-typed: Node's socket errors come from another realm under test runners (instanceof fails).
function isError(err: unknown): err is NodeJS.ErrnoException {
  return typeof err === "object" && err !== null && typeof (err as { message?: unknown }).message === "string";
}

/** Why a socket-level error happened, in a few words; undefined if `err` is not one. */
function socketReason(err: unknown): string | undefined {
  if (!isError(err)) return undefined;
  if (AUTH_FAILED.test(err.message)) return "authentication failed";
  const code = err.code;
  if (typeof code === "string" && (err.syscall !== undefined || code in SOCKET_REASONS)) {
    return SOCKET_REASONS[code] ?? code;
  }
  return undefined;
}

/**
 * The RedisUnreachableError `err` stands for, or undefined when Redis answered it (a reply
 * error about a key or a script). `lastSocketError` is the connection's latest socket error: a
 * command flushed after retries only carries ioredis' generic message, the socket says why.
 */
export function toUnreachable(err: unknown, endpoint: string, lastSocketError: unknown): RedisUnreachableError | undefined {
  if (err instanceof RedisUnreachableError) return err;
  const own = socketReason(err);
  if (own !== undefined) return new RedisUnreachableError(endpoint, own);
  if (isError(err) && GAVE_UP.test(err.message)) {
    return new RedisUnreachableError(endpoint, socketReason(lastSocketError) ?? "connection lost");
  }
  return undefined;
}
