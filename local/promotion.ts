// Local mode's promotion: what the promote workflow does on AWS (.github/workflows/promote.yml),
// with processes. Production takes the canary's version (each fleet process replaced, the new one
// serving before the old one stops), then the canary is drained to weight 0 the way destroying the
// canary stack drains it: the canary stack's configuration invocation with the delete lifecycle.
import type { Logger } from "pino";
import type { LocalFleet } from "../adapters/fleet/local";
import type { Handler } from "../lambda/handler";
import { canaryWeightInvocation } from "../lambda/canaryWeightInvocation";
import type { ActivityFeed } from "./activity";

/** The version production runs now: a promotion changes it, and the fleet launches what it says. */
export class ProdVersion {
  constructor(private version: string) {}
  current(): string {
    return this.version;
  }
  set(version: string): void {
    this.version = version;
  }
}

export interface LocalPromotionOptions {
  version: ProdVersion;
  fleet: Pick<LocalFleet, "replaceAll">;
  controller: () => Handler;
  activity: ActivityFeed;
  log: Logger;
}

/**
 * Starts the promotion and returns at once, as a workflow dispatch does: the controller asks for it
 * while holding its lock, and the drain at the end is a controller invocation of its own.
 */
export function localPromotion(o: LocalPromotionOptions): (appVersion: string, rolloutId: string) => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  return async (appVersion, rolloutId) => {
    running = running.then(async () => {
      const from = o.version.current();
      o.activity.add("runner", `promoting ${appVersion} to production (was ${from})`, `rollout ${rolloutId}: as the promote workflow deploys prod with the canary's version`);
      try {
        o.version.set(appVersion);
        const replaced = await o.fleet.replaceAll();
        await o.controller()({ ...canaryWeightInvocation(0, appVersion), tf: { action: "delete" } });
        o.activity.add("runner", `production runs ${appVersion}`, `replaced by ${replaced.join(", ")}; canary drained to 0 as destroying the canary stack does`);
        o.log.info({ appVersion, from, replaced, rolloutId }, "promoted");
      } catch (err) {
        // Instances already replaced keep the new version; promoting again replaces the rest.
        o.activity.add("runner", `promotion of ${appVersion} failed`, `${(err as Error).message}; the fleet may run both versions until it is promoted again`);
        o.log.error({ appVersion, err: (err as Error).message, rolloutId }, "promotion failed");
      }
    });
  };
}
