// `aviary flags rule …` and `aviary flags segment …` on a real redis-server: what they store, how the
// stored rules evaluate, what they print, and that every refused change writes nothing.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { run } from "../../../cli/main";
import { compileFlag, compileSegment, evaluate, type SegmentLookup } from "../../../core/flags/evaluate";
import { booleanFlag, type FlagDefinitionInput } from "../../../core/flags/model";
import { readFlag } from "../../../state/flags";
import { keys } from "../../../state/keys";
import { readSegments } from "../../../state/segments";
import { tempDir } from "../../support/tempDir";
import { useRedis } from "../../support/useRedis";

jest.setTimeout(60_000);

const db = useRedis();
const dir = tempDir("aviary-cli-rules-");

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } }, { env: { REDIS_URL: db.server.url } });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/** Every key with its content, so a refused command can be shown to have written nothing. */
async function everything(): Promise<Record<string, unknown>> {
  const all: Record<string, unknown> = {};
  for (const key of (await db.redis.keys("*")).sort()) {
    const type = await db.redis.type(key);
    all[key] = type === "string" ? await db.redis.get(key) : type === "set" ? (await db.redis.smembers(key)).sort() : type === "stream" ? await db.redis.xlen(key) : type;
  }
  return all;
}

async function stored(key: string) {
  const { flag, problems } = await readFlag(db.redis, key);
  expect(problems).toEqual([]);
  return flag!;
}

async function segmentLookup(): Promise<SegmentLookup> {
  const { segments } = await readSegments(db.redis);
  return new Map(segments.map((s) => [s.name, compileSegment(s)]));
}

beforeEach(async () => {
  expect((await cli("flags", "set", "new-ui", "off")).code).toBe(0);
});

test("rule add with the issue's example stores the rule, and it evaluates as written", async () => {
  const res = await cli("flags", "rule", "add", "new-ui", "plan in [pro, team] and version >= 2.1.0", "--variant", "on", "--reason", "beta for paying teams");
  expect(res).toMatchObject({ code: 0, stderr: "" });
  expect(res.stdout).toContain("rule 1: if plan is one of pro, team and version is at least 2.1.0 → on");
  const flag = await stored("new-ui");
  expect(flag.rules).toEqual([
    {
      match: "all",
      conditions: [
        { attribute: "plan", op: "in", values: ["pro", "team"] },
        { attribute: "version", op: "semverGte", value: "2.1.0" },
      ],
      variant: "on",
    },
  ]);
  const compiled = compileFlag(flag);
  expect(evaluate(compiled, { targetingKey: "u1", plan: "pro", version: "2.1.0" })).toMatchObject({ variant: "on", value: true, reason: "TARGETING_MATCH", ruleIndex: 0 });
  expect(evaluate(compiled, { targetingKey: "u1", plan: "team", version: "2.10.0" })).toMatchObject({ variant: "on", reason: "TARGETING_MATCH" });
  expect(evaluate(compiled, { targetingKey: "u1", plan: "pro", version: "2.0.9" })).toMatchObject({ variant: "off", reason: "DEFAULT" });
  expect(evaluate(compiled, { targetingKey: "u1", plan: "free", version: "3.0.0" })).toMatchObject({ variant: "off", reason: "DEFAULT" });

  const get = await cli("flags", "get", "new-ui");
  expect(get.stdout).toContain("1  if plan is one of pro, team and version is at least 2.1.0 → on\n");
  expect(get.stdout).toContain("      plan in [pro, team] and version >= 2.1.0\n");
  const list = await cli("flags", "rule", "list", "new-ui");
  expect(list).toMatchObject({ code: 0, stdout: "1  if plan is one of pro, team and version is at least 2.1.0 → on\n   plan in [pro, team] and version >= 2.1.0\n" });
  const history = await cli("flags", "history", "new-ui");
  expect(history.stdout).toMatch(/rule-add by=cli:.* reason="beta for paying teams" v2: rule 1 added/);
});

