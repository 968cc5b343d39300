// The production fleet in local mode: a LocalFleet of sample-app processes of prod's version. It
// tells start-up progress as instances come up, and the activity feed when it replaces a lost one.
import type { Logger } from "pino";
import { LocalFleet } from "../adapters/fleet/local";
import type { ActivityFeed } from "./activity";
import type { AppInstances } from "./appInstances";
import type { LocalConfig } from "./config";
import type { StackLifecycle } from "./lifecycle";
import type { ProdVersion } from "./promotion";

export interface ProdFleetOptions {
  life: StackLifecycle;
  apps: AppInstances;
  prod: LocalConfig["prod"];
  /** What a launch starts: prod's appVersion until a promotion changes it. */
  version: ProdVersion;
  appJs: string;
  activity: ActivityFeed;
  log: Logger;
  progress: (step: string) => void;
}

/** The fleet, not yet launched: setDesired starts it. */
export function prodFleet(o: ProdFleetOptions): LocalFleet {
  const { prod, apps, activity, log } = o;
  let fleetReady = 0;
  const fleet = new LocalFleet({
    min: prod.prodFleet.min,
    max: prod.prodFleet.max,
    launch: (id, port) => apps.supervisor.spawn(id, process.execPath, [o.appJs], { env: apps.env(id, "prod", o.version.current(), port) }),
    ready: async (id, port) => {
      await apps.healthy(id, port);
      // Start-up progress only; replacements later are activity events.
      if (fleetReady < prod.prodFleet.desired) o.progress(`fleet ${++fleetReady}/${prod.prodFleet.desired} up`);
    },
    onReplace: (lost, how, outcome) => {
      if ("replacement" in outcome) {
        activity.add("runner", `${lost} exited (${how}), replaced by ${outcome.replacement}`, `as the Auto Scaling group replaces a lost instance to keep desired ${fleet.desiredCapacity()}`);
        log.warn({ lost, exit: how, replacement: outcome.replacement }, "fleet instance lost, replaced");
      } else {
        activity.add("runner", `${lost} exited (${how}), not replaced`, outcome.error);
        log.error({ lost, exit: how, err: outcome.error }, "fleet instance lost, not replaced");
      }
    },
  });
  o.life.onHalt(() => fleet.halt());
  return fleet;
}
