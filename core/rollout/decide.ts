// A progressive rollout's decisions: one command (a start from the canary stack, a tick when a
// step's pause ends, a person's pause/resume/abort/promote/retry/setWeight) + the stored rollout
// (+ for a tick at a step's end, the controller's judgement of the summed windows) → actions. Pure:
// no I/O and no clock (`now` is an input). Every decision that changes the rollout is ONE
// writeRollout (the rollout and its routing change together), never a separate routing write.
import { MAX_REASON, truncate } from "../bounds";
import { InvalidInputError, InvariantError } from "../errors";
import type { Judgement } from "./judge";
import { judgementReason } from "./judgementReason";
import type { RolloutPlan, RolloutState, RolloutStatus, StepResult } from "./model";

export type RolloutCommand =
  /** The canary stack was deployed with aviary:rollout. */
  | { do: "start"; plan: RolloutPlan; appVersion: string }
  /** A schedule fired (AWS) or the local timer did. */
  | { do: "tick" }
  | { do: "pause"; reason?: string }
  | { do: "resume" }
  | { do: "abort"; reason: string }
  | { do: "promote" }
  | { do: "retry" }
  /** Pauses the rollout at that weight (never above the current step's). */
  | { do: "setWeight"; weight: number };

export type RolloutAction =
  /** The one atomic write of a decision: the rollout and, if any, its routing change. */
  | { type: "writeRollout"; rollout: RolloutState | null; routing?: { weight?: number; enabled?: boolean }; expectRevision: number | null }
  /** Wake the controller when the step's pause ends. */
  | { type: "scheduleTick"; rolloutId: string; at: string }
  /** Dispatch the promote workflow (AWS) / move local production to the canary's version. */
  | { type: "promote"; appVersion: string; rolloutId: string }
  | { type: "notify"; subject: string; message: string };

export interface RolloutInput {
  command: RolloutCommand;
  /** As stored; null = no rollout. */
  rollout: RolloutState | null;
  /** For a tick at or after the step's end: the controller's verdict on all proxies' summed windows. */
  judgement?: Judgement;
  /** Decision time, ISO 8601. */
  now: string;
  /** Who decides, recorded as updatedBy (default "controller"). */
  by?: string;
  /**
   * Whether the deciding controller can carry out a promotion (on AWS: the prod stack has
   * aviary:promote). Default true. Without it a passed rollout waits at promotable.
   */
  canPromote?: boolean;
}

export interface RolloutDecision {
  actions: RolloutAction[];
  summary: string;
  evidence: Record<string, unknown>;
}

type PersonCommand = Exclude<RolloutCommand["do"], "start" | "tick">;

/** The statuses each person's command is allowed in; anything else is refused. */
export const ALLOWED: Readonly<Record<PersonCommand, readonly RolloutStatus[]>> = {
  pause: ["progressing"],
  resume: ["paused"],
  abort: ["progressing", "paused", "promotable"],
  promote: ["progressing", "paused", "promotable"],
  retry: ["aborted"],
  setWeight: ["progressing", "paused"],
};

const ACTIVE: readonly RolloutStatus[] = ["progressing", "paused"];

/**
 * Most results a decision keeps, newest last: the stored rollout is bounded (the state module keeps
 * at most 50, leaving room for the proxies' fast aborts); older verdicts stay in the event log.
 */
export const MAX_KEPT_RESULTS = 40;

/** True while the rollout moves traffic by itself or waits mid-way (a canary alarm aborts it then). */
export function isActive(rollout: RolloutState | null | undefined): rollout is RolloutState {
  return rollout !== null && rollout !== undefined && ACTIVE.includes(rollout.status);
}

/** When the current step's pause ends (its judgement is due). */
export function stepEndsAt(rollout: RolloutState): string {
  return new Date(Date.parse(rollout.stepStartedAt) + rollout.plan.steps[rollout.step].pauseSeconds * 1000).toISOString();
}

