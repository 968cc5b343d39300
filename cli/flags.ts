/**
 * `aviary flags …`: list, get, set, rollout, rule add/remove/list, kill, unkill, history, and the
 * segment commands (cli/segments.ts). Every change goes through state/flags.ts (validated, audited
 * with who/what/why, published to running SDKs).
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type Redis from "ioredis";
import { booleanFlag, percentageSchema, type Condition, type FlagDefinition, type FlagRule, type StoredFlag } from "../core/flags/model";
import { parseRuleText, ruleInWords } from "../core/flags/ruleText";
import { readEvents } from "../state/events";
import { checkFlagKey, readFlag, readFlags, updateFlag, validateFlagDefinition, type FlagChange } from "../state/flags";
import { checkReason, parseIntArg, table, UsageError, whoAmI } from "./common";
import { NotFoundError } from "../core/errors";
import { describeFlag, flagRows, rulesText } from "./flagText";
import { addSegmentCommands } from "./segments";

export interface FlagCommandContext {
  db: () => Redis;
  out: (s: string) => void;
  warn: (problems: readonly string[]) => void;
  /** Prints what a write repaired on the way (the change took effect). */
  repaired: (notes: readonly string[]) => void;
  setCode: (code: number) => void;
}

const BOOLEAN_WORDS: Record<string, boolean> = { on: true, true: true, off: false, false: false };

/** `attr=value:variant` (equals) or `attr=v1,v2:variant` (in list); values are strings. */
export function parseRule(spec: string): FlagRule {
  const m = /^([^=]+)=(.*):([^:]+)$/.exec(spec);
  if (!m || m[2] === "") throw new UsageError(`invalid --rule ${JSON.stringify(spec)}: use attribute=value:variant or attribute=v1,v2:variant`);
  const [, attribute, raw, variant] = m;
  const values = raw.split(",");
  const condition: Condition = values.length === 1 ? { attribute, op: "equals", value: values[0] } : { attribute, op: "in", values };
  return { match: "all", conditions: [condition], variant };
}

function parsePercent(raw: string): number {
  const n = /^\d{1,3}(\.\d{1,2})?$/.test(raw) ? Number(raw) : NaN;
  if (!percentageSchema.safeParse(n).success) throw new UsageError(`invalid percent ${JSON.stringify(raw)}: must be a number from 0 to 100 with at most 2 decimals`);
  return n;
}

/** The variant a word names: a variant name, or on/off/true/false for a boolean flag. */
function variantFor(def: FlagDefinition, word: string): string {
  if (Object.prototype.hasOwnProperty.call(def.variants, word)) return word;
  if (def.type === "boolean" && word in BOOLEAN_WORDS) {
    const match = Object.entries(def.variants).find(([, v]) => v === BOOLEAN_WORDS[word]);
    if (match) return match[0];
  }
  throw new UsageError(`flag "${def.key}" has no variant "${word}" (variants: ${Object.keys(def.variants).join(", ")})`);
}

