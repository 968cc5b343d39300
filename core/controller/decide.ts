// The controller's decision core: one event (an alarm change, a configuration invocation, a
// person's command) + current state → actions. Pure: no I/O and no clock (the caller passes `now`),
// so every rule is table-tested in tests/unit/core/controllerDecide.test.ts.
import { ALARM_CATALOGUE, ALARM_KEYS, type AlarmAction, type AlarmKey, alarmKeyOf, alarmName } from "../alarms/catalogue";
import type { AlarmState } from "../alarms/state";
import { MAX_REASON, truncate } from "../bounds";
import { InvariantError } from "../errors";
import { abortedByAlarm, decideRollout, type RolloutAction, type RolloutCommand } from "../rollout/decide";
import type { Judgement } from "../rollout/judge";
import type { RolloutState } from "../rollout/model";

/** One CloudWatch alarm state transition (what the SNS message carries). */
export interface AlarmChange {
  alarmName: string;
  oldState: AlarmState;
  newState: AlarmState;
  reason: string;
  /** Metric name, for messages only. */
  metric?: string;
  /** StateChangeTime, ISO 8601. */
  at: string;
}

export interface FleetInstance {
  id: string;
  /** When it started serving (launch or registration time); unknown = still booting, so newest. */
  launchedAt?: string;
}

export interface FleetState {
  desired: number;
  min: number;
  max: number;
  instances: FleetInstance[];
}

export interface AlarmMemory {
  state: AlarmState;
  at: string;
}

/** What the controller remembers between invocations (kept in Redis by state/controller.ts). */
export interface ControllerMemory {
  lastScaleOutAt?: string;
  lastScaleInAt?: string;
  /** Last transition seen per alarm name: detects stale (out-of-order) deliveries. */
  alarms: Record<string, AlarmMemory>;
}

export interface CanaryState {
  enabled: boolean;
  weight: number;
}

export interface ScalingPolicy {
  step: number;
  scaleOutCooldownSeconds: number;
  scaleInCooldownSeconds: number;
}

/**
 * What the controller decides on. One kind per source; a new source is a new member here and a
 * new case in decide().
 */
export type ControllerEvent =
  /** CloudWatch: an alarm changed state (SNS record). */
  | { kind: "alarm"; change: AlarmChange }
  /** The canary stack's configuration (its aws.lambda.Invocation): set the weight and enable, or drain on destroy. */
  | { kind: "canaryConfig"; weight: number; appVersion?: string; destroying: boolean }
  /** A person's abort (the abort workflow): the canary off, weight kept, subscribers told. */
  | { kind: "manualAbort"; reason: string }
  /** A person's routing command (`aviary canary weight|on|off`, local mode's demo). */
  | { kind: "routingCommand"; command: RoutingCommand }
  /** A progressive rollout's start, tick or a person's rollout command (decided in core/rollout/decide.ts). */
  | { kind: "rollout"; command: RolloutCommand };

export type RoutingCommand =
  | { set: "weight"; weight: number }
  | { set: "on"; reason?: string }
  | { set: "off"; reason: string };

/** An alarm change with the state its rules read. */
export interface AlarmInput {
  event: Extract<ControllerEvent, { kind: "alarm" }>;
  /** Decision time, ISO 8601: cooldowns are measured against it. */
  now: string;
  /** Required when needsFleet(change); a canary rollback must not wait on the Auto Scaling API. */
  fleet?: FleetState;
  memory: ControllerMemory;
  canary: CanaryState;
  /** Current states of the scale-out alarms (from DescribeAlarms), when the caller fetched them. */
  liveStates?: Record<string, AlarmState>;
  /** The stored rollout, when the caller read it: a canary rollback aborts an active one in the same write. */
  rollout?: RolloutState | null;
}

/** A configuration invocation or a person's command: decided on the event alone. */
export interface CommandInput {
  event: Exclude<ControllerEvent, { kind: "alarm" | "rollout" }>;
  now: string;
}

