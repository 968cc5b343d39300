// One real redis-server per test file (or describe block), a client on it, flushed before each test.
import type Redis from "ioredis";
import { connect } from "../../state/connection";
import { startRedisServer, type RedisServer } from "../../harness/redisServer";

/** Registers the hooks; `ready` hands the server and client to the test file once they exist. */
export function useRedis(ready: (server: RedisServer, redis: Redis) => void): void {
  let server: RedisServer | undefined;
  let redis: Redis | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
    redis = connect(server.url);
    ready(server, redis);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  beforeEach(async () => {
    await redis!.flushall();
  });
}
