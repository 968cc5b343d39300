// Promoter port in local mode: the local stack moves its production processes to the canary's
// version (the function it passes in); there is no workflow to dispatch.
import type { Promoter } from "../../controller/ports";

export class LocalPromoter implements Promoter {
  constructor(private readonly moveProduction: (appVersion: string, rolloutId: string) => Promise<void>) {}

  promote(appVersion: string, rolloutId: string): Promise<void> {
    return this.moveProduction(appVersion, rolloutId);
  }
}
