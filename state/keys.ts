/**
 * Aviary's Redis key schema: the ONLY place that names keys and channels.
 * Every other module (agent, controller, CLI, flags SDK, local runner) imports from here.
 */
export const PREFIX = "aviary:";

export const keys = {
  /** Hash: canaryWeight, canaryEnabled, reason, changedBy, changedAt. */
  routing: `${PREFIX}routing`,
  /** Hash per backend (id, role, address, version, registeredAt), with a TTL refreshed by heartbeats. */
  backend: (id: string): string => `${PREFIX}backend:${id}`,
  /** Set of backend ids; may hold ids whose hash has expired until listBackends prunes them. */
  backends: `${PREFIX}backends`,
  /** Stream of audit events (XADD MAXLEN ~ EVENTS_MAXLEN). */
  events: `${PREFIX}events`,
  /** Per-message dedupe marker for the controller (SET NX EX). */
  dedupe: (messageId: string): string => `${PREFIX}dedupe:${messageId}`,
  /** Hash: the controller's memory (lastScaleOutAt, lastScaleInAt, `alarm:<name>` = "<state> <at>"). */
  controller: `${PREFIX}controller`,
  /** Controller lock (SET NX PX with a random token): one decision at a time. */
  controllerLock: `${PREFIX}controller:lock`,
  /** Hash messageId → JSON list of follow-ups (re-arms, notifications) not yet delivered. */
  controllerFollowUps: `${PREFIX}controller:followups`,
  /** Prefix of the flag definitions (`aviary:flag:<key>`, a JSON string each). */
  flagPrefix: `${PREFIX}flag:`,
  /** One feature-flag definition as JSON (see core/flags/model.ts). */
  flag: (key: string): string => `${PREFIX}flag:${key}`,
  /** Set of flag keys; a key whose definition is missing is skipped on read. */
  flags: `${PREFIX}flags`,
  /** One segment definition as JSON (see core/flags/model.ts), referred to by flag rules. */
  segment: (name: string): string => `${PREFIX}segment:${name}`,
  /** Set of segment names; a name whose definition is missing is skipped on read. */
  segments: `${PREFIX}segments`,
  /** String: JSON of the running rollout's RolloutState (core/rollout/model.ts); absent = no rollout. */
  rollout: `${PREFIX}rollout`,
  /**
   * Hash per rollout step: field = proxy id, value = JSON of that proxy's counters since it first
   * saw the step ({canary, production, at}); expires a day after the last write.
   */
  rolloutWindow: (rolloutId: string, step: number): string => `${PREFIX}rollout:window:${rolloutId}:${step}`,
  /**
   * Where a write moves a key it cannot use (wrong type, blocked stream) so nothing is lost:
   * `aviary:corrupt:<key without aviary:>:<unix ms>`, e.g. aviary:corrupt:events:1764000000000.
   * Outside every other key family, so no reader mistakes it for live state.
   */
  corruptPrefix: `${PREFIX}corrupt:`,
} as const;

export const channels = {
  /** Pub/sub: one JSON ChangeNotice per state change. */
  changes: `${PREFIX}changes`,
} as const;

/** Approximate cap of the event stream; `~` lets Redis trim whole macro nodes cheaply. */
export const EVENTS_MAXLEN = 10000;
