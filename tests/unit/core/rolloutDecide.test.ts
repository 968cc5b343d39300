// A progressive rollout's decisions, rule by rule: every command in every status (allowed or
// refused), ticks before and after a step's pause, each verdict, the last step with and without
// autoPromote, a canary alarm during a rollout, and that no decision lifts the canary above the
// step it is on.
import { ALARM_KEYS, type AlarmKey } from "../../../core/alarms/catalogue";
import { actionName, decide, type AlarmInput, type ControllerAction, type RolloutEventInput } from "../../../core/controller/decide";
import { InvalidInputError, InvariantError } from "../../../core/errors";
import { ALLOWED, decideRollout, MAX_KEPT_RESULTS, stepEndsAt, tickNeedsJudgement, type RolloutCommand, type RolloutDecision } from "../../../core/rollout/decide";
import { DEFAULT_ANALYSIS, judge, type Judgement, type RoleWindow } from "../../../core/rollout/judge";
import { ROLLOUT_STATUSES, type RolloutPlan, type RolloutState, type RolloutStatus } from "../../../core/rollout/model";
import { latencyBoundsMs } from "../../../haproxy/config";
import { prng } from "../../../harness/judgeStreams";

const T0 = "2026-12-01T10:00:00.000Z";
const at = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const PLAN: RolloutPlan = { steps: [{ weight: 5, pauseSeconds: 120 }, { weight: 25, pauseSeconds: 300 }, { weight: 50, pauseSeconds: 300 }], analysis: DEFAULT_ANALYSIS, autoPromote: false };

const BOUNDS = latencyBoundsMs(1500);
/** `requests` responses all between 25 and 50 ms, `errors` of them 5xx. */
function role(requests: number, errors5xx: number): RoleWindow {
  return { requests, errors5xx, latency: { boundsMs: BOUNDS, counts: [requests, ...BOUNDS.map((b) => (b <= 25 ? requests : 0))] } };
}
// Real verdicts from the judge, so the reasons carry its numbers.
const PASS = judge({ canary: role(100_000, 1000), production: role(1_000_000, 10_000) }, DEFAULT_ANALYSIS);
const FAIL = judge({ canary: role(1000, 60), production: role(10_000, 100) }, DEFAULT_ANALYSIS);
const UNSURE = judge({ canary: role(10, 0), production: role(10_000, 100) }, DEFAULT_ANALYSIS);
const VERDICT: Record<Judgement["verdict"], Judgement> = { pass: PASS, fail: FAIL, inconclusive: UNSURE };

test("the fixtures are the verdicts they are named for", () => {
  expect([PASS.verdict, FAIL.verdict, UNSURE.verdict]).toEqual(["pass", "fail", "inconclusive"]);
});

function state(o: Partial<RolloutState> = {}): RolloutState {
  return {
    id: `1.5.0@${T0}`, appVersion: "1.5.0", plan: PLAN, status: "progressing", step: 0, stepStartedAt: T0,
    results: [], reason: "started", updatedAt: T0, updatedBy: "controller", revision: 4, ...o,
  };
}

function run(command: RolloutCommand, rollout: RolloutState | null, now = T0, judgement?: Judgement, by?: string): RolloutDecision {
  return decideRollout({ command, rollout, now, ...(judgement ? { judgement } : {}), ...(by ? { by } : {}) });
}

/** Compact view: the write (status, step, routing, revision checked), schedules, promotes, notices. */
function shape(actions: readonly ControllerAction[]): string[] {
  return actions.map((a) => {
    switch (a.type) {
      case "writeRollout":
        return `write ${a.rollout?.status} step ${a.rollout?.step}${a.routing?.weight !== undefined ? ` weight ${a.routing.weight}` : ""}${a.routing?.enabled !== undefined ? ` enabled ${a.routing.enabled}` : ""} expect ${a.expectRevision}`;
      case "scheduleTick":
        return `tick ${a.at}`;
      case "promote":
        return `promote ${a.appVersion}`;
      default:
        return a.type;
    }
  });
}

