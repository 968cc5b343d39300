// What wakes local mode's controller for a rollout, as EventBridge Scheduler does on AWS: a timer
// at each step's end (the controller's Scheduler port, adapters/scheduler/local.ts), and a
// heartbeat every second that carries out what a person's command left to the controller (a
// promotion asked for with `aviary rollout promote`, a resumed step's wake-up) and heals a lost timer.
import type Redis from "ioredis";
import type { Logger } from "pino";
import { LocalScheduler } from "../adapters/scheduler/local";
import type { Handler } from "../lambda/handler";
import { readRollout } from "../state/rollout";
import type { StackLifecycle } from "./lifecycle";

export const ROLLOUT_HEARTBEAT_MS = 1000;

export interface RolloutClockOptions {
  life: StackLifecycle;
  redis: Redis;
  /** The controller; a function, as the controller is built with the scheduler this clock makes. */
  controller: () => Handler;
  log: Logger;
  heartbeatMs?: number;
}

export interface RolloutClock {
  scheduler: LocalScheduler;
  /** Starts the heartbeat (once the stack is up). */
  start(): void;
}

export function rolloutClock(o: RolloutClockOptions): RolloutClock {
  let ticking = false;
  const tick = async (rolloutId: string): Promise<void> => {
    try {
      await o.controller()({ action: "rolloutTick", rolloutId });
    } catch (err) {
      o.log.warn({ rolloutId, err: (err as Error).message }, "rollout tick failed; the next heartbeat retries");
    }
  };
  const scheduler = new LocalScheduler(tick);
  o.life.onStop(() => scheduler.stop());
  return {
    scheduler,
    start(): void {
      const timer = setInterval(() => {
        // One at a time: a slow tick (the controller lock held) delays the next instead of piling up.
        if (ticking) return;
        ticking = true;
        void readRollout(o.redis)
          // Nothing stored, or garbage (the controller reports it when a command meets it): no tick.
          .then((r) => (r.state ? tick(r.state.id) : undefined))
          .catch((err: Error) => o.log.warn({ err: err.message }, "rollout heartbeat could not read the rollout"))
          .finally(() => (ticking = false));
      }, o.heartbeatMs ?? ROLLOUT_HEARTBEAT_MS);
      timer.unref();
      o.life.onStop(() => clearInterval(timer));
    },
  };
}
