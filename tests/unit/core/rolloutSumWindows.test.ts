import type { JudgeInput, RoleWindow } from "../../../core/rollout/judge";
import { EMPTY_WINDOW, sumWindows } from "../../../core/rollout/sumWindows";

const role = (requests: number, errors5xx: number, counts: number[], boundsMs = [10, 100]): RoleWindow => ({ requests, errors5xx, latency: { boundsMs, counts } });
const w = (canary: RoleWindow, production: RoleWindow): JudgeInput => ({ canary, production });
const idle = role(0, 0, [0], []);

describe("sumWindows", () => {
  test.each<[string, JudgeInput[], JudgeInput, number[]]>([
    ["no proxies: the empty window", [], EMPTY_WINDOW, []],
    ["one proxy: its window", [w(role(10, 1, [10, 4, 1]), role(90, 0, [90, 9, 0]))], w(role(10, 1, [10, 4, 1]), role(90, 0, [90, 9, 0])), []],
    [
      "counts add, histograms bucket by bucket",
      [w(role(10, 1, [10, 4, 1]), role(90, 0, [90, 9, 0])), w(role(5, 2, [5, 5, 2]), role(50, 1, [50, 1, 1]))],
      w(role(15, 3, [15, 9, 3]), role(140, 1, [140, 10, 1])),
      [],
    ],
    ["a proxy that saw nothing yet (no bounds) adds nothing", [w(idle, idle), w(role(10, 1, [10, 4, 1]), role(90, 0, [90, 9, 0]))], w(role(10, 1, [10, 4, 1]), role(90, 0, [90, 9, 0])), []],
    [
      "a proxy on other bounds than most is left out",
      [w(role(10, 1, [10, 4, 1]), role(90, 0, [90, 9, 0])), w(role(7, 7, [7, 7], [50]), role(7, 0, [7, 0], [50])), w(role(1, 0, [1, 0, 0]), role(1, 0, [1, 0, 0]))],
      w(role(11, 1, [11, 4, 1]), role(91, 0, [91, 9, 0])),
      [1],
    ],
    [
      "a proxy whose two roles disagree on bounds is left out",
      [w(role(10, 1, [10, 4, 1]), role(90, 0, [90, 9, 0])), w(role(1, 0, [1, 0, 0]), role(1, 0, [1, 0], [50]))],
      w(role(10, 1, [10, 4, 1]), role(90, 0, [90, 9, 0])),
      [1],
    ],
  ])("%s", (_label, windows, sum, mismatched) => {
    expect(sumWindows(windows)).toEqual({ sum, mismatched });
  });
});
