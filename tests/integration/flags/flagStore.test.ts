// Flag storage in a real redis-server: validation on write and read, audit events, notices, CAS.
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type Redis from "ioredis";
import { run } from "../../../cli/main";
import { booleanFlag, type FlagDefinition } from "../../../core/flags/model";
import { connect, subscribeChanges } from "../../../state/connection";
import { readEvents, type ChangeNotice } from "../../../state/events";
import { putFlag, readFlag, readFlags, summarize, updateFlag } from "../../../state/flags";
import { keys } from "../../../state/keys";
import { startRedisServer, type RedisServer } from "../../../harness/redisServer";
import { tempDir } from "../../support/tempDir";
import { previousStoredFlagSchema } from "../../support/previousFlagReader";

let server: RedisServer;
let redis: Redis;
let dir: string;

beforeAll(async () => {
  server = await startRedisServer();
  redis = connect(server.url);
  dir = tempDir("aviary-flagstore-");
});

afterAll(async () => {
  await redis?.quit();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await redis.flushall();
});

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } }, { env: { REDIS_URL: server.url } });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

async function everything(): Promise<{ keys: string[]; events: number }> {
  return { keys: (await redis.keys("*")).sort(), events: await redis.exists(keys.events).then((e) => (e ? redis.xlen(keys.events) : 0)) };
}

