// An unreachable Redis is one typed error naming host:port (never the password), told apart from
// errors Redis answered; connect() gives every command and pipeline that error.
import { ReplyError } from "ioredis";
import { connect, parseRedisUrl, redisEndpoint } from "../../../state/connection";
import { RedisUnreachableError, toUnreachable } from "../../../state/unreachable";
import { startRedisServer } from "../../../harness/redisServer";

const socketError = (code: string, syscall = "connect"): NodeJS.ErrnoException => Object.assign(new Error(`${syscall} ${code} 10.0.0.5:6379`), { code, syscall });
const maxRetries = new Error('Reached the max retries per request limit (which is 2). Refer to "maxRetriesPerRequest" option for details.');

test.each<[string, unknown, unknown, string | undefined]>([
  ["refused socket", socketError("ECONNREFUSED"), undefined, "cannot reach Redis at 10.0.0.5:6379 (connection refused)"],
  ["connect timeout", socketError("ETIMEDOUT"), undefined, "cannot reach Redis at 10.0.0.5:6379 (timed out)"],
  ["unknown host", socketError("ENOTFOUND", "getaddrinfo"), undefined, "cannot reach Redis at 10.0.0.5:6379 (host not found)"],
  ["other socket code", socketError("EPROTO", "write"), undefined, "cannot reach Redis at 10.0.0.5:6379 (EPROTO)"],
  ["max retries after a refusal", maxRetries, socketError("ECONNREFUSED"), "cannot reach Redis at 10.0.0.5:6379 (connection refused)"],
  ["max retries after a reset", maxRetries, socketError("ECONNRESET", "read"), "cannot reach Redis at 10.0.0.5:6379 (connection reset)"],
  ["max retries, no socket error seen", maxRetries, undefined, "cannot reach Redis at 10.0.0.5:6379 (connection lost)"],
  ["closed connection", new Error("Connection is closed."), undefined, "cannot reach Redis at 10.0.0.5:6379 (connection lost)"],
  ["wrong password", new ReplyError("WRONGPASS invalid username-password pair or user is disabled."), undefined, "cannot reach Redis at 10.0.0.5:6379 (authentication failed)"],
  ["no password", new ReplyError("NOAUTH Authentication required."), undefined, "cannot reach Redis at 10.0.0.5:6379 (authentication failed)"],
  ["a key of the wrong type is Redis answering", new ReplyError("WRONGTYPE Operation against a key holding the wrong kind of value"), socketError("ECONNREFUSED"), undefined],
  ["a script error is Redis answering", new ReplyError("ERR user_script:1: Script attempted to access nonexistent global variable"), undefined, undefined],
  ["not an error", "boom", undefined, undefined],
])("%s", (_name, err, last, expected) => {
  expect(toUnreachable(err, "10.0.0.5:6379", last)?.message).toBe(expected);
});

test.each([
  ["redis://:secret@127.0.0.1:6380/0", "127.0.0.1:6380"],
  ["rediss://user:secret@cache.example.internal", "cache.example.internal:6379"],
  ["redis://[::1]:7000", "[::1]:7000"],
])("redisEndpoint(%s) is %s, without the password", (url, endpoint) => {
  expect(redisEndpoint(parseRedisUrl(url))).toBe(endpoint);
});

test("commands, pipelines and scripts on a stopped Redis reject with the endpoint, never the password", async () => {
  const server = await startRedisServer();
  const redis = connect(server.url);
  await redis.set("k", "v");
  await server.stop();
  const expected = `cannot reach Redis at 127.0.0.1:${server.port} (connection refused)`;
  try {
    // Issued together: ioredis flushes its queue once per maxRetriesPerRequest reconnects.
    const [single, piped, script] = await Promise.all([
      redis.get("k").catch((e: unknown) => e),
      redis.pipeline().get("k").exec(),
      redis.eval("return 1", 0).catch((e: unknown) => e),
    ]);
    const pipelined = piped?.[0]?.[0];
    expect(single).toBeInstanceOf(RedisUnreachableError);
    expect((single as Error).message).toBe(expected);
    expect((pipelined as Error).message).toBe(expected);
    expect((script as Error).message).toBe(expected);
    expect(`${(single as Error).message}${(pipelined as Error).message}`).not.toContain(server.password);
  } finally {
    redis.disconnect();
  }
});
