// The proxy's fast abort: while a rollout is progressing, every second the agent judges its own
// window — HAProxy's per-role counters since it first saw this run of the rollout's step (a resume
// starts the step again at a new stepStartedAt, and a new window with it; rolloutWindow.ts) —
// with the plan's analysis (core/rollout/judge.ts, always valid however often it looks), and on a
// fail turns the canary off itself through the state module (abortByJudge: idempotent, so several
// proxies judging their own share may all call it). Every few seconds it records its window so the
// controller can judge the sum of all proxies' windows at the step's end.
// Garbage rollout state means no judging and no traffic change, with one warning per distinct problem.
import type Redis from "ioredis";
import type { Logger } from "pino";
import { judge, type JudgeInput, type Judgement } from "../core/rollout/judge";
import type { RolloutState } from "../core/rollout/model";
import { abortByJudge, readRollout, recordWindow } from "../state/rollout";
import { boundProblem } from "../state/bounds";
import { windowSince } from "./rolloutWindow";
import type { CounterReading } from "./metrics";

/** How often the agent judges its window. */
export const JUDGE_INTERVAL_MS = 1000;
/** How often it records its window for the controller. */
export const RECORD_INTERVAL_MS = 5000;

export interface RolloutJudgeOptions {
  redis: Redis;
  /** This proxy's id: the window's field in Redis, and `agent <id>` in the abort's event. */
  proxyId: string;
  /** Reads HAProxy's cumulative counters (shared with the metrics loop: agent/sharedRead.ts). */
  readCounters: () => Promise<CounterReading>;
  logger: Logger;
  intervalMs?: number;
  recordIntervalMs?: number;
  now?: () => Date;
}

export interface RolloutJudge {
  stop(): Promise<void>;
  /** Aborts since the last call (the canaryJudgeAbort count the metrics loop publishes), and resets it. */
  takeAborts(): number;
  /** Resolves after the next completed look (for tests and the bench). */
  nextLook(): Promise<Judgement | undefined>;
}

/** What the agent tracks for the step it is watching. */
interface Watch {
  rolloutId: string;
  step: number;
  stepStartedAt: string;
  baseline: CounterReading;
  recordedAt: number;
  /** Set once this proxy aborted the step: no second abort, no more looks. */
  aborted: boolean;
}

const watching = (w: Watch | undefined, r: RolloutState): boolean =>
  w !== undefined && w.rolloutId === r.id && w.step === r.step && w.stepStartedAt === r.stepStartedAt;

export function startRolloutJudge(o: RolloutJudgeOptions): RolloutJudge {
  const { logger, redis } = o;
  const now = o.now ?? (() => new Date());
  const by = `agent ${o.proxyId}`;
  let watch: Watch | undefined;
  let aborts = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let lastProblem = "";
  const lookers = new Set<(j: Judgement | undefined) => void>();

  // One warning per distinct problem, not one a second.
  const warnOnce = (problem: string, fields: Record<string, unknown>, msg: string): void => {
    if (problem === lastProblem) return;
    lastProblem = problem;
    logger.warn(fields, msg);
  };

  async function record(w: Watch, window: JudgeInput, at: Date): Promise<void> {
    await recordWindow(redis, w.rolloutId, w.step, w.stepStartedAt, o.proxyId, window);
    w.recordedAt = at.getTime();
  }

  async function look(): Promise<Judgement | undefined> {
    const { state, problems } = await readRollout(redis);
    if (state === undefined) {
      const shown = problems.slice(0, 10).map(boundProblem);
      warnOnce(`garbage:${shown.join("|")}`, { problems: shown, count: problems.length }, "rollout state unreadable; not judging the canary (routing untouched)");
      return undefined;
    }
    if (state === null || state.status !== "progressing") {
      watch = undefined;
      return undefined;
    }
    const reading = await o.readCounters();
    const at = now();
    if (!watching(watch, state)) {
      watch = { rolloutId: state.id, step: state.step, stepStartedAt: state.stepStartedAt, baseline: reading, recordedAt: at.getTime(), aborted: false };
      logger.info({ rolloutId: state.id, step: state.step, stepStartedAt: state.stepStartedAt }, "judging the canary's window for this step");
      return undefined;
    }
    const w = watch!;
    if (w.aborted) return undefined;
    const window = windowSince(w.baseline, reading);
    if (window === undefined) {
      logger.warn({ rolloutId: w.rolloutId, step: w.step }, "haproxy counters went backwards (restart); the window starts again");
      w.baseline = reading;
      return undefined;
    }
    const judgement = judge(window, state.plan.analysis);
    if (judgement.verdict === "fail") {
      const weight = state.plan.steps[state.step]?.weight ?? 0;
      const result = { step: w.step, weight, verdict: judgement.verdict, judgedBy: by, at: at.toISOString(), judgement };
      const done = await abortByJudge(redis, { rolloutId: w.rolloutId, step: w.step, result }, { by });
      w.aborted = true;
      aborts++;
      logger.warn({ rolloutId: w.rolloutId, step: w.step, turnedOff: done.turnedOff, eventId: done.eventId, errorRate: judgement.errorRate.reason, latency: judgement.latency.reason }, "canary judge failed the canary; turned it off");
      await record(w, window, at);
    } else if (at.getTime() - w.recordedAt >= (o.recordIntervalMs ?? RECORD_INTERVAL_MS)) {
      await record(w, window, at);
    }
    lastProblem = "";
    return judgement;
  }

  const tick = (): void => {
    running = look()
      .catch((err: Error) => {
        // Redis or the socket unreachable: no verdict this second; the next look sees the whole window.
        warnOnce(`error:${err.message}`, { err: boundProblem(err.message) }, "rollout judge look failed; retrying");
        return undefined;
      })
      .then((j) => {
        for (const cb of lookers) cb(j);
        lookers.clear();
      })
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, o.intervalMs ?? JUDGE_INTERVAL_MS);
      });
  };
  tick();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    takeAborts() {
      const n = aborts;
      aborts = 0;
      return n;
    },
    nextLook() {
      return new Promise((resolve) => lookers.add(resolve));
    },
  };
}
