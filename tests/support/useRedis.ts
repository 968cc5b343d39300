// One real redis-server per test file (or describe block), a client on it, flushed before each test.
import type Redis from "ioredis";
import { InvariantError } from "../../core/errors";
import { connect } from "../../state/connection";
import { startRedisServer, type RedisServer } from "../../harness/redisServer";

/** The server and its client, readable from the tests once beforeAll has started them. */
export interface RedisHandle {
  readonly server: RedisServer;
  readonly redis: Redis;
}

/** Registers the hooks and returns the handle they fill: `const db = useRedis();` then `db.redis`. */
export function useRedis(): RedisHandle {
  let server: RedisServer | undefined;
  let redis: Redis | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
    redis = connect(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  beforeEach(async () => {
    await redis!.flushall();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new InvariantError("useRedis: read the handle inside a test or hook, after beforeAll has started redis-server");
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get redis() {
      return started(redis);
    },
  };
}
