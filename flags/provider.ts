/**
 * Aviary's OpenFeature provider: flags live in memory (no Redis round trip per evaluation), change
 * notices on `aviary:changes` re-read the changed flag at once, a periodic full reload is the safety
 * net, and the last-known-good set survives Redis outages (in memory and in an optional snapshot
 * file for restarts). Events: READY, CONFIGURATION_CHANGED, STALE (Redis lost, serving last known
 * good), ERROR (nothing to serve: evaluations return the code default).
 */
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  StandardResolutionReasons,
  type EvaluationContext,
  type FlagMetadata,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from "@openfeature/server-sdk";
import type Redis from "ioredis";
import type { RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { UnreachableError } from "../core/errors";
import { connect, subscribeChanges } from "../state/connection";
import type { ChangeNotice } from "../state/events";
import { readFlag, readFlags } from "../state/flags";
import { compileFlag, evaluate, type CompiledFlag } from "../core/flags/evaluate";
import type { FlagValue, StoredFlag } from "../core/flags/model";
import { readSnapshot, writeSnapshot } from "./snapshot";

export interface AviaryFlagProviderOptions {
  /** Default: env REDIS_URL. */
  redisUrl?: string;
  /** Where the last-known-good flags are persisted; no file when absent. */
  snapshotFile?: string;
  /** Full reload period while connected (safety net for missed notices). Default 30 s. */
  reloadIntervalMs?: number;
  /** Retry period while Redis is unreachable. Default 1 s. */
  retryIntervalMs?: number;
  logger?: Logger;
  /** Extra ioredis options for both connections. */
  redis?: RedisOptions;
}

/** live: in sync with Redis; stale: serving last known good; empty: nothing loaded yet. */
export type ProviderHealth = "live" | "stale" | "empty";

interface Entry {
  compiled: CompiledFlag;
  stored: StoredFlag;
  metadata: FlagMetadata;
}

type Scalar = "boolean" | "string" | "number";

export class AviaryFlagProvider implements Provider {
  readonly metadata = { name: "aviary-redis" } as const;
  readonly runsOn = "server" as const;
  readonly events = new OpenFeatureEventEmitter();

  private flags = new Map<string, Entry>();
  private health: ProviderHealth = "empty";
  private redis: Redis | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Every Redis read and map update runs in this chain, so a slow full reload never overwrites a newer single-flag read. */
  private queue: Promise<void> = Promise.resolve();
  private lastSnapshot = "";
  private closed = false;
  private readonly opts: Required<Pick<AviaryFlagProviderOptions, "reloadIntervalMs" | "retryIntervalMs">> & AviaryFlagProviderOptions;

  constructor(opts: AviaryFlagProviderOptions = {}) {
    this.opts = { reloadIntervalMs: 30_000, retryIntervalMs: 1000, ...opts };
  }

  /** Current health; the SDK's provider status mirrors it through the events. */
  get state(): ProviderHealth {
    return this.health;
  }

  async initialize(): Promise<void> {
    // A missing or malformed URL is a configuration error, not an outage: fail without retrying.
    this.redis = connect(this.opts.redisUrl ?? process.env.REDIS_URL, { logger: this.opts.logger, redis: this.opts.redis });
    try {
      await this.subscribe();
      await this.enqueue(() => this.reloadAll());
      this.health = "live";
    } catch (err) {
      const message = `redis unavailable: ${(err as Error).message}`;
      this.opts.logger?.warn({ err: (err as Error).message }, "flags: redis unavailable at start");
      await this.loadSnapshotFile();
      this.scheduleRetry();
      if (this.flags.size === 0) {
        // Rejecting makes the SDK emit ERROR; evaluations return the code default until recovery.
        throw new UnreachableError(`${message}; no snapshot to fall back to`);
      }
      this.health = "stale";
      // After the SDK has processed initialize() (READY), report that the data is a snapshot.
      setImmediate(() => {
        if (this.health === "stale") this.events.emit(ProviderEvents.Stale, { message: `${message}; serving snapshot` });
      });
    } finally {
      if (!this.closed) {
        this.reloadTimer = setInterval(() => this.periodicReload(), this.opts.reloadIntervalMs);
        this.reloadTimer.unref();
      }
    }
  }

  async onClose(): Promise<void> {
    this.closed = true;
    clearInterval(this.reloadTimer);
    clearTimeout(this.retryTimer);
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.queue;
    if (this.redis) await this.redis.quit().catch(() => this.redis?.disconnect());
    this.redis = undefined;
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, "boolean"));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, "string"));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, "number"));
  }

  /** Aviary flags are boolean, string or number: an object evaluation is always a type mismatch. */
  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): Promise<ResolutionDetails<T>> {
    const entry = this.flags.get(flagKey);
    return Promise.resolve(
      entry === undefined
        ? this.notFound(flagKey, defaultValue)
        : { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.TYPE_MISMATCH, errorMessage: `flag "${flagKey}" is a ${entry.stored.type} flag, not an object` },
    );
  }

  /** Synchronous evaluation from memory: what the resolve* methods wrap (and what the benchmark times). */
  resolve<T extends FlagValue>(flagKey: string, defaultValue: T, context: EvaluationContext, type: Scalar): ResolutionDetails<T> {
    const entry = this.flags.get(flagKey);
    if (entry === undefined) return this.notFound(flagKey, defaultValue);
    if (entry.stored.type !== type) {
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.ERROR,
        errorCode: ErrorCode.TYPE_MISMATCH,
        errorMessage: `flag "${flagKey}" is a ${entry.stored.type} flag, asked for ${type}`,
      };
    }
    const e = evaluate(entry.compiled, context);
    if ("useCallerDefault" in e) return { value: defaultValue, reason: StandardResolutionReasons.DISABLED, flagMetadata: entry.metadata };
    return { value: e.value as T, variant: e.variant, reason: e.reason, flagMetadata: entry.metadata };
  }

  private notFound<T>(flagKey: string, defaultValue: T): ResolutionDetails<T> {
    return this.health === "empty"
      ? { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.PROVIDER_NOT_READY, errorMessage: "no flags loaded yet (Redis unreachable, no snapshot)" }
      : { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND, errorMessage: `flag "${flagKey}" not found` };
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async subscribe(): Promise<void> {
    if (this.unsubscribe || this.closed) return;
    this.unsubscribe = await subscribeChanges(this.opts.redisUrl ?? process.env.REDIS_URL, (n) => this.onNotice(n), {
      logger: this.opts.logger,
      redis: this.opts.redis,
      onProblem: (p) => this.opts.logger?.warn({ problem: p }, "flags: bad change notice"),
      onConnection: (up) => (up ? this.recover() : this.markStale("redis subscription lost")),
    });
  }

  private onNotice(notice: ChangeNotice): void {
    if (notice.kind !== "flag" || notice.id === undefined) return;
    const key = notice.id;
    void this.enqueue(() => this.refreshOne(key)).catch((err: Error) => this.markStale(`re-reading flag ${key}: ${err.message}`));
  }

  /** Re-reads one flag after a notice: new value, removal, or garbage (kept last good). */
  private async refreshOne(key: string): Promise<void> {
    if (!this.redis || this.closed) return;
    const { flag, problems } = await readFlag(this.redis, key);
    if (problems.length > 0) {
      this.opts.logger?.warn({ problems }, "flags: ignoring invalid flag definition; keeping last good");
      return;
    }
    if (flag === undefined) {
      if (!this.flags.delete(key)) return;
    } else {
      this.flags.set(key, entryOf(flag));
    }
    this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: [key] });
    await this.persist();
  }

  /** Replaces the whole set from Redis; garbage entries keep their last good version. */
  private async reloadAll(): Promise<void> {
    if (!this.redis || this.closed) return;
    const { flags, problems, invalidKeys } = await readFlags(this.redis);
    if (problems.length > 0) this.opts.logger?.warn({ problems }, "flags: ignoring invalid flag definitions; keeping last good");
    // An empty set while we hold flags almost always means Redis lost its data: keep serving.
    if (flags.length === 0 && problems.length === 0 && this.flags.size > 0) {
      this.opts.logger?.warn({ kept: this.flags.size }, "flags: redis has no flags; keeping last known good");
      return;
    }
    const next = new Map<string, Entry>();
    for (const f of flags) {
      const prev = this.flags.get(f.key);
      next.set(f.key, prev !== undefined && prev.stored.version === f.version && prev.stored.updatedAt === f.updatedAt ? prev : entryOf(f));
    }
    for (const key of invalidKeys) {
      const prev = this.flags.get(key);
      if (prev) next.set(key, prev);
    }
    const changed = [...new Set([...this.flags.keys(), ...next.keys()])].filter((k) => this.flags.get(k) !== next.get(k));
    this.flags = next;
    if (changed.length > 0) this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: changed.sort() });
    await this.persist();
  }

  private periodicReload(): void {
    if (this.closed || this.health !== "live") return; // while stale the retry loop is in charge
    void this.enqueue(() => this.reloadAll()).catch((err: Error) => this.markStale(`periodic reload: ${err.message}`));
  }

  private markStale(why: string): void {
    if (this.closed) return;
    this.scheduleRetry();
    if (this.health !== "live") return;
    this.health = "stale";
    this.opts.logger?.warn({ why }, "flags: redis lost; serving last known good");
    this.events.emit(ProviderEvents.Stale, { message: `${why}; serving last known good flags` });
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.recover();
    }, this.opts.retryIntervalMs);
    this.retryTimer.unref();
  }

  /** Subscribe if needed, reload everything, then report READY; on failure try again later. */
  private recover(): void {
    if (this.closed) return;
    void (async () => {
      try {
        await this.subscribe();
        await this.enqueue(() => this.reloadAll());
        if (this.health !== "live") {
          this.health = "live";
          this.opts.logger?.info({ flags: this.flags.size }, "flags: resynced with redis");
          this.events.emit(ProviderEvents.Ready, { message: "resynced with redis" });
        }
      } catch (err) {
        if (this.health === "live") this.markStale(`resync: ${(err as Error).message}`);
        else this.scheduleRetry();
      }
    })();
  }

  private async loadSnapshotFile(): Promise<void> {
    const file = this.opts.snapshotFile;
    if (file === undefined) return;
    const { snapshot, problems } = await readSnapshot(file);
    if (problems.length > 0) this.opts.logger?.warn({ problems }, "flags: snapshot problems");
    if (!snapshot) return;
    for (const f of snapshot.flags) this.flags.set(f.key, entryOf(f));
    this.opts.logger?.info({ flags: snapshot.flags.length, savedAt: snapshot.savedAt }, "flags: loaded snapshot");
  }

  private async persist(): Promise<void> {
    const file = this.opts.snapshotFile;
    if (file === undefined) return;
    const flags = [...this.flags.values()].map((e) => e.stored).sort((a, b) => a.key.localeCompare(b.key));
    const body = JSON.stringify(flags);
    if (body === this.lastSnapshot) return;
    try {
      await writeSnapshot(file, flags);
      this.lastSnapshot = body;
    } catch (err) {
      this.opts.logger?.warn({ err: (err as Error).message, file }, "flags: could not write snapshot");
    }
  }
}

function entryOf(stored: StoredFlag): Entry {
  return {
    stored,
    compiled: compileFlag(stored),
    metadata: Object.freeze({ version: stored.version, updatedAt: stored.updatedAt, owner: stored.owner }),
  };
}
