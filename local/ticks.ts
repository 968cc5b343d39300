// The local stack's clock: every tick the metrics sink samples and the alarms are evaluated (their
// transitions published on the alarm topic), one tick at a time; status reads run between ticks.
import type { Logger } from "pino";
import type { LocalCollector } from "../adapters/metricsSink/local";
import type { AlarmEvaluator } from "./alarmEvaluator";
import type { LocalAlarmTopic } from "./alarmTopic";
import type { StackLifecycle } from "./lifecycle";

/** Longest a dashboard read may hold back the metrics and alarm ticks. */
const BETWEEN_TICKS_MAX_MS = 2000;

/** Resolves when p settles or after ms, whichever comes first; never rejects. */
function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    const settle = (): void => {
      clearTimeout(timer);
      done();
    };
    p.then(settle, settle);
  });
}

export interface TickOptions {
  life: StackLifecycle;
  collector: LocalCollector;
  evaluator: AlarmEvaluator;
  topic: LocalAlarmTopic;
  tickMs: number;
  log: Logger;
}

/** Starts ticking; returns `betweenTicks`, which runs f between ticks, never inside one. */
export function startTicks(o: TickOptions): <T>(f: () => Promise<T>) => Promise<T> {
  let ticking = Promise.resolve();
  // A status read mid-rollback would mix the state before and after the controller's writes.
  // Bounded both ways: a stuck tick (a controller waiting on a lock) delays a read by at most
  // BETWEEN_TICKS_MAX_MS, and a read stuck on a frozen Redis holds the ticks back by at most as
  // long (alarms must keep being evaluated).
  const betweenTicks = <T>(f: () => Promise<T>): Promise<T> => {
    const run = settledWithin(ticking, BETWEEN_TICKS_MAX_MS).then(f);
    ticking = ticking.then(() => settledWithin(run, BETWEEN_TICKS_MAX_MS));
    return run;
  };
  const timer = setInterval(() => {
    // One tick at a time: a slow controller run delays the next evaluation rather than overlapping it.
    ticking = ticking.then(async () => {
      try {
        await o.collector.tick();
        for (const t of o.evaluator.evaluate(Date.now())) await o.topic.publish(t);
      } catch (err) {
        o.log.warn({ err: (err as Error).message }, "metrics tick failed");
      }
    });
  }, o.tickMs);
  o.life.onStop(async () => {
    clearInterval(timer);
    await ticking;
  });
  return betweenTicks;
}
