// `aviary rollout status` as people read it: steps with weights and pauses, the current step and its
// time left, and each metric canary against production with the numbers the verdict used.
import { duration, rolloutText, type RolloutReport } from "../../../cli/rollout";
import { DEFAULT_ANALYSIS, judge } from "../../../core/rollout/judge";
import { failing, roleWindow, rolloutState, stepResult, window } from "../../support/rolloutFixtures";

const AT = "2026-12-01T10:04:30.000Z";
const report = (over: Partial<RolloutReport>): RolloutReport => ({ at: AT, rollout: rolloutState(), problems: [], ...over });
const stepRows = (text: string): string[] => text.split("\n").filter((l) => /^[ >] +\d +\d+ %/.test(l)).map((l) => l.replace(/\s+/g, " ").trim());

test.each([
  [0, "0s"], [999, "1s"], [59_000, "59s"], [60_000, "1m00s"], [125_000, "2m05s"], [3_600_000, "1h00m"], [3_720_000, "1h02m"], [-5000, "0s"],
])("duration(%i) = %s", (ms, text) => {
  expect(duration(ms)).toBe(text);
});

test("no rollout, and a garbage one (named, nothing acted on)", () => {
  expect(rolloutText(report({ rollout: null }))).toBe("no rollout (the canary keeps its fixed aviary:canaryWeight)\n");
  expect(rolloutText(report({ rollout: undefined, problems: ["aviary:rollout: not JSON (\"{oops\")"] }))).toBe('rollout state unreadable, nothing is acted on: aviary:rollout: not JSON ("{oops")\n');
});

test("progressing: the current step is marked with its time left; passed steps show their verdict; later steps wait", () => {
  const passed = stepResult(0, window(roleWindow(2000, 0), roleWindow(20000, 0)));
  const r = rolloutState({ step: 1, stepStartedAt: "2026-12-01T10:02:00.000Z", results: [passed], revision: 2 });
  const text = rolloutText(report({ rollout: r }));
  expect(text.split("\n")[0]).toBe("rollout 2.0.0@2026-12-01T10:00:00.000Z (app 2.0.0): progressing, step 2 of 3 at weight 25 %, 2m30s left");
  expect(stepRows(text)).toEqual([
    `1 5 % 2m00s ${passed.verdict} (controller, 2026-12-01T10:05:00.000Z)`,
    "> 2 25 % 5m00s running, 2m30s left",
    "3 50 % 5m00s -",
  ]);
  expect(text).toContain("live window, step 2: no proxy has recorded one yet");
  expect(text).toContain(`last result, step 1 at weight 5 % (controller, 2026-12-01T10:05:00.000Z): ${passed.verdict}`);
});

test("the live window: each metric canary vs production with the judge's numbers", () => {
  const w = window(roleWindow(1000, 20), roleWindow(9000, 9));
  const j = judge(w, DEFAULT_ANALYSIS);
  const text = rolloutText(report({ live: { step: 0, proxies: 2, window: w, judgement: j } }));
  expect(text).toContain(`live window, step 1 (2 proxies): ${j.verdict}`);
  const rows = text.split("\n").map((l) => l.replace(/\s+/g, " ").trim());
  expect(rows).toContain(`5xx 20/1000 (2.00 %) 9/9000 (0.10 %) +0.5 points (now +1.90) ${j.errorRate.verdict}`);
  expect(rows).toContain(`p99 0–5 ms (1000 timed) 0–5 ms (9000 timed) ×1.5: < 10 ms (0 at or above) ${j.latency.verdict}`);
});

test("paused and aborted: no clock runs; the abort's result and reason are shown", () => {
  const paused = rolloutText(report({ rollout: rolloutState({ status: "paused", reason: "inconclusive: needs more requests" }) }));
  expect(paused.split("\n")[0]).toBe("rollout 2.0.0@2026-12-01T10:00:00.000Z (app 2.0.0): paused, step 1 of 3 at weight 5 %");
  expect(paused).toContain("reason: inconclusive: needs more requests");
  expect(stepRows(paused)[0]).toBe("> 1 5 % 2m00s paused");

  const fail = failing();
  const aborted = rolloutText(report({ rollout: rolloutState({ status: "aborted", results: [fail], reason: fail.judgement.errorRate.reason }) }));
  expect(stepRows(aborted)[0]).toBe("> 1 5 % 2m00s aborted; fail (agent proxy-1, 2026-12-01T10:05:00.000Z)");
  expect(aborted).not.toContain("live window");
  const rows = aborted.split("\n").map((l) => l.replace(/\s+/g, " ").trim());
  expect(rows).toContain("5xx 100/1000 (10.00 %) 0/5000 (0.00 %) +0.5 points (now +10.00) fail");
});