test.each<[string, string[], RegExp]>([
  ["a syntax error names the column and what was expected", ["plan in", "--variant", "on"], /at column 8: expected "\[" after "in" \(a list like \[pro, team\]\), found end of text/],
  ["mixing and with or says what to do instead", ["a = 1 and b = 2 or c = 3", "--variant", "on"], /one rule joins all its conditions with "and" or all with "or"/],
  ["an invalid condition is named", ["in segment Beta", "--variant", "on"], /condition 1 \(in segment Beta\) segment: must be 1-64 chars/],
  ["an unknown variant", ["plan = pro", "--variant", "maybe"], /flag "new-ui" has no variant "maybe"/],
  ["a bad percentage", ["plan = pro", "--variant", "on", "--percentage", "120"], /invalid percent "120"/],
  ["a position past the end", ["plan = pro", "--variant", "on", "--position", "3"], /invalid position 3: flag "new-ui" has 0 rules, so the new rule can be number 1 to 1/],
  ["a segment that does not exist", ["in segment staff", "--variant", "on"], /staff/],
])("rule add refused (%s): exit 2, nothing written", async (_what, args, message) => {
  const before = await everything();
  const res = await cli("flags", "rule", "add", "new-ui", ...args);
  expect(res.code).toBe(2);
  expect(res.stderr).toMatch(message);
  expect(res.stdout).toBe("");
  expect(await everything()).toEqual(before);
});

test("rule add to a flag that does not exist: exit 2, nothing written", async () => {
  const before = await everything();
  const res = await cli("flags", "rule", "add", "nope", "plan = pro", "--variant", "on");
  expect(res).toMatchObject({ code: 2 });
  expect(res.stderr).toContain('flag "nope" does not exist');
  expect(await everything()).toEqual(before);
});

test("--position, --name and --percentage; rule remove takes the number rule list shows", async () => {
  expect((await cli("flags", "rule", "add", "new-ui", "country = NL", "--variant", "on")).code).toBe(0);
  const add = await cli("flags", "rule", "add", "new-ui", '"account tier" = gold', "--variant", "on", "--percentage", "20", "--name", "gold first", "--position", "1");
  expect(add.code).toBe(0);
  let flag = await stored("new-ui");
  expect(flag.rules.map((r) => [r.name, r.percentage, r.conditions[0]])).toEqual([
    ["gold first", 20, { attribute: "account tier", op: "equals", value: "gold" }],
    [undefined, undefined, { attribute: "country", op: "equals", value: "NL" }],
  ]);
  // 20 % of gold users get it, by the same stable bucket; the others fall through to rule 2 and the default.
  const compiled = compileFlag(flag);
  const gold = Array.from({ length: 2000 }, (_, i) => evaluate(compiled, { targetingKey: `u${i}`, "account tier": "gold" }));
  const served = gold.filter((e) => e.variant === "on");
  expect(served.every((e) => e.reason === "SPLIT" && e.ruleIndex === 0)).toBe(true);
  expect(served.length / gold.length).toBeGreaterThan(0.16);
  expect(served.length / gold.length).toBeLessThan(0.24);

  const list = await cli("flags", "rule", "list", "new-ui");
  expect(list.stdout).toBe(
    '1  "gold first": if "account tier" is gold → on (20 % of them)\n   "account tier" = gold\n2  if country is NL → on\n   country = NL\n',
  );

  const before = await everything();
  const tooFar = await cli("flags", "rule", "remove", "new-ui", "3");
  expect(tooFar).toMatchObject({ code: 2 });
  expect(tooFar.stderr).toContain('flag "new-ui" has 2 rules: there is no rule 3');
  expect(await everything()).toEqual(before);

  expect((await cli("flags", "rule", "remove", "new-ui", "1", "--reason", "gold is done")).code).toBe(0);
  flag = await stored("new-ui");
  expect(flag.rules).toEqual([{ match: "all", conditions: [{ attribute: "country", op: "equals", value: "NL" }], variant: "on" }]);
});

