// The sample-app and agent processes local mode runs in place of instances: each one's environment
// (as the instance's user data sets it), its health check, and restarts as systemd's Restart=always does.
import * as http from "node:http";
import * as path from "node:path";
import type { Role } from "../core/routing/role";
import type { StackLifecycle } from "./lifecycle";
import type { Managed, Supervisor } from "./processes";
import { until } from "../harness/until";

function httpOk(port: number, pathName: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: pathName, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}

export class AppInstances {
  constructor(
    private readonly life: StackLifecycle,
    readonly supervisor: Supervisor,
    private readonly runDir: string,
    private readonly redisUrl: string,
  ) {}

  env(id: string, role: Role, version: string, port: number): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      AVIARY_ROLE: role,
      AVIARY_VERSION: version,
      AVIARY_INSTANCE_ID: id,
      AVIARY_ADDRESS: `127.0.0.1:${port}`,
      REDIS_URL: this.redisUrl,
      AVIARY_FLAG_SNAPSHOT: path.join(this.runDir, `flags-${id}.json`),
      // Faster than on AWS so a killed process leaves the registry within seconds.
      AVIARY_HEARTBEAT_MS: "1000",
      AVIARY_TTL_SECONDS: "5",
      AVIARY_DRAIN_DELAY_MS: "500",
      AVIARY_DEMO_FAULTS: "on",
    };
  }

  healthy(id: string, port: number): Promise<void> {
    return until(`${id} /healthz`, () => httpOk(port, "/healthz"), 20_000);
  }

  /** Starts `name` and starts it again whenever it exits on its own (agent, canaries). */
  keepRunning(name: string, env: NodeJS.ProcessEnv, args: string[]): Managed {
    const { keeper } = this.life;
    const start = (): Managed => {
      keeper.started(name);
      return this.supervisor.spawn(name, process.execPath, args, { env, onUnexpectedExit: (code, signal) => keeper.exited(name, code, signal, start) });
    };
    return start();
  }
}
