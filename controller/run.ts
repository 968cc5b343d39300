// Orchestration shared by the Lambda and local mode: dedupe, lock, read state, decide, apply the
// actions through the ports, audit them, notify. Everything outside decide() happens here.
import type { Logger } from "pino";
import { InvalidInputError, InvariantError } from "../core/errors";
import {
  actionName,
  actionOf,
  alarmReason,
  decide,
  needsFleet,
  rollsBackCanary,
  scaleOutAlarmNames,
  type AlarmChange,
  type CanaryState,
  type CommandInput,
  type Decision,
  type FleetState,
  type FollowUp,
  type RoutingCommand,
  type ScalingPolicy,
  type SetRouting,
} from "../core/controller/decide";
import type { ControllerAction } from "../core/controller/decide";
import { tickNeedsJudgement, type RolloutCommand } from "../core/rollout/decide";
import { judge, type Judgement } from "../core/rollout/judge";
import type { RolloutState } from "../core/rollout/model";
import { RolloutConflictError } from "../state/errors";
import type { RoutingChange } from "../state/routing";
import type { ActionRecord, Alarms, ControllerStore, Fleet, Notifier, Promoter, Scheduler } from "./ports";

export interface ControllerDeps {
  fleet: Fleet;
  notifier: Notifier;
  alarms: Alarms;
  store: ControllerStore;
  policy: ScalingPolicy;
  logger: Logger;
  /** Decision time; injectable for tests and replays. */
  clock?: () => Date;
  /** Pause between draining a backend in the proxy and terminating its instance. */
  drainWaitMs?: number;
  /** Rollout wake-ups and promotion; a deployment without them refuses rollout commands. */
  scheduler?: Scheduler;
  promoter?: Promoter;
}

export interface AlarmOutcome {
  messageId: string;
  alarm: string;
  status: "applied" | "duplicate";
  summary: string;
  /** What was done, by actionName (e.g. "disableCanary" for a rollback). */
  actions: string[];
}

/**
 * Handles one alarm transition exactly once per messageId. Throws if any step fails; the dedupe
 * marker is then released so a redelivery (SNS retry) runs it again.
 */
export async function handleAlarm(deps: ControllerDeps, messageId: string, change: AlarmChange): Promise<AlarmOutcome> {
  const { store, logger } = deps;
  // A rollback turns the canary off first, depending on nothing but the routing key: the dedupe
  // marker, lock, memory and follow-ups after it (repaired if garbage) only delay bookkeeping.
  const canary = rollsBackCanary(change) && !(await store.messageDone(messageId)) ? await store.disableCanary(alarmReason(change)) : undefined;
  if (!(await store.claimMessage(messageId))) {
    logger.info({ messageId, alarm: change.alarmName }, "duplicate delivery ignored");
    return { messageId, alarm: change.alarmName, status: "duplicate", summary: "duplicate delivery", actions: [] };
  }
  try {
    const outcome = await store.withLock(() => decideAndApply(deps, messageId, change, canary));
    await store.commitMessage(messageId);
    return outcome;
  } catch (err) {
    await store.releaseMessage(messageId).catch((e: Error) => logger.error({ messageId, err: e.message }, "could not release dedupe marker"));
    throw err;
  }
}

/** Follow-ups older than this are dropped: SNS has long stopped retrying their message. */
const FOLLOW_UP_MAX_AGE_MS = 24 * 3600 * 1000;

