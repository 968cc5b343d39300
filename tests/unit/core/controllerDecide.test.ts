// The controller's pure decision core, rule by rule (no I/O, no clock: time is an input).
import { ALARM_KEYS, type AlarmKey } from "../../../core/alarms/catalogue";
import type { AlarmState } from "../../../core/alarms/state";
import {
  actionName,
  decide,
  needsFleet,
  newestFirst,
  REARM_REASON,
  scaleOutAlarmNames,
  type AlarmChange,
  type ControllerAction,
  type ControllerMemory,
  type AlarmInput,
  type CommandInput,
  type ScalingPolicy,
} from "../../../core/controller/decide";
import type { RolloutState } from "../../../core/rollout/model";
import { judgementReason } from "../../../core/rollout/judgementReason";
import { failing, rolloutState, stepResult, roleWindow, window } from "../../support/rolloutFixtures";

const DEP = "aviary-prod";
const name = (key: AlarmKey): string => `${DEP}-${key}`;
const HIGH = name("prod-cpu-high");
const LOW = name("prod-cpu-low");
const NOW = "2026-11-24T10:00:00.000Z";
const at = (seconds: number): string => new Date(Date.parse(NOW) + seconds * 1000).toISOString();
const policy: ScalingPolicy = { step: 1, scaleOutCooldownSeconds: 120, scaleInCooldownSeconds: 300 };

function change(key: AlarmKey | string, newState: AlarmState = "ALARM", when = at(-5), oldState: AlarmState = "OK"): AlarmChange {
  const alarmName = (ALARM_KEYS as readonly string[]).includes(key) ? name(key as AlarmKey) : key;
  return { alarmName, oldState, newState, reason: `Threshold Crossed: 2 out of the last 3 datapoints for ${key}`, metric: "CPUUtilization", at: when };
}

const INSTANCES = [
  { id: "i-1", launchedAt: at(-3000) },
  { id: "i-3", launchedAt: at(-1000) },
  { id: "i-2", launchedAt: at(-2000) },
];

interface Overrides {
  fleet?: Partial<AlarmInput["fleet"]>;
  memory?: Partial<ControllerMemory>;
  canary?: Partial<AlarmInput["canary"]>;
  liveStates?: Record<string, AlarmState>;
  now?: string;
  rollout?: RolloutState | null;
}

function input(c: AlarmChange, o: Overrides = {}): AlarmInput {
  return {
    event: { kind: "alarm", change: c },
    now: o.now ?? NOW,
    fleet: {
      desired: 3,
      min: 2,
      max: 5,
      instances: INSTANCES,
      ...o.fleet,
    },
    memory: { alarms: {}, ...o.memory },
    canary: { enabled: true, weight: 25, ...o.canary },
    ...(o.liveStates ? { liveStates: o.liveStates } : {}),
    ...(o.rollout !== undefined ? { rollout: o.rollout } : {}),
  };
}

/** Compact view of the actions for table assertions. */
function shape(actions: ControllerAction[]): string[] {
  return actions.map((a) => {
    switch (a.type) {
      case "setDesired":
        return `setDesired ${a.from}->${a.to}`;
      case "drainAndTerminate":
        return `drainAndTerminate ${a.instanceIds.join(",")} ${a.from}->${a.to}`;
      case "setRouting":
      case "writeRollout":
        return actionName(a);
      case "scheduleTick":
        return `scheduleTick ${a.at}`;
      case "promote":
        return `promote ${a.appVersion}`;
      case "rearmAlarm":
        return `rearm ${a.alarmName}`;
      case "notify":
        return "notify";
    }
  });
}