describe("store", () => {
  test("a stored flag over 64 KiB is reported by size and prefix, never parsed; writing one is refused and writes nothing", async () => {
    await redis.sadd(keys.flags, "huge");
    await redis.set(keys.flag("huge"), `{"key":"huge","pad":"${"x".repeat(10 * 1024 * 1024)}"}`);
    const { flag, problems } = await readFlag(redis, "huge");
    expect(flag).toBeUndefined();
    expect(problems).toEqual([expect.stringMatching(/^aviary:flag:huge: over the 65536-character limit \(10485783 characters starting "\{\\"key\\":\\"huge\\"/)]);
    expect(problems[0].length).toBeLessThan(200);
    await redis.flushall();
    const big = { ...booleanFlag("big", "web"), description: "d".repeat(70 * 1024) };
    await expect(putFlag(redis, big, { by: "alice" })).rejects.toThrow(/over the 65536-character limit|description/);
    expect(await everything()).toEqual({ keys: [], events: 0 });
  });

  // Apps still on the previous release read flags during an upgrade (a canary of this release runs
  // beside a fleet of the last one): a flag whose rules they can express must stay readable to them,
  // so that a kill from the new CLI reaches them too.
  test("a flag with one-condition equals/in rules stays readable to the previous release's apps, its kill included", async () => {
    const rules = [
      { match: "all" as const, conditions: [{ attribute: "country", op: "equals" as const, value: "NL" }], variant: "on" },
      { match: "all" as const, conditions: [{ attribute: "plan", op: "in" as const, values: ["pro", "team"] }], variant: "on" },
    ];
    await putFlag(redis, { ...booleanFlag("checkout", "web"), rules }, { by: "alice" });
    await updateFlag(redis, "checkout", (cur) => ({ ...cur!, enabled: false }), { by: "oncall", reason: "incident", cause: "kill" });
    const raw = JSON.parse((await redis.get(keys.flag("checkout")))!);
    const previous = previousStoredFlagSchema.safeParse(raw);
    expect(previous.success ? previous.data : previous.error.issues).toMatchObject({ enabled: false, rules: [{ attribute: "country", op: "equals", value: "NL", variant: "on" }, { attribute: "plan", op: "in", values: ["pro", "team"], variant: "on" }] });
    // This release reads the same JSON as the rules it wrote.
    expect((await readFlag(redis, "checkout")).flag).toMatchObject({ enabled: false, rules });

    // A rule the previous release cannot express is stored as it is (those apps keep their last good version).
    await updateFlag(redis, "checkout", (cur) => ({ ...cur!, rules: [...rules, { match: "all", conditions: [{ attribute: "age", op: "gte", value: 18 }], variant: "on" }] }), { by: "alice", cause: "set" });
    const mixed = JSON.parse((await redis.get(keys.flag("checkout")))!);
    expect(mixed.rules[2]).toEqual({ match: "all", conditions: [{ attribute: "age", op: "gte", value: 18 }], variant: "on" });
    expect(previousStoredFlagSchema.safeParse(mixed).success).toBe(false);
  });

  test("put → read roundtrip, one event and one notice per write", async () => {
    const notices: ChangeNotice[] = [];
    const close = await subscribeChanges(server.url, (n) => notices.push(n));
    try {
      const a = await putFlag(redis, booleanFlag("hiddenfeature", "web"), { by: "alice", reason: "launch prep" });
      const b = await updateFlag(redis, "hiddenfeature", (cur) => ({ ...cur!, defaultVariant: "on" }), { by: "bob", cause: "set" });
      expect(a.old).toBeUndefined();
      expect(b.old?.defaultVariant).toBe("off");
      expect(b.summary).toBe("defaultVariant off → on");
      const { flag, problems } = await readFlag(redis, "hiddenfeature");
      expect(problems).toEqual([]);
      expect(flag).toMatchObject({ key: "hiddenfeature", defaultVariant: "on", updatedBy: "bob", version: 2 });
      const { events } = await readEvents(redis, { count: 10 });
      expect(events.map((e) => [e.kind, e.by, e.reason, e.detail.cause, e.detail.key])).toEqual([
        ["flag", "alice", "launch prep", "define", "hiddenfeature"],
        ["flag", "bob", undefined, "set", "hiddenfeature"],
      ]);
      const deadline = Date.now() + 15_000;
      while (notices.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(notices).toEqual([
        { kind: "flag", id: "hiddenfeature", eventId: a.eventId },
        { kind: "flag", id: "hiddenfeature", eventId: b.eventId },
      ]);
    } finally {
      await close();
    }
  });

  test("an invalid definition is refused with the field named, nothing stored", async () => {
    await expect(putFlag(redis, { ...booleanFlag("x", "me"), defaultVariant: "maybe" }, { by: "t" })).rejects.toThrow(
      /^Invalid flag "x": defaultVariant: "maybe" is not one of the variants \(on, off\)$/,
    );
    await expect(updateFlag(redis, "Not A Key", () => booleanFlag("x", "me"), { by: "t", cause: "set" })).rejects.toThrow(/Invalid flag key "Not A Key"/);
    await expect(putFlag(redis, booleanFlag("x", "me"), { by: "" })).rejects.toThrow(/Invalid by/);
    expect(await everything()).toEqual({ keys: [], events: 0 });
  });

  test("garbage written straight into Redis is reported and skipped, never returned", async () => {
    await putFlag(redis, booleanFlag("good", "me"), { by: "t" });
    await putFlag(redis, booleanFlag("broken", "me"), { by: "t" });
    await putFlag(redis, booleanFlag("wrongtype", "me"), { by: "t" });
    await redis.set(keys.flag("broken"), JSON.stringify({ key: "broken", type: "boolean", enabled: "yes" }));
    await redis.del(keys.flag("wrongtype"));
    await redis.hset(keys.flag("wrongtype"), "enabled", "true");
    await redis.set(keys.flag("notjson"), "{{{");
    await redis.sadd(keys.flags, "notjson", "Bad Member");
    const { flags, problems } = await readFlags(redis);
    expect(flags.map((f) => f.key)).toEqual(["good"]);
    expect(problems).toHaveLength(4);
    expect(problems.join("\n")).toMatch(/aviary:flag:broken .*enabled/);
    expect(problems.join("\n")).toMatch(/aviary:flag:notjson: not JSON/);
    expect(problems.join("\n")).toMatch(/aviary:flag:wrongtype: WRONGTYPE/);
    expect(problems.join("\n")).toMatch(/invalid member "Bad Member"/);
    expect((await readFlag(redis, "wrongtype")).problems).toEqual(["aviary:flag:wrongtype: not a string value"]);
    // A write repairs a garbage entry (compare-and-set works on the garbage too).
    await updateFlag(redis, "wrongtype", (cur) => cur ?? booleanFlag("wrongtype", "me"), { by: "t", cause: "set" });
    expect((await readFlag(redis, "wrongtype")).flag?.key).toBe("wrongtype");
  });

  test("a flag stored in the legacy rule shape still reads, as conditions; the next write keeps the shape its rules fit", async () => {
    const legacy = {
      ...booleanFlag("legacy", "web"),
      rules: [
        { attribute: "country", op: "equals", value: "NL", variant: "on" },
        { attribute: "plan", op: "in", values: ["pro", "team"], variant: "on" },
      ],
      updatedBy: "old-cli",
      updatedAt: "2025-01-01T00:00:00.000Z",
      version: 3,
    };
    await redis.set(keys.flag("legacy"), JSON.stringify(legacy));
    await redis.sadd(keys.flags, "legacy");
    const rules = [
      { match: "all", conditions: [{ attribute: "country", op: "equals", value: "NL" }], variant: "on" },
      { match: "all", conditions: [{ attribute: "plan", op: "in", values: ["pro", "team"] }], variant: "on" },
    ];
    expect(await readFlag(redis, "legacy")).toEqual({ flag: { ...legacy, rules, description: "" }, problems: [] });
    expect((await readFlags(redis)).flags.map((f) => f.rules)).toEqual([rules]);
    const kill = await updateFlag(redis, "legacy", (cur) => ({ ...cur!, enabled: false }), { by: "t", cause: "kill" });
    expect(kill.summary).toBe("enabled true → false");
    expect(JSON.parse((await redis.get(keys.flag("legacy")))!)).toMatchObject({ rules: legacy.rules, enabled: false, version: 4 });
  });

  test("object flags, the team's metadata and rules of conditions round-trip", async () => {
    const def = {
      key: "checkout-config",
      type: "object" as const,
      enabled: true,
      variants: { small: { steps: ["cart", "pay"], retries: 2 }, large: [{ step: "cart" }, { step: "review" }] },
      defaultVariant: "small",
      rules: [{ name: "pro in NL", match: "all" as const, conditions: [{ attribute: "plan", op: "in" as const, values: ["pro"] }, { attribute: "version", op: "semverGte" as const, value: "2.1.0" }], variant: "large", percentage: 20 }],
      description: "",
      owner: "web",
      metadata: { team: "checkout", ticket: 42, reviewed: true },
    };
    await putFlag(redis, def, { by: "t" });
    expect((await readFlag(redis, "checkout-config")).flag).toEqual({ ...def, updatedBy: "t", updatedAt: expect.any(String), version: 1 });
  });

  test("20 concurrent updates: no lost update (compare-and-set)", async () => {
    await putFlag(redis, booleanFlag("race", "me"), { by: "t" });
    const clients = Array.from({ length: 4 }, () => connect(server.url));
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          updateFlag(clients[i % 4], "race", (cur) => ({ ...cur!, description: `${cur!.description}${i},` }), { by: `w${i}`, cause: "set" }),
        ),
      );
      const { flag } = await readFlag(redis, "race");
      expect(flag!.version).toBe(21);
      const written = flag!.description.split(",").filter(Boolean).map(Number).sort((a, b) => a - b);
      expect(written).toEqual(Array.from({ length: 20 }, (_, i) => i));
    } finally {
      await Promise.all(clients.map((c) => c.quit()));
    }
  });
});

describe("summarize", () => {
  const base: FlagDefinition = booleanFlag("f", "web");
  const rule = (value: string, percentage?: number): FlagDefinition["rules"][number] => ({
    match: "all",
    conditions: [{ attribute: "plan", op: "equals", value }],
    variant: "on",
    ...(percentage === undefined ? {} : { percentage }),
  });
  test.each<[string, FlagDefinition | undefined, FlagDefinition, string]>([
    ["created", undefined, base, "created boolean flag, default off, enabled"],
    ["created with rules and a rollout", undefined, { ...base, rules: [rule("pro")], rollout: { percentage: 5, variant: "on" } }, "created boolean flag, default off, enabled, rollout 5% → on, 1 rule"],
    ["no change", base, base, "no change"],
    ["metadata added", base, { ...base, metadata: { team: "web" } }, 'metadata none → {"team":"web"}'],
    ["metadata removed", { ...base, metadata: { team: "web" } }, base, 'metadata {"team":"web"} → none'],
    ["a rule added", { ...base, rules: [rule("pro")] }, { ...base, rules: [rule("pro"), rule("team")] }, `rule 2 added: ${JSON.stringify(rule("team"))}`],
    ["a rule removed", { ...base, rules: [rule("pro"), rule("team")] }, { ...base, rules: [rule("pro")] }, `rule 2 removed: ${JSON.stringify(rule("team"))}`],
    ["a rule's percentage raised", { ...base, rules: [rule("pro", 10)] }, { ...base, rules: [rule("pro", 20)] }, `rule 1 changed: ${JSON.stringify(rule("pro", 10))} → ${JSON.stringify(rule("pro", 20))}`],
    ["rules and a kill together", { ...base, rules: [rule("pro")] }, { ...base, enabled: false, rules: [] }, `enabled true → false; rule 1 removed: ${JSON.stringify(rule("pro"))}`],
  ])("%s", (_label, old, next, text) => {
    expect(summarize(old, next)).toBe(text);
  });
});

describe("aviary flags CLI", () => {
  test("set, rollout, kill, list, get and history", async () => {
    expect(await cli(["flags", "set", "hiddenfeature", "on"])).toMatchObject({ code: 0, stdout: expect.stringContaining("hiddenfeature: created boolean flag, default on") });
    const roll = await cli(["flags", "rollout", "newcheckout", "20", "--reason", "first cohort"]);
    expect(roll.code).toBe(0);
    expect((await cli(["flags", "rollout", "newcheckout", "50"])).stdout).toContain('rollout {"percentage":20,"variant":"on"} → {"percentage":50,"variant":"on"}');
    const kill = await cli(["flags", "kill", "newcheckout", "--reason", "checkout 5xx"]);
    expect(kill).toMatchObject({ code: 0, stdout: expect.stringContaining("enabled true → false") });

    const list = await cli(["flags", "list"]);
    expect(list.stdout).toMatch(/^KEY\s+TYPE\s+STATE\s+DEFAULT\s+ROLLOUT\s+RULES\s+OWNER\n/);
    expect(list.stdout).toMatch(/hiddenfeature\s+boolean\s+enabled\s+on\s+-\s+0\s+cli:/);
    expect(list.stdout).toMatch(/newcheckout\s+boolean\s+KILLED\s+off\s+50% → on\s+0/);

    const get = JSON.parse((await cli(["flags", "get", "newcheckout", "--json"])).stdout) as Record<string, unknown>;
    expect(get).toMatchObject({ key: "newcheckout", enabled: false, rollout: { percentage: 50, variant: "on" }, version: 3 });
    expect((await cli(["flags", "get", "newcheckout"])).stdout).toContain("newcheckout (boolean) KILLED");

    const history = await cli(["flags", "history", "newcheckout"]);
    const lines = history.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/rollout by=cli:\S+ reason="first cohort" v1: created boolean flag/);
    expect(lines[2]).toMatch(/kill by=cli:\S+ reason="checkout 5xx" v3: enabled true → false/);

    // set on a killed flag states what to serve: it lifts the kill.
    expect((await cli(["flags", "set", "newcheckout", "off"])).stdout).toContain("enabled false → true");
  });

  test("kill serves the code's default; unkill restores the flag as it was", async () => {
    await cli(["flags", "set", "hiddenfeature", "on"]);
    await cli(["flags", "rollout", "hiddenfeature", "30"]);
    expect((await cli(["flags", "kill", "hiddenfeature", "--reason", "5xx"])).code).toBe(0);
    expect((await cli(["flags", "get", "hiddenfeature"])).stdout).toContain("hiddenfeature (boolean) KILLED: every evaluation returns the caller's code default");
    const unkill = await cli(["flags", "unkill", "hiddenfeature", "--reason", "fixed"]);
    expect(unkill).toMatchObject({ code: 0, stdout: expect.stringContaining("enabled false → true") });
    const { flag } = await readFlag(redis, "hiddenfeature");
    expect(flag).toMatchObject({ enabled: true, defaultVariant: "on", rollout: { percentage: 30, variant: "on" } });
    expect((await cli(["flags", "history", "hiddenfeature"])).stdout).toMatch(/unkill by=cli:\S+ reason="fixed" v4: enabled false → true/);
    const again = await cli(["flags", "unkill", "hiddenfeature", "--reason", "x"]);
    expect(again).toMatchObject({ code: 2, stderr: expect.stringContaining('flag "hiddenfeature" is not killed') });
  });

  test("rules and multi-variant definitions from a file", async () => {
    expect((await cli(["flags", "set", "demo-error-rate", "off"])).code).toBe(0); // boolean: wrong type for this demo
    const file = path.join(dir, "rate.json");
    writeFileSync(file, JSON.stringify({ key: "demo-error-rate", type: "number", enabled: true, variants: { none: 0, high: 50 }, defaultVariant: "none", rules: [{ attribute: "version", op: "equals", value: "2.0.0", variant: "high" }], owner: "demo", description: "canary breaker" }));
    expect((await cli(["flags", "set", "demo-error-rate", "--file", file])).code).toBe(0);
    const res = await cli(["flags", "set", "demo-error-rate", "--rule", "version=2.0.0,2.0.1:high"]);
    expect(res.code).toBe(0);
    const { flag } = await readFlag(redis, "demo-error-rate");
    expect(flag).toMatchObject({ type: "number", rules: [{ match: "all", conditions: [{ attribute: "version", op: "in", values: ["2.0.0", "2.0.1"] }], variant: "high" }] });
  });

  test.each<[string, string[], RegExp]>([
    ["rollout above 100", ["flags", "rollout", "f", "101"], /invalid percent "101": must be a number from 0 to 100/],
    ["rollout not a number", ["flags", "rollout", "f", "lots"], /invalid percent "lots"/],
    ["rollout negative", ["flags", "rollout", "f", "-5"], /invalid percent "-5"/],
    ["rollout with 3 decimals", ["flags", "rollout", "f", "2.555"], /invalid percent "2.555"/],
    ["kill without reason", ["flags", "kill", "f"], /--reason/],
    ["kill of an unknown flag", ["flags", "kill", "nope", "--reason", "x"], /flag "nope" does not exist/],
    ["unkill without reason", ["flags", "unkill", "f"], /--reason/],
    ["unkill of an unknown flag", ["flags", "unkill", "nope", "--reason", "x"], /flag "nope" does not exist/],
    ["set a new flag to a non-boolean word", ["flags", "set", "theme", "blue"], /flag "theme" does not exist: create it with/],
    ["bad flag key", ["flags", "set", "Bad Key", "on"], /Invalid flag key "Bad Key"/],
    ["bad rule", ["flags", "set", "f", "--rule", "country"], /invalid --rule "country"/],
    ["nothing to set", ["flags", "set", "f"], /nothing to set/],
  ])("%s → exit 2, clear message, nothing written", async (_name, argv, message) => {
    await cli(["flags", "set", "f", "on"]);
    const before = await everything();
    const res = await cli(argv);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(await everything()).toEqual(before);
  });

  test("an invalid definition file is refused naming the field; unknown variant too", async () => {
    await cli(["flags", "set", "f", "on"]);
    const before = await everything();
    const file = path.join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ ...booleanFlag("f", "me"), variants: { on: true, off: 0 } }));
    const bad = await cli(["flags", "set", "f", "--file", file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('aviary: Invalid flag "f": variants.off: must be a boolean (flag type), got 0\n');
    writeFileSync(file, "{not json");
    expect((await cli(["flags", "set", "f", "--file", file])).stderr).toMatch(/is not valid JSON/);
    const unknown = await cli(["flags", "set", "f", "maybe"]);
    expect(unknown).toMatchObject({ code: 2, stderr: 'aviary: flag "f" has no variant "maybe" (variants: on, off)\n' });
    expect(await everything()).toEqual(before);
  });

  test("garbage in Redis: list warns and shows the rest; get of the garbage flag exits 1", async () => {
    await cli(["flags", "set", "good", "on"]);
    await cli(["flags", "set", "junk", "on"]);
    await redis.set(keys.flag("junk"), '{"key":"junk"}');
    const list = await cli(["flags", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("good");
    expect(list.stdout).not.toContain("junk");
    expect(list.stderr).toMatch(/^aviary: warning: aviary:flag:junk /);
    const get = await cli(["flags", "get", "junk"]);
    expect(get.code).toBe(1);
    expect(get.stderr).toContain("aviary: warning: aviary:flag:junk");
    expect((await cli(["flags", "get", "missing"])).stderr).toBe('aviary: flag "missing" does not exist\n');
  });
});