/** True when a tick at `now` judges the step, so the caller must read the windows and judge them. */
export function tickNeedsJudgement(rollout: RolloutState | null, now: string): boolean {
  return rollout?.status === "progressing" && Date.parse(now) >= Date.parse(stepEndsAt(rollout));
}

const stepWeight = (r: RolloutState, step = r.step): number => r.plan.steps[step].weight;
const stepName = (r: RolloutState, step = r.step): string => `step ${step + 1} of ${r.plan.steps.length} (weight ${stepWeight(r, step)} %)`;

interface Change {
  status: RolloutStatus;
  reason: string;
  step?: number;
  stepStartedAt?: string;
  results?: StepResult[];
  /** A person's request to promote, or null to drop the one stored. */
  promoteRequested?: RolloutState["promoteRequested"] | null;
}

/** The next stored rollout: the change applied, audit fields and revision moved on. */
function next(r: RolloutState, change: Change, now: string, by: string): RolloutState {
  const { promoteRequested: _stored, ...kept } = r;
  const { promoteRequested: asked, ...rest } = change;
  // A request to promote lasts until it is dropped or replaced, or the rollout ends.
  const request = asked === null || ["aborted", "promoted"].includes(change.status) ? undefined : asked ?? r.promoteRequested;
  return { ...kept, ...rest, ...(request ? { promoteRequested: request } : {}), reason: truncate(change.reason, MAX_REASON), updatedAt: now, updatedBy: by, revision: r.revision + 1 };
}

function write(from: RolloutState | null, rollout: RolloutState, routing?: { weight?: number; enabled?: boolean }): RolloutAction {
  return { type: "writeRollout", rollout, ...(routing ? { routing } : {}), expectRevision: from?.revision ?? null };
}

function schedule(r: RolloutState): RolloutAction {
  return { type: "scheduleTick", rolloutId: r.id, at: stepEndsAt(r) };
}

const notify = (subject: string, message: string): RolloutAction => ({ type: "notify", subject: `Aviary: ${subject}`, message });

function refuse(command: RolloutCommand["do"], rollout: RolloutState | null, allowed: readonly RolloutStatus[]): never {
  const now = rollout === null ? "there is no rollout" : `rollout ${rollout.id} is ${rollout.status}`;
  throw new InvalidInputError(`rollout ${command} refused: ${now}; ${command} is allowed only when the rollout is ${allowed.join(" or ")}`);
}

/** A new rollout at step 0 (a start, or a retry of an aborted one): its id is `<appVersion>@<now>`. */
function begin(from: RolloutState | null, plan: RolloutPlan, appVersion: string, now: string, by: string, why: string): RolloutDecision {
  if (plan.steps.length === 0) throw new InvalidInputError("rollout start refused: the plan has no steps");
  const first = plan.steps[0];
  const rollout: RolloutState = {
    id: `${appVersion}@${now}`,
    appVersion,
    plan,
    status: "progressing",
    step: 0,
    stepStartedAt: now,
    results: [],
    reason: truncate(`${why}: step 1 of ${plan.steps.length} at weight ${first.weight} % for ${first.pauseSeconds} s`, MAX_REASON),
    updatedAt: now,
    updatedBy: by,
    revision: (from?.revision ?? 0) + 1,
  };
  return {
    actions: [
      write(from, rollout, { weight: first.weight, enabled: true }),
      schedule(rollout),
      notify(`rollout of ${appVersion} started`, `The controller started rollout ${rollout.id} at ${now} (${why}): the canary takes ${first.weight} % of traffic for ${first.pauseSeconds} s, then it is judged against production; ${plan.steps.length} steps in all (${plan.steps.map((s) => `${s.weight} %`).join(", ")}), autoPromote ${plan.autoPromote}.`),
    ],
    summary: `rollout ${rollout.id} started at weight ${first.weight}`,
    evidence: { rolloutId: rollout.id, replaced: from?.id ?? null, now },
  };
}

