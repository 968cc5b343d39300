// Local mode's Redis: a redis-server kept running (restarted like a systemd service), persisted in
// the kept state dir when there is one, and the runner's own connection to it.
import type Redis from "ioredis";
import type { Logger } from "pino";
import { connect } from "../state/connection";
import type { KeptState } from "./keptState";
import type { StackLifecycle } from "./lifecycle";
import { startRedisServer, type RedisServer } from "../harness/redisServer";

export async function startRedis(life: StackLifecycle, log: Logger, kept: KeptState | undefined): Promise<{ server: RedisServer; client: Redis }> {
  const { keeper } = life;
  keeper.started("redis-server");
  const server: RedisServer = await startRedisServer({
    persist: true,
    ...(kept ? { dataDir: kept.redisDir, password: kept.password } : {}),
    onCrash: (code, signal) =>
      keeper.exited("redis-server", code, signal, async () => {
        keeper.started("redis-server");
        await server.restart();
      }),
  });
  life.onStop(() => server.stop());
  const client = connect(server.url, { logger: log });
  life.onStop(() => void client.disconnect());
  return { server, client };
}