describe("decide: rules", () => {
  const cases: [string, AlarmInput, ScalingPolicy, string[], RegExp][] = [
    // scale out
    ["scale-out alarm adds one", input(change("prod-cpu-high")), policy, ["setDesired 3->4", `rearm ${HIGH}`, "notify"], /scale out 3 -> 4/],
    ["scale-out uses the configured step", input(change("prod-cpu-high")), { ...policy, step: 2 }, ["setDesired 3->5", `rearm ${HIGH}`, "notify"], /3 -> 5/],
    ["scale-out step is capped at max", input(change("prod-cpu-high"), { fleet: { desired: 4 } }), { ...policy, step: 3 }, ["setDesired 4->5", `rearm ${HIGH}`, "notify"], /4 -> 5/],
    ["one below max still scales", input(change("prod-cpu-high"), { fleet: { desired: 4 } }), policy, ["setDesired 4->5", `rearm ${HIGH}`, "notify"], /4 -> 5/],
    ["at max: tell people, no step, no re-arm", input(change("prod-cpu-high"), { fleet: { desired: 5 } }), policy, ["notify"], /at max 5/],
    ["scale-out cooldown 1 s short: re-arm only", input(change("prod-cpu-high"), { memory: { lastScaleOutAt: at(-119) } }), policy, [`rearm ${HIGH}`], /cooldown, 1 s left/],
    ["scale-out cooldown exactly elapsed: step", input(change("prod-cpu-high"), { memory: { lastScaleOutAt: at(-120) } }), policy, ["setDesired 3->4", `rearm ${HIGH}`, "notify"], /scale out/],
    ["a recent scale-in does not delay a scale-out", input(change("prod-cpu-high"), { memory: { lastScaleInAt: at(-1) } }), policy, ["setDesired 3->4", `rearm ${HIGH}`, "notify"], /scale out/],
    ["cooldown 0 allows back-to-back steps", input(change("prod-cpu-high"), { memory: { lastScaleOutAt: NOW } }), { ...policy, scaleOutCooldownSeconds: 0 }, ["setDesired 3->4", `rearm ${HIGH}`, "notify"], /scale out/],
    // scale in
    ["scale-in alarm removes the newest instance", input(change("prod-cpu-low")), policy, ["drainAndTerminate i-3 3->2", `rearm ${LOW}`, "notify"], /scale in 3 -> 2/],
    ["at min: nothing", input(change("prod-cpu-low"), { fleet: { desired: 2 } }), policy, [], /at min 2/],
    ["below min (manual change): nothing", input(change("prod-cpu-low"), { fleet: { desired: 1 } }), policy, [], /at min/],
    ["scale-in step is capped at min", input(change("prod-cpu-low")), { ...policy, step: 3 }, ["drainAndTerminate i-3 3->2", `rearm ${LOW}`, "notify"], /3 -> 2/],
    ["scale-in step 2 removes the two newest", input(change("prod-cpu-low"), { fleet: { desired: 4, min: 1 } }), { ...policy, step: 2 }, ["drainAndTerminate i-3,i-2 4->2", `rearm ${LOW}`, "notify"], /4 -> 2/],
    ["scale-in cooldown 1 s short: re-arm only", input(change("prod-cpu-low"), { memory: { lastScaleInAt: at(-299) } }), policy, [`rearm ${LOW}`], /cooldown, 1 s left/],
    ["scale-in cooldown exactly elapsed: step", input(change("prod-cpu-low"), { memory: { lastScaleInAt: at(-300) } }), policy, ["drainAndTerminate i-3 3->2", `rearm ${LOW}`, "notify"], /scale in/],
    ["scale-in waits its cooldown after a scale-out too", input(change("prod-cpu-low"), { memory: { lastScaleOutAt: at(-299), lastScaleInAt: at(-3000) } }), policy, [`rearm ${LOW}`], /cooldown/],
    ["no scale-in while the scale-out alarm is in ALARM", input(change("prod-cpu-low"), { memory: { alarms: { [HIGH]: { state: "ALARM", at: at(-60) } } } }), policy, [`rearm ${LOW}`], /scale-out alarm active/],
    ["live state overrides memory: scale-out alarm actually OK", input(change("prod-cpu-low"), { memory: { alarms: { [HIGH]: { state: "ALARM", at: at(-60) } } }, liveStates: { [HIGH]: "OK" } }), policy, ["drainAndTerminate i-3 3->2", `rearm ${LOW}`, "notify"], /scale in/],
    ["live state overrides memory: scale-out alarm actually ALARM", input(change("prod-cpu-low"), { liveStates: { [HIGH]: "ALARM" } }), policy, [`rearm ${LOW}`], /scale-out alarm active/],
    ["scale-out alarm in INSUFFICIENT_DATA does not block scale-in", input(change("prod-cpu-low"), { liveStates: { [HIGH]: "INSUFFICIENT_DATA" } }), policy, ["drainAndTerminate i-3 3->2", `rearm ${LOW}`, "notify"], /scale in/],
    ["scale-in with no instance listed: nothing", input(change("prod-cpu-low"), { fleet: { instances: [] } }), policy, [], /no instances/],
    // canary
    ["canary 5xx alarm disables the canary and notifies", input(change("canary-5xx-rate")), policy, ["disableCanary", "notify"], /disable canary \(weight 25 kept\)/],
    ["canary latency alarm disables the canary and notifies", input(change("canary-p99-latency")), policy, ["disableCanary", "notify"], /disable canary/],
    ["canary alarm with the canary already off: nothing", input(change("canary-5xx-rate"), { canary: { enabled: false } }), policy, [], /already disabled/],
    ["canary alarm at weight 0 still turns it off", input(change("canary-5xx-rate"), { canary: { weight: 0 } }), policy, ["disableCanary", "notify"], /weight 0 kept/],
    ["canary OK never re-enables", input(change("canary-5xx-rate", "OK", at(-5), "ALARM"), { canary: { enabled: false } }), policy, [], /recorded OK/],
    // other alarms
    ["memory alarm: no controller action", input(change("prod-memory-high")), policy, [], /notify only/],
    ["unknown alarm is ignored", input(change("someone-elses-alarm")), policy, [], /not an Aviary alarm/],
    // out of order and repeats
    ["stale scale-out ALARM (an OK came later) is ignored", input(change("prod-cpu-high", "ALARM", at(-60)), { memory: { alarms: { [HIGH]: { state: "OK", at: at(-30) } } } }), policy, [], /stale/],
    ["the same transition delivered again is ignored", input(change("prod-cpu-high", "ALARM", at(-60)), { memory: { alarms: { [HIGH]: { state: "ALARM", at: at(-60) } } } }), policy, [], /stale or repeated/],
    ["a stale canary ALARM still turns the canary off", input(change("canary-5xx-rate", "ALARM", at(-60)), { memory: { alarms: { [name("canary-5xx-rate")]: { state: "OK", at: at(-30) } } } }), policy, ["disableCanary", "notify"], /disable canary/],
  ];

  test.each(cases)("%s", (_title, inp, pol, expected, summary) => {
    const frozen = JSON.parse(JSON.stringify(inp)) as AlarmInput;
    const d = decide(inp, pol);
    expect(shape(d.actions)).toEqual(expected);
    expect(d.summary).toMatch(summary);
    expect(inp).toEqual(frozen); // pure: the input is never mutated
  });

  test.each(ALARM_KEYS.flatMap((k) => (["OK", "INSUFFICIENT_DATA"] as AlarmState[]).map((s) => [k, s] as const)))(
    "%s -> %s: no action, state recorded",
    (key, state) => {
      const d = decide(input(change(key, state, at(-5), "ALARM")), policy);
      expect(d.actions).toEqual([]);
      expect(d.memory.alarms[name(key)]).toEqual({ state, at: at(-5) });
      expect(d.memory.lastScaleOutAt).toBeUndefined();
      expect(d.memory.lastScaleInAt).toBeUndefined();
    },
  );

  test("INSUFFICIENT_DATA -> ALARM is a breach like any other", () => {
    expect(shape(decide(input(change("prod-cpu-high", "ALARM", at(-5), "INSUFFICIENT_DATA")), policy).actions)).toEqual(["setDesired 3->4", `rearm ${HIGH}`, "notify"]);
  });

  test("a step records its time; a blocked one does not", () => {
    expect(decide(input(change("prod-cpu-high")), policy).memory.lastScaleOutAt).toBe(NOW);
    expect(decide(input(change("prod-cpu-low")), policy).memory.lastScaleInAt).toBe(NOW);
    const blocked = decide(input(change("prod-cpu-high"), { memory: { lastScaleOutAt: at(-10) } }), policy);
    expect(blocked.memory.lastScaleOutAt).toBe(at(-10));
  });

  test("canary disable carries the alarm reason; the notice says the weight is kept and how to re-enable", () => {
    const d = decide(input(change("canary-5xx-rate")), policy);
    const disable = d.actions.find((a) => a.type === "setRouting");
    expect(disable).toEqual({ type: "setRouting", enabled: false, reason: expect.stringContaining("Threshold Crossed") });
    const notify = d.actions.find((a) => a.type === "notify");
    expect(notify).toMatchObject({ subject: expect.stringContaining("canary disabled") });
    expect(notify && notify.type === "notify" && notify.message).toMatch(/Threshold Crossed[\s\S]*weight \(25%\) is kept[\s\S]*aviary canary on/);
  });

  test("re-arm uses the documented reason", () => {
    const rearm = decide(input(change("prod-cpu-high")), policy).actions.find((a) => a.type === "rearmAlarm");
    expect(rearm).toEqual({ type: "rearmAlarm", alarmName: HIGH, reason: REARM_REASON });
  });

  test("evidence names the facts the decision used", () => {
    const d = decide(input(change("prod-cpu-high"), { memory: { lastScaleOutAt: at(-10) } }), policy);
    expect(d.evidence).toMatchObject({ alarm: HIGH, key: "prod-cpu-high", transition: "OK -> ALARM", now: NOW, lastScaleOutAt: at(-10), fleet: { desired: 3, min: 2, max: 5, instances: 3 } });
  });
});

