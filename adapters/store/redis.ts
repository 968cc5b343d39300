// ControllerStore over the shared state module (the only code that knows Aviary's Redis keys).
import type Redis from "ioredis";
import {
  claimMessage,
  messageMarker,
  clearFollowUps,
  commitMessage,
  readControllerMemory,
  readFollowUps,
  recordControllerEvents,
  releaseMessage,
  saveFollowUps,
  withControllerLock,
  writeControllerMemory,
  type LockOptions,
} from "../../state/controller";
import { drainBackend, listBackends } from "../../state/registry";
import { readRollout, readWindows, writeRollout, type RolloutWrite } from "../../state/rollout";
import type { JudgeInput } from "../../core/rollout/judge";
import type { RolloutState } from "../../core/rollout/model";
import { changeRouting, readRouting, type RoutingChange, type RoutingTarget } from "../../state/routing";
import { badKeyMessage, textFound } from "../../state/badKey";
import { PREVIEW_CHARS } from "../../state/bounds";
import { keys } from "../../state/keys";
import { LOCK_WAIT_MS } from "../../lambda/timing";
import { TimeoutError } from "../../core/errors";
import type { CanaryState, ControllerMemory, FollowUp } from "../../core/controller/decide";
import type { ActionRecord, ControllerStore, PendingFollowUps } from "../../controller/ports";

const isText = (v: unknown): v is string => typeof v === "string";

/** Validates follow-ups read back from Redis; undefined for anything else. */
function parsePending(messageId: string, json: string): PendingFollowUps | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  const { savedAt, followUps } = (value ?? {}) as { savedAt?: unknown; followUps?: unknown };
  if (!isText(savedAt) || Number.isNaN(Date.parse(savedAt)) || !Array.isArray(followUps)) return undefined;
  const valid = followUps.every((f: Partial<Record<string, unknown>>) =>
    (f?.type === "rearmAlarm" && isText(f.alarmName) && isText(f.reason)) || (f?.type === "notify" && isText(f.subject) && isText(f.message)));
  return valid ? { messageId, savedAt, followUps: followUps as FollowUp[] } : undefined;
}

export class RedisControllerStore implements ControllerStore {
  constructor(
    private readonly redis: Redis,
    /** Written as `by` on every change and event. */
    private readonly by: string,
    private readonly lock: LockOptions,
    private readonly onProblem: (problems: string[]) => void = () => undefined,
  ) {}