/** `canaryBefore`: the canary as it was before this rollback turned it off (see handleAlarm). */
async function decideAndApply(deps: ControllerDeps, messageId: string, change: AlarmChange, canaryBefore?: CanaryState): Promise<AlarmOutcome> {
  const { store, fleet, alarms, logger } = deps;
  const now = (deps.clock?.() ?? new Date()).toISOString();
  const ownDelivered = await retryEarlierFollowUps(deps, messageId, now);
  const [memory, canary, fleetState, rollout] = await Promise.all([
    store.readMemory(),
    // Read again under the lock if the canary was off before this rollback (it may have been
    // turned on meanwhile), or if an earlier attempt got as far as its follow-ups (just delivered).
    canaryBefore?.enabled && !ownDelivered ? canaryBefore : store.readCanary(),
    needsFleet(change) ? describeFleet(deps) : Promise.resolve(undefined),
    // A canary rollback aborts an active rollout in the same write; garbage there is not acted on.
    rollsBackCanary(change) ? store.readRollout() : Promise.resolve(undefined),
  ]);
  // The only rule that needs live alarm states: no scale-in while a scale-out alarm is in ALARM.
  const liveStates = actionOf(change.alarmName)?.action === "scaleIn" && change.newState === "ALARM"
    ? await alarms.states(scaleOutAlarmNames(change.alarmName))
    : undefined;

  const decision = decide({
    event: { kind: "alarm", change }, now, memory, canary,
    ...(fleetState ? { fleet: fleetState } : {}), ...(liveStates ? { liveStates } : {}), ...(rollout !== undefined ? { rollout } : {}),
  }, deps.policy);
  logger.info({ messageId, decision: decision.summary, actions: decision.actions.map(actionName), evidence: decision.evidence }, "decision");

  // Memory first: a retry after a partial failure sees the step as taken (cooldown) instead of
  // taking it twice. If the fleet or canary change fails, the old memory is put back. The
  // follow-ups are stored too: a retry that decides nothing new still delivers them.
  const followUps = decision.actions.filter((a): a is FollowUp => a.type === "rearmAlarm" || a.type === "notify");
  await store.writeMemory(decision.memory);
  if (followUps.length > 0) await store.saveFollowUps(messageId, followUps, now);
  const records: ActionRecord[] = [];
  const because = alarmReason(change);
  const base = { alarm: change.alarmName, messageId };
  try {
    for (const action of decision.actions) {
      if (action.type === "setDesired") {
        await fleet.setDesired(action.to);
        records.push({ action: "scaleOut", reason: because, detail: { ...base, from: String(action.from), to: String(action.to) } });
      } else if (action.type === "drainAndTerminate") {
        for (const id of action.instanceIds) await store.drainBackend(id, alarmReason(change, "scale-in: "));
        if (deps.drainWaitMs) await new Promise((r) => setTimeout(r, deps.drainWaitMs));
        for (const id of action.instanceIds) await fleet.terminate(id);
        records.push({ action: "scaleIn", reason: because, detail: { ...base, from: String(action.from), to: String(action.to), instances: action.instanceIds.join(",") } });
      } else if (action.type === "setRouting") {
        // A rollback: already off (handleAlarm); again under the lock, should a concurrent change
        // have turned it back on. Audited by the routing event itself (by = controller, with the reason).
        await applyRouting(store, action);
      } else if (action.type === "writeRollout") {
        await abortRolloutWithRollback(deps, action, because);
      }
    }
  } catch (err) {
    await Promise.all([store.writeMemory(memory), store.clearFollowUps(messageId)])
      .catch((e: Error) => logger.error({ messageId, err: e.message }, "could not restore controller memory"));
    throw err;
  }
  await store.recordActions(records);
  await deliverFollowUps(deps, messageId, followUps);
  if (decision.actions.length > 0) logger.info({ messageId, applied: decision.actions.map(actionName) }, "applied");
  return { messageId, alarm: change.alarmName, status: "applied", summary: decision.summary, actions: decision.actions.map(actionName) };
}

/**
 * A rollback's rollout abort, with the canary off in the same write. The canary is off already
 * (handleAlarm); if the rollout changed meanwhile (an agent's judge aborted it first), the abort is
 * already done or no longer applies, and the rollback stands as it is.
 */
async function abortRolloutWithRollback(deps: ControllerDeps, action: WriteRollout, reason: string): Promise<void> {
  try {
    await deps.store.writeRollout(action.rollout, action.routing, reason, action.expectRevision);
  } catch (err) {
    if (!(err instanceof RolloutConflictError)) throw err;
    deps.logger.warn({ err: err.message }, "rollout changed before the rollback's abort; the canary is off, the stored rollout is kept");
  }
}