describe("decide: the canary-judge-abort alarm", () => {
  // As abortByJudge leaves it: aborted at step 2 by a proxy's judge, the canary off.
  const judged = rolloutState({ status: "aborted", step: 1, results: [stepResult(0, window(roleWindow(40_000, 0), roleWindow(40_000, 0))), failing(1, "agent proxy-a")], reason: "judge at step 2", revision: 4 });
  const ID = judged.id;
  const off = { enabled: false };
  const cases: [string, AlarmInput, string[], RegExp, string | undefined][] = [
    ["an agent's abort: subscribers get one notice", input(change("canary-judge-abort"), { canary: off, rollout: judged }), ["notify"], new RegExp(`rollout ${ID} aborted by the judge in agent proxy-a`), ID],
    ["a second proxy's abort of the same rollout: no second notice", input(change("canary-judge-abort"), { canary: off, rollout: judged, memory: { judgeAbortNotified: ID } }), [], /notified already/, ID],
    ["the abort of a later rollout than the one notified: notified", input(change("canary-judge-abort"), { canary: off, rollout: judged, memory: { judgeAbortNotified: "1.9.0@2026-11-30T10:00:00.000Z" } }), ["notify"], /aborted by the judge/, ID],
    ["notified already, and the canary turned on again meanwhile: off again, with the rollback's notice", input(change("canary-judge-abort"), { rollout: judged, memory: { judgeAbortNotified: ID } }), ["disableCanary", "notify"], /^disable canary \(weight 25 kept\)$/, ID],
    ["the canary turned on again meanwhile: off again, and notified", input(change("canary-judge-abort"), { rollout: judged }), ["disableCanary", "notify"], /aborted by the judge/, ID],
    ["a stale delivery of the alarm still notifies an abort not yet told", input(change("canary-judge-abort", "ALARM", at(-60)), { canary: off, rollout: judged, memory: { alarms: { [name("canary-judge-abort")]: { state: "OK", at: at(-30) } } } }), ["notify"], /aborted by the judge/, ID],
    ["no stored rollout: as any canary alarm", input(change("canary-judge-abort"), { canary: off, rollout: null }), [], /^canary already disabled$/, undefined],
    ["a rollout the controller aborted (not a judge in a proxy): as any canary alarm", input(change("canary-judge-abort"), { canary: off, rollout: { ...judged, results: [failing(1, "controller")] } }), [], /^canary already disabled$/, undefined],
    ["the judge-abort alarm going OK: nothing", input(change("canary-judge-abort", "OK", at(-5), "ALARM"), { canary: off, rollout: judged }), [], /recorded OK/, undefined],
    ["another canary alarm after the judge's abort: as before", input(change("canary-5xx-rate"), { canary: off, rollout: judged }), [], /^canary already disabled$/, undefined],
  ];

  test.each(cases)("%s", (_title, inp, expected, summary, notified) => {
    const frozen = JSON.parse(JSON.stringify(inp)) as AlarmInput;
    const d = decide(inp, policy);
    expect(shape(d.actions)).toEqual(expected);
    expect(d.summary).toMatch(summary);
    expect(d.memory.judgeAbortNotified).toBe(notified);
    expect(inp).toEqual(frozen);
  });

  test("the notice names the rollout, the proxy that judged and the judge's numbers", () => {
    const d = decide(input(change("canary-judge-abort"), { canary: off, rollout: judged }), policy);
    const notice = d.actions.find((a) => a.type === "notify");
    expect(notice).toMatchObject({ subject: "Aviary: canary turned off by the judge, rollout aborted (2.0.0)" });
    const message = notice?.type === "notify" ? notice.message : "";
    expect(message).toContain(`agent proxy-a`);
    expect(message).toContain(`rollout ${ID} is aborted at step 2 of 3`);
    expect(message).toContain(`Numbers: ${judgementReason(failing(1).judgement)}`);
    expect(message).toMatch(/canary 100\/1000 5xx \(10\.00 %\), production 0\/5000/);
  });

  test("two proxies' aborts of one rollout, each raising the alarm: one notice", () => {
    const first = decide(input(change("canary-judge-abort", "ALARM", at(0)), { canary: off, rollout: judged }), policy);
    const ok = decide({ ...input(change("canary-judge-abort", "OK", at(20), "ALARM"), { canary: off, rollout: judged }), memory: first.memory }, policy);
    const second = decide({ ...input(change("canary-judge-abort", "ALARM", at(40)), { canary: off, rollout: judged }), memory: ok.memory }, policy);
    expect([first, ok, second].flatMap((d) => d.actions).filter((a) => a.type === "notify")).toHaveLength(1);
  });
});

