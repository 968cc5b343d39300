/**
 * Aviary's OpenFeature provider: flags and segments live in memory (no Redis round trip per
 * evaluation), change notices on `aviary:changes` re-read the changed flag or segment at once, a
 * periodic full reload is the safety net, and the last-known-good set survives Redis outages (in
 * memory and in an optional snapshot file for restarts).
 *
 * Status (spec 2.8, 5.3.5): initialize resolves when there is something to serve and rejects
 * otherwise; an unusable REDIS_URL rejects with ProviderFatalError (status FATAL, no retries), an
 * unreachable Redis with an ordinary error (status ERROR, retried). @openfeature/server-sdk 1.23
 * has no marker for providers that emit their own initialize events (spec appendix E), so it emits
 * READY / ERROR for initialize itself; emitting them here too would run every handler twice.
 * Every later transition is the provider's own event: STALE when Redis is lost (serving last known
 * good), READY when it is back, CONFIGURATION_CHANGED with the keys whose evaluation may differ.
 */
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from "@openfeature/server-sdk";
import type Redis from "ioredis";
import type { RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { InvalidInputError, UnreachableError } from "../core/errors";
import { connect, parseRedisUrl, subscribeChanges } from "../state/connection";
import type { ChangeNotice } from "../state/events";
import { readFlag, readFlags } from "../state/flags";
import { readSegment, readSegments } from "../state/segments";
import { FlagSet } from "./flagSet";
import { errorDetails, resolveSlot, type RequestedType } from "./resolution";
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

/** live: in sync with Redis; stale: serving last known good; empty: nothing loaded yet; fatal: unusable configuration. */
export type ProviderHealth = "live" | "stale" | "empty" | "fatal";

export class AviaryFlagProvider implements Provider {
  readonly metadata = { name: "aviary-redis" } as const;
  readonly runsOn = "server" as const;
  readonly events = new OpenFeatureEventEmitter();

  private set = new FlagSet();
  private health: ProviderHealth = "empty";
  private fatalMessage = "";
  private redis: Redis | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Every Redis read and set update runs in this chain, so a slow full reload never overwrites a newer single-key read. */
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

  private get url(): string | undefined {
    return this.opts.redisUrl ?? process.env.REDIS_URL;
  }

  async initialize(): Promise<void> {
    this.closed = false;
    try {
      parseRedisUrl(this.url);
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      // A missing or malformed URL cannot fix itself: FATAL, and no retries.
      this.health = "fatal";
      this.fatalMessage = err.message;
      this.opts.logger?.error({ err: err.message }, "flags: unusable configuration");
      throw new ProviderFatalError(err.message);
    }
    this.redis = connect(this.url, { logger: this.opts.logger, redis: this.opts.redis });
    try {
      await this.subscribe();
      await this.enqueue(() => this.reloadAll());
      this.health = "live";
    } catch (err) {
      const message = `redis unavailable: ${(err as Error).message}`;
      this.opts.logger?.warn({ err: (err as Error).message }, "flags: redis unavailable at start");
      await this.loadSnapshotFile();
      this.scheduleRetry();
      if (this.set.size === 0) {
        // Recoverable: the SDK reports ERROR, evaluations return the code default until recovery.
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

  /** Shutdown (spec 2.5): idempotent; afterwards the provider is uninitialized and may be initialized again. */
  async onClose(): Promise<void> {
    this.closed = true;
    clearInterval(this.reloadTimer);
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.queue;
    if (this.redis) await this.redis.quit().catch(() => this.redis?.disconnect());
    this.redis = undefined;
    this.set = new FlagSet();
    this.health = "empty";
    this.lastSnapshot = "";
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, "boolean"));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, "string"));
  }

  /** Answers `number` (float) and `integer` flags; an integer flag always yields an integer. */
  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, "number"));
  }

  /** Answers `object` flags (a JSON object or array; the same frozen value to every caller). */
  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context, "object"));
  }

  /** Synchronous evaluation from memory: what the resolve* methods wrap (and what the benchmark times). */
  resolve<T>(flagKey: string, defaultValue: T, context: EvaluationContext, type: RequestedType): ResolutionDetails<T> {
    if (this.health === "fatal") return errorDetails(defaultValue, ErrorCode.PROVIDER_FATAL, this.fatalMessage);
    const slot = this.set.slot(flagKey);
    if (slot === undefined && this.health === "empty") {
      return errorDetails(defaultValue, ErrorCode.PROVIDER_NOT_READY, "no flags loaded yet (Redis unreachable, no snapshot)");
    }
    return resolveSlot(flagKey, slot, type, defaultValue, context, this.set.segmentLookup);
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
    this.unsubscribe = await subscribeChanges(this.url, (n) => this.onNotice(n), {
      logger: this.opts.logger,
      redis: this.opts.redis,
      onProblem: (p) => this.opts.logger?.warn({ problem: p }, "flags: bad change notice"),
      onConnection: (up) => (up ? this.recover() : this.markStale("redis subscription lost")),
    });
  }

  private onNotice(notice: ChangeNotice): void {
    const id = notice.id;
    if (id === undefined) return;
    if (notice.kind === "flag") {
      void this.enqueue(() => this.refreshFlag(id)).catch((err: Error) => this.markStale(`re-reading flag ${id}: ${err.message}`));
    } else if (notice.kind === "segment") {
      void this.enqueue(() => this.refreshSegment(id)).catch((err: Error) => this.markStale(`re-reading segment ${id}: ${err.message}`));
    }
  }

  /** Re-reads one flag after a notice: new value, removal, or garbage (last good kept, else PARSE_ERROR). */
  private async refreshFlag(key: string): Promise<void> {
    if (!this.redis || this.closed) return;
    const { flag, problems } = await readFlag(this.redis, key);
    if (problems.length > 0) {
      const kept = !this.set.markUnreadable(key, problems.join("; "));
      this.opts.logger?.warn({ problems, key }, kept ? "flags: ignoring invalid flag definition; keeping last good" : "flags: invalid flag definition and no last good one");
      return;
    }
    this.changed(flag === undefined ? this.set.removeFlag(key) : this.set.putFlag(flag));
    await this.persist();
  }

  /** Re-reads one segment after a notice; every flag that uses it may evaluate differently. */
  private async refreshSegment(name: string): Promise<void> {
    if (!this.redis || this.closed) return;
    const { segment, problems } = await readSegment(this.redis, name);
    if (problems.length > 0) {
      this.opts.logger?.warn({ problems, segment: name }, "flags: ignoring invalid segment definition; keeping last good");
      return;
    }
    this.changed(segment === undefined ? this.set.removeSegment(name) : this.set.putSegment(segment));
    await this.persist();
  }

  private changed(flagsChanged: string[]): void {
    if (flagsChanged.length > 0) this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged });
  }

  /** Replaces flags and segments from Redis; garbage entries keep their last good version. */
  private async reloadAll(): Promise<void> {
    const redis = this.redis;
    if (!redis || this.closed) return;
    const [flagRead, segmentRead] = await Promise.all([readFlags(redis), readSegments(redis)]);
    const problems = [...flagRead.problems, ...segmentRead.problems];
    if (problems.length > 0) this.opts.logger?.warn({ problems }, "flags: ignoring invalid definitions; keeping last good");
    // An empty Redis while we hold flags almost always means Redis lost its data: keep serving.
    if (flagRead.flags.length === 0 && problems.length === 0 && this.set.size > 0) {
      this.opts.logger?.warn({ kept: this.set.size }, "flags: redis has no flags; keeping last known good");
      return;
    }
    const invalidFlags = new Map<string, string>();
    for (const key of flagRead.invalidKeys) {
      // Only a key without a last good version needs its own problem (its PARSE_ERROR message).
      const slot = this.set.slot(key);
      invalidFlags.set(key, slot !== undefined && "flag" in slot ? "" : (await readFlag(redis, key)).problems.join("; "));
    }
    const changed = this.set.replace({ flags: flagRead.flags, invalidFlags, segments: segmentRead.segments, invalidSegments: segmentRead.invalidNames });
    // The first load is not a change: nothing was served before (READY says the flags are there).
    if (this.health !== "empty") this.changed(changed);
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
        if (this.health !== "live" && !this.closed) {
          this.health = "live";
          this.opts.logger?.info({ flags: this.set.size }, "flags: resynced with redis");
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
    this.set.replace({ flags: snapshot.flags, invalidFlags: new Map(), segments: snapshot.segments, invalidSegments: [] });
    this.opts.logger?.info({ flags: snapshot.flags.length, segments: snapshot.segments.length, savedAt: snapshot.savedAt }, "flags: loaded snapshot");
  }

  private async persist(): Promise<void> {
    const file = this.opts.snapshotFile;
    if (file === undefined) return;
    const contents = this.set.contents();
    const body = JSON.stringify(contents);
    if (body === this.lastSnapshot) return;
    try {
      await writeSnapshot(file, contents);
      this.lastSnapshot = body;
    } catch (err) {
      this.opts.logger?.warn({ err: (err as Error).message, file }, "flags: could not write snapshot");
    }
  }
}