const written = (d: RolloutDecision): RolloutState => {
  const w = d.actions.find((a) => a.type === "writeRollout");
  if (!w || w.type !== "writeRollout" || w.rollout === null) throw new InvariantError("no rollout written");
  return w.rollout;
};
const notice = (d: RolloutDecision): string => {
  const n = d.actions.find((a) => a.type === "notify");
  return n && n.type === "notify" ? `${n.subject}\n${n.message}` : "";
};

describe("start", () => {
  test("no rollout: step 0 at the first weight, enabled, progressing, a tick at the pause's end, a notice", () => {
    const d = run({ do: "start", plan: PLAN, appVersion: "1.5.0" }, null);
    expect(shape(d.actions)).toEqual(["write progressing step 0 weight 5 enabled true expect null", `tick ${at(120)}`, "notify"]);
    expect(written(d)).toMatchObject({ id: `1.5.0@${T0}`, appVersion: "1.5.0", plan: PLAN, step: 0, stepStartedAt: T0, results: [], revision: 1, updatedBy: "controller" });
  });
  test.each<RolloutStatus>(["promotable", "aborted", "promoted"])("after a finished rollout (%s): a new one, a new id, the revision moved on", (status) => {
    const d = run({ do: "start", plan: PLAN, appVersion: "1.6.0" }, state({ status }), at(1000));
    expect(shape(d.actions)).toEqual(["write progressing step 0 weight 5 enabled true expect 4", `tick ${at(1120)}`, "notify"]);
    expect(written(d)).toMatchObject({ id: `1.6.0@${at(1000)}`, appVersion: "1.6.0", revision: 5, results: [] });
  });
  test.each<RolloutStatus>(["progressing", "paused"])("a new version while one is %s replaces it (its id named)", (status) => {
    const d = run({ do: "start", plan: PLAN, appVersion: "1.6.0" }, state({ status, step: 1 }), at(10));
    expect(written(d)).toMatchObject({ id: `1.6.0@${at(10)}`, step: 0 });
    expect(written(d).reason).toContain(`replacing rollout 1.5.0@${T0} (${status})`);
  });
  test.each<RolloutStatus>(["progressing", "paused"])("the same version again while %s is refused: its progress is kept", (status) => {
    expect(() => run({ do: "start", plan: PLAN, appVersion: "1.5.0" }, state({ status }))).toThrow(new RegExp(`rollout start refused: rollout 1\\.5\\.0@.* is ${status}`));
    expect(() => run({ do: "start", plan: PLAN, appVersion: "1.5.0" }, state({ status }))).toThrow(InvalidInputError);
  });
  test("a plan without steps is refused", () => {
    expect(() => run({ do: "start", plan: { ...PLAN, steps: [] }, appVersion: "1.5.0" }, null)).toThrow(InvalidInputError);
  });
});