/** A rollout command with the stored rollout it applies to (see core/rollout/decide.ts). */
export interface RolloutEventInput {
  event: Extract<ControllerEvent, { kind: "rollout" }>;
  now: string;
  /** As stored; null = no rollout. */
  rollout: RolloutState | null;
  /** For a tick at a step's end: the controller's verdict on the summed windows. */
  judgement?: Judgement;
  /** Who decides (recorded as the rollout's updatedBy); default "controller". */
  by?: string;
  /** Whether this controller can carry out a promotion (see RolloutInput.canPromote). */
  canPromote?: boolean;
}

export type DecisionInput = AlarmInput | CommandInput | RolloutEventInput;

/** A routing change: weight and/or enabled, written as one change (a field left out is kept). */
export interface SetRouting {
  type: "setRouting";
  weight?: number;
  enabled?: boolean;
  reason?: string;
}

export type ControllerAction =
  | { type: "setDesired"; from: number; to: number }
  | { type: "drainAndTerminate"; instanceIds: string[]; from: number; to: number }
  | SetRouting
  | { type: "rearmAlarm"; alarmName: string; reason: string }
  | { type: "notify"; subject: string; message: string }
  /** writeRollout (the rollout and its routing in one write), scheduleTick, promote. */
  | Exclude<RolloutAction, { type: "notify" }>;

const routingName = (r: { weight?: number; enabled?: boolean }): string =>
  r.enabled === false ? "disableCanary" : r.weight === undefined ? "enableCanary" : "setCanaryWeight";

/**
 * An action's name in logs and outcomes: a routing change is named for its effect, a rollout write
 * for the status it writes and its routing effect ("rolloutAborted+disableCanary").
 */
export function actionName(action: ControllerAction): string {
  if (action.type === "setRouting") return routingName(action);
  if (action.type !== "writeRollout") return action.type;
  const status = action.rollout === null ? "Cleared" : action.rollout.status[0].toUpperCase() + action.rollout.status.slice(1);
  return `rollout${status}${action.routing ? `+${routingName(action.routing)}` : ""}`;
}

/** What happens after the fleet/canary change and must not be lost: kept until delivered. */
export type FollowUp = Extract<ControllerAction, { type: "rearmAlarm" | "notify" }>;

export interface Decision {
  /** In order: the fleet/canary change, then re-arm, then notify. */
  actions: ControllerAction[];
  /** Memory to store once the actions succeeded (alarm decisions; other events leave it alone). */
  memory?: ControllerMemory;
  /** One line for logs and the event stream. */
  summary: string;
  /** The facts the decision rests on, for the structured log. */
  evidence: Record<string, unknown>;
}

export type AlarmDecision = Decision & { memory: ControllerMemory };

export const REARM_REASON = "re-armed by controller: alarm still breaching gets a fresh notification next period";

export function actionOf(name: string): { key: AlarmKey; action: AlarmAction } | undefined {
  const key = alarmKeyOf(name);
  return key === undefined ? undefined : { key, action: ALARM_CATALOGUE[key].action };
}

/** True when the change turns the canary off (a canary alarm entering ALARM). */
export function rollsBackCanary(change: AlarmChange): boolean {
  return change.newState === "ALARM" && actionOf(change.alarmName)?.action === "rollbackCanary";
}

/** The reason recorded with a controller action: the alarm and CloudWatch's reason, cut to fit. */
export function alarmReason(change: AlarmChange, prefix = ""): string {
  return truncate(`${prefix}${change.alarmName}: ${change.reason}`, MAX_REASON);
}

/** True when the decision may change the fleet, i.e. the caller must describe it first. */
export function needsFleet(change: AlarmChange): boolean {
  const action = actionOf(change.alarmName)?.action;
  return change.newState === "ALARM" && (action === "scaleOut" || action === "scaleIn");
}

/** Names of the scale-out alarms of the deployment `name` belongs to (same `<deployment>-` prefix). */
export function scaleOutAlarmNames(name: string): string[] {
  const key = alarmKeyOf(name);
  if (!key) return [];
  const deployment = name.slice(0, name.length - key.length - 1);
  return ALARM_KEYS.filter((k) => ALARM_CATALOGUE[k].action === "scaleOut").map((k) => alarmName(deployment, k));
}

