// Bad input the other suites do not already cover: the remaining stack config rules, CLI usage
// mistakes, and malformed SNS events for the controller. Each gets a clear error and changes nothing.
// (Stack config: tests/unit/core/stackConfig.test.ts runs the program per rule and checks nothing is
// registered; CLI: tests/integration/cli/cli.test.ts, tests/integration/flags/flagStore.test.ts; SNS: tests/integration/controller/controllerHandler.test.ts.)
import { REPO_ROOT } from "../support/repoRoot";
import { join } from "node:path";
import pino from "pino";
import { run } from "../../cli/main";
import { aviaryKeys, parseStackConfig, StackConfigError } from "../../core/config/stackConfig";
import { ConfigError } from "../../core/errors";
import { readStackFile } from "../../config/stackFile";
import { createHandler, type SnsEvent } from "../../lambda/handler";
import { readEvents } from "../../state/events";
import { keys } from "../../state/keys";
import { setCanaryWeight } from "../../state/routing";
import { useRedis } from "../support/useRedis";

const root = join(REPO_ROOT);
const json = JSON.stringify;

describe("stack config: the rules not covered by tests/unit/core/stackConfig.test.ts", () => {
  const prod = aviaryKeys(readStackFile(join(root, "Pulumi.prod.yaml")));
  const canary = aviaryKeys(readStackFile(join(root, "Pulumi.canary.yaml")));
  test.each([
    ["memory threshold above 100", prod, { thresholds: json({ memory: 101 }) }, /aviary:thresholds\.memory: must be a number from 1 to 100 \(got 101\)/],
    ["negative scale-in CPU", prod, { thresholds: json({ scaleInCpu: -1 }) }, /aviary:thresholds\.scaleInCpu: must be a number from 0 to 99/],
    ["p99 threshold of 0 ms", canary, { thresholds: json({ canaryP99Ms: 0 }) }, /aviary:thresholds\.canaryP99Ms: must be a number from 1 to 60000/],
    ["p99 threshold above a minute", canary, { thresholds: json({ canaryP99Ms: 60_001 }) }, /aviary:thresholds\.canaryP99Ms: must be a number from 1 to 60000/],
    ["scaling step of 0", prod, { scaling: json({ step: 0 }) }, /aviary:scaling\.step: must be an integer from 1 to 10/],
    ["scale-out cooldown above an hour", prod, { scaling: json({ scaleOutCooldownSeconds: 3601 }) }, /aviary:scaling\.scaleOutCooldownSeconds: must be an integer from 0 to 3600/],
    ["negative scale-in cooldown", prod, { scaling: json({ scaleInCooldownSeconds: -1 }) }, /aviary:scaling\.scaleInCooldownSeconds: must be an integer from 0 to 3600/],
    ["fleet max of 0", prod, { prodFleet: json({ min: 0, max: 0, desired: 0 }) }, /aviary:prodFleet\.max: must be an integer from 1 to 20 \(the proxy.s production server slots\)/],
    ["fractional fleet size", prod, { prodFleet: json({ min: 1, max: 3, desired: 1.5 }) }, /aviary:prodFleet\.desired: must be an integer/],
    ["canaryCount of 11", canary, { canaryCount: "11" }, /aviary:canaryCount: must be an integer from 1 to 10/],
    ["prodStack with a space", canary, { prodStack: "my-org/aviary/my prod" }, /aviary:prodStack: must be the prod stack.s fully qualified name/],
    ["appVersion missing", canary, { appVersion: undefined }, /aviary:appVersion: is required/],
  ])("%s → one line naming the key and the rule", (_name, base, change, message) => {
    let error: unknown;
    try {
      parseStackConfig({ ...base, ...change });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StackConfigError);
    expect((error as StackConfigError).message).toMatch(message);
    expect((error as StackConfigError).problems).toHaveLength(1);
  });

  test("a bad stack config is a config error (code invalid-config), named as before", () => {
    const parse = () => parseStackConfig({ ...prod, canaryCount: "2" });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(expect.objectContaining({ name: "StackConfigError", code: "invalid-config" }));
  });
});

