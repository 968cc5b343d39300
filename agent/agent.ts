// Proxy agent: mirrors Redis routing/registry state into the proxy through its routing backend
// (HAProxy's Runtime API: adapters/routingBackend/haproxy.ts).
// Fail static: any Redis error or garbage keeps the last applied HAProxy state, and a registry that
// lost prod backends is not believed until each loss is confirmed (see prodGuard.ts).
// Values read from Redis or a notice are logged bounded (size and prefix).
import type Redis from "ioredis";
import type { Logger } from "pino";
import { connect, subscribeChanges } from "../state/connection";
import { readRouting } from "../state/routing";
import { listBackends } from "../state/registry";
import { boundProblem } from "../state/bounds";
import { computeWeights, type SlotAssignment, type Slots } from "../core/routing/weights";
import { guardProd, type KnownProd } from "./prodGuard";
import type { RoutingBackend } from "./ports";
import { TimeoutError } from "../core/errors";

export interface AgentOptions {
  redisUrl: string;
  backend: RoutingBackend;
  slots: Slots;
  resyncMs?: number;
  logger: Logger;
}

export interface Agent {
  stop(): Promise<void>;
  /** Last assignments successfully pushed to HAProxy. */
  applied(): SlotAssignment[];
  /** Called after each apply that reached HAProxy (changed or not); returns an unsubscribe. */
  onApplied(cb: (applied: SlotAssignment[]) => void): () => void;
  /** Resolves on the first apply (including the current state) satisfying `pred`. */
  waitForApplied(pred: (applied: SlotAssignment[]) => boolean, timeoutMs?: number): Promise<SlotAssignment[]>;
}

function same(a: SlotAssignment | undefined, b: SlotAssignment): boolean {
  return a !== undefined && a.address === b.address && a.port === b.port && a.weight === b.weight && a.state === b.state;
}