const ms = (iso: string | undefined): number => (iso === undefined ? Number.NEGATIVE_INFINITY : Date.parse(iso));

/** Newest first; unknown launch time first of all (not serving yet), ties by id for determinism. */
export function newestFirst(instances: readonly FleetInstance[]): FleetInstance[] {
  const rank = (i: FleetInstance): number => (i.launchedAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(i.launchedAt));
  return [...instances].sort((a, b) => rank(b) - rank(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

function cooldownLeft(now: string, since: string | undefined, seconds: number): number {
  const elapsed = (ms(now) - ms(since)) / 1000;
  return Math.max(0, Math.ceil(seconds - elapsed));
}

/** The actions for one event, with a summary (and for an alarm, the memory to keep); see ControllerEvent. */
export function decide(input: AlarmInput, policy: ScalingPolicy): AlarmDecision;
export function decide(input: DecisionInput, policy?: ScalingPolicy): Decision;
export function decide(input: DecisionInput, policy?: ScalingPolicy): Decision {
  if (isAlarmInput(input)) return decideAlarm(input, input.event.change, policy);
  if (isRolloutInput(input)) return decideRollout({ ...input, command: input.event.command });
  const { event } = input;
  switch (event.kind) {
    case "canaryConfig":
      return decideCanaryConfig(input.now, event);
    case "manualAbort":
      return decideManualAbort(input.now, event.reason);
    case "routingCommand":
      return decideRoutingCommand(input.now, event.command);
  }
}

function isAlarmInput(input: DecisionInput): input is AlarmInput {
  return input.event.kind === "alarm";
}

function isRolloutInput(input: DecisionInput): input is RolloutEventInput {
  return input.event.kind === "rollout";
}

function decideAlarm(input: AlarmInput, change: AlarmChange, policy: ScalingPolicy | undefined): AlarmDecision {
  const { now, canary } = input;
  const mapped = actionOf(change.alarmName);
  const seen = input.memory.alarms[change.alarmName];
  const stale = seen !== undefined && (ms(change.at) < ms(seen.at) || (ms(change.at) === ms(seen.at) && seen.state === change.newState));
  const evidence: Record<string, unknown> = {
    alarm: change.alarmName,
    key: mapped?.key ?? null,
    transition: `${change.oldState} -> ${change.newState}`,
    at: change.at,
    now,
    reason: change.reason,
    fleet: input.fleet ? { desired: input.fleet.desired, min: input.fleet.min, max: input.fleet.max, instances: input.fleet.instances.length } : null,
    lastScaleOutAt: input.memory.lastScaleOutAt ?? null,
    lastScaleInAt: input.memory.lastScaleInAt ?? null,
    canary,
    ...(seen ? { lastSeen: seen } : {}),
  };
  if (!mapped) return { actions: [], memory: input.memory, summary: "ignored: not an Aviary alarm", evidence };
  const memory: ControllerMemory = {
    ...input.memory,
    alarms: stale ? input.memory.alarms : { ...input.memory.alarms, [change.alarmName]: { state: change.newState, at: change.at } },
  };
  const none = (summary: string): AlarmDecision => ({ actions: [], memory, summary, evidence });

  // A canary that misbehaved even once is turned off, even if the news arrives late: a person
  // re-enables it, so acting on a stale ALARM costs nothing but a look.
  if (rollsBackCanary(change)) {
    // An active rollout is aborted with the canary off in one write, even if the canary is off
    // already: it must not move the canary up again at its next step.
    const aborted = abortedByAlarm(input.rollout, alarmReason(change), now);
    if (aborted && input.rollout) {
      return {
        actions: [
          { type: "writeRollout", rollout: aborted, routing: { enabled: false }, expectRevision: input.rollout.revision },
          {
            type: "notify",
            subject: `Aviary: canary disabled, rollout aborted (${mapped.key})`,
            message:
              `The controller turned the canary off and aborted rollout ${aborted.id} (step ${aborted.step + 1} of ${aborted.plan.steps.length}, ${input.rollout.status}) at ${now} because alarm ${change.alarmName} entered ALARM.\n` +
              `Reason: ${change.reason}\n` +
              `Its weight (${canary.weight}%) is kept. After a fix, "npx aviary rollout retry" starts the rollout again from step 1.`,
          },
        ],
        memory,
        summary: `disable canary (weight ${canary.weight} kept); rollout ${aborted.id} aborted`,
        evidence: { ...evidence, rolloutId: aborted.id, rolloutStatus: input.rollout.status },
      };
    }
    if (!canary.enabled) return none("canary already disabled");
    return {
      actions: [
        { type: "setRouting", enabled: false, reason: alarmReason(change) },
        {
          type: "notify",
          subject: `Aviary: canary disabled (${mapped.key})`,
          message:
            `The controller turned the canary off at ${now} because alarm ${change.alarmName} entered ALARM.\n` +
            `Reason: ${change.reason}\n` +
            `Its weight (${canary.weight}%) is kept. Re-enable it after a fix with "npx aviary canary on" or by redeploying the canary stack.`,
        },
      ],
      memory,
      summary: `disable canary (weight ${canary.weight} kept)`,
      evidence,
    };
  }
  if (stale) return none(`ignored: stale or repeated delivery (last seen ${seen.state} at ${seen.at})`);
  if (change.newState !== "ALARM") return none(`recorded ${change.newState}: no action`);
  if (mapped.action === "notify") return none("notify only: the alarm itself reaches subscribers through the topic");

  const fleet = input.fleet;
  if (!fleet) throw new InvariantError(`decide: ${change.alarmName} in ALARM needs the fleet state (see needsFleet)`);
  if (!policy) throw new InvariantError(`decide: ${change.alarmName} in ALARM needs the scaling policy`);
  const rearm: ControllerAction = { type: "rearmAlarm", alarmName: change.alarmName, reason: REARM_REASON };
  if (mapped.action === "scaleOut") {
    if (fleet.desired >= fleet.max) {
      return {
        actions: [{
          type: "notify",
          subject: "Aviary: fleet at maximum",
          message: `Alarm ${change.alarmName} is in ALARM (${change.reason}) but the production fleet is already at its maximum of ${fleet.max} instances. Raise aviary:prodFleet.max if the load is expected.`,
        }],
        memory,
        summary: `no scale-out: at max ${fleet.max}`,
        evidence,
      };
    }
    const left = cooldownLeft(now, input.memory.lastScaleOutAt, policy.scaleOutCooldownSeconds);
    if (left > 0) return { actions: [rearm], memory, summary: `no scale-out: cooldown, ${left} s left; re-arm`, evidence };
    const to = Math.min(fleet.max, fleet.desired + policy.step);
    return {
      actions: [
        { type: "setDesired", from: fleet.desired, to },
        rearm,
        {
          type: "notify",
          subject: `Aviary: scaled out to ${to}`,
          message: `The controller raised the production fleet from ${fleet.desired} to ${to} instances (max ${fleet.max}) at ${now} because alarm ${change.alarmName} entered ALARM.\nReason: ${change.reason}`,
        },
      ],
      memory: { ...memory, lastScaleOutAt: now },
      summary: `scale out ${fleet.desired} -> ${to}`,
      evidence,
    };
  }

  // scaleIn
  if (fleet.desired <= fleet.min) return none(`no scale-in: at min ${fleet.min}`);
  const activeOut = scaleOutAlarmNames(change.alarmName).filter(
    (name) => (input.liveStates?.[name] ?? memory.alarms[name]?.state) === "ALARM",
  );
  if (activeOut.length > 0) {
    return { actions: [rearm], memory, summary: `no scale-in: scale-out alarm active (${activeOut.join(", ")}); re-arm`, evidence: { ...evidence, activeOut } };
  }
  // Scale-in also waits after a scale-out: capacity just added should get to take load first.
  const lastAny = ms(input.memory.lastScaleInAt) >= ms(input.memory.lastScaleOutAt) ? input.memory.lastScaleInAt : input.memory.lastScaleOutAt;
  const left = cooldownLeft(now, lastAny, policy.scaleInCooldownSeconds);
  if (left > 0) return { actions: [rearm], memory, summary: `no scale-in: cooldown, ${left} s left; re-arm`, evidence };
  const count = Math.min(policy.step, fleet.desired - fleet.min);
  const victims = newestFirst(fleet.instances).slice(0, count).map((i) => i.id);
  if (victims.length === 0) return none("no scale-in: the fleet reports no instances to remove");
  const to = fleet.desired - victims.length;
  return {
    actions: [
      { type: "drainAndTerminate", instanceIds: victims, from: fleet.desired, to },
      rearm,
      {
        type: "notify",
        subject: `Aviary: scaled in to ${to}`,
        message: `The controller drained and removed ${victims.join(", ")} (newest first), taking the production fleet from ${fleet.desired} to ${to} instances (min ${fleet.min}) at ${now} because alarm ${change.alarmName} entered ALARM.\nReason: ${change.reason}`,
      },
    ],
    memory: { ...memory, lastScaleInAt: now },
    summary: `scale in ${fleet.desired} -> ${to} (remove ${victims.join(", ")})`,
    evidence: { ...evidence, victims },
  };
}

/**
 * The canary stack's configuration is a person's decision made through stack config: the weight,
 * and the canary (re)enabled. Destroying the canary stack drains it first: weight 0, enabled kept.
 */
function decideCanaryConfig(now: string, config: { weight: number; appVersion?: string; destroying: boolean }): Decision {
  const weight = config.destroying ? 0 : config.weight;
  const version = config.appVersion ? ` (canary ${config.appVersion})` : "";
  const reason = config.destroying ? `canary stack destroyed${version}` : `canary stack config: weight ${weight}${version}`;
  return {
    actions: [
      config.destroying ? { type: "setRouting", weight, reason } : { type: "setRouting", weight, enabled: true, reason },
      { type: "notify", subject: `Aviary: canary weight ${weight}%`, message: `The controller set the canary weight to ${weight}% because of: ${reason}.` },
    ],
    summary: `canary weight set to ${weight}${config.destroying ? "" : " and enabled"}`,
    evidence: { weight, appVersion: config.appVersion ?? null, destroying: config.destroying, now },
  };
}

/** A person's abort: the canary off with the weight kept, as an alarm's rollback does. */
function decideManualAbort(now: string, why: string): Decision {
  const reason = truncate(`manual abort: ${why}`, MAX_REASON);
  return {
    actions: [
      { type: "setRouting", enabled: false, reason },
      {
        type: "notify",
        subject: "Aviary: canary turned off",
        message: `The controller turned the canary off because of: ${reason}. Its weight is kept; \`npx aviary canary on\` or a canary-stack deploy turns it back on.`,
      },
    ],
    summary: "canary turned off (weight kept)",
    evidence: { reason, now },
  };
}

/**
 * A person's routing command: exactly the change asked for (a weight alone keeps enabled as it
 * is). No notify action: the one who ran it knows, and the CLI holds no AWS credentials to reach
 * the alerts topic; the change is audited in the event stream under the person's name.
 */
function decideRoutingCommand(now: string, command: RoutingCommand): Decision {
  const change: SetRouting =
    command.set === "weight" ? { type: "setRouting", weight: command.weight }
    : command.set === "on" ? { type: "setRouting", enabled: true, ...(command.reason === undefined ? {} : { reason: command.reason }) }
    : { type: "setRouting", enabled: false, reason: command.reason };
  const summary = command.set === "weight" ? `canary weight set to ${command.weight}` : command.set === "on" ? "canary enabled" : "canary disabled (weight kept)";
  return { actions: [change], summary, evidence: { command, now } };
}