describe("tick", () => {
  test.each([
    ["just started", 0],
    ["1 s before the pause ends", 119],
  ])("before the step's pause ends (%s): nothing but a re-schedule", (_name, s) => {
    const d = run({ do: "tick" }, state(), at(s), PASS);
    expect(shape(d.actions)).toEqual([`tick ${at(120)}`]);
    expect(tickNeedsJudgement(state(), at(s))).toBe(false);
  });
  test("the pause counts from the current step's start", () => {
    const r = state({ step: 1, stepStartedAt: at(500) });
    expect(stepEndsAt(r)).toBe(at(800));
    expect(shape(run({ do: "tick" }, r, at(799)).actions)).toEqual([`tick ${at(800)}`]);
  });
  test("at the pause's end a judgement is needed", () => {
    expect(tickNeedsJudgement(state(), at(120))).toBe(true);
    expect(() => run({ do: "tick" }, state(), at(120))).toThrow(InvariantError);
  });
  test("pass at step 1 of 3: the next step's weight, its own tick, the numbers in the notice", () => {
    const d = run({ do: "tick" }, state(), at(120), PASS);
    expect(shape(d.actions)).toEqual(["write progressing step 1 weight 25 expect 4", `tick ${at(420)}`, "notify"]);
    const r = written(d);
    expect(r).toMatchObject({ step: 1, stepStartedAt: at(120), revision: 5, results: [{ step: 0, weight: 5, verdict: "pass", judgedBy: "controller", at: at(120), judgement: PASS }] });
    expect(notice(d)).toContain(PASS.errorRate.reason);
    expect(notice(d)).toContain(PASS.latency.reason);
  });
  test("a late tick judges too", () => {
    expect(shape(run({ do: "tick" }, state(), at(4000), PASS).actions)[0]).toBe("write progressing step 1 weight 25 expect 4");
  });
  test("fail: aborted, the canary off with its weight kept, subscribers told why with the numbers", () => {
    const d = run({ do: "tick" }, state({ step: 1, stepStartedAt: at(120) }), at(420), FAIL);
    expect(shape(d.actions)).toEqual(["write aborted step 1 enabled false expect 4", "notify"]);
    const r = written(d);
    expect(r.results).toEqual([{ step: 1, weight: 25, verdict: "fail", judgedBy: "controller", at: at(420), judgement: FAIL }]);
    expect(r.reason).toContain("step 2 of 3 (weight 25 %) failed");
    expect(r.reason).toContain("canary 60/1000 5xx (6.00 %), production 100/10000 (1.00 %)");
    expect(notice(d)).toContain("canary 60/1000 5xx (6.00 %)");
  });
  test("inconclusive: paused with the numbers in the reason, a person told to resume or abort", () => {
    const d = run({ do: "tick" }, state(), at(120), UNSURE);
    expect(shape(d.actions)).toEqual(["write paused step 0 expect 4", "notify"]);
    expect(written(d).reason).toContain("needs 100 requests per role");
    expect(written(d).results.map((x) => x.verdict)).toEqual(["inconclusive"]);
    expect(notice(d)).toMatch(/resume.*abort/s);
  });
  test("last step passes without autoPromote: promotable, no promotion, a person told", () => {
    const d = run({ do: "tick" }, state({ step: 2, stepStartedAt: at(420) }), at(720), PASS);
    expect(shape(d.actions)).toEqual(["write promotable step 2 expect 4", "notify"]);
    expect(written(d).reason).toContain("all 3 steps passed");
  });
  test("last step passes with autoPromote: the promote action and promoted, in that write", () => {
    const d = run({ do: "tick" }, state({ step: 2, stepStartedAt: at(420), plan: { ...PLAN, autoPromote: true } }), at(720), PASS);
    expect(shape(d.actions)).toEqual(["write promoted step 2 expect 4", "promote 1.5.0", "notify"]);
    const p = d.actions.find((a) => a.type === "promote");
    expect(p).toEqual({ type: "promote", appVersion: "1.5.0", rolloutId: `1.5.0@${T0}` });
  });
  test.each<RolloutStatus>(["paused", "promotable", "aborted", "promoted"])("on a %s rollout (e.g. the agent aborted it first): nothing, whatever the verdict", (status) => {
    for (const j of [PASS, FAIL, UNSURE]) expect(run({ do: "tick" }, state({ status }), at(9999), j).actions).toEqual([]);
  });
  test("results stay bounded: a step judged again and again keeps the newest", () => {
    const old = Array.from({ length: MAX_KEPT_RESULTS }, (_, i) => ({ step: 0, weight: 5, verdict: "inconclusive" as const, judgedBy: "controller", at: at(i), judgement: UNSURE }));
    const r = written(run({ do: "tick" }, state({ results: old }), at(120), PASS));
    expect(r.results).toHaveLength(MAX_KEPT_RESULTS);
    expect(r.results.at(-1)).toMatchObject({ verdict: "pass", at: at(120) });
    expect(r.results[0].at).toBe(at(1));
  });
  test("with no rollout: nothing", () => {
    expect(run({ do: "tick" }, null, at(9999), PASS).actions).toEqual([]);
  });
});