test("the old --rule attr=value:variant still works and stores new-shape rules", async () => {
  expect((await cli("flags", "set", "new-ui", "--rule", "plan=pro,team:on", "--rule", "country=NL:on")).code).toBe(0);
  expect((await stored("new-ui")).rules).toEqual([
    { match: "all", conditions: [{ attribute: "plan", op: "in", values: ["pro", "team"] }], variant: "on" },
    { match: "all", conditions: [{ attribute: "country", op: "equals", value: "NL" }], variant: "on" },
  ]);
  expect((await cli("flags", "rule", "list", "new-ui")).stdout).toBe("1  if plan is one of pro, team → on\n   plan in [pro, team]\n2  if country is NL → on\n   country = NL\n");
  expect((await cli("flags", "get", "new-ui")).stdout).toContain("1  if plan is one of pro, team → on\n");
});

test("segment set/get/list/delete; a rule uses it; delete refused while in use, naming the flags", async () => {
  const set = await cli("flags", "segment", "set", "beta-testers", "country in [NL, BE] and age >= 18", "--include", "alice, carol", "--exclude", "bob", "--description", "early adopters");
  expect(set.code).toBe(0);
  expect(set.stdout).toContain("users alice, carol, and users where country is one of NL, BE and age is at least 18; never bob");

  const json = JSON.parse((await cli("flags", "segment", "get", "beta-testers", "--json")).stdout) as Record<string, unknown>;
  expect(json).toMatchObject({
    name: "beta-testers",
    description: "early adopters",
    match: "all",
    conditions: [
      { attribute: "country", op: "in", values: ["NL", "BE"] },
      { attribute: "age", op: "gte", value: 18 },
    ],
    included: ["alice", "carol"],
    excluded: ["bob"],
    version: 1,
  });

  // Changing only the keys keeps the conditions.
  expect((await cli("flags", "segment", "set", "beta-testers", "--include", "alice")).code).toBe(0);
  expect((await cli("flags", "rule", "add", "new-ui", "in segment beta-testers", "--variant", "on")).code).toBe(0);
  expect((await cli("flags", "set", "other", "on")).code).toBe(0);
  expect((await cli("flags", "rule", "add", "other", "not in segment beta-testers", "--variant", "off")).code).toBe(0);

  const compiled = compileFlag(await stored("new-ui"));
  const segments = await segmentLookup();
  expect(evaluate(compiled, { targetingKey: "alice" }, segments)).toMatchObject({ variant: "on", reason: "TARGETING_MATCH" });
  expect(evaluate(compiled, { targetingKey: "carol" }, segments)).toMatchObject({ variant: "off" });
  expect(evaluate(compiled, { targetingKey: "dan", country: "BE", age: 30 }, segments)).toMatchObject({ variant: "on" });
  expect(evaluate(compiled, { targetingKey: "bob", country: "NL", age: 30 }, segments)).toMatchObject({ variant: "off" });

  const get = await cli("flags", "segment", "get", "beta-testers");
  expect(get.stdout).toContain("beta-testers: users alice, and users where country is one of NL, BE and age is at least 18; never bob\n");
  expect(get.stdout).toContain("  conditions: country in [NL, BE] and age >= 18\n");
  expect(get.stdout).toContain("  used by:    new-ui, other\n");
  const list = await cli("flags", "segment", "list");
  expect(list.stdout.split("\n")[1].split(/\s{2,}/)).toEqual(["beta-testers", "country in [NL, BE] and age >= 18", "1", "1", "new-ui,other"]);
  expect(JSON.parse((await cli("flags", "segment", "list", "--json")).stdout)).toHaveLength(1);

  const before = await everything();
  const refused = await cli("flags", "segment", "delete", "beta-testers", "--reason", "done");
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain('segment "beta-testers" is used by the rules of flags new-ui, other');
  expect(await everything()).toEqual(before);

  expect((await cli("flags", "rule", "remove", "new-ui", "1")).code).toBe(0);
  expect((await cli("flags", "rule", "remove", "other", "1")).code).toBe(0);
  expect((await cli("flags", "segment", "delete", "beta-testers", "--reason", "done")).code).toBe(0);
  expect(await db.redis.exists(keys.segment("beta-testers"))).toBe(0);
  const gone = await cli("flags", "segment", "get", "beta-testers");
  expect(gone).toMatchObject({ code: 1 });
  expect(gone.stderr).toContain('segment "beta-testers" does not exist');
  expect((await cli("flags", "segment", "list")).stdout).toBe("no segments\n");
});