/** The definition in `file` for flag `key`, validated so a bad file is refused before connecting. */
async function readDefinitionFile(file: string, key: string): Promise<FlagDefinition> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read --file ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`--file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const def = validateFlagDefinition(json);
  if (def.key !== key) throw new UsageError(`--file ${file} defines flag ${JSON.stringify(def.key)}, not ${JSON.stringify(key)}`);
  return def;
}

function printChange(ctx: FlagCommandContext, c: FlagChange): void {
  ctx.repaired(c.repairs);
  ctx.out(`${c.new.key}: ${c.summary} (event ${c.eventId})\n`);
}

export function addFlagCommands(program: Command, ctx: FlagCommandContext): void {
  const { db, out, warn, setCode } = ctx;
  const flags = program.command("flags").description("feature flags and segments: list, inspect, change, audit");

  /** The stored flag, or undefined (garbage: warned about, exit 1); absent is a NotFoundError. */
  const readExisting = async (key: string): Promise<StoredFlag | undefined> => {
    checkFlagKey(key);
    const { flag, problems } = await readFlag(db(), key);
    warn(problems);
    if (!flag && problems.length === 0) throw new NotFoundError(`flag "${key}" does not exist`);
    if (!flag) setCode(1); // garbage: reported above, nothing valid to show
    return flag;
  };

  flags
    .command("list")
    .description("every flag with its state")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      const { flags: list, problems } = await readFlags(db());
      warn(problems);
      out(o.json ? JSON.stringify(list, null, 2) + "\n" : list.length === 0 ? "no flags\n" : table(flagRows(list)));
    });

  flags
    .command("get")
    .description("one flag's full definition")
    .argument("<key>")
    .option("--json", "print JSON")
    .action(async (key: string, o: { json?: boolean }) => {
      const flag = await readExisting(key);
      if (flag) out(o.json ? JSON.stringify(flag, null, 2) + "\n" : describeFlag(flag));
    });

  flags
    .command("set")
    .description("set the default variant (creates a boolean flag from on/off), or a whole definition with --file")
    .argument("<key>")
    .argument("[variant]", "variant served by default; on/off/true/false for boolean flags")
    .option("--file <path>", "JSON definition to store as is (validated)")
    .option("--description <text>")
    .option("--owner <name>")
    .option("--rule <spec>", "targeting rule attribute=value:variant or attribute=v1,v2:variant (repeatable, replaces the rules)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--clear-rules", "remove every targeting rule")
    .option("--no-rollout", "remove the percentage rollout")
    .option("--reason <text>", "why, recorded in the audit log")
    .action(async (key: string, variant: string | undefined, o: { file?: string; description?: string; owner?: string; rule: string[]; clearRules?: boolean; rollout: boolean; reason?: string }) => {
      checkFlagKey(key);
      const by = whoAmI();
      const rules = o.rule.map(parseRule);
      if (o.file !== undefined && (variant !== undefined || rules.length > 0 || o.clearRules || o.description !== undefined || o.owner !== undefined || !o.rollout)) {
        throw new UsageError("--file replaces the whole definition: give no variant or other options with it");
      }
      if (o.file === undefined && variant === undefined && rules.length === 0 && !o.clearRules && o.description === undefined && o.owner === undefined && o.rollout) {
        throw new UsageError("nothing to set: give a variant, --file, --rule, --clear-rules, --no-rollout, --description or --owner");
      }
      const fromFile = o.file === undefined ? undefined : await readDefinitionFile(o.file, key);
      const change = await updateFlag(
        db(),
        key,
        (current) => {
          if (fromFile !== undefined) return fromFile;
          let def: FlagDefinition;
          if (current === undefined) {
            if (variant === undefined || !(variant in BOOLEAN_WORDS)) {
              throw new UsageError(`flag "${key}" does not exist: create it with "set ${key} on|off" (boolean) or --file <definition.json>`);
            }
            def = booleanFlag(key, o.owner ?? by);
          } else {
            def = { ...current };
          }
          // Setting a value is an explicit statement of what to serve: it also lifts a kill.
          if (variant !== undefined) def = { ...def, defaultVariant: variantFor(def, variant), enabled: true };
          if (o.clearRules) def = { ...def, rules: [] };
          if (rules.length > 0) def = { ...def, rules };
          if (!o.rollout) def = { ...def, rollout: undefined };
          if (o.description !== undefined) def = { ...def, description: o.description };
          if (o.owner !== undefined) def = { ...def, owner: o.owner };
          if (def.rollout === undefined) delete def.rollout;
          return def;
        },
        { by, reason: o.reason, cause: o.file === undefined ? "set" : "define" },
      );
      printChange(ctx, change);
    });

  flags
    .command("rollout")
    .description("serve a variant to a stable percentage of users (by targetingKey); raising it only adds users")
    .argument("<key>")
    .argument("<percent>", "0-100, up to 2 decimals")
    // Lets `rollout x -5` reach our validation (clear message) instead of commander's "unknown option".
    .allowUnknownOption()
    .option("--variant <name>", "variant for users in the rollout (default: the current one, or on)")
    .option("--reason <text>", "why, recorded in the audit log")
    .action(async (key: string, raw: string, o: { variant?: string; reason?: string }) => {
      checkFlagKey(key);
      const percentage = parsePercent(raw);
      const by = whoAmI();
      const change = await updateFlag(
        db(),
        key,
        (current) => {
          const def = current ?? booleanFlag(key, by);
          const variant = o.variant !== undefined ? variantFor(def, o.variant) : def.rollout?.variant ?? (def.type === "boolean" ? variantFor(def, "on") : undefined);
          if (variant === undefined) throw new UsageError(`flag "${key}" is a ${def.type} flag: say which variant to roll out with --variant`);
          return { ...def, rollout: { percentage, variant } };
        },
        { by, reason: o.reason, cause: "rollout" },
      );
      printChange(ctx, change);
    });

  const rule = flags.command("rule").description("targeting rules in the rule language, checked in order (the first match wins)");

  rule
    .command("add")
    .description("add a rule: users for whom the expression holds get --variant, e.g. 'plan in [pro, team] and version >= 2.1.0'")
    .argument("<key>")
    .argument("<expression>", "conditions joined with and (all hold) or with or (any holds)")
    .requiredOption("--variant <name>", "variant served when the rule matches; on/off/true/false for boolean flags")
    .option("--percentage <P>", "serve it only to this stable share of the matching users (0-100, up to 2 decimals); the others fall through")
    .option("--name <label>", "a label shown with the rule")
    .option("--position <N>", "the new rule's number (1 is checked first); default: after the others")
    .option("--reason <text>", "why, recorded in the audit log")
    .action(async (key: string, expression: string, o: { variant: string; percentage?: string; name?: string; position?: string; reason?: string }) => {
      checkFlagKey(key);
      const { match, conditions } = parseRuleText(expression);
      const percentage = o.percentage === undefined ? undefined : parsePercent(o.percentage);
      const position = o.position === undefined ? undefined : parseIntArg("position", o.position, 1, 10000);
      let added: { rule: FlagRule; number: number } | undefined;
      const change = await updateFlag(
        db(),
        key,
        (current) => {
          if (current === undefined) throw new UsageError(`flag "${key}" does not exist: create it first with "set ${key} on|off" or --file <definition.json>`);
          const count = current.rules.length;
          const at = position === undefined ? count : position - 1;
          if (at > count) throw new UsageError(`invalid position ${position}: flag "${key}" has ${count} rules, so the new rule can be number 1 to ${count + 1}`);
          const next: FlagRule = { ...(o.name === undefined ? {} : { name: o.name }), match, conditions, variant: variantFor(current, o.variant), ...(percentage === undefined ? {} : { percentage }) };
          added = { rule: next, number: at + 1 };
          return { ...current, rules: [...current.rules.slice(0, at), next, ...current.rules.slice(at)] };
        },
        { by: whoAmI(), reason: o.reason, cause: "rule-add" },
      );
      printChange(ctx, change);
      if (added) out(`rule ${added.number}: ${ruleInWords(added.rule)}\n`);
    });

  rule
    .command("remove")
    .description("remove one rule; the rules after it move up one number")
    .argument("<key>")
    .argument("<number>", "the rule's number as `flags rule list` shows it")
    .option("--reason <text>", "why, recorded in the audit log")
    .action(async (key: string, raw: string, o: { reason?: string }) => {
      checkFlagKey(key);
      const number = parseIntArg("rule number", raw, 1, 10000);
      const change = await updateFlag(
        db(),
        key,
        (current) => {
          if (current === undefined) throw new UsageError(`flag "${key}" does not exist`);
          if (number > current.rules.length) throw new UsageError(`flag "${key}" has ${current.rules.length} rules: there is no rule ${number}`);
          return { ...current, rules: current.rules.filter((_, i) => i !== number - 1) };
        },
        { by: whoAmI(), reason: o.reason, cause: "rule-remove" },
      );
      printChange(ctx, change);
    });

  rule
    .command("list")
    .description("a flag's rules in order: number, in words, and the expression")
    .argument("<key>")
    .action(async (key: string) => {
      const flag = await readExisting(key);
      if (flag) out(rulesText(flag));
    });

  // Kill and un-kill: the same audited switch of `enabled`, arguments checked before connecting.
  const killSwitch = async (key: string, reason: string, enabled: boolean): Promise<void> => {
    checkFlagKey(key);
    checkReason(reason);
    const change = await updateFlag(
      db(),
      key,
      (current) => {
        if (current === undefined) throw new UsageError(`flag "${key}" does not exist`);
        if (enabled && current.enabled) throw new UsageError(`flag "${key}" is not killed`);
        return { ...current, enabled };
      },
      { by: whoAmI(), reason, cause: enabled ? "unkill" : "kill" },
    );
    printChange(ctx, change);
  };

  flags
    .command("kill")
    .description("kill switch: every evaluation returns the caller's own default value (the one in code), reason DISABLED, overriding default variant, rules and rollout")
    .argument("<key>")
    .requiredOption("--reason <text>", "why, recorded in the audit log")
    .action((key: string, o: { reason: string }) => killSwitch(key, o.reason, false));

  flags
    .command("unkill")
    .description("lift the kill switch: serve the flag's default variant, rules and rollout again")
    .argument("<key>")
    .requiredOption("--reason <text>", "why, recorded in the audit log")
    .action((key: string, o: { reason: string }) => killSwitch(key, o.reason, true));

  flags
    .command("history")
    .description("audit log of one flag, oldest first")
    .argument("<key>")
    .option("--count <N>", "how many recent changes", "20")
    .option("--json", "print JSON (an array of audit events)")
    .action(async (key: string, o: { count: string; json?: boolean }) => {
      checkFlagKey(key);
      const count = parseIntArg("count", o.count, 1, 10000);
      // The stream holds every kind of event; read the retained window and keep this flag's.
      const { events, problems } = await readEvents(db(), { count: 10000 });
      warn(problems);
      const mine = events.filter((e) => e.kind === "flag" && e.detail.key === key).slice(-count);
      if (o.json) {
        out(JSON.stringify(mine, null, 2) + "\n");
        return;
      }
      if (mine.length === 0) out(`no changes recorded for flag "${key}"\n`);
      for (const e of mine) {
        const reason = e.reason === undefined ? "" : ` reason=${JSON.stringify(e.reason)}`;
        out(`${e.at} ${e.detail.cause ?? "?"} by=${e.by}${reason} v${e.detail.version ?? "?"}: ${e.detail.change ?? ""}\n`);
      }
    });

  addSegmentCommands(flags, ctx);
}
