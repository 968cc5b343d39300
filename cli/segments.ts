/**
 * `aviary flags segment …`: set, get, list, delete. A segment is a named set of users (keys
 * included, keys excluded, attribute conditions) that the rules of many flags use with
 * `in segment NAME`. Every change goes through state/segments.ts (validated, audited, published).
 */
import type { Command } from "commander";
import { NotFoundError } from "../core/errors";
import { flagsUsing, segmentNameSchema, type AttributeCondition, type MatchMode, type SegmentDefinitionInput } from "../core/flags/model";
import { parseRuleText, segmentInWords } from "../core/flags/ruleText";
import { readFlags } from "../state/flags";
import { deleteSegment, readSegment, readSegments, updateSegment, type SegmentChange } from "../state/segments";
import { checkReason, table, UsageError, whoAmI } from "./common";
import type { FlagCommandContext } from "./flags";
import { describeSegment, segmentRows } from "./flagText";

function checkSegmentName(name: string): void {
  const parsed = segmentNameSchema.safeParse(name);
  if (!parsed.success) throw new UsageError(`Invalid segment name ${JSON.stringify(name)}: ${parsed.error.issues[0].message}`);
}

/** `a,b, c` → [a, b, c]; an empty string is the empty list. */
export function keyList(raw: string): string[] {
  return raw.split(",").map((k) => k.trim()).filter((k) => k !== "");
}

/** The expression of a segment: attribute tests only, since a segment never refers to another. */
export function segmentConditions(expression: string, any: boolean): { match: MatchMode; conditions: AttributeCondition[] } {
  const { match, conditions } = parseRuleText(expression);
  const attributeOnly = conditions.filter((c): c is AttributeCondition => !("segment" in c));
  if (attributeOnly.length !== conditions.length) {
    throw new UsageError(`invalid segment expression ${JSON.stringify(expression)}: a segment cannot use "in segment"; give its conditions or --include keys instead`);
  }
  if (any && match === "all" && conditions.length > 1) {
    throw new UsageError(`--any contradicts the "and" in ${JSON.stringify(expression)}: join the conditions with "or", or leave out --any`);
  }
  return { match: any ? "any" : match, conditions: attributeOnly };
}

interface SetOptions {
  any?: boolean;
  clearConditions?: boolean;
  include?: string;
  exclude?: string;
  description?: string;
  reason?: string;
}

export function addSegmentCommands(flags: Command, ctx: FlagCommandContext): void {
  const { db, out, warn, setCode } = ctx;
  const segment = flags.command("segment").description("segments: named sets of users that rules use with 'in segment NAME'");

  const printChange = (c: SegmentChange): void => {
    ctx.repaired(c.repairs);
    out(`${c.new.name}: ${c.summary} (event ${c.eventId})\n  ${segmentInWords(c.new)}\n`);
  };

  segment
    .command("set")
    .description("create or change a segment: users for whom the expression holds, plus --include keys, never --exclude keys")
    .argument("<name>")
    .argument("[expression]", "attribute conditions as in rules, e.g. 'country in [NL, BE] and age >= 18' (replaces the conditions)")
    .option("--any", "a user is in the segment when any condition holds (as if joined with or)")
    .option("--clear-conditions", "remove every condition (membership by --include keys only)")
    .option("--include <keys>", "targetingKeys always in the segment, comma-separated (replaces the list; '' empties it)")
    .option("--exclude <keys>", "targetingKeys never in the segment, comma-separated, winning over everything (replaces the list; '' empties it)")
    .option("--description <text>")
    .option("--reason <text>", "why, recorded in the audit log")
    .action(async (name: string, expression: string | undefined, o: SetOptions) => {
      checkSegmentName(name);
      if (expression !== undefined && o.clearConditions) throw new UsageError("give an expression or --clear-conditions, not both");
      const parsed = expression === undefined ? undefined : segmentConditions(expression, o.any === true);
      if (expression === undefined && !o.any && !o.clearConditions && o.include === undefined && o.exclude === undefined && o.description === undefined) {
        throw new UsageError("nothing to set: give an expression, --any, --clear-conditions, --include, --exclude or --description");
      }
      const change = await updateSegment(
        db(),
        name,
        (current): SegmentDefinitionInput => ({
          ...(current ?? { name }),
          ...(o.any ? { match: "any" } : {}),
          ...(parsed ?? {}),
          ...(o.clearConditions ? { conditions: [] } : {}),
          ...(o.include === undefined ? {} : { included: keyList(o.include) }),
          ...(o.exclude === undefined ? {} : { excluded: keyList(o.exclude) }),
          ...(o.description === undefined ? {} : { description: o.description }),
        }),
        { by: whoAmI(), reason: o.reason, cause: "set" },
      );
      printChange(change);
    });

  segment
    .command("get")
    .description("one segment: who is in it, its conditions and keys, the flags that use it")
    .argument("<name>")
    .option("--json", "print JSON")
    .action(async (name: string, o: { json?: boolean }) => {
      checkSegmentName(name);
      const { segment: seg, problems } = await readSegment(db(), name);
      warn(problems);
      if (!seg) {
        if (problems.length === 0) throw new NotFoundError(`segment "${name}" does not exist`);
        setCode(1); // garbage: reported above, nothing valid to show
        return;
      }
      if (o.json) {
        out(JSON.stringify(seg, null, 2) + "\n");
        return;
      }
      const { flags: all, problems: flagProblems } = await readFlags(db());
      warn(flagProblems);
      out(describeSegment(seg, flagsUsing(name, all)));
    });

  segment
    .command("list")
    .description("every segment with its conditions and the flags that use it")
    .option("--json", "print JSON")
    .action(async (o: { json?: boolean }) => {
      const { segments, problems } = await readSegments(db());
      warn(problems);
      if (o.json) {
        out(JSON.stringify(segments, null, 2) + "\n");
        return;
      }
      if (segments.length === 0) {
        out("no segments\n");
        return;
      }
      const { flags: all, problems: flagProblems } = await readFlags(db());
      warn(flagProblems);
      out(table(segmentRows(segments, all)));
    });

  segment
    .command("delete")
    .description("delete a segment; refused while any flag's rules use it (the message names them)")
    .argument("<name>")
    .requiredOption("--reason <text>", "why, recorded in the audit log")
    .action(async (name: string, o: { reason: string }) => {
      checkSegmentName(name);
      checkReason(o.reason);
      const change = await deleteSegment(db(), name, { by: whoAmI(), reason: o.reason });
      ctx.repaired(change.repairs);
      out(`${name}: deleted (event ${change.eventId})\n`);
    });
}
