// How `aviary flags …` prints flags, rules and segments for people: rules in words with the
// expression that `flags rule add` takes, object values as indented JSON.
import { flagsUsing, type FlagDefinition, type FlagRule, type FlagValue, type StoredFlag, type StoredSegment } from "../core/flags/model";
import { ruleInWords, ruleText, segmentInWords } from "../core/flags/ruleText";

export function flagRolloutText(f: FlagDefinition): string {
  return f.rollout === undefined ? "-" : `${f.rollout.percentage}% → ${f.rollout.variant}`;
}

export function flagRows(flags: readonly StoredFlag[]): string[][] {
  return [
    ["KEY", "TYPE", "STATE", "DEFAULT", "ROLLOUT", "RULES", "OWNER"],
    ...flags.map((f) => [f.key, f.type, f.enabled ? "enabled" : "KILLED", f.defaultVariant, flagRolloutText(f), String(f.rules.length), f.owner]),
  ];
}

/** Rule `index` (0-based) as two lines: its number and words, then its expression under the words. */
export function ruleLines(rule: FlagRule, index: number, indent: string): string[] {
  const label = `${index + 1}`.padEnd(3);
  const name = rule.name === undefined ? "" : `${JSON.stringify(rule.name)}: `;
  return [`${indent}${label}${name}${ruleInWords(rule)}`, `${indent}   ${ruleText(rule)}`];
}

/** `flags rule list`: every rule, numbered as `flags rule remove` takes them. */
export function rulesText(f: FlagDefinition): string {
  if (f.rules.length === 0) return `flag "${f.key}" has no rules: every user gets the rollout or the default variant\n`;
  return f.rules.flatMap((r, i) => ruleLines(r, i, "")).join("\n") + "\n";
}

/** A variant's value on one line, or (objects) as indented JSON lines under its name. */
function variantLines(name: string, value: FlagValue, indent: string): string[] {
  if (typeof value !== "object") return [`${indent}${name} = ${JSON.stringify(value)}`];
  const [first, ...rest] = JSON.stringify(value, null, 2).split("\n");
  return [`${indent}${name} = ${first}`, ...rest.map((l) => `${indent}${" ".repeat(name.length + 3)}${l}`)];
}

export function describeFlag(f: StoredFlag): string {
  const pad = "             ";
  const metadata = f.metadata === undefined ? [] : [`  metadata:  ${Object.entries(f.metadata).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}`];
  const lines = [
    `${f.key} (${f.type}) ${f.enabled ? "enabled" : "KILLED: every evaluation returns the caller's code default"}`,
    `  default:   ${f.defaultVariant}`,
    `  variants:`,
    ...Object.entries(f.variants).flatMap(([name, value]) => variantLines(name, value, "    ")),
    `  rollout:   ${flagRolloutText(f)}`,
    ...(f.rules.length === 0 ? ["  rules:     none"] : ["  rules:     first match wins", ...f.rules.flatMap((r, i) => ruleLines(r, i, pad))]),
    ...metadata,
    `  owner:     ${f.owner}`,
    ...(f.description === "" ? [] : [`  about:     ${f.description}`]),
    `  changed:   ${f.updatedAt} by ${f.updatedBy} (version ${f.version})`,
  ];
  return lines.join("\n") + "\n";
}

function conditionsText(s: StoredSegment): string {
  return s.conditions.length === 0 ? "-" : ruleText(s);
}

export function describeSegment(s: StoredSegment, usedBy: readonly string[]): string {
  const list = (xs: readonly string[]): string => (xs.length === 0 ? "-" : xs.join(", "));
  const lines = [
    `${s.name}: ${segmentInWords(s)}`,
    `  conditions: ${conditionsText(s)}`,
    `  included:   ${list(s.included)}`,
    `  excluded:   ${list(s.excluded)}`,
    ...(s.description === "" ? [] : [`  about:      ${s.description}`]),
    `  used by:    ${usedBy.length === 0 ? "no flag" : usedBy.join(", ")}`,
    `  changed:    ${s.updatedAt} by ${s.updatedBy} (version ${s.version})`,
  ];
  return lines.join("\n") + "\n";
}

export function segmentRows(segments: readonly StoredSegment[], flags: readonly StoredFlag[]): string[][] {
  return [
    ["NAME", "CONDITIONS", "INCLUDED", "EXCLUDED", "USED BY"],
    ...segments.map((s) => [s.name, conditionsText(s), String(s.included.length), String(s.excluded.length), flagsUsing(s.name, flags).join(",") || "-"]),
  ];
}