type Person = Exclude<RolloutCommand, { do: "start" | "tick" }>;
const PERSON: Person[] = [{ do: "pause", reason: "looking" }, { do: "resume" }, { do: "abort", reason: "bad smell" }, { do: "promote" }, { do: "retry" }, { do: "setWeight", weight: 2 }];
/** What each allowed person's command does (from `progressing` at step 0 unless the status is named). */
const EXPECTED: Record<Person["do"], Partial<Record<RolloutStatus, string[]>>> = {
  pause: { progressing: ["write paused step 0 expect 4"] },
  resume: { paused: [`write progressing step 0 weight 5 enabled true expect 4`, `tick ${at(150)}`] },
  abort: {
    progressing: ["write aborted step 0 enabled false expect 4", "notify"],
    paused: ["write aborted step 0 enabled false expect 4", "notify"],
    promotable: ["write aborted step 0 enabled false expect 4", "notify"],
  },
  // Recorded only: the controller's next tick carries it out (see "a promotion a person asked for").
  promote: {
    progressing: ["write progressing step 0 expect 4"],
    paused: ["write paused step 0 expect 4"],
    promotable: ["write promotable step 0 expect 4"],
  },
  retry: { aborted: ["write progressing step 0 weight 5 enabled true expect 4", `tick ${at(150)}`, "notify"] },
  setWeight: { progressing: ["write paused step 0 weight 2 expect 4"], paused: ["write paused step 0 weight 2 expect 4"] },
};

describe("a person's commands in every status", () => {
  const cases = PERSON.flatMap((command) => ROLLOUT_STATUSES.map((status) => [command.do, status, command] as const));
  test.each(cases)("%s when %s", (_do, status, command) => {
    const rollout = state({ status });
    const want = EXPECTED[command.do][status];
    expect(ALLOWED[command.do].includes(status)).toBe(want !== undefined);
    if (want === undefined) {
      expect(() => run(command, rollout, at(30), undefined, "alice")).toThrow(InvalidInputError);
      expect(() => run(command, rollout, at(30), undefined, "alice")).toThrow(`rollout ${command.do} refused: rollout 1.5.0@${T0} is ${status}`);
      return;
    }
    const d = run(command, rollout, at(30), undefined, "alice");
    expect(shape(d.actions)).toEqual(want);
    expect(written(d)).toMatchObject({ updatedBy: "alice", updatedAt: at(30), revision: 5 });
  });
  test.each(PERSON)("$do with no rollout is refused, naming it", (command) => {
    expect(() => run(command, null)).toThrow(`rollout ${command.do} refused: there is no rollout`);
  });

  test("pause keeps the step and its clock and says who and why", () => {
    const r = written(run({ do: "pause", reason: "looking" }, state({ step: 1, stepStartedAt: at(120) }), at(200), undefined, "alice"));
    expect(r).toMatchObject({ status: "paused", step: 1, stepStartedAt: at(120) });
    expect(r.reason).toBe("paused by alice at step 2 of 3 (weight 25 %): looking");
  });
  test("resume restarts the step's clock (and with it its window) at the step's weight", () => {
    const d = run({ do: "resume" }, state({ status: "paused", step: 1, stepStartedAt: at(120) }), at(1000));
    expect(shape(d.actions)).toEqual(["write progressing step 1 weight 25 enabled true expect 4", `tick ${at(1300)}`]);
    expect(written(d).stepStartedAt).toBe(at(1000));
  });
  test("retry starts again from step 1 with a new id, the old results not carried over", () => {
    const old = state({ status: "aborted", step: 2, results: [{ step: 0, weight: 5, verdict: "pass", judgedBy: "controller", at: at(120), judgement: PASS }] });
    const r = written(run({ do: "retry" }, old, at(5000)));
    expect(r).toMatchObject({ id: `1.5.0@${at(5000)}`, step: 0, status: "progressing", stepStartedAt: at(5000), results: [] });
  });
  test("abort says who and why to subscribers", () => {
    const d = run({ do: "abort", reason: "bad smell" }, state(), at(30), undefined, "alice");
    expect(written(d).reason).toBe("aborted by alice at step 1 of 3 (weight 5 %): bad smell");
    expect(notice(d)).toContain("alice aborted rollout 1.5.0@");
  });
  test.each([0, 25])("setWeight %d at step 2 (weight 25) pauses there", (weight) => {
    const d = run({ do: "setWeight", weight }, state({ step: 1 }));
    expect(shape(d.actions)).toEqual([`write paused step 1 weight ${weight} expect 4`]);
  });
  test.each([26, 100, -1, 2.5, Number.NaN])("setWeight %d at step 2 (weight 25) is refused: no raising a step by hand", (weight) => {
    expect(() => run({ do: "setWeight", weight }, state({ step: 1 }))).toThrow(/setWeight refused: weight must be an integer from 0 to 25/);
  });
});

