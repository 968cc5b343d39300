import Redis, { type Command, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { toUnreachable } from "./unreachable";
import { channels } from "./keys";
import { parseChangeNotice, type ChangeNotice } from "./events";
import { InvalidInputError } from "../core/errors";

export interface ConnectOptions {
  /** Connection errors are logged here (throttled by ioredis' reconnect backoff); silent if absent. */
  logger?: Logger;
  /** Extra ioredis options (tests, TLS CA, …); applied last. */
  redis?: RedisOptions;
}

const USAGE = "set REDIS_URL to redis://[:password@]host:port[/db] (or rediss:// for TLS)";

/** Validates the URL up front so a typo fails with one clear sentence instead of endless reconnects. */
export function parseRedisUrl(url: string | undefined): URL {
  if (url === undefined || url.trim() === "") throw new InvalidInputError(`REDIS_URL is not set: ${USAGE}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError(`REDIS_URL is not a valid URL: ${USAGE}`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new InvalidInputError(`REDIS_URL has protocol "${parsed.protocol}": ${USAGE}`);
  }
  if (parsed.hostname === "") throw new InvalidInputError(`REDIS_URL has no host: ${USAGE}`);
  if (parsed.port === "0") throw new InvalidInputError(`REDIS_URL has port 0: ${USAGE}`);
  return parsed;
}

/** Options shared by every Aviary connection: fail fast while Redis is down, reconnect forever. */
export function baseOptions(url: URL): RedisOptions {
  return {
    // Exponential backoff 100 ms, 200 ms, … capped at 2 s; never give up reconnecting.
    retryStrategy: (times: number) => Math.min(100 * 2 ** (times - 1), 2000),
    // Queued commands are rejected after 2 failed reconnects (well under 2 s on a refused port)
    // instead of waiting for Redis indefinitely.
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    // rediss:// (ElastiCache in-transit encryption) needs TLS; SNI uses the URL host.
    ...(url.protocol === "rediss:" ? { tls: { servername: url.hostname } } : {}),
  };
}

/** host:port of a Redis URL, never its password (IPv6 hosts keep their brackets). */
export function redisEndpoint(url: URL): string {
  return `${url.hostname}:${url.port || "6379"}`;
}

/**
 * Opens an ioredis client for `url` (default: env REDIS_URL). Every command that fails because
 * Redis cannot be reached rejects with a RedisUnreachableError naming host:port, instead of
 * ioredis' "Reached the max retries per request limit", so every caller reports the same sentence.
 */
export function connect(url: string | undefined = process.env.REDIS_URL, opts: ConnectOptions = {}): Redis {
  const parsed = parseRedisUrl(url);
  const endpoint = redisEndpoint(parsed);
  const client = new Redis(parsed.toString(), { ...baseOptions(parsed), ...opts.redis });
  // The socket's last error says why commands are flushed later (they only get MaxRetriesPerRequest).
  let lastSocketError: unknown;
  client.on("ready", () => (lastSocketError = undefined));
  // Without a listener ioredis prints "Unhandled error event" on every reconnect attempt.
  client.on("error", (err: Error) => {
    lastSocketError = err;
    const unreachable = toUnreachable(err, endpoint, undefined);
    opts.logger?.warn({ err: unreachable?.message ?? err.message, endpoint }, "redis connection error");
  });
  const send = client.sendCommand.bind(client);
  // Pipelines and scripts go through sendCommand too; each command's own rejection is translated.
  client.sendCommand = (command: Command, stream?: Parameters<Redis["sendCommand"]>[1]) => {
    const reject = command.reject;
    command.reject = (err: Error) => reject(toUnreachable(err, endpoint, lastSocketError) ?? err);
    return send(command, stream);
  };
  return client;
}

/**
 * Subscribes to `aviary:changes` on its own connection (subscriber mode blocks other commands).
 * Resolves once the subscription is active; the returned function unsubscribes and closes.
 * Malformed notices are passed to `onProblem` and dropped.
 * `onConnection(false)` fires when the subscription's socket drops (notices may be missed from
 * then on) and `onConnection(true)` once it is back and re-subscribed: callers re-read state then.
 */
export async function subscribeChanges(
  url: string | undefined,
  onChange: (notice: ChangeNotice) => void,
  opts: ConnectOptions & { onProblem?: (problem: string) => void; onConnection?: (up: boolean) => void } = {},
): Promise<() => Promise<void>> {
  const sub = connect(url, opts);
  let subscribed = false;
  if (opts.onConnection) {
    const onConnection = opts.onConnection;
    sub.on("close", () => {
      if (subscribed) onConnection(false);
    });
    // ioredis re-sends SUBSCRIBE before it emits "ready" on a reconnect.
    sub.on("ready", () => {
      if (subscribed) onConnection(true);
    });
  }
  sub.on("message", (channel: string, message: string) => {
    if (channel !== channels.changes) return;
    const notice = parseChangeNotice(message);
    if (typeof notice === "string") opts.onProblem?.(notice);
    else onChange(notice);
  });
  try {
    await sub.subscribe(channels.changes);
    subscribed = true;
  } catch (err) {
    sub.disconnect();
    throw err;
  }
  return async () => {
    subscribed = false;
    try {
      await sub.quit();
    } catch {
      sub.disconnect(); // Redis already gone: just drop the socket
    }
  };
}