export async function startAgent(opts: AgentOptions): Promise<Agent> {
  const { logger, backend, slots } = opts;
  const resyncMs = opts.resyncMs ?? 5000;
  const redis: Redis = connect(opts.redisUrl, { logger });
  let last = new Map<string, SlotAssignment>();
  const listeners = new Set<(a: SlotAssignment[]) => void>();
  let stopped = false;
  let running: Promise<void> | undefined;
  let pending: { force: boolean } | undefined;

  const snapshot = (): SlotAssignment[] => [...last.values()].map((s) => ({ ...s }));

  // Prod backends seen in the registry (with when they would expire), and backend ids named by
  // change notices not yet taken into account: what lets a shrink of the registry be confirmed.
  let known = new Map<string, KnownProd>();
  const noticed = new Set<string>();
  let lastHeld = "";
  let readFailed = false;

  async function applyOnce(force: boolean): Promise<void> {
    let assignments: SlotAssignment[];
    // Notices received before this read: the read sees the change each one announced.
    const confirming = new Set(noticed);
    noticed.clear();
    try {
      const [routing, registry] = await Promise.all([readRouting(redis), listBackends(redis)]);
      if (routing.state === undefined) {
        logger.warn({ problems: routing.problems.slice(0, 10).map(boundProblem) }, "routing state unreadable; keeping last applied state");
        for (const id of confirming) noticed.add(id);
        return;
      }
      if (registry.problems.length > 0) {
        logger.warn({ count: registry.problems.length, problems: registry.problems.slice(0, 10).map(boundProblem) }, "ignoring invalid backend entries");
      }
      if (registry.missing.length > 0) logger.info({ count: registry.missing.length, ids: registry.missing.slice(0, 10) }, "registry index named backends whose entry is gone; pruned");
      const guarded = guardProd({ known, registry, noticed: confirming, nowMs: Date.now(), afterOutage: readFailed });
      known = guarded.known;
      readFailed = false;
      if (guarded.dropped.length > 0) logger.info({ dropped: guarded.dropped }, "prod backends gone from the registry (deregistered or expired); removing them");
      const heldNow = guarded.held.join(",");
      if (heldNow !== lastHeld && guarded.held.length > 0) {
        logger.warn({ held: guarded.held.slice(0, 10), count: guarded.held.length }, "registry lists fewer prod backends than before; keeping them until deregistered or their TTL expires");
      }
      lastHeld = heldNow;
      const backends = guarded.backends;
      const overflow = backends.length - Math.min(slots.prod, backends.filter((b) => b.role === "prod").length) -
        Math.min(slots.canary, backends.filter((b) => b.role === "canary").length);
      if (overflow > 0) logger.warn({ overflow }, "more backends than HAProxy slots; extras get no traffic");
      assignments = computeWeights(routing.state, backends, slots);
    } catch (err) {
      for (const id of confirming) noticed.add(id);
      readFailed = true;
      logger.warn({ err: boundProblem((err as Error).message) }, "redis unavailable; keeping last applied state");
      return;
    }
    const changed = assignments.filter((a) => force || !same(last.get(a.slot), a));
    if (changed.length > 0) {
      try {
        await backend.apply(changed);
      } catch (err) {
        // Forget what we think is applied so the next round re-sends everything.
        last = new Map();
        logger.error({ err: boundProblem((err as Error).message) }, "haproxy runtime API failed; will retry");
        return;
      }
      const news = changed.filter((a) => !same(last.get(a.slot), a));
      for (const a of changed) last.set(a.slot, a);
      // The periodic full re-send repeats what HAProxy already has: only real changes are news.
      if (news.length > 0) logger.info({ changed: news.map((a) => `${a.slot}=${a.state}:${a.weight}`) }, "applied");
      else logger.debug({ slots: changed.length }, "re-sent the full state");
    }
    const applied = snapshot();
    for (const cb of listeners) cb(applied);
  }

  /** Serializes applies; notices arriving mid-apply collapse into one follow-up run. */
  function schedule(force = false): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running) {
      pending = { force: force || (pending?.force ?? false) };
      return running;
    }
    running = (async () => {
      await applyOnce(force);
      while (pending && !stopped) {
        const p = pending;
        pending = undefined;
        await applyOnce(p.force);
      }
    })().finally(() => (running = undefined));
    return running;
  }

  let unsubscribe: (() => Promise<void>) | undefined;
  const subscribe = async (): Promise<void> => {
    try {
      unsubscribe = await subscribeChanges(
        opts.redisUrl,
        (notice) => {
          // Registration, deregistration and drain each publish one naming the backend.
          if (notice.kind === "backend" && typeof notice.id === "string" && notice.id.length <= 64) noticed.add(notice.id);
          void schedule();
        },
        { logger, onProblem: (p) => logger.warn({ problem: boundProblem(p) }, "bad change notice") },
      );
      // Notices sent while we were subscribing would be lost: re-read once now.
      void schedule();
    } catch (err) {
      logger.warn({ err: boundProblem((err as Error).message) }, "subscribe failed; retrying");
      if (!stopped) subscribeTimer = setTimeout(() => void subscribe(), 1000);
    }
  };
  let subscribeTimer: NodeJS.Timeout | undefined;
  await schedule(true);
  await subscribe();
  // Safety net for lost notices (ioredis resubscribes after reconnects, but pub/sub is fire-and-forget)
  // and for HAProxy reloads that reset runtime state: a forced full re-apply.
  const resync = setInterval(() => void schedule(true), resyncMs);

  return {
    async stop() {
      stopped = true;
      clearInterval(resync);
      if (subscribeTimer) clearTimeout(subscribeTimer);
      await running;
      await unsubscribe?.();
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
    applied: snapshot,
    onApplied(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    waitForApplied(pred, timeoutMs = 10000) {
      return new Promise((resolve, reject) => {
        const now = snapshot();
        if (pred(now)) return resolve(now);
        const t = setTimeout(() => {
          listeners.delete(cb);
          reject(new TimeoutError("timed out waiting for agent apply"));
        }, timeoutMs);
        const cb = (a: SlotAssignment[]): void => {
          if (!pred(a)) return;
          clearTimeout(t);
          listeners.delete(cb);
          resolve(a);
        };
        listeners.add(cb);
      });
    },
  };
}
