// The schema in core/config/stackConfig.ts is the one home of every stack-config default; Pulumi.yaml
// (its `config:` block and the comment on structured keys) and docs/configuration.md's table
// restate them for users and must say the same, key for key.
import { REPO_ROOT } from "../../support/repoRoot";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { CONFIG_KEYS, DEFAULT_CACHE_NODE_TYPE, parseStackConfig, type RawConfig } from "../../../core/config/stackConfig";

const ROOT = path.join(REPO_ROOT);
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

/** The smallest valid stack of each role: every key it sets is one the schema requires. */
const MINIMAL: Record<"prod" | "canary", RawConfig> = {
  prod: { role: "prod", appVersion: "1.0.0", prodFleet: JSON.stringify({ min: 1, max: 2, desired: 1 }) },
  canary: { role: "canary", appVersion: "1.0.0", canaryWeight: "10", prodStack: "org/aviary/prod" },
};

type Key = (typeof CONFIG_KEYS)[number];
/** What the schema says of each key when a stack leaves it out: a default, required, or nothing. */
type Fact = { kind: "default"; value: unknown } | { kind: "required" } | { kind: "optional" };

function schemaFacts(): Map<Key, Fact> {
  const parsed = Object.values(MINIMAL).map((raw) => parseStackConfig(raw) as unknown as Record<string, unknown>);
  const facts = new Map<Key, Fact>();
  for (const key of CONFIG_KEYS) {
    const value = parsed.map((p) => p[key]).find((v) => v !== undefined);
    if (Object.values(MINIMAL).some((raw) => key in raw)) facts.set(key, { kind: "required" });
    else facts.set(key, value === undefined ? { kind: "optional" } : { kind: "default", value });
  }
  return facts;
}

/** A default as the docs write it: `{a: 1, b: x}` for objects, "none" for empty lists only. */
function render(value: unknown): string {
  if (typeof value !== "object" || value === null) return String(value);
  const entries = Object.entries(value);
  if (entries.every(([, v]) => Array.isArray(v) && v.length === 0)) return "none";
  return `{${entries.map(([k, v]) => `${k}: ${render(v)}`).join(", ")}}`;
}

/** Pulumi.yaml's comment entries `#   aviary:<key> ...` with their continuation lines, whitespace folded. */
function commentEntries(yamlText: string): Map<string, string> {
  const entries = new Map<string, string>();
  let current: string | undefined;
  for (const line of yamlText.split("\n")) {
    const m = /^#\s+aviary:(\w+)\s+(.*)$/.exec(line);
    if (m) {
      current = m[1];
      entries.set(current, m[2]);
    } else if (current && /^#\s{3,}/.test(line)) {
      entries.set(current, `${entries.get(current)} ${line.replace(/^#\s+/, "")}`);
    } else current = undefined;
  }
  for (const [k, v] of entries) entries.set(k, v.replace(/\s+/g, " "));
  return entries;
}

/** docs/configuration.md's table: key → default cell. */
function docsDefaults(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of markdown.split("\n")) {
    const m = /^\| `(\w+)` \|.*\| ([^|]+) \|$/.exec(line);
    if (m) rows.set(m[1], m[2].trim());
  }
  return rows;
}

const facts = schemaFacts();
const pulumiYaml = read("Pulumi.yaml");
const declared = (parse(pulumiYaml) as { config: Record<string, { default?: unknown }> }).config;
const comments = commentEntries(pulumiYaml);
const docs = docsDefaults(read("docs/configuration.md"));

describe("stack-config defaults have one home, the schema", () => {
  it("knows every key", () => {
    expect([...facts.keys()].sort()).toEqual([...CONFIG_KEYS].sort());
  });

  it("Pulumi.yaml declares only known keys, with the schema's default or none when required", () => {
    for (const [key, decl] of Object.entries(declared)) {
      const fact = facts.get(key as Key);
      expect({ key, fact: fact?.kind }).toEqual({ key, fact: decl.default === undefined ? "required" : "default" });
      if (fact?.kind === "default") expect({ key, default: decl.default }).toEqual({ key, default: fact.value });
    }
  });

  it("Pulumi.yaml's comment covers every other key with the schema's default", () => {
    for (const key of CONFIG_KEYS) {
      if (key in declared) continue;
      const entry = comments.get(key);
      expect({ key, documented: entry !== undefined }).toEqual({ key, documented: true });
      const fact = facts.get(key)!;
      if (fact.kind === "required") expect(entry).toContain("required");
      if (fact.kind === "default") {
        const want = typeof fact.value === "object" ? render(fact.value) : `default ${render(fact.value)}`;
        expect({ key, entry }).toEqual({ key, entry: expect.stringContaining(want) });
      }
    }
    expect(comments.get("redis")).toContain(`default ${DEFAULT_CACHE_NODE_TYPE}`);
  });

  it("docs/configuration.md has a row for every key, its default cell the schema's", () => {
    expect([...docs.keys()].sort()).toEqual([...CONFIG_KEYS].sort());
    for (const [key, cell] of docs) {
      const fact = facts.get(key as Key)!;
      if (fact.kind === "required") expect({ key, cell }).toEqual({ key, cell: "required" });
      if (fact.kind === "default") {
        const value = render(fact.value);
        const want = value === "none" ? "none" : `\`${value}\``;
        expect({ key, cell: cell.slice(0, want.length) }).toEqual({ key, cell: want });
      }
    }
    expect(docs.get("redis")).toContain(`\`${DEFAULT_CACHE_NODE_TYPE}\``);
  });
});
