// Local mode's stand-in for systemd's restart policy on the instances. The boot scripts' units say
// `Restart=always` and `RestartSec=2` (components/systemdUnit.ts); systemd then rate-limits starts
// (StartLimitBurst=5 by default, systemd.service(5) / systemd.unit(5) "StartLimitIntervalSec=,
// StartLimitBurst=") and, since v254, can grow the delay (RestartSteps=, RestartMaxDelaySec=).
// Here the delay doubles with each start inside the window, and the fifth start in a row inside it
// is the last: a crash loop backs off and then stops instead of spinning.

export interface RestartPolicy {
  /** RestartSec=: the first delay after an exit. */
  restartMs: number;
  /** RestartMaxDelaySec=: the delay never grows beyond this. */
  maxDelayMs: number;
  /** StartLimitBurst=: at most this many starts within `intervalMs`. */
  burst: number;
  /** StartLimitIntervalSec=: long enough that the doubled delays (2+4+8+16 s) still fall inside it. */
  intervalMs: number;
}

export const SYSTEMD_RESTART: RestartPolicy = { restartMs: 2000, maxDelayMs: 30_000, burst: 5, intervalMs: 60_000 };

export type NextStart = { restart: true; delayMs: number } | { restart: false; reason: string };

/** After an exit at `now`, given the times the process was started: restart (after how long) or give up. */
export function nextStart(starts: readonly number[], now: number, policy: RestartPolicy): NextStart {
  const recent = starts.filter((t) => t > now - policy.intervalMs).length;
  if (recent >= policy.burst) return { restart: false, reason: `started ${recent} times within ${policy.intervalMs / 1000} s` };
  const delayMs = Math.min(policy.maxDelayMs, policy.restartMs * 2 ** Math.max(0, recent - 1));
  return { restart: true, delayMs };
}

/** Describes how a process ended, as systemd logs it: "code 1" or "signal SIGKILL". */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `code ${code ?? "?"}`;
}

export interface KeepAliveHooks {
  restarted(name: string, how: string, delayMs: number): void;
  gaveUp(name: string, how: string, reason: string): void;
  failed(name: string, err: Error): void;
}

/** Restarts what exits on its own; stop() cancels pending restarts so a deliberate stop is final. */
export class KeepAlive {
  private readonly starts = new Map<string, number[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly hooks: KeepAliveHooks, private readonly policy: RestartPolicy = SYSTEMD_RESTART, private readonly now: () => number = Date.now) {}

  /** Records a start of `name` (the first one and every restart). */
  started(name: string): void {
    this.starts.set(name, [...(this.starts.get(name) ?? []), this.now()].slice(-this.policy.burst));
  }

  /** `name` ended without being asked to: schedule `start` (which calls started()) per the policy. */
  exited(name: string, code: number | null, signal: NodeJS.Signals | null, start: () => Promise<unknown> | unknown): void {
    if (this.stopped) return;
    const how = describeExit(code, signal);
    const next = nextStart(this.starts.get(name) ?? [], this.now(), this.policy);
    if (!next.restart) return this.hooks.gaveUp(name, how, next.reason);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped) return;
      Promise.resolve()
        .then(start)
        .then(
          () => this.hooks.restarted(name, how, next.delayMs),
          (err: Error) => {
            this.hooks.failed(name, err);
            this.exited(name, code, signal, start); // a failed start counts towards the limit too
          },
        );
    }, next.delayMs);
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
