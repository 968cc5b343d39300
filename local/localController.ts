// The controller in local mode: the SAME handler the Lambda runs, over local adapters (the process
// fleet, the local alarm evaluator, the SNS stand-in) and the local Redis, with cooldowns scaled
// by the period factor.
import type Redis from "ioredis";
import type { Logger } from "pino";
import { RedisControllerStore } from "../adapters/store/redis";
import type { Alarms, Fleet, Notifier, Promoter, Scheduler } from "../controller/ports";
import { logComponent } from "../core/logComponent";
import { createHandler, type Handler } from "../lambda/handler";
import type { LocalConfig } from "./config";

export interface LocalControllerOptions {
  redis: Redis;
  fleet: Fleet;
  alarms: Alarms;
  notifier: Notifier;
  /** Wakes the controller at a rollout step's end (local/rolloutClock.ts). */
  scheduler: Scheduler;
  /** Moves production to the canary's version (local/promotion.ts). */
  promoter: Promoter;
  scaling: LocalConfig["prod"]["scaling"];
  periodFactor: number;
  log: Logger;
}

export function localController(o: LocalControllerOptions): Handler {
  const store = new RedisControllerStore(o.redis, "controller", { ttlMs: 35_000, waitMs: 20_000 }, (problems) => o.log.warn({ problems }, "ignoring invalid state in Redis"));
  return createHandler(() => ({
    fleet: o.fleet,
    notifier: o.notifier,
    alarms: o.alarms,
    scheduler: o.scheduler,
    promoter: o.promoter,
    store,
    policy: {
      step: o.scaling.step,
      scaleOutCooldownSeconds: o.scaling.scaleOutCooldownSeconds / o.periodFactor,
      scaleInCooldownSeconds: o.scaling.scaleInCooldownSeconds / o.periodFactor,
    },
    logger: o.log.child(logComponent("aviary-controller")),
    drainWaitMs: 500,
  }));
}