/** Re-arms then notifies; records the re-arms and clears the stored follow-ups once all went out. */
async function deliverFollowUps(deps: ControllerDeps, messageId: string, followUps: FollowUp[]): Promise<void> {
  if (followUps.length === 0) return;
  const records: ActionRecord[] = [];
  for (const f of followUps) {
    if (f.type === "rearmAlarm") {
      await deps.alarms.rearm(f.alarmName, f.reason);
      records.push({ action: "rearm", reason: f.reason, detail: { alarm: f.alarmName, messageId } });
    }
  }
  for (const f of followUps) if (f.type === "notify") await deps.notifier.notify(f.subject, f.message);
  await deps.store.recordActions(records);
  await deps.store.clearFollowUps(messageId);
}

/**
 * Delivers what an earlier failed attempt still owes. This message's own follow-ups must go out
 * (a failure fails it again); other messages' are best effort here, since their own SNS retry
 * also delivers them, so a broken one cannot block every later decision. True if this message's
 * own follow-ups were among them (an earlier attempt of it got as far as deciding).
 */
async function retryEarlierFollowUps(deps: ControllerDeps, messageId: string, now: string): Promise<boolean> {
  let ownDelivered = false;
  for (const pending of await deps.store.pendingFollowUps()) {
    const context = { messageId: pending.messageId, savedAt: pending.savedAt, followUps: pending.followUps.map((f) => f.type) };
    if (Date.parse(now) - Date.parse(pending.savedAt) > FOLLOW_UP_MAX_AGE_MS) {
      deps.logger.error({ ...context, lost: pending.followUps }, "dropping follow-ups older than a day");
      await deps.store.clearFollowUps(pending.messageId);
      continue;
    }
    deps.logger.warn(context, "delivering follow-ups of an earlier failed attempt");
    try {
      await deliverFollowUps(deps, pending.messageId, pending.followUps);
      if (pending.messageId === messageId) ownDelivered = true;
    } catch (err) {
      if (pending.messageId === messageId) throw err;
      deps.logger.error({ ...context, err: (err as Error).message }, "follow-ups still failing; kept for the next attempt");
    }
  }
  return ownDelivered;
}

/** The fleet, with instances the fleet API cannot date (Auto Scaling) dated by their registration. */
async function describeFleet({ fleet, store }: ControllerDeps): Promise<FleetState> {
  const described = await fleet.describe();
  const undated = described.instances.filter((i) => i.launchedAt === undefined).map((i) => i.id);
  if (undated.length === 0) return described;
  const registered = await store.registeredAt(undated);
  return { ...described, instances: described.instances.map((i) => (registered[i.id] ? { ...i, launchedAt: registered[i.id] } : i)) };
}

/**
 * The one way the controller changes routing: one atomic write. A plain off is the rollback's
 * idempotent one (store.disableCanary): repeated under the lock after the write outside it, it
 * adds no second event; anything else is written as asked.
 */
function applyRouting(store: ControllerStore, action: SetRouting): Promise<unknown> {
  if (action.enabled === false && action.weight === undefined) return store.disableCanary(action.reason ?? "");
  return store.setRouting(action, action.reason);
}

type CommandDeps = Pick<ControllerDeps, "store" | "notifier" | "logger" | "clock">;

/** Decides a configuration invocation or a command (no state needed: the event says it all). */
function decideCommand(deps: Pick<ControllerDeps, "clock">, event: CommandInput["event"]): Decision {
  return decide({ event, now: (deps.clock?.() ?? new Date()).toISOString() });
}

/** Applies a command's routing change under the lock, logs it, then sends its notices. */
async function applyCommand(deps: CommandDeps, decision: Decision): Promise<void> {
  for (const action of decision.actions) if (action.type === "setRouting") await deps.store.withLock(() => applyRouting(deps.store, action));
  deps.logger.info({ decision: decision.summary, evidence: decision.evidence }, "configuration applied");
  for (const action of decision.actions) if (action.type === "notify") await deps.notifier.notify(action.subject, action.message);
}

/** The canary stack's configuration (see decide: destroying the stack means weight 0). */
export async function handleCanaryWeight(deps: CommandDeps, request: { weight: number; appVersion?: string; destroying: boolean }): Promise<{ summary: string }> {
  const decision = decideCommand(deps, { kind: "canaryConfig", ...request });
  await applyCommand(deps, decision);
  return { summary: decision.summary };
}