function decideStart(input: RolloutInput, command: Extract<RolloutCommand, { do: "start" }>, by: string): RolloutDecision {
  const { rollout, now } = input;
  // A redeploy of the version already rolling out must not reset its progress; a new version replaces it.
  if (isActive(rollout) && rollout.appVersion === command.appVersion) {
    throw new InvalidInputError(`rollout start refused: rollout ${rollout.id} of ${command.appVersion} is ${rollout.status}; start is allowed when there is no rollout, when it is promotable, aborted or promoted, or for another appVersion (abort or promote this one first)`);
  }
  const why = isActive(rollout) ? `canary stack deployed with ${command.appVersion}, replacing rollout ${rollout.id} (${rollout.status})` : `canary stack deployed with ${command.appVersion}`;
  return begin(rollout, command.plan, command.appVersion, now, by, why);
}

function decideTick(input: RolloutInput, by: string): RolloutDecision {
  const { rollout, now } = input;
  // A tick is a timer: late, repeated or for a rollout that moved on, it changes nothing.
  if (rollout === null) return { actions: [], summary: "tick: no rollout", evidence: { now } };
  if (rollout.promoteRequested && ALLOWED.promote.includes(rollout.status)) return promoteAsked(input, rollout, rollout.promoteRequested, by);
  if (rollout.status !== "progressing") return { actions: [], summary: `tick: rollout ${rollout.id} is ${rollout.status}, nothing to do`, evidence: { rolloutId: rollout.id, now } };
  const endsAt = stepEndsAt(rollout);
  if (!tickNeedsJudgement(rollout, now)) {
    return { actions: [schedule(rollout)], summary: `tick: ${stepName(rollout)} runs until ${endsAt}; re-scheduled`, evidence: { rolloutId: rollout.id, endsAt, now } };
  }
  const j = input.judgement;
  if (!j) throw new InvariantError(`rollout tick at ${now}: ${stepName(rollout)} ended at ${endsAt} and needs the controller's judgement (see tickNeedsJudgement)`);
  const result: StepResult = { step: rollout.step, weight: stepWeight(rollout), verdict: j.verdict, judgedBy: "controller", at: now, judgement: j };
  const results = [...rollout.results, result].slice(-MAX_KEPT_RESULTS);
  const numbers = judgementReason(j);
  const evidence = { rolloutId: rollout.id, step: rollout.step, verdict: j.verdict, numbers, now };
  const name = stepName(rollout);

  if (j.verdict === "fail") {
    const r = next(rollout, { status: "aborted", results, reason: `${name} failed the judge: ${numbers}` }, now, by);
    return {
      actions: [
        write(rollout, r, { enabled: false }),
        notify(`rollout of ${rollout.appVersion} aborted`, `The controller aborted rollout ${rollout.id} at ${now} and turned the canary off (its weight ${stepWeight(rollout)} % is kept) because ${name} failed against production.\nJudgement: ${numbers}\nFix the release and run "aviary rollout retry", or deploy a new version.`),
      ],
      summary: `rollout ${rollout.id} aborted: ${name} failed`,
      evidence,
    };
  }
  if (j.verdict === "inconclusive") {
    const r = next(rollout, { status: "paused", results, reason: `${name} inconclusive: ${numbers}` }, now, by);
    return {
      actions: [
        write(rollout, r),
        notify(`rollout of ${rollout.appVersion} paused`, `The controller paused rollout ${rollout.id} at ${now} at ${name}: the judge could not tell yet whether the canary is worse than production.\nJudgement: ${numbers}\nRun "aviary rollout resume" to judge the step again over a fresh window, or "aviary rollout abort --reason ...".`),
      ],
      summary: `rollout ${rollout.id} paused: ${name} inconclusive`,
      evidence,
    };
  }
  const last = rollout.step === rollout.plan.steps.length - 1;
  if (!last) {
    const step = rollout.step + 1;
    const r = next(rollout, { status: "progressing", step, stepStartedAt: now, results, reason: `${name} passed (${numbers}); now ${stepName(rollout, step)}` }, now, by);
    return {
      actions: [
        write(rollout, r, { weight: stepWeight(r) }),
        schedule(r),
        notify(`rollout of ${rollout.appVersion} at ${stepWeight(r)} %`, `The controller moved rollout ${rollout.id} to ${stepName(r)} at ${now} because ${name} passed against production.\nJudgement: ${numbers}\nThe step runs ${r.plan.steps[step].pauseSeconds} s.`),
      ],
      summary: `rollout ${rollout.id}: ${name} passed, now ${stepName(r)}`,
      evidence,
    };
  }
  const all = `all ${rollout.plan.steps.length} steps passed (last: ${numbers})`;
  const canPromote = input.canPromote ?? true;
  if (rollout.plan.autoPromote && canPromote) {
    const r = next(rollout, { status: "promoted", results, reason: `${all}; promoted automatically` }, now, by);
    return {
      actions: [
        write(rollout, r),
        { type: "promote", appVersion: rollout.appVersion, rolloutId: rollout.id },
        notify(`rollout of ${rollout.appVersion} promoted`, `Rollout ${rollout.id}: ${all}. autoPromote is on, so the controller started the promotion of ${rollout.appVersion} to production at ${now}.`),
      ],
      summary: `rollout ${rollout.id}: all steps passed, promoted`,
      evidence,
    };
  }
  const cannot = rollout.plan.autoPromote ? `; autoPromote is on but ${NO_PROMOTER}` : "";
  const r = next(rollout, { status: "promotable", results, reason: `${all}${cannot}` }, now, by);
  return {
    actions: [
      write(rollout, r),
      notify(`rollout of ${rollout.appVersion} promotable`, `Rollout ${rollout.id}: ${all} at ${now}${cannot}. The canary stays at ${stepWeight(rollout)} % until a person promotes it ("aviary rollout promote" or the promote workflow) or aborts it.`),
    ],
    summary: `rollout ${rollout.id}: all steps passed, promotable`,
    evidence,
  };
}