describe("a canary alarm during a rollout", () => {
  const key: AlarmKey = "canary-5xx-rate";
  expect(ALARM_KEYS).toContain(key);
  const alarm = (rollout: RolloutState | null | undefined, enabled = true): AlarmInput => ({
    event: { kind: "alarm", change: { alarmName: `aviary-prod-${key}`, oldState: "OK", newState: "ALARM", reason: "Threshold Crossed: 5xx 7 %", at: at(50) } },
    now: at(60),
    memory: { alarms: {} },
    canary: { enabled, weight: 25 },
    ...(rollout === undefined ? {} : { rollout }),
  });
  const policy = { step: 1, scaleOutCooldownSeconds: 120, scaleInCooldownSeconds: 300 };

  test.each<RolloutStatus>(["progressing", "paused"])("while %s: ONE write turns the canary off and aborts the rollout", (status) => {
    const d = decide(alarm(state({ status, step: 1 })), policy);
    expect(d.actions.map(actionName)).toEqual(["rolloutAborted+disableCanary", "notify"]);
    expect(shape(d.actions)[0]).toBe("write aborted step 1 enabled false expect 4");
    const w = d.actions[0];
    if (w.type !== "writeRollout") throw new InvariantError("not a write");
    expect(w.rollout?.reason).toContain("Threshold Crossed: 5xx 7 %");
    expect(d.summary).toMatch(/disable canary \(weight 25 kept\); rollout .* aborted/);
    expect(d.memory.alarms[`aviary-prod-${key}`]).toEqual({ state: "ALARM", at: at(50) });
  });
  test("even with the canary already off, an active rollout is aborted (it must not step up again)", () => {
    expect(decide(alarm(state(), false), policy).actions.map(actionName)).toEqual(["rolloutAborted+disableCanary", "notify"]);
  });
  test.each<[string, RolloutState | null | undefined]>([
    ["no rollout read", undefined],
    ["no rollout", null],
    ["a promotable one", state({ status: "promotable" })],
    ["an aborted one", state({ status: "aborted" })],
    ["a promoted one", state({ status: "promoted" })],
  ])("with %s: the plain rollback, as without rollouts", (_name, rollout) => {
    expect(decide(alarm(rollout), policy).actions.map(actionName)).toEqual(["disableCanary", "notify"]);
  });
});

describe("through the controller's decide()", () => {
  test("the rollout event decides as decideRollout does, actions named for what they do", () => {
    const input: RolloutEventInput = { event: { kind: "rollout", command: { do: "tick" } }, now: at(120), rollout: state(), judgement: PASS };
    const d = decide(input);
    expect(d).toEqual(run({ do: "tick" }, state(), at(120), PASS));
    expect(d.actions.map(actionName)).toEqual(["rolloutProgressing+setCanaryWeight", "scheduleTick", "notify"]);
  });
});