test.each<[string, string[], string]>([
  ["a segment cannot use another segment", ["s1", "in segment staff"], 'a segment cannot use "in segment"'],
  ["--any contradicts and", ["s1", "a = 1 and b = 2", "--any"], '--any contradicts the "and"'],
  ["nothing to set", ["s1"], "nothing to set"],
  ["a bad name", ["Bad Name", "--include", "a"], 'Invalid segment name "Bad Name"'],
  ["a syntax error", ["s1", "country in [NL"], 'at column 15: expected "," or "]", found end of text'],
])("segment set refused (%s): exit 2, nothing written", async (_what, args, message) => {
  const before = await everything();
  const res = await cli("flags", "segment", "set", ...args);
  expect(res.code).toBe(2);
  expect(res.stderr).toContain(message);
  expect(await everything()).toEqual(before);
});

test("segment set --any joins one-condition-at-a-time edits with or", async () => {
  expect((await cli("flags", "segment", "set", "s1", "country = NL or country = BE")).code).toBe(0);
  expect((await cli("flags", "segment", "set", "s1", "age >= 65", "--any")).code).toBe(0);
  const { segments } = await readSegments(db.redis);
  expect(segments[0]).toMatchObject({ match: "any", conditions: [{ attribute: "age", op: "gte", value: 65 }] });
});

test("flags set --file stores an object flag; get shows its values as indented JSON; list copes with object and integer flags", async () => {
  const def: FlagDefinitionInput = {
    key: "checkout-config",
    type: "object",
    enabled: true,
    variants: { compact: { steps: 2, theme: { color: "teal" } }, full: { steps: 4, theme: { color: "grey" } } },
    defaultVariant: "full",
    rules: [{ match: "all", conditions: [{ attribute: "plan", op: "equals", value: "pro" }], variant: "compact" }],
    description: "checkout layout",
    owner: "payments",
    metadata: { team: "payments" },
  };
  const file = path.join(dir, "checkout-config.json");
  writeFileSync(file, JSON.stringify(def));
  expect((await cli("flags", "set", "checkout-config", "--file", file)).code).toBe(0);
  const flag = await stored("checkout-config");
  expect(flag.variants).toEqual(def.variants);
  expect(evaluate(compileFlag(flag), { targetingKey: "u", plan: "pro" })).toMatchObject({ variant: "compact", value: { steps: 2, theme: { color: "teal" } } });

  const get = await cli("flags", "get", "checkout-config");
  expect(get.stdout).toContain(
    ["    compact = {", '                "steps": 2,', '                "theme": {', '                  "color": "teal"', "                }", "              }"].join("\n"),
  );
  expect(get.stdout).toContain("1  if plan is pro → compact\n");
  expect(get.stdout).toContain('  metadata:  team="payments"\n');

  const intFile = path.join(dir, "max-items.json");
  writeFileSync(intFile, JSON.stringify({ ...booleanFlag("max-items", "me"), type: "integer", variants: { few: 10, many: 100 }, defaultVariant: "few" }));
  expect((await cli("flags", "set", "max-items", "--file", intFile)).code).toBe(0);
  const list = await cli("flags", "list");
  expect(list.code).toBe(0);
  const rows = list.stdout.trim().split("\n").map((l) => l.split(/\s{2,}/).slice(0, 4));
  expect(rows).toEqual([
    ["KEY", "TYPE", "STATE", "DEFAULT"],
    ["checkout-config", "object", "enabled", "full"],
    ["max-items", "integer", "enabled", "few"],
    ["new-ui", "boolean", "enabled", "off"],
  ]);
});