  /**
   * True if this delivery owns the message; false if it was done already. A message another
   * delivery still holds is waited for (up to the lock wait): if that holder died mid-action
   * (Lambda timeout, crash) its marker stays "pending" until it expires, and this delivery
   * fails so that SNS/Lambda retry it later, instead of being dropped as a duplicate.
   */
  async claimMessage(id: string): Promise<boolean> {
    const deadline = Date.now() + this.lock.waitMs;
    for (;;) {
      const { status, repaired } = await claimMessage(this.redis, id);
      if (repaired) this.onProblem([repaired]);
      if (status !== "pending") return status === "claimed";
      if (Date.now() >= deadline) {
        throw new TimeoutError(`aviary: Redis key ${keys.dedupe(id)}: message ${id} is still in progress after ${this.lock.waitMs} ms (its handler may have died mid-action); failing so it is retried`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async messageDone(id: string): Promise<boolean> {
    return (await messageMarker(this.redis, id)) === "done";
  }
  commitMessage(id: string): Promise<void> {
    return commitMessage(this.redis, id);
  }
  releaseMessage(id: string): Promise<void> {
    return releaseMessage(this.redis, id);
  }
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return withControllerLock(this.redis, this.lock, fn, (problem) => this.onProblem([problem]));
  }

  async readMemory(): Promise<ControllerMemory> {
    const { memory, problems } = await readControllerMemory(this.redis);
    if (problems.length > 0) this.onProblem(problems);
    return memory;
  }
  writeMemory(memory: ControllerMemory): Promise<void> {
    return writeControllerMemory(this.redis, memory);
  }

  async readCanary(): Promise<CanaryState> {
    const { state, problems } = await readRouting(this.redis);
    if (state) return { enabled: state.canaryEnabled, weight: state.canaryWeight };
    // Garbage routing: assume the canary may be serving, so a canary alarm still turns it off.
    this.onProblem(problems);
    return { enabled: true, weight: 0 };
  }
  async disableCanary(reason: string): Promise<CanaryState> {
    const { state, problems } = await readRouting(this.redis);
    if (!state) this.onProblem(problems);
    if (state?.canaryEnabled === false) {
      const earlierAttempt = state.changedBy === this.by && state.reason === reason;
      return { enabled: earlierAttempt, weight: state.canaryWeight };
    }
    await changeRouting(this.redis, { enabled: false }, { by: this.by, reason });
    // Garbage routing: the canary may have been serving at any weight.
    return { enabled: true, weight: state?.canaryWeight ?? 0 };
  }
  setRouting(target: RoutingTarget, reason?: string): Promise<RoutingChange> {
    return changeRouting(this.redis, target, { by: this.by, reason });
  }

  async readRollout(): Promise<RolloutState | null | undefined> {
    const { state, problems } = await readRollout(this.redis);
    if (problems.length > 0) this.onProblem(problems);
    return state;
  }
  writeRollout(next: RolloutState | null, routing: RoutingTarget | undefined, reason: string, expectRevision: number | null): Promise<RolloutWrite> {
    return writeRollout(this.redis, next, routing, { by: this.by, reason, expectRevision });
  }
  async readWindows(rolloutId: string, step: number, stepStartedAt: string): Promise<{ sum: JudgeInput; proxies: number; problems: string[] }> {
    const windows = await readWindows(this.redis, rolloutId, step, stepStartedAt);
    if (windows.problems.length > 0) this.onProblem(windows.problems);
    return windows;
  }

  async registeredAt(ids: string[]): Promise<Record<string, string>> {
    const { backends, problems } = await listBackends(this.redis);
    if (problems.length > 0) this.onProblem(problems);
    return Object.fromEntries(backends.filter((b) => ids.includes(b.id)).map((b) => [b.id, b.registeredAt]));
  }
  drainBackend(id: string, reason: string): Promise<boolean> {
    return drainBackend(this.redis, id, { by: this.by, reason });
  }

  async recordActions(records: ActionRecord[]): Promise<void> {
    await recordControllerEvents(this.redis, records.map((r) => ({ ...r, by: this.by })));
  }

  saveFollowUps(messageId: string, followUps: FollowUp[], savedAt: string): Promise<void> {
    return saveFollowUps(this.redis, messageId, JSON.stringify({ savedAt, followUps }), this.problem);
  }
  async pendingFollowUps(): Promise<PendingFollowUps[]> {
    const { followUps, problems } = await readFollowUps(this.redis);
    if (problems.length > 0) this.onProblem(problems);
    const pending: PendingFollowUps[] = [];
    for (const [messageId, json] of Object.entries(followUps)) {
      const parsed = parsePending(messageId, json);
      if (parsed) pending.push(parsed);
      else {
        const field = JSON.stringify(messageId.slice(0, PREVIEW_CHARS));
        this.onProblem([badKeyMessage({ key: keys.controllerFollowUps, field, found: textFound(json), expected: "follow-ups JSON" }, "repaired (dropped)")]);
        await clearFollowUps(this.redis, messageId, this.problem);
      }
    }
    return pending;
  }
  clearFollowUps(messageId: string): Promise<void> {
    return clearFollowUps(this.redis, messageId, this.problem);
  }

  private readonly problem = (problem: string): void => this.onProblem([problem]);
}

/**
 * The store for a person's command (the CLI, local mode's demo), writing as `by`. Its one write
 * holds the lock briefly; it waits for the lock as long as a controller execution would.
 */
export function commandStore(redis: Redis, by: string, onProblem?: (problems: string[]) => void): RedisControllerStore {
  return new RedisControllerStore(redis, by, { ttlMs: 10_000, waitMs: LOCK_WAIT_MS }, onProblem);
}