describe("decide: configuration invocations and commands", () => {
  const command = (event: CommandInput["event"]): CommandInput => ({ event, now: NOW });
  const cases: [string, CommandInput, ControllerAction[], string][] = [
    [
      "canary stack config: the weight and the canary enabled in one change, people told",
      command({ kind: "canaryConfig", weight: 40, appVersion: "1.5.0", destroying: false }),
      [
        { type: "setRouting", weight: 40, enabled: true, reason: "canary stack config: weight 40 (canary 1.5.0)" },
        { type: "notify", subject: "Aviary: canary weight 40%", message: "The controller set the canary weight to 40% because of: canary stack config: weight 40 (canary 1.5.0)." },
      ],
      "canary weight set to 40 and enabled",
    ],
    [
      "canary stack config without a version",
      command({ kind: "canaryConfig", weight: 0, destroying: false }),
      [
        { type: "setRouting", weight: 0, enabled: true, reason: "canary stack config: weight 0" },
        { type: "notify", subject: "Aviary: canary weight 0%", message: "The controller set the canary weight to 0% because of: canary stack config: weight 0." },
      ],
      "canary weight set to 0 and enabled",
    ],
    [
      "destroying the canary stack means weight 0, enabled left as it is",
      command({ kind: "canaryConfig", weight: 40, appVersion: "1.5.0", destroying: true }),
      [
        { type: "setRouting", weight: 0, reason: "canary stack destroyed (canary 1.5.0)" },
        { type: "notify", subject: "Aviary: canary weight 0%", message: "The controller set the canary weight to 0% because of: canary stack destroyed (canary 1.5.0)." },
      ],
      "canary weight set to 0",
    ],
    [
      "a manual abort turns the canary off, weight kept, and tells people",
      command({ kind: "manualAbort", reason: "run 42 by alice" }),
      [
        { type: "setRouting", enabled: false, reason: "manual abort: run 42 by alice" },
        {
          type: "notify",
          subject: "Aviary: canary turned off",
          message: "The controller turned the canary off because of: manual abort: run 42 by alice. Its weight is kept; `npx aviary canary on` or a canary-stack deploy turns it back on.",
        },
      ],
      "canary turned off (weight kept)",
    ],
    // A person's command: only the change asked for, and no notice (they know; the CLI has no AWS access).
    ["canary weight N sets the weight alone (enabled kept)", command({ kind: "routingCommand", command: { set: "weight", weight: 25 } }), [{ type: "setRouting", weight: 25 }], "canary weight set to 25"],
    ["canary on enables alone (weight kept)", command({ kind: "routingCommand", command: { set: "on" } }), [{ type: "setRouting", enabled: true }], "canary enabled"],
    ["canary on with a reason keeps it", command({ kind: "routingCommand", command: { set: "on", reason: "demo" } }), [{ type: "setRouting", enabled: true, reason: "demo" }], "canary enabled"],
    ["canary off disables with the reason (weight kept)", command({ kind: "routingCommand", command: { set: "off", reason: "5xx" } }), [{ type: "setRouting", enabled: false, reason: "5xx" }], "canary disabled (weight kept)"],
  ];

  test.each(cases)("%s", (_title, inp, actions, summary) => {
    const d = decide(inp);
    expect(d.actions).toEqual(actions);
    expect(d.summary).toBe(summary);
    expect(d.memory).toBeUndefined();
  });

  test("an abort's reason is cut to fit, never refused", () => {
    const d = decide(command({ kind: "manualAbort", reason: "x".repeat(5000) }));
    const off = d.actions[0];
    expect(off.type === "setRouting" && off.reason?.length).toBe(1000);
    expect(off.type === "setRouting" && off.reason).toMatch(/^manual abort: x+… \[cut from 5014 characters\]$/);
  });

  test("a routing action is named for its effect in logs and outcomes", () => {
    expect(actionName({ type: "setRouting", enabled: false, reason: "r" })).toBe("disableCanary");
    expect(actionName({ type: "setRouting", enabled: true })).toBe("enableCanary");
    expect(actionName({ type: "setRouting", weight: 3, enabled: true })).toBe("setCanaryWeight");
    expect(actionName({ type: "rearmAlarm", alarmName: HIGH, reason: REARM_REASON })).toBe("rearmAlarm");
  });
});