describe("property: a decision never lifts the canary above the step it is on", () => {
  const COMMANDS = (r: () => number): RolloutCommand => {
    const pick = Math.floor(r() * 9);
    const plan: RolloutPlan = { ...PLAN, autoPromote: r() < 0.5 };
    return [
      { do: "start", plan, appVersion: r() < 0.5 ? "1.5.0" : "1.6.0" },
      { do: "tick" }, { do: "tick" },
      { do: "pause" }, { do: "resume" }, { do: "abort", reason: "x" }, { do: "promote" }, { do: "retry" },
      { do: "setWeight", weight: Math.floor(r() * 60) },
    ][pick] as RolloutCommand;
  };

  test("over 300 random sequences of 40 commands", () => {
    let writes = 0;
    let stepsReached = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const r = prng(seed);
      let rollout: RolloutState | null = null;
      let clock = 0;
      for (let i = 0; i < 40; i++) {
        clock += Math.floor(r() * 400);
        const command = COMMANDS(r);
        const judgement = VERDICT[(["pass", "pass", "fail", "inconclusive"] as const)[Math.floor(r() * 4)]];
        let d: RolloutDecision;
        try {
          d = run(command, rollout, at(clock), judgement);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidInputError); // refused: nothing written
          continue;
        }
        for (const a of d.actions) {
          if (a.type !== "writeRollout" || a.rollout === null) continue;
          expect(a.expectRevision).toBe(rollout?.revision ?? null);
          const cap = a.rollout.plan.steps[a.rollout.step].weight;
          if (a.routing?.weight !== undefined) expect(a.routing.weight).toBeLessThanOrEqual(cap);
          // Higher than the step it was on only by passing that step (or a fresh start at step 0).
          const from = rollout && rollout.id === a.rollout.id ? rollout.plan.steps[rollout.step].weight : 0;
          if ((a.routing?.weight ?? 0) > from && rollout?.id === a.rollout.id) {
            expect(a.rollout.results.at(-1)).toMatchObject({ step: rollout.step, verdict: "pass" });
          }
          if (a.rollout.status === "aborted") expect(a.routing).toEqual({ enabled: false });
          if (a.rollout.step > 0) stepsReached += 1;
          writes += 1;
          rollout = a.rollout;
        }
      }
    }
    // The sequences did walk rollouts past their first step, not only get refused.
    expect(writes).toBeGreaterThan(2000);
    expect(stepsReached).toBeGreaterThan(200);
  });
});

describe("a promotion a person asked for", () => {
  const asked = (status: RolloutStatus): RolloutState => written(run({ do: "promote" }, state({ status }), at(30), undefined, "carol"));

  test.each<RolloutStatus>(["progressing", "paused", "promotable"])("is recorded with who and when, the status kept (%s)", (status) => {
    expect(asked(status)).toMatchObject({ status, promoteRequested: { by: "carol", at: at(30) }, reason: expect.stringContaining("promotion requested by carol") });
  });

  test.each<RolloutStatus>(["progressing", "paused", "promotable"])("the controller's next tick promotes a %s rollout: the promote action, promoted, a notice naming who asked", (status) => {
    const d = run({ do: "tick" }, asked(status), at(31));
    expect(shape(d.actions)).toEqual(["write promoted step 0 expect 5", "promote 1.5.0", "notify"]);
    expect(written(d).promoteRequested).toBeUndefined();
    expect(notice(d)).toContain(`carol asked to promote rollout 1.5.0@${T0} at ${at(30)}`);
  });

  test("a controller that cannot promote drops the request and says how to promote instead", () => {
    const d = decideRollout({ command: { do: "tick" }, rollout: asked("promotable"), now: at(31), canPromote: false });
    expect(shape(d.actions)).toEqual(["write promotable step 0 expect 5", "notify"]);
    expect(written(d).promoteRequested).toBeUndefined();
    expect(notice(d)).toMatch(/cannot promote \(the prod stack has no aviary:promote\): run the promote workflow/);
    // And the next tick has nothing to do.
    expect(decideRollout({ command: { do: "tick" }, rollout: written(d), now: at(32), canPromote: false }).actions).toEqual([]);
  });

  test("an abort after the request ends it: the tick then promotes nothing", () => {
    const aborted = written(run({ do: "abort", reason: "changed my mind" }, asked("progressing"), at(31), undefined, "dave"));
    expect(aborted.promoteRequested).toBeUndefined();
    expect(run({ do: "tick" }, aborted, at(32)).actions).toEqual([]);
  });
});

test("the last step passes with autoPromote on a controller that cannot promote: promotable, and the reason says why", () => {
  const last = state({ step: 2, stepStartedAt: at(0), plan: { ...state().plan, autoPromote: true } });
  const end = at(last.plan.steps[2].pauseSeconds);
  const d = decideRollout({ command: { do: "tick" }, rollout: last, now: end, judgement: PASS, canPromote: false });
  expect(shape(d.actions)).toEqual(["write promotable step 2 expect 4", "notify"]);
  expect(written(d).reason).toMatch(/autoPromote is on but this controller cannot promote/);
});
