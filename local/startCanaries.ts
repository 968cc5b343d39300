// The canary instance(s) in local mode: `canaryCount` app processes of the canary's version, kept running.
import type { AppInstances } from "./appInstances";
import type { LocalConfig } from "./config";
import { freePort } from "../harness/freePort";

export async function startCanaries(apps: AppInstances, canary: LocalConfig["canary"], appJs: string, progress: (step: string) => void): Promise<void> {
  for (let i = 1; i <= canary.canaryCount; i++) {
    progress(`canary ${i}/${canary.canaryCount}`);
    const port = await freePort();
    apps.keepRunning(`canary-${i}`, apps.env(`canary-${i}`, "canary", canary.appVersion, port), [appJs]);
    await apps.healthy(`canary-${i}`, port);
  }
}
