import { intFromEnv } from "../../../core/env";

describe("intFromEnv", () => {
  test.each([
    ["unset gives the fallback", {}, 7],
    ["empty gives the fallback", { N: "" }, 7],
    ["a value in range", { N: "12" }, 12],
    ["the lower bound", { N: "1" }, 1],
    ["the upper bound", { N: "64" }, 64],
  ])("%s", (_why, env, expected) => {
    expect(intFromEnv(env, "N", 7, 1, 64)).toBe(expected);
  });

  test.each([
    ["below the range", "0"],
    ["above the range", "65"],
    ["a fraction", "2.5"],
    ["not a number", "lots"],
  ])("%s throws naming the variable, the range and the value", (_why, raw) => {
    expect(() => intFromEnv({ N: raw }, "N", 7, 1, 64)).toThrow(new Error(`N must be an integer from 1 to 64 (got ${JSON.stringify(raw)})`));
  });

  test("a reader that is not the process names itself first", () => {
    expect(() => intFromEnv({ N: "x" }, "N", 7, 1, 64, "controller")).toThrow(new Error('controller: N must be an integer from 1 to 64 (got "x")'));
  });
});
