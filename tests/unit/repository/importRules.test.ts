// Which folder may import which. The product (everything that is deployed or that a user runs,
// the CLI included) imports neither local mode nor tooling; local mode, the tests and the bench
// share real-process tooling through harness/ instead of reaching into one another; and
// tests/support/ holds test helpers, not re-exports that hide where a thing lives.
import { REPO_ROOT } from "../../support/repoRoot";
import * as fs from "node:fs";
import * as path from "node:path";
import { importSpecifiers, reExportSpecifiers, sourceFiles } from "../../support/imports";

const ROOT = path.resolve(REPO_ROOT);

const PRODUCT = ["agent", "alarms", "app", "awsRules", "bootRules", "cli", "components", "config", "controller", "core", "discovery", "flags", "haproxy", "lambda", "policy", "release", "stacks", "state"];
const TOOLING = ["harness", "tests", "bench"];

interface Rule {
  /** A folder of the repository (a path from its root). */
  from: string;
  mayNotImport: string[];
}

const RULES: Rule[] = [
  ...PRODUCT.map((from) => ({ from, mayNotImport: ["local", ...TOOLING] })),
  { from: "local", mayNotImport: ["tests", "bench"] },
  { from: "harness", mayNotImport: ["local", "tests", "bench"] },
  { from: "bench", mayNotImport: ["tests"] },
];

/** Folders whose files may re-export nothing from outside their own folder. */
const NO_RE_EXPORTS = ["tests/support"];

/** Whether `target` (an absolute path) is inside `folder` (a path from the repository's root). */
function inFolder(target: string, folder: string): boolean {
  const dir = path.join(ROOT, folder);
  return target === dir || target.startsWith(dir + path.sep);
}

/** "file: specifier" for every import in `source` that breaks a rule for the folder `file` is in. */
function brokenRules(file: string, source: string): string[] {
  const into = (specifier: string, folder: string): boolean => specifier.startsWith(".") && inFolder(path.resolve(path.dirname(file), specifier), folder);
  const forbidden = RULES.filter((r) => inFolder(file, r.from)).flatMap((r) => r.mayNotImport);
  const imports = importSpecifiers(source).filter((s) => forbidden.some((f) => into(s, f)));
  const reExports = NO_RE_EXPORTS.filter((f) => inFolder(file, f)).flatMap((f) => reExportSpecifiers(source).filter((s) => s.startsWith(".") && !into(s, f)));
  const rel = path.relative(ROOT, file);
  return [...new Set([...imports, ...reExports])].map((s) => `${rel}: ${s}`);
}

describe("the import rules", () => {
  const at = (file: string): string => path.join(ROOT, file);
  test.each([
    ["bench imports a test helper", "bench/proxy.ts", 'import { backend } from "../tests/support/haproxy";', ["bench/proxy.ts: ../tests/support/haproxy"]],
    ["bench imports the harness", "bench/proxy.ts", 'import { startHaproxy } from "../harness/haproxy";', []],
    ["bench runs local mode", "bench/soak.ts", 'import { startLocalStack } from "../local/stack";', []],
    ["the CLI imports local mode", "cli/localStack.ts", 'import { readLocalState } from "../local/stateFile";', ["cli/localStack.ts: ../local/stateFile"]],
    ["the CLI imports the local state file's contract", "cli/localStack.ts", 'import { readLocalState } from "../discovery/localStateFile";', []],
    ["the CLI imports the harness", "cli/main.ts", 'import { until } from "../harness/until";', ["cli/main.ts: ../harness/until"]],
    ["a product module imports a test", "controller/run.ts", 'import type { MockRun } from "../tests/support/x";', ["controller/run.ts: ../tests/support/x"]],
    ["the harness imports a test helper", "harness/haproxy.ts", 'import { tempDir } from "../tests/support/tempDir";', ["harness/haproxy.ts: ../tests/support/tempDir"]],
    ["the harness imports the bench", "harness/load.ts", 'import { step } from "../bench/processes";', ["harness/load.ts: ../bench/processes"]],
    ["the harness imports local mode", "harness/haproxy.ts", 'import { Supervisor } from "../local/processes";', ["harness/haproxy.ts: ../local/processes"]],
    ["the harness imports the product", "harness/haproxy.ts", 'import { runtimeCommand } from "../agent/runtimeApi";', []],
    ["local mode imports the harness", "local/stack.ts", 'import { freePort } from "../harness/freePort";', []],
    ["local mode imports the bench", "local/demo.ts", 'const b = require("../bench/processes");', ["local/demo.ts: ../bench/processes"]],
    ["a test helper re-exports local mode", "tests/support/redisServer.ts", 'export * from "../../local/redisServer";', ["tests/support/redisServer.ts: ../../local/redisServer"]],
    ["a test helper re-exports names", "tests/support/haproxy.ts", 'export { freePort } from "../../local/freePort";', ["tests/support/haproxy.ts: ../../local/freePort"]],
    ["a test helper re-exports a type", "tests/support/x.ts", 'export type { RedisServer } from "../../harness/redisServer";', ["tests/support/x.ts: ../../harness/redisServer"]],
    ["a test helper imports local mode to use it", "tests/support/alarmEvent.ts", 'import type { LocalStack } from "../../local/stack";', []],
    ["a test helper re-exports another test helper", "tests/support/x.ts", 'export { tempDir } from "./tempDir";', []],
    ["a test imports the bench's module it tests", "tests/unit/bench/benchmarksFile.test.ts", 'import { writeAll } from "../../../bench/benchmarksFile";', []],
  ])("%s", (_what, file, source, expected) => {
    expect(brokenRules(at(file), source)).toEqual(expected);
  });
});

test("every file keeps the import rules", () => {
  const folders = [...new Set([...RULES.map((r) => r.from), ...NO_RE_EXPORTS])].filter((f) => fs.existsSync(path.join(ROOT, f)));
  for (const f of ["bench", "cli", "harness", "local", "tests/support"]) expect(folders).toContain(f);
  const files = folders.flatMap((f) => sourceFiles(path.join(ROOT, f)));
  const broken = [...new Set(files)].flatMap((f) => brokenRules(f, fs.readFileSync(f, "utf8")));
  expect(broken).toEqual([]);
});
