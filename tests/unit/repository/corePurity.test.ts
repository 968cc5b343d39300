// core/ holds the rules, so it may import only other core/ files and pure libraries: no Redis,
// AWS SDK, Pulumi, logging or Node I/O.
import { REPO_ROOT } from "../../support/repoRoot";
import * as fs from "node:fs";
import * as path from "node:path";
import { importSpecifiers, sourceFiles } from "../../support/imports";

const CORE = path.resolve(REPO_ROOT, "core");
const PURE_LIBRARIES = ["zod", "jsep"];

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** The imports of `source` (a file at `file`) that leave core/ for anything but a pure library. */
function impureImports(file: string, source: string): string[] {
  const bad: string[] = [];
  for (const specifier of importSpecifiers(source)) {
    if (specifier.startsWith(".")) {
      const target = path.resolve(path.dirname(file), specifier);
      if (target !== CORE && !target.startsWith(CORE + path.sep)) bad.push(specifier);
    } else if (!PURE_LIBRARIES.includes(packageName(specifier))) {
      bad.push(specifier);
    }
  }
  return bad;
}

describe("the import check", () => {
  const file = path.join(CORE, "routing", "weight.ts");
  test.each([
    ["another core file", 'import { ROLES } from "./role";', []],
    ["a core file in another folder", 'import type { AlarmState } from "../alarms/state";', []],
    ["zod", 'import * as z from "zod/mini";', []],
    ["jsep", 'import jsep from "jsep";', []],
    ["a file outside core", 'import { keys } from "../../state/keys";', ["../../state/keys"]],
    ["a Node module", 'import * as fs from "node:fs";', ["node:fs"]],
    ["a Node module without the prefix", 'import { spawn } from "child_process";', ["child_process"]],
    ["Redis, even for a type", 'import type Redis from "ioredis";', ["ioredis"]],
    ["the AWS SDK", 'import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";', ["@aws-sdk/client-cloudwatch"]],
    ["Pulumi", 'import * as pulumi from "@pulumi/pulumi";', ["@pulumi/pulumi"]],
    ["pino", 'import pino from "pino";', ["pino"]],
    ["a re-export", 'export { connect } from "../../state/connection";', ["../../state/connection"]],
    ["a side-effect import", 'import "http";', ["http"]],
    ["a dynamic import", 'const net = await import("net");', ["net"]],
    ["a require", 'const fs = require("fs");', ["fs"]],
  ])("%s", (_what, source, expected) => {
    expect(impureImports(file, source)).toEqual(expected);
  });
});

test("every file under core/ imports only core/ files and pure libraries", () => {
  const files = sourceFiles(CORE);
  expect(files.length).toBeGreaterThan(0);
  const offenders = files.flatMap((f) => impureImports(f, fs.readFileSync(f, "utf8")).map((s) => `${path.relative(CORE, f)}: ${s}`));
  expect(offenders).toEqual([]);
});