describe("with a real redis-server", () => {
  const db = useRedis();
  beforeEach(async () => {
    await setCanaryWeight(db.redis, 25, { by: "test" });
  });

  /** Every key and the event count: what "changes nothing" compares. */
  async function everything(): Promise<{ keys: Record<string, string>; events: number }> {
    const all: Record<string, string> = {};
    for (const k of (await db.redis.keys("aviary:*")).sort()) all[k] = JSON.stringify(await db.redis.type(k) === "hash" ? await db.redis.hgetall(k) : await db.redis.type(k));
    return { keys: all, events: (await readEvents(db.redis, { count: 10_000 })).events.length };
  }

  describe("CLI usage mistakes → exit 2, one clear line, nothing written", () => {
    const cli = async (argv: string[], env: NodeJS.ProcessEnv = { REDIS_URL: db.server.url }): Promise<{ code: number; stderr: string }> => {
      let stderr = "";
      const io = { stdout: { write: () => true }, stderr: { write: (s: string) => void (stderr += s) } };
      return { code: await run(argv, io, { env, cwd: root }), stderr };
    };
    test.each([
      ["unknown command", ["deploy"], /unknown command 'deploy'/],
      ["unknown option", ["status", "--verbose"], /unknown option '--verbose'/],
      ["weight without a value", ["canary", "weight"], /missing required argument 'N'/],
      ["weight with a unit", ["canary", "weight", "25%"], /invalid weight "25%"/],
      ["empty reason", ["canary", "off", "--reason", "  "], /--reason must not be empty/],
      ["events --count 0", ["events", "--count", "0"], /invalid count "0"/],
    ])("%s", async (_name, argv, message) => {
      const before = await everything();
      const res = await cli(argv);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(message);
      expect(await everything()).toEqual(before);
    });

    test("a REDIS_URL that is not redis:// → exit 2 naming REDIS_URL", async () => {
      const res = await cli(["canary", "weight", "30"], { REDIS_URL: "http://127.0.0.1:6379" });
      expect(res).toMatchObject({ code: 2, stderr: expect.stringMatching(/REDIS_URL has protocol "http:"/) });
    });
  });

  describe("malformed SNS events → rejected or skipped with the reason, the controller never runs", () => {
    const logger = pino({ level: "silent" });
    // Any record that got as far as acting would need the controller's dependencies.
    const handler = createHandler(() => {
      throw new Error("the controller must not run for malformed input");
    }, logger);
    const record = (Message: unknown, MessageId = "m-1"): SnsEvent["Records"][number] => ({ EventSource: "aws:sns", Sns: { MessageId, Message: Message as string } });

    test.each([
      ["a record without Sns", { Records: [{ EventSource: "aws:sns" }] }],
      ["a null record", { Records: [null] }],
      ["Message missing", { Records: [record(undefined)] }],
      ["Message a JSON array", { Records: [record("[1,2]")] }],
      ["Message without AlarmName", { Records: [record(json({ NewStateValue: "ALARM", OldStateValue: "OK", NewStateReason: "x", StateChangeTime: "2026-11-24T10:00:00.000+0000" }))] }],
      ["StateChangeTime not a time", { Records: [record(json({ AlarmName: "aviary-prod-prod-cpu-high", NewStateValue: "ALARM", OldStateValue: "OK", NewStateReason: "x", StateChangeTime: "yesterday" }))] }],
      ["a 1 MB Message of garbage", { Records: [record("x".repeat(1 << 20))] }],
    ])("%s: skipped, nothing written", async (_name, event) => {
      const before = await everything();
      const r = await handler(event as SnsEvent);
      expect(r).toMatchObject({ processed: 0, skipped: 1 });
      expect(await everything()).toEqual(before);
    });

    test.each([
      ["an empty object", {}],
      ["Records not a list", { Records: "x" }],
    ])("%s: rejected as an invalid invocation, nothing written", async (_name, event) => {
      const before = await everything();
      await expect(handler(event as SnsEvent)).rejects.toThrow(/invocation|action/i);
      expect(await everything()).toEqual(before);
      expect(await db.redis.exists(keys.controllerLock)).toBe(0);
    });
  });
});