describe("decide: helpers", () => {
  test("newest first: undated (still booting) first, then by launch time, ties by id", () => {
    const order = newestFirst([
      { id: "a", launchedAt: at(-100) },
      { id: "b" },
      { id: "c", launchedAt: at(-10) },
      { id: "d", launchedAt: at(-10) },
      { id: "e" },
    ]).map((i) => i.id);
    expect(order).toEqual(["e", "b", "d", "c", "a"]);
  });

  test("the fleet is needed exactly for scale alarms entering ALARM", () => {
    expect(needsFleet(change("prod-cpu-high"))).toBe(true);
    expect(needsFleet(change("prod-cpu-low"))).toBe(true);
    expect(needsFleet(change("prod-cpu-high", "OK"))).toBe(false);
    expect(needsFleet(change("prod-cpu-low", "INSUFFICIENT_DATA"))).toBe(false);
    expect(needsFleet(change("canary-5xx-rate"))).toBe(false);
    expect(needsFleet(change("prod-memory-high"))).toBe(false);
  });

  test("a canary rollback decides without the fleet; a scale decision refuses to guess it", () => {
    const { fleet: _omitted, ...noFleet } = input(change("canary-5xx-rate"));
    expect(shape(decide(noFleet, policy).actions)).toEqual(["disableCanary", "notify"]);
    const { fleet: _also, ...scaleNoFleet } = input(change("prod-cpu-high"));
    expect(() => decide(scaleNoFleet, policy)).toThrow(/needs the fleet state/);
    expect(() => decide(input(change("prod-cpu-high")))).toThrow(/needs the scaling policy/);
  });

  test("scale-out alarms of the same deployment", () => {
    expect(scaleOutAlarmNames(LOW)).toEqual([HIGH]);
    expect(scaleOutAlarmNames("other-prod-cpu-low")).toEqual(["other-prod-cpu-high"]);
    expect(scaleOutAlarmNames("nope")).toEqual([]);
  });
});

