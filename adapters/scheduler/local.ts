// Scheduler port in local mode: a timer per wake-up that hands the tick to the controller; stopped
// with the stack. `at` is already in local mode's time: as with the scaling cooldowns
// (local/localController.ts), local mode divides the plan's pauses by the period factor before
// deciding. Dividing the delay here instead would wake the controller before the pause it decided
// had ended, and each early tick would only re-schedule the same `at`.
import type { Scheduler } from "../../controller/ports";
import { InvalidInputError } from "../../core/errors";

export class LocalScheduler implements Scheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** `tick` runs the controller's rollout tick; it must catch and log its own failures. */
  constructor(
    private readonly tick: (rolloutId: string) => Promise<void>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async wakeAt(rolloutId: string, at: string): Promise<void> {
    const when = Date.parse(at);
    if (Number.isNaN(when)) throw new InvalidInputError(`local scheduler: wake-up time ${JSON.stringify(at)} is not a time`);
    // One timer per (rollout, time): a retried decision does not tick twice.
    const key = `${rolloutId} ${new Date(when).toISOString()}`;
    if (this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      void this.tick(rolloutId);
    }, Math.max(0, when - this.clock().getTime()));
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Wake-ups not yet fired. */
  pending(): number {
    return this.timers.size;
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