function decidePersonCommand(input: RolloutInput, command: Extract<RolloutCommand, { do: PersonCommand }>, by: string): RolloutDecision {
  const { rollout, now } = input;
  const allowed = ALLOWED[command.do];
  if (rollout === null || !allowed.includes(rollout.status)) return refuse(command.do, rollout, allowed);
  const evidence = { rolloutId: rollout.id, command, from: rollout.status, now };
  const name = stepName(rollout);
  // No notice for pause, resume or setWeight: the person who ran it knows, as with routing commands.
  switch (command.do) {
    case "pause": {
      const r = next(rollout, { status: "paused", reason: `paused by ${by} at ${name}${command.reason ? `: ${command.reason}` : ""}` }, now, by);
      return { actions: [write(rollout, r)], summary: `rollout ${rollout.id} paused at ${name}`, evidence };
    }
    case "resume": {
      // The step starts over: a fresh clock and, with it, a fresh window to judge.
      const r = next(rollout, { status: "progressing", stepStartedAt: now, reason: `resumed by ${by}: ${name} starts over` }, now, by);
      return { actions: [write(rollout, r, { weight: stepWeight(r), enabled: true }), schedule(r)], summary: `rollout ${rollout.id} resumed at ${name}`, evidence };
    }
    case "setWeight": {
      const cap = stepWeight(rollout);
      if (!Number.isInteger(command.weight) || command.weight < 0 || command.weight > cap) {
        throw new InvalidInputError(`rollout setWeight refused: weight must be an integer from 0 to ${cap} (the current ${name}; a rollout goes higher only by passing steps), got ${command.weight}`);
      }
      const r = next(rollout, { status: "paused", reason: `weight set to ${command.weight} % by ${by}; paused at ${name}` }, now, by);
      return { actions: [write(rollout, r, { weight: command.weight })], summary: `rollout ${rollout.id} paused at weight ${command.weight}`, evidence };
    }
    case "abort": {
      const r = next(rollout, { status: "aborted", reason: `aborted by ${by} at ${name}: ${command.reason}` }, now, by);
      return {
        actions: [
          write(rollout, r, { enabled: false }),
          notify(`rollout of ${rollout.appVersion} aborted`, `${by} aborted rollout ${rollout.id} at ${now} at ${name}: ${command.reason}. The canary is off (its weight is kept); "aviary rollout retry" starts it again from step 1.`),
        ],
        summary: `rollout ${rollout.id} aborted by ${by}`,
        evidence,
      };
    }
    case "promote": {
      // Recorded, not carried out: a person's command has no means to promote (the CLI holds no
      // token and outlives no workflow); the controller's next tick does it (decideTick).
      const r = next(rollout, { status: rollout.status, promoteRequested: { by, at: now }, reason: `promotion requested by ${by} at ${name} (${rollout.status}); the controller carries it out on its next tick` }, now, by);
      return { actions: [write(rollout, r)], summary: `rollout ${rollout.id}: promotion requested by ${by}`, evidence };
    }
    case "retry":
      return begin(rollout, rollout.plan, rollout.appVersion, now, by, `retry by ${by} of aborted rollout ${rollout.id}`);
  }
}

