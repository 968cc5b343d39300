// Local mode counts the agents' judge aborts from the rollout state, each once.
import { judgeAbortCounter } from "../../../local/judgeAborts";
import type { RolloutState } from "../../../core/rollout/model";
import { failing, rolloutState, roleWindow, stepResult, window } from "../../support/rolloutFixtures";

test("each agent-judged fail counts once; the controller's verdicts, garbage and what was stored before the first read do not", async () => {
  let stored: RolloutState | null | undefined = rolloutState({ id: "old", status: "aborted", results: [failing(0, "agent p1")] });
  const count = judgeAbortCounter(() => Promise.resolve(stored));
  expect(await count()).toBe(0); // already there when local mode started
  stored = rolloutState({ id: "a" });
  expect(await count()).toBe(0);
  stored = rolloutState({ id: "a", status: "aborted", results: [failing(0, "agent p1")] });
  expect(await count()).toBe(1);
  expect(await count()).toBe(0);
  stored = undefined; // garbage
  expect(await count()).toBe(0);
  stored = rolloutState({ id: "b", status: "aborted", results: [stepResult(0, window(roleWindow(1000, 0), roleWindow(1000, 0))), failing(1, "controller")] });
  expect(await count()).toBe(0);
  stored = rolloutState({ id: "c", status: "aborted", results: [failing(0, "agent p1"), failing(0, "agent p2")] });
  expect(await count()).toBe(2);
});
