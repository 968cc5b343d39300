// What the local stack started and how it ends: processes kept running as systemd keeps each
// service running on the instances, and the stop order (halts first, then cleanups newest first).
import type { Logger } from "pino";
import type { ActivityFeed } from "./activity";
import { KeepAlive } from "./keepAlive";

export class StackLifecycle {
  /** As systemd does for each service on the instances: a process that exits on its own is started again. */
  readonly keeper: KeepAlive;
  // Run first on stop: nothing that stop() ends may be restarted or replaced.
  private readonly halts: (() => void)[];
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private ended = false;

  constructor(activity: ActivityFeed, private readonly log: Logger) {
    this.keeper = new KeepAlive({
      restarted: (name, how, delayMs) => {
        activity.add("runner", `${name} exited (${how}), restarted`, `after ${delayMs / 1000} s, as systemd's Restart=always does on the instance`);
        log.warn({ process: name, exit: how, delayMs }, "process exited, restarted");
      },
      gaveUp: (name, how, reason) => {
        activity.add("runner", `${name} exited (${how}), not restarted`, `${reason}: stopped restarting, as systemd's start limit does`);
        log.error({ process: name, exit: how, reason }, "process exited, not restarted");
      },
      failed: (name, err) => log.error({ process: name, err: err.message }, "restart failed"),
    });
    this.halts = [() => this.keeper.stop()];
  }

  get stopped(): boolean {
    return this.ended;
  }

  /** Run at the start of stop(), before any cleanup. */
  onHalt(h: () => void): void {
    this.halts.push(h);
  }

  /** Run on stop(), after every cleanup registered later. */
  onStop(c: () => Promise<void> | void): void {
    this.cleanups.push(c);
  }

  /** As onStop, but run after the most recently registered cleanup instead of before it. */
  onStopAfterLast(c: () => Promise<void> | void): void {
    this.cleanups.splice(this.cleanups.length - 1, 0, c);
  }

  /** Stops everything it started, newest first; safe to call twice. */
  readonly stop = async (): Promise<void> => {
    if (this.ended) return;
    this.ended = true;
    for (const h of this.halts) h();
    for (const c of this.cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, "cleanup step failed");
      }
    }
  };
}
