// Every rule a reader copies from the README or docs/flags.md must parse as written: the quoted
// expressions of `aviary flags rule add` / `flags segment set` commands, and the README's table of
// conditions (each backticked example in its second column).
import * as fs from "fs";
import * as path from "path";
import { parseRuleText } from "../../../core/flags/ruleText";
import { REPO_ROOT } from "../../support/repoRoot";

const read = (file: string): string => fs.readFileSync(path.join(REPO_ROOT, file), "utf8");

/** The single-quoted expression of each `aviary flags rule add` / `flags segment set` command. */
function commandExpressions(markdown: string): string[] {
  return [...markdown.matchAll(/aviary flags (?:rule add|segment set) \S+ '([^']+)'/g)].map((m) => m[1]);
}

/** The backticked examples in the second column of the README's condition table. */
function tableExamples(markdown: string): string[] {
  const section = markdown.slice(markdown.indexOf("## Feature flags"), markdown.indexOf("\n## ", markdown.indexOf("## Feature flags") + 1));
  return section
    .split("\n")
    .filter((line) => line.startsWith("| ") && !line.startsWith("| Condition"))
    .flatMap((line) => [...(line.split("|")[2] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1]));
}

const readme = read("README.md");
const flagsDoc = read("docs/flags.md");

test("the README and docs/flags.md show rule commands and a table of conditions", () => {
  expect(commandExpressions(readme).length).toBeGreaterThanOrEqual(3);
  expect(commandExpressions(flagsDoc).length).toBeGreaterThanOrEqual(3);
  expect(tableExamples(readme).length).toBeGreaterThanOrEqual(10);
});

test.each([...commandExpressions(readme), ...commandExpressions(flagsDoc), ...tableExamples(readme)].map((e) => [e]))("%s parses", (expression) => {
  expect(parseRuleText(expression).conditions.length).toBeGreaterThanOrEqual(1);
});
