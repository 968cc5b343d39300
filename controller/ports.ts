// What the controller needs from the outside world. The Lambda plugs in AWS adapters
// (adapters/*/aws.ts); local mode plugs in process-based ones (adapters/*/local.ts) with the same contracts.
import type { AlarmState } from "../core/alarms/state";
import type { RoutingChange, RoutingTarget } from "../state/routing";
import type { RolloutWrite } from "../state/rollout";
import type { JudgeInput } from "../core/rollout/judge";
import type { RolloutState } from "../core/rollout/model";
import type { CanaryState, ControllerMemory, FleetState, FollowUp } from "../core/controller/decide";

/**
 * The production fleet. Local mode: `describe` lists the app processes (launchedAt = start time),
 * `setDesired` starts processes up to n, `terminate` stops one and lowers desired by one.
 */
export interface Fleet {
  describe(): Promise<FleetState>;
  setDesired(desired: number): Promise<void>;
  /** Removes one instance and lowers the desired count with it (no replacement is launched). */
  terminate(instanceId: string): Promise<void>;
}

/** Tells people what the controller did (AWS: SNS; local: log + dashboard event). */
export interface Notifier {
  /** A full notice (AWS: the alerts topic, read by email subscribers). */
  notify(subject: string, message: string): Promise<void>;
  /** One short plain-text line (AWS: the SMS topic; bounded to one SMS by controller/smsText.ts). */
  text(line: string): Promise<void>;
}

/** Wakes the controller when a rollout step's pause ends (AWS: a one-time EventBridge schedule; local: a timer). */
export interface Scheduler {
  /** Idempotent per (rolloutId, at): asking twice schedules one wake-up. `at` is ISO 8601 UTC. */
  wakeAt(rolloutId: string, at: string): Promise<void>;
}

/** Moves production to the canary's release (AWS: dispatches the promote workflow; local: the local stack). */
export interface Promoter {
  promote(appVersion: string, rolloutId: string): Promise<void>;
}

/** The alarms themselves (AWS: CloudWatch; local: the local evaluator). */
export interface Alarms {
  /** Forces the alarm to OK so that, still breaching, it transitions to ALARM (and notifies) again. */
  rearm(alarmName: string, reason: string): Promise<void>;
  /** Current state of each named alarm that exists. */
  states(alarmNames: string[]): Promise<Record<string, AlarmState>>;
}

/** One audited controller action for the event stream. */
export interface ActionRecord {
  action: string;
  reason: string;
  detail: Record<string, string>;
}

/** The controller's view of the shared Redis state (implemented over state/ by adapters/store/redis.ts, for AWS and local mode alike). */
export interface ControllerStore {
  /** Marks a message as in progress; false if it is already done or in progress (duplicate). */
  claimMessage(messageId: string): Promise<boolean>;
  /** True if the message was handled to the end already (a duplicate delivery). */
  messageDone(messageId: string): Promise<boolean>;
  /** Keeps the marker for the dedupe window once every action of the message succeeded. */
  commitMessage(messageId: string): Promise<void>;
  /** Drops the marker after a failure so the redelivery is processed. */
  releaseMessage(messageId: string): Promise<void>;
  /** Runs `fn` while holding the controller lock (one decision at a time, across processes). */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  readMemory(): Promise<ControllerMemory>;
  writeMemory(memory: ControllerMemory): Promise<void>;
  readCanary(): Promise<CanaryState>;
  /**
   * Turns the canary off unless it already is, depending on nothing but the routing key. Returns
   * the canary as a rollback decision must see it: as it was, except that a canary an earlier
   * attempt of this same rollback (same reason) turned off reads as on, since its notice is owed.
   */
  disableCanary(reason: string): Promise<CanaryState>;
  /** One atomic routing write (weight and/or enabled, one event, one notice), by this store's `by`. */
  setRouting(target: RoutingTarget, reason?: string): Promise<RoutingChange>;
  /** The rollout: null when there is none, undefined when `aviary:rollout` is garbage (its problems are reported, never acted on). */
  readRollout(): Promise<RolloutState | null | undefined>;
  /**
   * The one write of a rollout decision, by this store's `by`: the rollout (null deletes it) and
   * the routing change with it, atomically. Throws RolloutConflictError (nothing written) when the
   * stored revision is not `expectRevision` (null: none stored).
   */
  writeRollout(next: RolloutState | null, routing: RoutingTarget | undefined, reason: string, expectRevision: number | null): Promise<RolloutWrite>;
  /** Every proxy's window of this run of a rollout step (it started at stepStartedAt), summed; garbage entries are skipped (and named in `problems`). */
  readWindows(rolloutId: string, step: number, stepStartedAt: string): Promise<{ sum: JudgeInput; proxies: number; problems: string[] }>;
  /** Registration times of the given backends (id → ISO), for instances the fleet cannot date. */
  registeredAt(ids: string[]): Promise<Record<string, string>>;
  /** Takes the backend out of the proxy; false if it is not registered. */
  drainBackend(id: string, reason: string): Promise<boolean>;
  recordActions(records: ActionRecord[]): Promise<void>;
  /** Keeps the follow-ups owed for a message until clearFollowUps, so a failed delivery is retried. */
  saveFollowUps(messageId: string, followUps: FollowUp[], savedAt: string): Promise<void>;
  pendingFollowUps(): Promise<PendingFollowUps[]>;
  clearFollowUps(messageId: string): Promise<void>;
}

export interface PendingFollowUps {
  messageId: string;
  savedAt: string;
  followUps: FollowUp[];
}