const NO_PROMOTER = "this controller cannot promote (the prod stack has no aviary:promote): run the promote workflow";

/** A tick on a rollout a person asked to promote: the promotion, or why it cannot happen here. */
function promoteAsked(input: RolloutInput, rollout: RolloutState, asked: { by: string; at: string }, by: string): RolloutDecision {
  const { now } = input;
  const name = stepName(rollout);
  const evidence = { rolloutId: rollout.id, promoteRequested: asked, from: rollout.status, now };
  if (!(input.canPromote ?? true)) {
    const r = next(rollout, { status: rollout.status, promoteRequested: null, reason: `promotion requested by ${asked.by} at ${asked.at}, but ${NO_PROMOTER}` }, now, by);
    return {
      actions: [
        write(rollout, r),
        notify(`rollout of ${rollout.appVersion}: promotion not started`, `${asked.by} asked at ${asked.at} to promote rollout ${rollout.id}, but ${NO_PROMOTER} (.github/workflows/promote.yml).`),
      ],
      summary: `rollout ${rollout.id}: promotion requested, but this controller cannot promote`,
      evidence,
    };
  }
  const r = next(rollout, { status: "promoted", reason: `promoted at the request of ${asked.by} (${asked.at}) from ${name} (${rollout.status})` }, now, by);
  return {
    actions: [
      write(rollout, r),
      { type: "promote", appVersion: rollout.appVersion, rolloutId: rollout.id },
      notify(`rollout of ${rollout.appVersion} promoted`, `${asked.by} asked to promote rollout ${rollout.id} at ${asked.at}; the controller started the promotion at ${now} from ${name} (${rollout.status}, ${rollout.results.length} step(s) judged): ${rollout.appVersion} goes to production.`),
    ],
    summary: `rollout ${rollout.id} promoted (asked by ${asked.by})`,
    evidence,
  };
}

/** The decision for one rollout command; InvalidInputError when the command is not allowed now. */
export function decideRollout(input: RolloutInput): RolloutDecision {
  const by = input.by ?? "controller";
  const { command } = input;
  if (command.do === "start") return decideStart(input, command, by);
  if (command.do === "tick") return decideTick(input, by);
  return decidePersonCommand(input, command, by);
}

/**
 * A canary alarm's rollback during an active rollout: the rollout aborted, to be written with the
 * canary off in the same write. Undefined when no rollout is active (then the plain rollback stands).
 */
export function abortedByAlarm(rollout: RolloutState | null | undefined, reason: string, now: string): RolloutState | undefined {
  if (!isActive(rollout)) return undefined;
  return next(rollout, { status: "aborted", reason: `canary alarm at ${stepName(rollout)}: ${reason}` }, now, "controller");
}
