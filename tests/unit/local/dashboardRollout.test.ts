// The rollout panel's view: the steps as a timeline with the current one and its time left, the
// status, and each verdict with the numbers the judge used; garbage shown as such; no rollout, no panel.
import type { RolloutState } from "../../../core/rollout/model";
import { rolloutView } from "../../../local/dashboard/rolloutView";
import { progressingRollout } from "../../support/progressingRollout";
import { roleWindow, stepResult, window } from "../../support/rolloutFixtures";

const started = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
const t = started.getTime();
const progressing = (): RolloutState => progressingRollout(started);

test("no rollout stored: no panel", () => {
  expect(rolloutView({ state: null, problems: [] }, t)).toBeNull();
});

test("garbage in the stored rollout: shown as unreadable, naming the bad fields", () => {
  expect(rolloutView({ state: undefined, problems: ["aviary:rollout: step must be an integer"] }, t)).toEqual({ kind: "unreadable", problems: ["aviary:rollout: step must be an integer"] });
});

test("progressing: the current step, when its pause ends and the seconds left; done steps carry their verdict's numbers", () => {
  const v = rolloutView({ state: progressing(), problems: [] }, t + 100_500);
  if (v?.kind !== "rollout") throw new TypeError("expected a rollout view");
  expect(v.steps.map((s) => [s.weight, s.pauseSeconds, s.phase])).toEqual([[5, 120, "done"], [25, 300, "current"], [50, 300, "pending"]]);
  expect(v.stepEndsAt).toBe(new Date(t + 300_000).toISOString());
  expect(v.secondsLeft).toBe(200);
  const [verdict] = v.steps[0].verdicts;
  expect(verdict).toEqual(expect.objectContaining({
    verdict: "pass", judgedBy: "controller",
    canary5xx: { ratePercent: 0.02, errors5xx: 4, requests: 20000 },
    production5xx: { ratePercent: (100 * 150) / 380000, errors5xx: 150, requests: 380000 },
    allowedPoints: 0.5, quantileLabel: "p99", canaryLatency: "[0, 5) ms", productionLatency: "[0, 5) ms",
  }));
  expect(verdict.errorRateReason).toMatch(/canary 4\/20000 5xx/);
  expect(verdict.latencyReason).toMatch(/p99 canary 0–5 ms/);
  expect(v.steps[1].verdicts).toEqual([]);
});

test("past the pause: 0 s left, not a negative count", () => {
  const v = rolloutView({ state: progressing(), problems: [] }, t + 400_000);
  expect(v?.kind === "rollout" && v.secondsLeft).toBe(0);
});

test.each([
  ["paused", 1, ["done", "current", "pending"]],
  ["aborted", 1, ["done", "current", "pending"]],
  ["promotable", 2, ["done", "done", "done"]],
  ["promoted", 2, ["done", "done", "done"]],
] as const)("%s at step index %i: no clock runs; the timeline shows %j", (status, step, phases) => {
  const state: RolloutState = { ...progressing(), status, step };
  const v = rolloutView({ state, problems: [] }, t + 1000);
  if (v?.kind !== "rollout") throw new TypeError("expected a rollout view");
  expect([v.stepEndsAt, v.secondsLeft]).toEqual([null, null]);
  expect(v.steps.map((s) => s.phase)).toEqual(phases);
});

test("a failed step shows the canary's worse rate against production's and the latency bucket above production's", () => {
  const failed = stepResult(1, window(roleWindow(3000, 90, 3000), roleWindow(9000, 0)), "controller", 25);
  const state: RolloutState = { ...progressing(), status: "aborted", results: [...progressing().results, failed], reason: failed.judgement.errorRate.reason };
  const v = rolloutView({ state, problems: [] }, t);
  if (v?.kind !== "rollout") throw new TypeError("expected a rollout view");
  const [verdict] = v.steps[1].verdicts;
  expect(verdict).toEqual(expect.objectContaining({ verdict: "fail", canary5xx: { ratePercent: 3, errors5xx: 90, requests: 3000 }, differencePoints: 3, canaryLatency: "[1000, 1500) ms", productionLatency: "[0, 5) ms" }));
});
