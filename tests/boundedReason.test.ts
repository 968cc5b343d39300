// Reasons are cut to fit the state layer's bound, with a marker, never refused.
import type Redis from "ioredis";
import { boundReason, MAX_REASON_CHARS } from "../controller/boundedReason";
import { describeFound } from "../state/badKey";
import { readRouting, disableCanary } from "../state/routing";
import { useRedis } from "./support/useRedis";

describe("boundReason", () => {
  const cases: [name: string, text: string, max: number, expected: string][] = [
    ["short text is kept", "cpu high", 500, "cpu high"],
    ["exactly max is kept", "x".repeat(500), 500, "x".repeat(500)],
    ["one over is cut, with the original length", "x".repeat(501), 500, `${"x".repeat(472)} [truncated, 501 characters]`],
    ["a 1,023-character reason fits in 500", "y".repeat(1023), 500, `${"y".repeat(471)} [truncated, 1023 characters]`],
    ["a surrogate pair is never split", `${"a".repeat(12)}😀${"b".repeat(30)}`, 40, `${"a".repeat(12)} [truncated, 44 characters]`],
    ["a max smaller than the marker still bounds", "z".repeat(100), 10, " [truncate"],
  ];
  test.each(cases)("%s", (_name, text, max, expected) => {
    const cut = boundReason(text, max);
    expect(cut).toBe(expected);
    expect(cut.length).toBeLessThanOrEqual(max);
  });
});

describe("describeFound", () => {
  test.each([
    [{ type: "string", size: 5000, prefix: "junk-junk-" }, 'a string of 5000 bytes starting "junk-junk-"'],
    [{ type: "hash", size: 3, prefix: "f" }, 'a hash of 3 fields starting "f"'],
    [{ type: "stream", size: 2, prefix: "" }, "a stream of 2 entries"],
    [{ type: "string", size: 100, prefix: "p".repeat(100) }, `a string of 100 bytes starting "${"p".repeat(40)}"`],
  ])("%j", (found, text) => expect(describeFound(found)).toBe(text));
});

describe("the state layer takes every reason the controller sends", () => {
  let redis: Redis;
  useRedis((_s, r) => {
    redis = r;
  });

  test("a reason cut to MAX_REASON_CHARS is stored whole by the routing layer", async () => {
    const reason = boundReason("r".repeat(2000));
    expect(reason).toHaveLength(MAX_REASON_CHARS);
    await disableCanary(redis, { by: "controller", reason });
    expect((await readRouting(redis)).state?.reason).toBe(reason);
  });
});