/**
 * A person's abort (the abort workflow): the canary off with the weight kept, as an alarm's rollback
 * does. Nothing re-enables it but `npx aviary canary on` or the next canary-stack deploy.
 */
export async function handleCanaryOff(deps: CommandDeps, request: { reason: string }): Promise<{ summary: string }> {
  const decision = decideCommand(deps, { kind: "manualAbort", reason: request.reason });
  // Off first, without waiting for the lock; then again under it (applyCommand), so that a
  // concurrent configuration change cannot turn it back on.
  for (const action of decision.actions) if (action.type === "setRouting") await applyRouting(deps.store, action);
  await applyCommand(deps, decision);
  return { summary: decision.summary };
}

/**
 * A person's routing command (the CLI's `canary weight|on|off`, local mode's demo), by the store's
 * `by`: decided like any other event and written as asked, one event even when already so. A
 * weight or an on waits for the controller lock; an off is written without waiting for it, as a
 * rollback is: a held or stuck lock must never keep a person from turning the canary off.
 */
export async function handleRoutingCommand(deps: Pick<ControllerDeps, "store" | "clock">, command: RoutingCommand): Promise<RoutingChange> {
  const decision = decideCommand(deps, { kind: "routingCommand", command });
  const change = decision.actions.find((a): a is SetRouting => a.type === "setRouting");
  if (!change) throw new InvariantError(`routing command ${command.set}: decided no routing change`);
  const write = (): Promise<RoutingChange> => deps.store.setRouting(change, change.reason);
  return change.enabled === false ? write() : deps.store.withLock(write);
}

type WriteRollout = Extract<ControllerAction, { type: "writeRollout" }>;

/**
 * What handleRollout needs: the store, notices, and the two rollout ports. A person's command needs
 * neither port (the CLI has neither: no AWS credentials, no token): without a scheduler a wake-up is
 * left to the controller's heartbeat; without a promoter the decision never asks for a promotion.
 */
export type RolloutDeps = Pick<ControllerDeps, "store" | "notifier" | "logger" | "clock"> & { scheduler?: Scheduler; promoter?: Promoter };

export interface RolloutOutcome {
  summary: string;
  /** What was done, by actionName (e.g. "rolloutAborted+disableCanary", "scheduleTick"). */
  actions: string[];
}

export interface RolloutRequest {
  /** Who asks (the rollout's updatedBy and the audit's by); default the store's "controller". */
  by?: string;
  /** A tick's rollout (the schedule names it): a tick for another rollout than the stored one does nothing. */
  rolloutId?: string;
}

/** A rollout decision lost its compare-and-set this many times in a row: someone keeps writing. */
const ROLLOUT_ATTEMPTS = 3;

/**
 * A rollout command: read the rollout (and, for a tick at a step's end, judge every proxy's summed
 * window), decide, apply. Under the controller lock, except an abort: like `canary off`, a held or
 * stuck lock must never keep the canary on. Every write names the revision it read, so a concurrent
 * writer (an agent's judge abort, an abort outside the lock) makes it decide again on what is stored.
 */
export async function handleRollout(deps: RolloutDeps, command: RolloutCommand, request: RolloutRequest = {}): Promise<RolloutOutcome> {
  const attempt = async (): Promise<RolloutOutcome> => {
    for (let i = 1; ; i++) {
      try {
        return await decideRolloutAndApply(deps, command, request);
      } catch (err) {
        if (!(err instanceof RolloutConflictError) || i >= ROLLOUT_ATTEMPTS) throw err;
        deps.logger.warn({ command: command.do, attempt: i, err: err.message }, "rollout changed while deciding; deciding again");
      }
    }
  };
  return command.do === "abort" ? attempt() : deps.store.withLock(attempt);
}

