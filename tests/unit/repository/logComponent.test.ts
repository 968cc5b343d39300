import { REPO_ROOT } from "../../support/repoRoot";
import * as fs from "node:fs";
import * as path from "node:path";
import { LOG_COMPONENTS, logComponent } from "../../../core/logComponent";
import { runnerLogger } from "../../../local/runnerLog";
import { tempDir } from "../../support/tempDir";

test.each(LOG_COMPONENTS.map((c) => [c]))("%s is bound under `component`", (c) => {
  expect(logComponent(c)).toEqual({ component: c });
});

test("the runner's log file names its records' component, and a child's overrides it", () => {
  const file = path.join(tempDir("aviary-logcomponent-"), "runner.log");
  const log = runnerLogger(file, "silent");
  log.info("runner record");
  log.child(logComponent("aviary-controller")).info("controller record");
  const lines = fs.readFileSync(file, "utf8").trim().split("\n");
  // One `component` key per record: a repeated key would leave the value to the JSON parser.
  expect(lines.map((l) => l.split('"component":').length - 1)).toEqual([1, 1]);
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(records.map((r) => [r.msg, r.component, r.name, r.service])).toEqual([
    ["runner record", "aviary-local", undefined, undefined],
    ["controller record", "aviary-controller", undefined, undefined],
  ]);
});

// Every process's logger names its component through logComponent, never under another field.
const PRODUCT_DIRS = ["app", "agent", "controller", "lambda", "local"];
const OTHER_FIELD = /(?:pino|\.child)\(\s*\{[^)]*\b(?:app|service|name)\s*:/;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : e.name.endsWith(".ts") ? [full] : [];
  });
}

test("no logger in the product names its component under app, service or name", () => {
  const root = path.resolve(REPO_ROOT);
  const offenders = PRODUCT_DIRS.flatMap((d) => sourceFiles(path.join(root, d)))
    .flatMap((f) => fs.readFileSync(f, "utf8").split("\n").map((line, i) => ({ f, line, i })))
    .filter(({ line }) => OTHER_FIELD.test(line) || /base:\s*\{\s*(?:app|service)\s*:/.test(line))
    .map(({ f, i }) => `${path.relative(root, f)}:${i + 1}`);
  expect(offenders).toEqual([]);
});
