// HAProxy and the proxy agent, as on the proxy instance: the rendered haproxy.cfg (enough slots for
// the fleet's max and the canaries), HAProxy restarted whenever it dies, and the agent filling its slots.
import * as fs from "node:fs";
import * as path from "node:path";
import { renderHaproxyConfig, type HaproxyConfigOptions } from "../haproxy/config";
import type { AppInstances } from "./appInstances";
import type { LocalConfig } from "./config";
import { freePort } from "../harness/freePort";
import { startHaproxy, type RunningHaproxy } from "../harness/haproxy";
import type { StackLifecycle } from "./lifecycle";

export interface LocalProxy {
  port: number;
  socket: string;
  /** The running HAProxy (a new one after a crash). */
  haproxy(): RunningHaproxy;
}

export interface ProxyOptions {
  life: StackLifecycle;
  apps: AppInstances;
  config: LocalConfig;
  runDir: string;
  agentJs: string;
  redisUrl: string;
  /** 0 = any free port. */
  port: number;
  periodFactor: number;
}

/**
 * The proxy instance's HAProxy options as the stack files give them (slots for the fleet's max and
 * the canaries, the prod stack's threshold, access log and tester routing), on loopback, with the
 * health checks as much faster as the alarm periods.
 */
export function localHaproxyOptions(config: LocalConfig, at: { port: number; statsPort: number; socket: string; periodFactor: number }): HaproxyConfigOptions {
  const { prod, canary } = config;
  return {
    bind: `127.0.0.1:${at.port}`,
    statsBind: `127.0.0.1:${at.statsPort}`,
    socketPath: at.socket,
    prodSlots: prod.prodFleet.max,
    canarySlots: canary.canaryCount,
    checkIntervalMs: Math.max(100, Math.round(1000 / at.periodFactor)),
    latencyThresholdMs: prod.thresholds.canaryP99Ms,
    accessLog: prod.proxy.accessLog,
    testerRouting: prod.proxy.testerRouting,
  };
}

export async function startProxy(o: ProxyOptions): Promise<LocalProxy> {
  const { prod, canary } = o.config;
  const { keeper } = o.life;
  const port = o.port || (await freePort());
  const socket = path.join(o.runDir, "haproxy.sock");
  const cfg = path.join(o.runDir, "haproxy.cfg");
  const slots = { prod: prod.prodFleet.max, canary: canary.canaryCount };
  fs.writeFileSync(cfg, renderHaproxyConfig(localHaproxyOptions(o.config, { port, statsPort: await freePort(), socket, periodFactor: o.periodFactor })));
  const start = async (): Promise<RunningHaproxy> => {
    keeper.started("haproxy");
    const h = await startHaproxy(cfg, socket, path.join(o.runDir, "logs", "haproxy.log"));
    h.proc.once("exit", (code, signal) => {
      // A dead master can leave workers holding the port: end its whole process group (it runs detached).
      try {
        if (h.proc.pid !== undefined) process.kill(-h.proc.pid, "SIGKILL");
      } catch {
        // none left
      }
      if (!o.life.stopped) keeper.exited("haproxy", code, signal, async () => void (haproxy = await start()));
    });
    return h;
  };
  let haproxy: RunningHaproxy = await start();
  // Before the supervisor's stop in reverse order: apps drain through a live proxy first.
  o.life.onStopAfterLast(() => haproxy.stop());
  o.apps.keepRunning("agent", { ...process.env, REDIS_URL: o.redisUrl, HAPROXY_SOCKET: socket, AVIARY_PROD_SLOTS: String(slots.prod), AVIARY_CANARY_SLOTS: String(slots.canary), AVIARY_DEPLOYMENT: "" }, [o.agentJs]);
  return { port, socket, haproxy: () => haproxy };
}