/** Feeds a sequence of deliveries through decide, carrying memory and fleet size like run.ts does. */
function replay(events: { c: AlarmChange; now: string }[], start: Overrides = {}): { summaries: string[]; desired: number; canaryEnabled: boolean } {
  let memory: ControllerMemory = { alarms: {}, ...start.memory };
  let desired = start.fleet?.desired ?? 3;
  let instances = start.fleet?.instances ?? INSTANCES;
  let canaryEnabled = true;
  const summaries: string[] = [];
  for (const { c, now } of events) {
    const d = decide({ ...input(c, { ...start, now, fleet: { ...start.fleet, desired, instances } }), memory, canary: { enabled: canaryEnabled, weight: 25 } }, policy);
    memory = d.memory;
    for (const a of d.actions) {
      if (a.type === "setDesired" || a.type === "drainAndTerminate") desired = a.to;
      if (a.type === "drainAndTerminate") instances = instances.filter((i) => !a.instanceIds.includes(i.id));
      if (a.type === "setRouting" && a.enabled === false) canaryEnabled = false;
    }
    summaries.push(d.summary);
  }
  return { summaries, desired, canaryEnabled };
}

describe("decide: sequences", () => {
  test("an alarm that stays in ALARM steps again after the cooldown, through re-arm, up to max", () => {
    // Each step re-arms: CloudWatch goes OK, then (still breaching) ALARM again a period later.
    const r = replay([
      { c: change("prod-cpu-high", "ALARM", at(0)), now: at(1) },
      { c: change("prod-cpu-high", "OK", at(2), "ALARM"), now: at(3) }, // the re-arm's own OK
      { c: change("prod-cpu-high", "ALARM", at(62)), now: at(63) }, // still hot, in cooldown: re-arm again
      { c: change("prod-cpu-high", "OK", at(64), "ALARM"), now: at(65) },
      { c: change("prod-cpu-high", "ALARM", at(124)), now: at(125) }, // cooldown over: next step
      { c: change("prod-cpu-high", "OK", at(126), "ALARM"), now: at(127) },
      { c: change("prod-cpu-high", "ALARM", at(250)), now: at(251) }, // at max: stop re-arming
    ]);
    expect(r.summaries).toEqual([
      "scale out 3 -> 4",
      "recorded OK: no action",
      "no scale-out: cooldown, 58 s left; re-arm",
      "recorded OK: no action",
      "scale out 4 -> 5",
      "recorded OK: no action",
      "no scale-out: at max 5",
    ]);
    expect(r.desired).toBe(5);
  });

  test("flapping ALARM/OK/ALARM inside the cooldown takes one step", () => {
    const seq: { c: AlarmChange; now: string }[] = [];
    for (let i = 0; i < 6; i++) {
      seq.push({ c: change("prod-cpu-high", "ALARM", at(i * 20)), now: at(i * 20 + 1) });
      seq.push({ c: change("prod-cpu-high", "OK", at(i * 20 + 10), "ALARM"), now: at(i * 20 + 11) });
    }
    const r = replay(seq);
    expect(r.desired).toBe(4);
    expect(r.summaries.filter((s) => s.startsWith("scale out"))).toHaveLength(1);
  });

  test("flapping canary alarm: off once, never back on by itself", () => {
    const r = replay([
      { c: change("canary-5xx-rate", "ALARM", at(0)), now: at(1) },
      { c: change("canary-5xx-rate", "OK", at(20), "ALARM"), now: at(21) },
      { c: change("canary-5xx-rate", "ALARM", at(40)), now: at(41) },
      { c: change("canary-5xx-rate", "OK", at(60), "ALARM"), now: at(61) },
    ]);
    expect(r.summaries).toEqual(["disable canary (weight 25 kept)", "recorded OK: no action", "canary already disabled", "recorded OK: no action"]);
    expect(r.canaryEnabled).toBe(false);
  });

  test("out of order: OK (newer) before ALARM (older) → the stale ALARM does not scale", () => {
    const r = replay([
      { c: change("prod-cpu-high", "OK", at(60), "ALARM"), now: at(61) },
      { c: change("prod-cpu-high", "ALARM", at(0)), now: at(62) },
    ]);
    expect(r.desired).toBe(3);
    expect(r.summaries[1]).toMatch(/stale/);
  });

  test("out of order: the older OK arriving after a newer ALARM changes nothing", () => {
    const r = replay([
      { c: change("prod-cpu-high", "ALARM", at(60)), now: at(61) },
      { c: change("prod-cpu-high", "OK", at(0), "ALARM"), now: at(62) },
      { c: change("prod-cpu-low", "ALARM", at(400)), now: at(401) }, // scale-out alarm still remembered as ALARM
    ]);
    expect(r.summaries).toEqual(["scale out 3 -> 4", expect.stringMatching(/stale/), expect.stringMatching(/scale-out alarm active/)]);
    expect(r.desired).toBe(4);
  });

  test("scale-in repeats after its cooldown down to min, then stops", () => {
    const r = replay([
      { c: change("prod-cpu-low", "ALARM", at(0)), now: at(1) },
      { c: change("prod-cpu-low", "OK", at(2), "ALARM"), now: at(3) },
      { c: change("prod-cpu-low", "ALARM", at(302)), now: at(303) },
      { c: change("prod-cpu-low", "OK", at(304), "ALARM"), now: at(305) },
      { c: change("prod-cpu-low", "ALARM", at(700)), now: at(701) },
    ], { fleet: { desired: 4, min: 2, instances: [{ id: "i-1", launchedAt: at(-900) }, { id: "i-2", launchedAt: at(-800) }, { id: "i-3", launchedAt: at(-700) }, { id: "i-4", launchedAt: at(-600) }] } });
    expect(r.summaries.filter((s) => s.startsWith("scale in"))).toEqual(["scale in 4 -> 3 (remove i-4)", "scale in 3 -> 2 (remove i-3)"]);
    expect(r.summaries[4]).toBe("no scale-in: at min 2");
    expect(r.desired).toBe(2);
  });
});
