// Orchestration shared by the Lambda and local mode: dedupe, lock, read state, decide, apply the
// actions through the ports, audit them, notify. Everything outside decide() happens here.
import type { Logger } from "pino";
import { InvariantError } from "../core/errors";
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
import type { RoutingChange } from "../state/routing";
import type { ActionRecord, Alarms, ControllerStore, Fleet, Notifier } from "./ports";

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
  const [memory, canary, fleetState] = await Promise.all([
    store.readMemory(),
    // Read again under the lock if the canary was off before this rollback (it may have been
    // turned on meanwhile), or if an earlier attempt got as far as its follow-ups (just delivered).
    canaryBefore?.enabled && !ownDelivered ? canaryBefore : store.readCanary(),
    needsFleet(change) ? describeFleet(deps) : Promise.resolve(undefined),
  ]);
  // The only rule that needs live alarm states: no scale-in while a scale-out alarm is in ALARM.
  const liveStates = actionOf(change.alarmName)?.action === "scaleIn" && change.newState === "ALARM"
    ? await alarms.states(scaleOutAlarmNames(change.alarmName))
    : undefined;

  const decision = decide({ event: { kind: "alarm", change }, now, memory, canary, ...(fleetState ? { fleet: fleetState } : {}), ...(liveStates ? { liveStates } : {}) }, deps.policy);
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