async function decideRolloutAndApply(deps: RolloutDeps, command: RolloutCommand, request: RolloutRequest): Promise<RolloutOutcome> {
  const { store, logger } = deps;
  const now = (deps.clock?.() ?? new Date()).toISOString();
  const stored = await store.readRollout();
  if (stored === undefined) return garbageRollout(deps, command);
  if (command.do === "tick" && request.rolloutId !== undefined && stored?.id !== request.rolloutId) {
    const summary = `tick for rollout ${request.rolloutId} ignored: ${stored ? `rollout ${stored.id} is stored` : "no rollout is stored"}`;
    logger.info({ rolloutId: request.rolloutId }, summary);
    return { summary, actions: [] };
  }
  const judgement = command.do === "tick" && tickNeedsJudgement(stored, now) && stored ? await judgeStep(deps, stored) : undefined;
  const decision = decide({ event: { kind: "rollout", command }, now, rollout: stored, canPromote: deps.promoter !== undefined, ...(judgement ? { judgement } : {}), ...(request.by ? { by: request.by } : {}) });
  // A heartbeat's tick that changes nothing (most of them) is not news.
  const level = decision.actions.length === 0 && command.do === "tick" ? "debug" : "info";
  logger[level]({ command: command.do, decision: decision.summary, actions: decision.actions.map(actionName), evidence: decision.evidence }, "rollout decision");
  await applyRolloutActions(deps, decision, command);
  return { summary: decision.summary, actions: decision.actions.map(actionName) };
}

/** The controller's verdict on the step: every proxy's window since it first saw the step, summed. */
async function judgeStep(deps: RolloutDeps, rollout: RolloutState): Promise<Judgement> {
  const windows = await deps.store.readWindows(rollout.id, rollout.step);
  if (windows.problems.length > 0) deps.logger.warn({ rolloutId: rollout.id, step: rollout.step, problems: windows.problems }, "skipped unreadable windows");
  return judge(windows.sum, rollout.plan.analysis);
}

/**
 * Garbage in `aviary:rollout` never moves traffic: an abort still turns the canary off (through the
 * routing key alone, as a rollback does), anything else is refused naming the problem.
 */
async function garbageRollout(deps: RolloutDeps, command: RolloutCommand): Promise<RolloutOutcome> {
  if (command.do === "abort") {
    await deps.store.disableCanary(command.reason);
    await deps.store.recordActions([{ action: "rolloutAbort", reason: command.reason, detail: { rollout: "unreadable" } }]);
    return { summary: "canary disabled; the stored rollout is unreadable and was left as it is", actions: ["disableCanary"] };
  }
  throw new InvalidInputError(`rollout ${command.do} refused: the stored rollout is unreadable (see the warning naming its problems); abort turns the canary off regardless`);
}

/**
 * Applies a rollout decision. The promotion goes first and the wake-up before the write: a failure
 * then leaves the stored rollout as it was, and the retried command decides the same again (the
 * promote workflow refuses a second run for a version the canary no longer runs; a wake-up for a
 * rollout never written is ignored as stale). Notices go last, once the write stands.
 */
async function applyRolloutActions(deps: RolloutDeps, decision: Decision, command: RolloutCommand): Promise<void> {
  const records: ActionRecord[] = [];
  for (const action of decision.actions) {
    if (action.type === "promote") {
      if (!deps.promoter) throw new InvariantError(`rollout ${command.do}: decided a promotion without a promoter (decide was told canPromote false)`);
      await deps.promoter.promote(action.appVersion, action.rolloutId);
      records.push({ action: "promote", reason: decision.summary, detail: { rolloutId: action.rolloutId, appVersion: action.appVersion } });
    }
  }
  for (const action of decision.actions) {
    if (action.type === "scheduleTick") {
      if (!deps.scheduler) {
        deps.logger.debug({ rolloutId: action.rolloutId, at: action.at }, "no scheduler here: the controller's heartbeat ticks the step's end");
        continue;
      }
      await deps.scheduler.wakeAt(action.rolloutId, action.at);
      records.push({ action: "scheduleTick", reason: decision.summary, detail: { rolloutId: action.rolloutId, at: action.at } });
    }
  }
  for (const action of decision.actions) {
    // Audited by the rollout event the write itself appends.
    if (action.type === "writeRollout") await deps.store.writeRollout(action.rollout, action.routing, action.rollout?.reason ?? `rollout ${command.do}`, action.expectRevision);
  }
  await deps.store.recordActions(records);
  for (const action of decision.actions) if (action.type === "notify") await deps.notifier.notify(action.subject, action.message);
}
